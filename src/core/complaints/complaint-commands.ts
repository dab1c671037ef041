import { and, asc, desc, eq, gte, inArray, isNull, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { rowsOf } from '../../db/rows';
import { chatLog, clients, complaintEvents, complaints, departments, events, groups, orderEvents, orders, outbox, people } from '../../db/schema';
import { formatInstantInChinese, type WorkCalendar } from '../../domain/calendar';
import {
  CHANNEL_NAMES,
  closeBlockers,
  complaintCode,
  complaintRate,
  formatFen,
  formatRate,
  parseReceivedAt,
  parseYuan,
  proposeLevel,
  rateReviewAt,
  splitOfficialFee,
  type ComplaintChannel,
  type ComplaintEvent,
  type ComplaintLevel,
  type ComplaintPlaybook,
} from '../../domain/complaints';
import { orderCode, STATUS_NAMES } from '../../domain/orders';
import type { ParsedArgs } from '../command-parser';
import { findDepartment, mention, resolvePerson, type ChatContext, type Person } from '../context';
import { PermissionError, UserInputError } from '../errors';
import { formatInstant } from '../commands/format';
import { complaintFacts, type ComplaintClocks, type ComplaintRow } from './complaint-clocks';
import { managementGroups, rateOf, rateReviewSubject, rateSpan } from './complaint-rate-review';
import { departmentGroup } from './complaint-subject';
import { groupName, holdNotice, noticeRoute } from '../department-group';
import { nameLadderSteps } from '../../domain/playbooks/ladder-step-names';

const CHANNEL_WORDS: Record<string, ComplaintChannel> = {
  电话: 'phone',
  phone: 'phone',
  业务部: 'sales',
  sales: 'sales',
  老板: 'boss',
  boss: 'boss',
  群聊: 'chat',
  chat: 'chat',
};

const CLIENT_GROUP_ACK =
  '您好，非常抱歉给您带来了不好的体验！您的意见我们已经认真记录，相关负责同事会尽快与您电话联系，给您一个满意的答复。感谢您的反馈与理解！';

function refuse(why: string): never {
  throw new PermissionError(why);
}

function complaintId(ref: unknown): number {
  const s = String(ref ?? '').toUpperCase();
  const m = /^T(\d{1,9})$/.exec(s);
  if (!m) throw new UserInputError(`抱歉，「${String(ref)}」不是投诉编号（应为 T 加数字，如 T7）。`);
  return Number(m[1]);
}

async function personById(tx: Db, id: number | null | undefined): Promise<Person | null> {
  if (!id) return null;
  const [p] = await tx.select().from(people).where(eq(people.id, id));
  return p ?? null;
}

async function headsOf(tx: Db, departmentId: number | null): Promise<Person[]> {
  if (!departmentId) return [];
  return tx
    .select()
    .from(people)
    .where(and(eq(people.departmentId, departmentId), eq(people.role, 'head'), eq(people.active, true)))
    .orderBy(asc(people.id));
}

async function managementPeople(tx: Db): Promise<Person[]> {
  return tx.select().from(people).where(and(eq(people.role, 'management'), eq(people.active, true))).orderBy(asc(people.id));
}

export function createComplaintCommands(deps: { playbook: ComplaintPlaybook; clocks: ComplaintClocks }) {
  const { playbook: pb, clocks } = deps;

  async function load(tx: Db, id: number, lock = false): Promise<ComplaintRow> {
    const q = tx.select().from(complaints).where(eq(complaints.id, id));
    const [c] = lock ? await q.for('update') : await q;
    if (!c) throw new UserInputError(`抱歉，没有找到投诉 ${complaintCode(id)}，请核对编号（可发送 /投诉 列表 查看）。`);
    return c;
  }

  async function record(ctx: ChatContext, c: Pick<ComplaintRow, 'id'>, kind: string, note: string | null, data: Record<string, unknown> = {}) {
    await ctx.tx.insert(complaintEvents).values({ complaintId: c.id, at: ctx.now, actorId: ctx.actor.person?.id ?? null, kind, note, data });
    await ctx.audit(`complaint.${kind}`, `complaint:${c.id}`, { note, ...data });
  }

  async function set(ctx: ChatContext, id: number, values: Partial<typeof complaints.$inferInsert>) {
    await ctx.tx
      .update(complaints)
      .set({ ...values, updatedAt: ctx.now })
      .where(eq(complaints.id, id));
  }

  async function clockLines(ctx: ChatContext, id: number, events: ComplaintEvent[]): Promise<string> {
    const changes = await clocks.events(ctx.tx, id, events, ctx.now, ctx.actor);
    if (!changes.length) return '';
    const cal = await clocks.calendar(ctx.tx);
    return '\n' + changes.map((ch) => clocks.describe(ch, cal, ctx.now)).join('\n');
  }

  /** Who the sender is to this complaint. */
  async function roleIn(ctx: ChatContext, c: ComplaintRow) {
    const p = ctx.actor.person;
    const isManagement = ctx.actor.isAdmin || p?.role === 'management';
    const isHead = !!p && p.role === 'head' && p.departmentId === c.departmentId;
    const isSupervisor = !!p && (p.id === c.supervisorId || (p.role === 'supervisor' && p.departmentId === c.departmentId));
    const isHandler = !!p && (p.id === c.handlerId || p.id === c.replacementId);
    const isOwner = !!p && p.id === c.ownerId;
    const isFirst = !!p && p.id === c.firstResponderId;
    return { isManagement, isHead, isSupervisor, isHandler, isOwner, isFirst };
  }

  /**
   * Posts a notice to the department's 部门群, else the fallback (this internal group, else 总经办's
   * group), else keeps it unrouted until /部门群 (department-group.ts); when the route is this group, it
   * is the reply. Returns the group's name, or null when the notice was held.
   */
  async function notifyDepartment(ctx: ChatContext, c: ComplaintRow, text: string, mentions: Person[], key: string): Promise<string | null> {
    const route = await noticeRoute(ctx.tx, c.departmentId, { loggedIn: ctx.group });
    const body = route.kind === 'fallback' ? `${text}\n${route.note}` : text;
    const tags = mentions.map(mention).join(' ');
    const full = tags ? `${body}\n${tags}` : body;
    const ids = [...new Set(mentions.map((p) => p.userid))];
    const dedupeKey = `complaint:${c.id}:${key}:${ctx.message.messageId}`;
    if (route.kind === 'unrouted') {
      await holdNotice(ctx.tx, c.departmentId, { text: full, mentions: ids, internal: true }, dedupeKey);
      return null;
    }
    const g = route.group;
    if (g.platform === ctx.group.platform && g.conversationId === ctx.group.conversationId) {
      ctx.reply(full, ids);
    } else {
      await ctx.post({ platform: g.platform, conversationId: g.conversationId }, { text: full, mentions: ids }, dedupeKey);
    }
    return groupName(g);
  }

  const isHere = async (ctx: ChatContext, c: ComplaintRow) => {
    const route = await noticeRoute(ctx.tx, c.departmentId, { loggedIn: ctx.group });
    return route.kind !== 'unrouted' && route.group.platform === ctx.group.platform && route.group.conversationId === ctx.group.conversationId;
  };

  async function resolveClientAndOrder(ctx: ChatContext, args: ParsedArgs) {
    let order: typeof orders.$inferSelect | null | undefined = null;
    const orderRef = args.order as string | undefined;
    if (orderRef) {
      const m = /^[Dd](\d{1,9})$/.exec(orderRef.trim());
      if (!m) throw new UserInputError(`抱歉，「${orderRef}」不是分配单编号（应为 D 加数字，如 D12）。`);
      [order] = await ctx.tx.select().from(orders).where(eq(orders.id, Number(m[1])));
      if (!order) throw new UserInputError(`抱歉，没有找到分配单 ${orderRef.toUpperCase()}，请核对单号。`);
    } else if (ctx.group.orderId) {
      [order] = await ctx.tx.select().from(orders).where(eq(orders.id, ctx.group.orderId));
      // 0b: in a client group the client is the group's; a bound order of another client is not it.
      if (order && ctx.group.kind === 'client' && ctx.group.clientId && order.clientId !== ctx.group.clientId) order = null;
    }
    let clientId: number | null = null;
    const clientName = (args.client as string | undefined)?.trim();
    if (ctx.group.kind === 'client' && ctx.group.clientId) {
      const [own] = await ctx.tx.select().from(clients).where(eq(clients.id, ctx.group.clientId));
      if (clientName && own && clientName !== own.name)
        throw new UserInputError(`抱歉，本群是「${own.name}」的客户群，投诉的客户取自本群；「${clientName}」的投诉请在其客户群或内部群登记。`);
      if (order && order.clientId !== ctx.group.clientId)
        throw new UserInputError(`抱歉，${orderCode(order.id)} 不是本群客户「${own?.name ?? ''}」的分配单，请核对「单=」。`);
      return { client: own!, order };
    }
    if (clientName) {
      const [existing] = await ctx.tx.select().from(clients).where(eq(clients.name, clientName));
      if (existing) clientId = existing.id;
      else {
        const [created] = await ctx.tx.insert(clients).values({ name: clientName }).returning();
        clientId = created!.id;
      }
    } else clientId = order?.clientId ?? ctx.group.clientId ?? null;
    if (!clientId) {
      throw new UserInputError('抱歉，请写明投诉的客户：/投诉 客户=<客户名称> <内容>（在已绑定的客户群里可以不写）。');
    }
    if (order && clientName && order.clientId !== clientId) {
      throw new UserInputError(`抱歉，${orderCode(order.id)} 不是这位客户的分配单，请核对「客户=」和「单=」。`);
    }
    const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, clientId));
    return { client: client!, order };
  }

  /** The client's words: the quoted message, else the text after the command, else (client group) the client's last message. */
  async function contentOf(ctx: ChatContext, args: ParsedArgs): Promise<{ content: string; relayed: boolean }> {
    const typed = (args.content as string | undefined)?.trim() ?? '';
    const quoted = ctx.message.quotedText?.trim();
    if (quoted) return { content: typed ? `${quoted}\n（记录人补充：${typed}）` : quoted, relayed: true };
    if (typed) return { content: typed, relayed: false };
    if (ctx.group.kind === 'client') {
      const [last] = await ctx.tx
        .select({ text: chatLog.text })
        .from(chatLog)
        .leftJoin(people, and(eq(people.userid, chatLog.sender), eq(people.active, true)))
        .where(
          and(
            eq(chatLog.platform, ctx.group.platform),
            eq(chatLog.conversationId, ctx.group.conversationId),
            eq(chatLog.direction, 'in'),
            isNull(people.id),
            sql`${chatLog.text} !~ '^\\s*[/／]'`,
          ),
        )
        .orderBy(desc(chatLog.id))
        .limit(1);
      if (last) return { content: last.text, relayed: true };
    }
    throw new UserInputError('抱歉，请写上投诉内容：/投诉 客户=<客户> <内容>，或回复（引用）客户的消息发送 /投诉。');
  }

  /** 4.3.4: a serious complaint relayed by 业务部 → the head visits the client; the deadline is the visit clock's. */
  function visitLine(code: string, level: ComplaintLevel, heads: Person[], dueAt: Date, cal: WorkCalendar, now: Date): string {
    const rule = pb.byId.get('complaint.visit');
    return (
      `业务部转来的${pb.levels[level].name}投诉：请部门负责人${heads.map((h) => ' ' + mention(h)).join('') || ''} 与客户约定拜访时间，亲自上门拜访、安抚客户，` +
      `期限 ${formatInstantInChinese(dueAt, cal, { now })}；拜访后请登记 /拜访 ${code} <情况>（${rule?.clause ?? '4.3.4'}）。`
    );
  }

  async function complaintNew(ctx: ChatContext, args: ParsedArgs) {
    const actor = ctx.actor.person;
    const cal = await clocks.calendar(ctx.tx);
    const { client, order } = await resolveClientAndOrder(ctx, args);
    let { content, relayed } = await contentOf(ctx, args);

    let timeText = args.time as string | undefined;
    // 时间=2026-11-23 09:40 without quotes: the time of day is the first word of the content.
    if (timeText && /^\d{4}-\d{1,2}-\d{1,2}$/.test(timeText)) {
      const m = /^(\d{1,2}[:：]\d{2})(?:\s+|$)/.exec(content);
      if (!m) throw new UserInputError(`抱歉，「时间=${timeText}」缺少几点几分，请写成「时间="${timeText} HH:MM"」。`);
      timeText = `${timeText} ${m[1]}`;
      content = content.slice(m[0].length).trim();
      if (!content) throw new UserInputError('抱歉，请写上投诉内容。');
    }
    let receivedAt = ctx.now;
    if (timeText) {
      const r = parseReceivedAt(timeText, ctx.now, cal);
      if (!r.ok) throw new UserInputError(`抱歉，${r.why}`);
      receivedAt = r.at;
    }

    const channelWord = args.channel as string | undefined;
    const channel: ComplaintChannel = channelWord
      ? CHANNEL_WORDS[channelWord]!
      : relayed || ctx.group.kind === 'client'
        ? 'chat'
        : actor?.role === 'sales'
          ? 'sales'
          : actor?.role === 'management'
            ? 'boss'
            : 'phone';

    const handler = args.handler
      ? await resolvePerson(ctx.tx, String(args.handler), ctx.message.mentions)
      : await personById(ctx.tx, order?.handlerId);
    if (handler && handler.role === 'sales') throw new UserInputError(`抱歉，${handler.name} 是业务员，「负责人=」请写被投诉的具体负责人。`);

    let departmentId = order?.departmentId ?? (handler?.role !== 'management' ? handler?.departmentId : null) ?? null;
    if (args.dept) {
      const d = await findDepartment(ctx.tx, String(args.dept));
      if (!d) throw new UserInputError(`抱歉，没有找到部门「${args.dept}」。可发送 /部门 列表 查看。`);
      departmentId = d.id;
    }
    if (!departmentId && actor && ['handler', 'supervisor', 'head'].includes(actor.role)) departmentId = actor.departmentId;
    if (!departmentId) {
      throw new UserInputError('抱歉，请写明投诉涉及的分配单或部门：加上「单=D12」「负责人=@姓名」或「部门=专利部」。');
    }
    const [dept] = await ctx.tx.select().from(departments).where(eq(departments.id, departmentId));

    let supervisor = handler ? await personById(ctx.tx, handler.supervisorId) : null;
    if (!supervisor) {
      const [s] = await ctx.tx
        .select()
        .from(people)
        .where(and(eq(people.departmentId, departmentId), eq(people.role, 'supervisor'), eq(people.active, true)))
        .orderBy(asc(people.id))
        .limit(1);
      supervisor = s ?? null;
    }
    const heads = await headsOf(ctx.tx, departmentId);

    // Related orders: the one named, then the client's other open orders in the department (4.3.5).
    const open = await ctx.tx
      .select({ id: orders.id })
      .from(orders)
      .where(and(eq(orders.clientId, client.id), eq(orders.departmentId, departmentId), inArray(orders.status, ['new', 'assigned', 'paused'])))
      .orderBy(asc(orders.id));
    const orderIds = [...new Set([...(order ? [order.id] : []), ...open.map((o) => o.id)])];

    // Level: given by a supervisor / head / management is confirmed; otherwise proposed for confirmation.
    const year = cal.dateOf(ctx.now).slice(0, 4);
    const [{ n: before }] = (await ctx.tx
      .select({ n: sql<number>`count(*)::int` })
      .from(complaints)
      .where(and(eq(complaints.clientId, client.id), eq(complaints.departmentId, departmentId), gte(complaints.receivedAt, cal.at(`${year}-01-01`, '00:00'))))) as [{ n: number }];
    const proposal = proposeLevel(pb, { content, channel, complaintsThisYear: before + 1 });
    const given = args.level ? (String(args.level).toUpperCase() as ComplaintLevel) : null;
    const canConfirm = ctx.actor.isAdmin || (!!actor && ['supervisor', 'head', 'management'].includes(actor.role));
    const level = given && canConfirm ? given : null;
    const proposed = given ?? proposal.level;
    const owner = level === 'B' || level === 'D' ? (heads[0] ?? actor) : actor;

    const [row] = await ctx.tx
      .insert(complaints)
      .values({
        clientId: client.id,
        departmentId,
        orderIds,
        channel,
        content: content.slice(0, 2000),
        receivedAt,
        firstResponderId: actor?.id ?? null,
        handlerId: handler?.id ?? null,
        supervisorId: supervisor?.id ?? null,
        ownerId: owner?.id ?? null,
        level,
        proposedLevel: proposed,
        unhappy: args.unhappy === true,
        sourcePlatform: relayed ? ctx.group.platform : null,
        sourceConversationId: relayed ? ctx.group.conversationId : null,
        createdAt: ctx.now,
        updatedAt: ctx.now,
      })
      .returning();
    const c = row!;
    const code = complaintCode(c.id);
    await record(ctx, c, 'received', content.slice(0, 200), {
      channel,
      receivedAt: receivedAt.toISOString(),
      firstResponder: ctx.actor.userid,
      relayed,
      orders: orderIds,
    });
    if (level) {
      await record(ctx, c, 'level', `定为 ${level} 级（${pb.levels[level].name}）：登记时确认`, { from: null, to: level, proposed: proposal.level });
      if (owner && owner.id !== actor?.id) await record(ctx, c, 'handover', `${pb.levels[level].handling}：由 ${owner.name} 负责`, { to: owner.userid });
    } else {
      await record(ctx, c, 'proposed', `建议 ${proposed} 级（${pb.levels[proposed].name}）：${given ? '登记人给出' : proposal.reasons.join('；')}`, {
        level: proposed,
      });
    }
    const clockText = await clockLines(ctx, c.id, level ? ['received', 'level-confirmed'] : ['received']);
    const active = await clocks.active(ctx.tx, c.id);
    const callback = active.find((t) => t.ruleId === 'complaint.callback' || t.ruleId === 'complaint.callback-head');

    // The notice for the department's internal group.
    const orderRows = orderIds.length
      ? await ctx.tx
          .select({ id: orders.id, type: orders.serviceType, handler: people.name })
          .from(orders)
          .leftJoin(people, eq(people.id, orders.handlerId))
          .where(inArray(orders.id, orderIds))
          .orderBy(asc(orders.id))
      : [];
    // 4.3.5: the head reviews all the client's projects, those of other departments too.
    const elsewhere = await ctx.tx
      .select({ id: orders.id, type: orders.serviceType, status: orders.status, dept: departments.name, handler: people.name })
      .from(orders)
      .leftJoin(departments, eq(departments.id, orders.departmentId))
      .leftJoin(people, eq(people.id, orders.handlerId))
      .where(and(eq(orders.clientId, client.id), or(isNull(orders.departmentId), ne(orders.departmentId, departmentId)), ne(orders.status, 'cancelled')))
      .orderBy(asc(orders.id))
      .limit(20);
    const headLed = channel === 'sales' || channel === 'boss' || level === 'B' || level === 'D';
    const mgmt = level === 'D' || channel === 'boss' ? await managementPeople(ctx.tx) : [];
    const sales = client.salespersonId ? await personById(ctx.tx, client.salespersonId) : null;
    const who = [handler, supervisor, ...(headLed ? heads : []), ...mgmt].filter((p): p is Person => !!p);
    const deadline = callback ? formatInstantInChinese(callback.dueAt, cal, { now: ctx.now }) : null;
    const lines = [
      `【客户投诉】${code}｜${client.name}｜渠道：${CHANNEL_NAMES[channel]}｜${level ? `${level} 级（${pb.levels[level].name}）` : `建议 ${proposed} 级，待主管确认：/定级 ${code}`}`,
      `内容：${content}`,
      `被投诉负责人：${handler?.name ?? '未指定'}　主管：${supervisor?.name ?? '—'}　部门：${dept?.name ?? '—'}`,
      `首问负责人：${actor?.name ?? ctx.actor.displayName}（接待到底，直至移交）${sales ? `　业务员：${sales.name}` : ''}`,
      `相关分配单：${orderRows.length ? orderRows.map((o) => `${orderCode(o.id)}（${o.type}，${o.handler ?? '未派单'}）`).join('、') : '无'}`,
      `该客户在其他部门的分配单（4.3.5，请部门负责人一并了解）：${
        elsewhere.length ? elsewhere.map((o) => `${orderCode(o.id)}（${o.dept ?? '未分部门'}·${o.type}，${STATUS_NAMES[o.status]}，${o.handler ?? '未派单'}）`).join('、') : '无'
      }`,
      `接到投诉：${formatInstantInChinese(receivedAt, cal, { now: ctx.now })}${deadline ? `　回电期限：${deadline}（30 分钟）` : ''}`,
    ];
    if (channel === 'sales') {
      lines.push(`业务部转来的投诉（4.3.4）：请部门负责人第一时间向业务员了解情况并电话回访客户：/回电 ${code} <结果>；处理后把结果告知业务员。`);
    } else if (channel === 'boss') {
      lines.push(`老板接到的投诉（4.3.6）：请部门负责人了解情况并回访客户：/回电 ${code} <结果>；结案后写投诉处理报告发老板并抄送业务员。`);
    } else {
      lines.push(`请主管判断（4.3.3）：能处理的请在期限前电话回访客户并登记 /回电 ${code} <结果>；不能处理的请 /上报 ${code} <原因>。`);
    }
    if (level) lines.push(`${level} 级处理方式：${pb.levels[level].handling}（${pb.levels[level].clause}）`);
    if (level === 'B' && owner) lines.push(`已立项，由 ${owner.name} 负责。`);
    if (level === 'D') lines.push('严重投诉：专案处理，已报总经办。');
    if (channel === 'sales') {
      const visit = active.find((t) => t.ruleId === 'complaint.visit');
      if (visit) lines.push(visitLine(code, level!, heads, visit.dueAt, cal, ctx.now));
      else if (!level && (proposed === 'C' || proposed === 'D')) lines.push(`建议 ${proposed} 级：如确认为${pb.levels[proposed].name}投诉，请部门负责人与客户约定时间亲自上门拜访（4.3.4）。`);
    }
    lines.push('请先安抚客户情绪、耐心倾听，对给客户带来的不便表示歉意。谢谢大家！');
    const where = await notifyDepartment(ctx, c, lines.join('\n') + clockText, who, 'received');
    await record(ctx, c, 'notified', where ? `通知 ${who.map((p) => p.name).join('、') || '—'}（${where}）` : `未能通知 ${who.map((p) => p.name).join('、') || '—'}：${dept?.name ?? '本部门'}还没有部门群，通知已保留，设置 /部门群 后补发`, {
      mentions: who.map((p) => p.userid),
      group: where,
    });

    if (ctx.group.kind === 'client') {
      // Says which client it was filed under (the group's), so a wrong binding shows at once.
      ctx.reply(`${CLIENT_GROUP_ACK}（已登记为「${client.name}」的投诉）`);
    } else if (!(await isHere(ctx, c))) {
      ctx.reply(
        `已登记投诉 ${code}（${client.name}），谢谢您！您是首问负责人，请跟进到底，直至移交。\n` +
          (where ? `已在「${where}」通知 ${who.map((p) => p.name).join('、') || '部门负责人'}。` : `${dept?.name ?? '本部门'}还没有部门群，通知暂未发出（已保留，/发送失败 全部 可见）；请部门负责人用 /部门群 ${dept?.name ?? '<部门名称>'} 设置，设置后会补发。`) +
          (deadline ? `\n回电期限：${deadline}` : '') +
          (level ? '' : `\n建议级别：${proposed} 级（${pb.levels[proposed].name}），请主管确认：/定级 ${code}`),
      );
    }
  }

  async function complaintCallback(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isHandler || r.isSupervisor || r.isHead || r.isOwner || r.isManagement))
      refuse(`抱歉，${code} 的回电需由被投诉负责人、主管或部门负责人登记。`);
    if (c.status === 'closed') throw new UserInputError(`抱歉，${code} 已经结案了。`);
    if (c.callbackAt) throw new UserInputError(`抱歉，${code} 已在 ${formatInstant(c.callbackAt)} 登记过回电。补充情况请用 /处理 或在结案时写明。`);
    const note = String(args.note);
    await set(ctx, c.id, { callbackAt: ctx.now, callbackNote: note });
    const lateMin = Math.floor((ctx.now.getTime() - c.receivedAt.getTime()) / 60_000) - 30;
    await record(ctx, c, 'callback', note, { minutesAfterReceived: Math.floor((ctx.now.getTime() - c.receivedAt.getTime()) / 60_000) });
    const events: ComplaintEvent[] = ['callback'];
    if (c.escalatedAt && (r.isOwner || r.isHead)) {
      await set(ctx, c.id, { ownerNoteAt: ctx.now, ownerNote: note });
      events.push('owner-acted');
    }
    const clocksText = await clockLines(ctx, c.id, events);
    ctx.reply(
      `已登记 ${code} 的回电：${note}\n辛苦了，谢谢！${lateMin > 0 ? `（距接到投诉已超过 30 分钟时限 ${lateMin} 分钟，已记录）` : ''}${clocksText}`,
    );
  }

  async function complaintEscalate(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isHandler || r.isSupervisor || r.isFirst || r.isOwner || r.isManagement))
      refuse(`抱歉，${code} 需由主管、被投诉负责人或首问负责人上报。`);
    if (c.status === 'closed') throw new UserInputError(`抱歉，${code} 已经结案了。`);
    if (c.escalatedAt) throw new UserInputError(`抱歉，${code} 已在 ${formatInstant(c.escalatedAt)} 上报过部门负责人了。`);
    const heads = await headsOf(ctx.tx, c.departmentId);
    if (!heads.length) throw new UserInputError('抱歉，本部门还没有登记部门负责人，请总经办先用 /成员 添加 登记。');
    const reason = String(args.reason);
    const previous = await personById(ctx.tx, c.ownerId);
    await set(ctx, c.id, { escalatedAt: ctx.now, escalationReason: reason, ownerId: heads[0]!.id });
    await record(ctx, c, 'escalated', reason, { to: heads.map((h) => h.userid) });
    await record(ctx, c, 'handover', `由 ${previous?.name ?? '—'} 移交部门负责人 ${heads[0]!.name}`, { from: previous?.userid ?? null, to: heads[0]!.userid });
    const clocksText = await clockLines(ctx, c.id, ['escalated']);
    const cal = await clocks.calendar(ctx.tx);
    const act = (await clocks.active(ctx.tx, c.id)).find((t) => t.ruleId === 'complaint.head-act');
    const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, c.clientId));
    const text =
      `【投诉上报】${code}（${client?.name ?? ''}）本级不能处理，已上报部门负责人（4.3.3）。\n` +
      `原因：${reason}\n内容：${c.content}\n` +
      `请部门负责人了解投诉内容并及时作出处理意见：/处理 ${code} <意见>${act ? `，期限 ${formatInstantInChinese(act.dueAt, cal, { now: ctx.now })}` : ''}。谢谢！`;
    const here = await isHere(ctx, c);
    await notifyDepartment(ctx, c, text, heads, 'escalated');
    if (!here) ctx.reply(`已把 ${code} 上报给 ${heads.map((h) => h.name).join('、')}，谢谢！${clocksText}`);
    else if (clocksText) ctx.reply(clocksText.trim());
  }

  async function complaintHandle(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isHead || r.isOwner || r.isManagement)) refuse(`抱歉，${code} 的处理意见需由所属部门负责人登记。`);
    if (c.status === 'closed') throw new UserInputError(`抱歉，${code} 已经结案了。`);
    const note = String(args.note);
    await set(ctx, c.id, { ownerNoteAt: ctx.now, ownerNote: note });
    await record(ctx, c, 'handled', note);
    const clocksText = await clockLines(ctx, c.id, ['owner-acted']);
    const handler = await personById(ctx.tx, c.replacementId ?? c.handlerId);
    ctx.reply(`已登记 ${code} 的处理意见：${note}\n谢谢！${handler ? `${mention(handler)} 请按处理意见跟进客户。` : ''}${clocksText}`, handler ? [handler.userid] : []);
  }

  async function complaintLevel(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isSupervisor || r.isHead || r.isManagement)) refuse(`抱歉，${code} 的级别需由主管或部门负责人确认。`);
    if (c.status === 'closed') throw new UserInputError(`抱歉，${code} 已经结案了。`);
    const to = (args.level ? String(args.level).toUpperCase() : c.level ? null : c.proposedLevel) as ComplaintLevel | null;
    if (!to) throw new UserInputError(`抱歉，请写出级别：/定级 ${code} A|B|C|D [原因]`);
    const reason = (args.reason as string | undefined)?.trim() ?? null;
    if (c.level === to) throw new UserInputError(`抱歉，${code} 已经是 ${to} 级了。`);
    if (c.level && !reason) throw new UserInputError(`抱歉，调整已确认的级别需要写明原因：/定级 ${code} ${to} <原因>`);
    if (!c.level && to !== c.proposedLevel && !reason)
      throw new UserInputError(`抱歉，建议级别是 ${c.proposedLevel} 级，定为 ${to} 级请写明原因：/定级 ${code} ${to} <原因>`);
    const heads = await headsOf(ctx.tx, c.departmentId);
    const owner = (to === 'B' || to === 'D') && heads[0] ? heads[0] : null;
    await set(ctx, c.id, { level: to, ...(owner ? { ownerId: owner.id } : {}) });
    await record(ctx, c, 'level', `${c.level ? `由 ${c.level} 级改为` : '定为'} ${to} 级（${pb.levels[to].name}）${reason ? '：' + reason : ''}`, {
      from: c.level,
      to,
      proposed: c.proposedLevel,
      reason,
    });
    if (owner && owner.id !== c.ownerId) await record(ctx, c, 'handover', `${pb.levels[to].handling}：由 ${owner.name} 负责`, { to: owner.userid });
    const clocksText = await clockLines(ctx, c.id, ['level-confirmed']);
    const lines = [`已将 ${code} ${c.level ? `由 ${c.level} 级调整为` : '定为'} ${to} 级（${pb.levels[to].name}），谢谢！`, `处理方式：${pb.levels[to].handling}（${pb.levels[to].clause}）`];
    const mentions: Person[] = [];
    if (to === 'B' && owner) {
      lines.push(`已立项，由 ${mention(owner)} 牵头处理。`);
      mentions.push(owner);
    }
    if (to === 'C') lines.push('请当天处理完毕。');
    if (to === 'D') {
      const mgmt = await managementPeople(ctx.tx);
      lines.push(`已作为专案处理${owner ? `，由 ${mention(owner)} 负责` : ''}，并报总经办 ${mgmt.map(mention).join(' ')}。`);
      mentions.push(...(owner ? [owner] : []), ...mgmt);
      const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, c.clientId));
      const notice = `【严重投诉·专案】${code}（${client?.name ?? ''}）已定为 D 级（严重），专案处理${owner ? `，由 ${owner.name} 负责` : ''}。内容：${c.content}${reason ? `\n定级原因：${reason}` : ''}\n${mgmt.map(mention).join(' ')}`;
      for (const g of await managementGroups(ctx.tx)) {
        if (g.platform === ctx.group.platform && g.conversationId === ctx.group.conversationId) continue;
        await ctx.post({ platform: g.platform, conversationId: g.conversationId }, { text: notice, mentions: mgmt.map((p) => p.userid) }, `complaint:${c.id}:level-d:${g.conversationId}`);
      }
      await record(ctx, c, 'notified', `专案报总经办：${mgmt.map((p) => p.name).join('、')}`, { mentions: mgmt.map((p) => p.userid) });
    }
    if (c.channel === 'sales' && (to === 'C' || to === 'D')) {
      const visit = (await clocks.active(ctx.tx, c.id)).find((t) => t.ruleId === 'complaint.visit');
      if (visit && heads.length) {
        const cal = await clocks.calendar(ctx.tx);
        const line = visitLine(code, to, heads, visit.dueAt, cal, ctx.now);
        lines.push(line);
        mentions.push(...heads);
        if (!(await isHere(ctx, c))) {
          const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, c.clientId));
          await notifyDepartment(ctx, c, `【上门拜访】${code}（${client?.name ?? ''}）${line}`, heads, 'visit');
        }
      }
    }
    ctx.reply(lines.join('\n') + clocksText, mentions.map((p) => p.userid));
  }

  async function complaintVisit(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isHead || r.isManagement)) refuse(`抱歉，${code} 的上门拜访由部门负责人亲自登记（4.3.4）。`);
    const note = String(args.note);
    await record(ctx, c, 'visited', note);
    ctx.reply(`已登记 ${code} 的上门拜访：${note}\n辛苦了，谢谢！${await clockLines(ctx, c.id, ['visited'])}`);
  }

  async function complaintExplain(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isSupervisor || r.isHead || r.isManagement)) refuse(`抱歉，${code} 的解释需由主管登记（4.3.1）。`);
    if (c.explainedAt) throw new UserInputError(`抱歉，${code} 已在 ${formatInstant(c.explainedAt)} 登记过解释。`);
    const note = String(args.note);
    await set(ctx, c.id, { explainedAt: ctx.now });
    await record(ctx, c, 'explained', note);
    ctx.reply(`已登记 ${code} 向客户作出的解释：${note}\n谢谢！${await clockLines(ctx, c.id, ['explained'])}`);
  }

  /** A supervisor's proposal for the new handler still waiting for the head (4.3.2): the latest one after the last change. */
  async function pendingReplacement(tx: Db, complaintIdValue: number) {
    const [e] = await tx
      .select()
      .from(complaintEvents)
      .where(and(eq(complaintEvents.complaintId, complaintIdValue), inArray(complaintEvents.kind, ['replace_proposed', 'replaced'])))
      .orderBy(desc(complaintEvents.id))
      .limit(1);
    if (!e || e.kind !== 'replace_proposed') return null;
    const to = await personById(tx, Number(e.data.toId));
    if (!to || !to.active) return null;
    return { to, by: await personById(tx, e.actorId), note: typeof e.data.note === 'string' ? e.data.note : null };
  }

  /**
   * 4.3.2: the department promises the client another handler at once; the department head (部门经理)
   * talks with the client and picks the new one. The head (or 总经办) names the new handler directly;
   * a supervisor's choice is recorded as a proposal and the head is asked, with a real @, to confirm.
   */
  async function complaintReplace(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isSupervisor || r.isHead || r.isManagement)) refuse(`抱歉，${code} 的更换负责人由部门负责人决定，主管可以提出建议（4.3.2）。`);
    if (c.status === 'closed') throw new UserInputError(`抱歉，${code} 已经结案了。`);
    const decides = r.isHead || r.isManagement;
    const word = String(args.person).trim();
    const note = (args.note as string | undefined) ?? null;
    if (word === '确认' || word.toLowerCase() === 'confirm') {
      if (!decides) refuse(`抱歉，${code} 的新负责人需由部门负责人确认（4.3.2），请等待部门负责人确认，谢谢！`);
      const pending = await pendingReplacement(ctx.tx, c.id);
      if (!pending) throw new UserInputError(`抱歉，${code} 没有待确认的换人建议。请直接指定新负责人：/换人 ${code} @姓名 [说明]`);
      return replaceHandler(ctx, c, pending.to, note ?? pending.note, pending.by);
    }
    const to = await resolvePerson(ctx.tx, word, ctx.message.mentions);
    if (to.role === 'sales' || to.role === 'management') throw new UserInputError(`抱歉，${to.name} 不是服务负责人，请换成具体负责人。`);
    const current = c.replacementId ?? c.handlerId;
    if (to.id === current) throw new UserInputError(`抱歉，${code} 现在就是 ${to.name} 负责，请换成另一位同事。`);
    if (decides) return replaceHandler(ctx, c, to, note, null);

    // A supervisor proposes; the head decides.
    const heads = await headsOf(ctx.tx, c.departmentId);
    const deciders = heads.length ? heads : await managementPeople(ctx.tx);
    const previous = await personById(ctx.tx, current);
    const proposer = ctx.actor.person?.name ?? ctx.actor.displayName;
    await record(ctx, c, 'replace_proposed', `建议更换负责人：${previous?.name ?? '—'} → ${to.name}${note ? '（' + note + '）' : ''}，待部门负责人确认`, {
      toId: to.id,
      to: to.userid,
      note,
      askedTo: deciders.map((p) => p.userid),
    });
    const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, c.clientId));
    const text =
      `【换人待确认】${code}（${client?.name ?? ''}）客户要求更换负责人，部门已承诺无条件更换（4.3.2）。\n` +
      `${proposer} 建议由 ${to.name} 接手${note ? `：${note}` : ''}。请部门负责人与客户沟通后确认：/换人 ${code} 确认，或另选：/换人 ${code} @姓名。`;
    const where = await notifyDepartment(ctx, c, text, deciders, 'replace-proposed');
    if (!where) {
      // No department group: ask here, where the proposal was made.
      ctx.reply(`${text}\n${deciders.map(mention).join(' ')}`, deciders.map((p) => p.userid));
    } else if (!(await isHere(ctx, c))) {
      ctx.reply(
        `已记录 ${code} 的换人建议（${to.name}），已在「${where}」请 ${deciders.map((p) => p.name).join('、')} 确认。确认前相关分配单暂不改派，谢谢！`,
      );
    }
  }

  async function replaceHandler(ctx: ChatContext, c: ComplaintRow, to: Person, note: string | null, proposedBy: Person | null) {
    const code = complaintCode(c.id);
    const current = c.replacementId ?? c.handlerId;
    if (to.id === current) throw new UserInputError(`抱歉，${code} 现在就是 ${to.name} 负责，请换成另一位同事。`);
    const related = c.orderIds.length
      ? await ctx.tx
          .select()
          .from(orders)
          .where(and(inArray(orders.id, c.orderIds), inArray(orders.status, ['new', 'assigned', 'paused'])))
          .orderBy(asc(orders.id))
      : [];
    // The accused handler's orders move; with nobody accused, all related open orders do.
    const moving = related.filter((o) => !c.handlerId || o.handlerId === c.handlerId || o.handlerId === c.replacementId);
    for (const o of moving) {
      await ctx.tx
        .update(orders)
        .set({ handlerId: to.id, status: o.status === 'new' ? 'assigned' : o.status, transferToId: null, transferReason: null, transferRequestedById: null, updatedAt: ctx.now })
        .where(eq(orders.id, o.id));
      await ctx.tx.insert(orderEvents).values({
        orderId: o.id,
        at: ctx.now,
        actorId: ctx.actor.person?.id ?? null,
        kind: 'complaint_handover',
        note: `投诉 ${code}：客户要求更换负责人，改由 ${to.name} 负责${note ? '（' + note + '）' : ''}`,
        data: { from: o.handlerId, to: to.userid, complaint: c.id },
      });
      await ctx.audit('order.complaint_handover', `order:${o.id}`, { complaint: c.id, from: o.handlerId, to: to.userid });
    }
    const previous = await personById(ctx.tx, current);
    const decider = `${ctx.actor.person?.role === 'head' ? '部门负责人' : '总经办'} ${ctx.actor.person?.name ?? ctx.actor.displayName}`;
    await set(ctx, c.id, { replacementId: to.id });
    await record(ctx, c, 'replaced', `更换负责人：${previous?.name ?? '—'} → ${to.name}，${decider} 决定${proposedBy ? `（${proposedBy.name} 建议）` : ''}${note ? '（' + note + '）' : ''}`, {
      from: previous?.userid ?? null,
      to: to.userid,
      decidedBy: ctx.actor.userid,
      proposedBy: proposedBy?.userid ?? null,
      orders: moving.map((o) => o.id),
    });
    ctx.reply(
      `已按客户要求更换负责人（4.3.2，${decider} 决定${proposedBy ? `，${proposedBy.name} 建议` : ''}）：${code} ${moving.length ? `相关分配单 ${moving.map((o) => orderCode(o.id)).join('、')} 现由 ${mention(to)} 负责。` : `现由 ${mention(to)} 负责（没有需要改派的进行中分配单）。`}\n` +
        `${previous ? `${mention(previous)} 请把资料和进展全部交接给新负责人，` : ''}请部门负责人与客户沟通确认，谢谢配合！`,
      [to.userid, ...(previous ? [previous.userid] : [])],
    );
  }

  async function complaintTellSales(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isHead || r.isOwner || r.isSupervisor || r.isHandler || r.isManagement)) refuse(`抱歉，只有 ${code} 的相关同事可以登记。`);
    if (c.salesInformedAt) throw new UserInputError(`抱歉，${code} 已在 ${formatInstant(c.salesInformedAt)} 告知过业务员。`);
    const note = (args.note as string | undefined) ?? null;
    const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, c.clientId));
    const sales = await personById(ctx.tx, client?.salespersonId);
    await set(ctx, c.id, { salesInformedAt: ctx.now });
    await record(ctx, c, 'sales_informed', note, { sales: sales?.userid ?? null });
    const result = c.closedAt ? c.resolution : (c.ownerNote ?? c.callbackNote);
    ctx.reply(
      `已登记：${code} 的处理结果已告知业务员${sales ? ' ' + mention(sales) : ''}，谢谢！${result ? `\n处理结果：${result}` : ''}${note ? `\n备注：${note}` : ''}` +
        (await clockLines(ctx, c.id, ['sales-informed'])),
      sales ? [sales.userid] : [],
    );
  }

  /**
   * Where the salesperson will see a copy (4.3.6 抄送该客户的业务员): an internal group bound to one of
   * the complaint's orders, else the salesperson's own department group (市场部), else the internal group
   * they last spoke in, else the complaint department's group. Never a client group.
   */
  async function salesGroup(tx: Db, c: ComplaintRow, sales: Person) {
    if (c.orderIds.length) {
      const [bound] = await tx
        .select()
        .from(groups)
        .where(and(inArray(groups.orderId, c.orderIds), eq(groups.kind, 'internal')))
        .orderBy(asc(groups.id))
        .limit(1);
      if (bound) return bound;
    }
    const own = await departmentGroup(tx, sales.departmentId);
    if (own) return own;
    const [spoken] = await tx
      .select({ g: groups })
      .from(chatLog)
      .innerJoin(groups, and(eq(groups.platform, chatLog.platform), eq(groups.conversationId, chatLog.conversationId)))
      .where(and(eq(chatLog.sender, sales.userid), eq(chatLog.direction, 'in'), eq(groups.kind, 'internal')))
      .orderBy(desc(chatLog.id))
      .limit(1);
    if (spoken) return spoken.g;
    return departmentGroup(tx, c.departmentId);
  }

  async function complaintReport(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isHead || r.isManagement)) refuse(`抱歉，${code} 的投诉处理报告由所属部门负责人登记（4.3.6）。`);
    if (c.status !== 'closed') throw new UserInputError(`抱歉，${code} 还没有结案；投诉处理报告在处理完毕后提交（4.3.6）。`);
    if (c.reportAt) throw new UserInputError(`抱歉，${code} 已在 ${formatInstant(c.reportAt)} 登记过报告。`);
    const note = String(args.note);
    const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, c.clientId));
    const sales = await personById(ctx.tx, client?.salespersonId);
    const mgmt = await managementPeople(ctx.tx);
    const head = ctx.actor.person?.name ?? ctx.actor.displayName;
    const salesTo = sales ? await salesGroup(ctx.tx, c, sales) : null;

    // One post per group: the report to 总经办, the copy to the salesperson with a real @ (one post when they share a group).
    type Post = { platform: string; conversationId: string; title: string | null; text: string[]; mentions: Person[] };
    const posts = new Map<string, Post>();
    const add = (g: { platform: string; conversationId: string; title: string | null }, text: string, who: Person[]) => {
      const k = `${g.platform}:${g.conversationId}`;
      const p = posts.get(k) ?? { platform: g.platform, conversationId: g.conversationId, title: g.title, text: [], mentions: [] };
      p.text.push(text);
      p.mentions.push(...who);
      posts.set(k, p);
    };
    for (const g of await managementGroups(ctx.tx)) {
      add(g, `【投诉处理报告】${code}（${client?.name ?? ''}）：${note}\n部门负责人 ${head} 呈老板，请审阅（4.3.6）。`, mgmt);
    }
    if (sales && salesTo) {
      add(salesTo, `【投诉处理报告·抄送业务员】${code}（${client?.name ?? ''}）：${note}\n已呈老板，抄送您，便于后续跟进客户（4.3.6）。`, [sales]);
    }
    const keys: string[] = [];
    let here: Post | null = null;
    for (const p of posts.values()) {
      const who = [...new Map(p.mentions.map((x) => [x.id, x])).values()];
      const text = `${p.text.join('\n')}\n${who.map(mention).join(' ')}`;
      if (p.platform === ctx.group.platform && p.conversationId === ctx.group.conversationId) {
        here = { ...p, text: [text], mentions: who };
        continue;
      }
      const key = `complaint:${c.id}:report:${p.conversationId}`;
      await ctx.post({ platform: p.platform, conversationId: p.conversationId }, { text, mentions: who.map((x) => x.userid) }, key);
      keys.push(key);
    }
    // Where it went, read back from the outbox rows just queued.
    const queued = keys.length
      ? await ctx.tx
          .select({ conversationId: outbox.conversationId, platform: outbox.platform, mentions: sql<string[]>`${outbox.payload}->'mentions'`, title: groups.title })
          .from(outbox)
          .leftJoin(groups, and(eq(groups.platform, outbox.platform), eq(groups.conversationId, outbox.conversationId)))
          .where(inArray(outbox.dedupeKey, keys))
          .orderBy(asc(outbox.id))
      : [];
    const names = new Map([...mgmt, ...(sales ? [sales] : [])].map((p) => [p.userid, p.name]));
    const whereLines = queued.map((q) => `· 已发到「${q.title ?? q.conversationId}」：${(q.mentions ?? []).map((u) => '@' + (names.get(u) ?? u)).join(' ')}`);
    if (here) whereLines.push(`· 本群：${here.mentions.map(mention).join(' ')}`);
    const toMgmt = [...queued.map((q) => q.mentions ?? []), ...(here ? [here.mentions.map((p) => p.userid)] : [])].some((m) => mgmt.some((p) => m.includes(p.userid)));
    const toSales = !!sales && [...queued.map((q) => q.mentions ?? []), ...(here ? [here.mentions.map((p) => p.userid)] : [])].some((m) => m.includes(sales.userid));
    if (!toMgmt) whereLines.push('· 总经办还没有内部群，报告未能发给老板，请总经办用 /部门群 总经办 设置后再转达。');
    if (!sales) whereLines.push('· 该客户没有登记业务员，未抄送。');
    else if (!toSales) whereLines.push(`· 没有找到业务员 ${sales.name} 所在的内部群，未能抄送，请部门负责人另行转达。`);
    await set(ctx, c.id, { reportAt: ctx.now, reportNote: note });
    await record(ctx, c, 'reported', note, {
      to: mgmt.map((p) => p.userid),
      cc: sales?.userid ?? null,
      groups: queued.map((q) => q.conversationId),
    });
    const clocksText = await clockLines(ctx, c.id, ['reported']);
    ctx.reply(
      `已登记 ${code} 的投诉处理报告，辛苦了！\n${whereLines.join('\n')}${here ? `\n${here.text[0]}` : ''}${clocksText}`,
      here ? here.mentions.map((p) => p.userid) : [],
    );
  }

  async function complaintSelfReview(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    const isAccused = !!ctx.actor.person && ctx.actor.person.id === c.handlerId;
    if (!(isAccused || r.isHead || r.isManagement)) refuse(`抱歉，${code} 的检讨书由被投诉负责人提交、部门负责人建档。`);
    if (!c.attitude) throw new UserInputError(`抱歉，${code} 没有被认定为态度问题，不需要检讨书（4.4.1）。`);
    if (c.reviewFiledAt) throw new UserInputError(`抱歉，${code} 的检讨书已在 ${formatInstant(c.reviewFiledAt)} 建档。`);
    const note = String(args.note);
    await set(ctx, c.id, { reviewFiledAt: ctx.now, reviewNote: note });
    await record(ctx, c, 'review_filed', note);
    ctx.reply(`已将 ${code} 的投诉检讨书建档，计入年终绩效考核（4.4.1）。谢谢！${await clockLines(ctx, c.id, ['review-filed'])}`);
  }

  async function complaintClose(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    const blockers = closeBlockers({ ...complaintFacts(c), id: c.id, status: c.status, callbackAt: c.callbackAt, escalatedAt: c.escalatedAt, ownerNoteAt: c.ownerNoteAt, explainedAt: c.explainedAt });
    if (c.status === 'closed') throw new UserInputError(`抱歉，${blockers[0]!}`);
    // A: the handler may close it (负责人自行处理); B–D are the department head's.
    const allowed = c.level === 'A' || !c.level ? r.isHandler || r.isSupervisor || r.isHead || r.isOwner || r.isManagement : r.isHead || r.isManagement;
    if (!allowed) refuse(`抱歉，${code} 是 ${c.level} 级投诉，需由部门负责人结案。`);
    if (blockers.length) throw new UserInputError(`抱歉，${code} 暂时不能结案：\n${blockers.map((b) => '· ' + b).join('\n')}`);
    const note = String(args.note);
    const cause = args.cause as string | undefined;
    const attitude = cause === '态度' || cause === 'attitude';
    const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, c.clientId));
    const sales = await personById(ctx.tx, client?.salespersonId);
    // 4.3.4 / 4.3.6: the salesperson hears the result; closing tells them if nobody has yet.
    const tellSales = (c.channel === 'sales' || c.channel === 'boss') && !c.salesInformedAt && !!sales;
    await set(ctx, c.id, {
      status: 'closed',
      closedAt: ctx.now,
      resolution: note,
      closeReason: cause ?? null,
      attitude,
      ...(tellSales ? { salesInformedAt: ctx.now } : {}),
    });
    await record(ctx, c, 'closed', note, { cause: cause ?? null });
    if (tellSales) await record(ctx, c, 'sales_informed', '结案通知', { sales: sales!.userid });
    const clocksText = await clockLines(ctx, c.id, ['closed']);
    const handler = await personById(ctx.tx, c.handlerId);
    const heads = await headsOf(ctx.tx, c.departmentId);
    const lines = [`${code}（${client?.name ?? ''}）已结案：${note}\n大家辛苦了，谢谢！`];
    const mentions: Person[] = [];
    if (tellSales) {
      lines.push(`${mention(sales!)} 投诉处理结果如上，便于您后续跟进客户（4.3.4）。`);
      mentions.push(sales!);
    }
    if (c.channel === 'boss') {
      lines.push(`请部门负责人${heads.map((h) => ' ' + mention(h)).join('')} 写投诉处理报告发老板并抄送业务员：/报告 ${code} <链接或摘要>（4.3.6）。`);
      mentions.push(...heads);
    }
    if (attitude && handler) {
      lines.push(`投诉原因是服务态度：请 ${mention(handler)} 写投诉检讨书，由部门负责人建档：/检讨书 ${code} <链接或摘要>（4.4.1）。`);
      mentions.push(handler);
    }
    if (c.breachedAt) lines.push(`注：本投诉的 30 分钟回电时限曾超时（${formatInstant(c.breachedAt)}），已记入投诉记录。`);
    const text = lines.join('\n') + clocksText;
    const here = await isHere(ctx, c);
    if (here) ctx.reply(text, mentions.map((p) => p.userid));
    else {
      await notifyDepartment(ctx, c, lines.join('\n'), [], 'closed');
      ctx.reply(text, mentions.map((p) => p.userid));
    }
  }

  async function complaintGift(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isHead || r.isManagement)) refuse(`抱歉，${code} 的赠送服务需由部门负责人登记（4.4.2）。`);
    const previous = c.giftFeeFen !== null ? `${c.giftNote ?? ''}；官费 ${formatFen(c.giftFeeFen)}：${(c.giftShares ?? []).map((s) => `${s.name} ${formatFen(s.fen)}`).join('、')}` : null;
    if (previous && args.confirm !== true)
      throw new UserInputError(`抱歉，${code} 已登记过赠送服务：${previous}。\n如需更正，请在命令里加上「确认」，新的记录会替换原记录：/赠送 ${code} 官费=<元> 确认 <赠送的服务>`);
    const fen = parseYuan(String(args.fee));
    if (fen === null || fen === 0) throw new UserInputError(`抱歉，「官费=${args.fee}」不是有效金额，请写元，最多两位小数，如 官费=850 或 官费=1234.56。`);
    const fault = args.fault ? await resolvePerson(ctx.tx, String(args.fault), ctx.message.mentions) : await personById(ctx.tx, c.handlerId);
    if (!fault) throw new UserInputError(`抱歉，请写明工作失误人：/赠送 ${code} 官费=… 过失人=@姓名 <赠送的服务>`);
    const supervisor = (await personById(ctx.tx, fault.supervisorId)) ?? (await personById(ctx.tx, c.supervisorId));
    const [head] = await headsOf(ctx.tx, c.departmentId);
    const [dept] = c.departmentId ? await ctx.tx.select().from(departments).where(eq(departments.id, c.departmentId)) : [];
    const ratio = pb.giftSplit.byService.find((s) => dept && dept.services.length > 0 && dept.services.every((x) => s.services.includes(x))) ?? pb.giftSplit.default;
    const split = splitOfficialFee(fen, ratio);
    const shares = [
      { role: 'fault' as const, person: fault, fen: split.fault, label: '工作失误人' },
      { role: 'supervisor' as const, person: supervisor, fen: split.supervisor, label: '主管上级' },
      { role: 'head' as const, person: head ?? null, fen: split.head, label: '部门负责人' },
    ];
    const note = String(args.note);
    await set(ctx, c.id, {
      giftFeeFen: fen,
      giftNote: note,
      giftShares: shares.map((s) => ({ role: s.role, personId: s.person?.id ?? null, name: s.person?.name ?? '—', fen: s.fen })),
    });
    const ratioText = `${ratio.fault}:${ratio.supervisor}:${ratio.head}`;
    const shareText = shares.filter((s) => s.fen > 0 || ratio[s.role] > 0).map((s) => `${s.label} ${s.person?.name ?? '—'} ${formatFen(s.fen)}`).join('；');
    await record(ctx, c, 'gift', `赠送：${note}；官费 ${formatFen(fen)} 按 ${ratioText} 分担：${shareText}`, { fen, ratio: ratioText, shares: split });
    ctx.reply(
      `${previous ? `已更正 ${code} 的赠送服务（替换原记录：${previous}）` : `已登记 ${code} 的赠送服务`}：${note}\n官费 ${formatFen(fen)}，按 ${ratioText}（${ratio.clause}）分担：\n${shares
        .map((s) => `· ${s.label} ${s.person?.name ?? '—'}：${formatFen(s.fen)}`)
        .join('\n')}\n赠送服务不提取提成。谢谢！`,
    );
  }

  async function complaintList(ctx: ChatContext, args: ParsedArgs) {
    const p = ctx.actor.person;
    const isMgmt = ctx.actor.isAdmin || p?.role === 'management';
    let deptId: number | null = null;
    let deptName = '全部';
    if (args.dept) {
      const d = await findDepartment(ctx.tx, String(args.dept));
      if (!d) throw new UserInputError(`抱歉，没有找到部门「${args.dept}」。可发送 /部门 列表 查看。`);
      deptId = d.id;
      deptName = d.name;
    } else if (!isMgmt) {
      if (!p?.departmentId) throw new UserInputError('抱歉，请写出部门：/投诉 列表 <部门>');
      deptId = p.departmentId;
      const [d] = await ctx.tx.select().from(departments).where(eq(departments.id, deptId));
      deptName = d?.name ?? '';
    }
    const onlyOpen = args.open === true;
    const rows = await ctx.tx
      .select({ c: complaints, client: clients.name, owner: people.name })
      .from(complaints)
      .innerJoin(clients, eq(clients.id, complaints.clientId))
      .leftJoin(people, eq(people.id, complaints.ownerId))
      .where(and(deptId ? eq(complaints.departmentId, deptId) : sql`true`, onlyOpen ? eq(complaints.status, 'open') : sql`true`))
      .orderBy(desc(complaints.id))
      .limit(50);
    const cal = await clocks.calendar(ctx.tx);
    const lines = [`${deptName}的投诉${onlyOpen ? '（未结）' : ''}：`];
    if (!rows.length) lines.push('目前没有。');
    for (const { c, client, owner } of rows) {
      const status = c.status === 'closed' ? '已结案' : c.escalatedAt ? '已上报' : c.callbackAt ? '已回电' : '待回电';
      lines.push(
        `· ${complaintCode(c.id)} ${client}｜${c.level ? c.level + ' 级' : `建议 ${c.proposedLevel ?? '—'}`}｜${CHANNEL_NAMES[c.channel]}｜${status}` +
          `｜${formatInstant(c.receivedAt)}｜负责：${owner ?? '—'}${c.breachedAt ? '｜回电超时' : ''}`,
      );
    }
    const year = Number(cal.dateOf(ctx.now).slice(0, 4));
    const depts = deptId ? [{ id: deptId, name: deptName }] : await ctx.tx.select({ id: departments.id, name: departments.name }).from(departments).orderBy(asc(departments.id));
    const figures = await rateLines(ctx, cal, year, depts, !deptId);
    if (figures.lines.length) {
      lines.push(`${year} 年至今投诉率（投诉数/服务客户数，${pb.rate.clause}）：${figures.lines.map((l) => l.slice(2)).join('；')}`);
      lines.push(figures.review);
    }
    ctx.reply(lines.join('\n'));
  }

  /** One line per department for `year` (running figure until the year is over), and when its year-end review is or was. */
  async function rateLines(ctx: ChatContext, cal: WorkCalendar, year: number, depts: { id: number; name: string }[], skipEmpty: boolean) {
    const span = rateSpan(year, ctx.now, cal);
    const pct = Math.round(pb.rate.threshold * 100);
    const lines: string[] = [];
    for (const d of depts) {
      const rate = await rateOf(ctx.tx, d.id, span.from, span.to, pb.rate.threshold);
      if (skipEmpty && rate.complaints === 0) continue;
      lines.push(`· ${d.name} ${rate.complaints}/${rate.clientsServed} = ${formatRate(rate)}${rate.over ? `（超过 ${pct}%，需年终总结检讨）` : ''}`);
    }
    const reviewAt = rateReviewAt(year, pb.rate.review, cal);
    const [done] = await ctx.tx
      .select({ at: events.at })
      .from(events)
      .where(and(eq(events.subject, rateReviewSubject(year)), eq(events.action, 'complaint.rate_review')))
      .orderBy(asc(events.id))
      .limit(1);
    const review = done
      ? `${year} 年的年终检讨已于 ${formatInstantInChinese(done.at, cal, { now: ctx.now })} 进行，超过 ${pct}% 的部门已通知部门负责人和总经办。`
      : reviewAt.getTime() > ctx.now.getTime()
        ? `年终检讨时间：${formatInstantInChinese(reviewAt, cal, { now: ctx.now })}，届时投诉率超过 ${pct}% 的部门会通知部门负责人和总经办，此前不单独提醒。`
        : `${year} 年没有进行年终检讨的记录（检讨时间 ${formatInstantInChinese(reviewAt, cal, { now: ctx.now })} 时本系统未运行）。`;
    return { lines, review, span };
  }

  async function complaintRateCmd(ctx: ChatContext, args: ParsedArgs) {
    const p = ctx.actor.person;
    const isMgmt = ctx.actor.isAdmin || p?.role === 'management';
    const cal = await clocks.calendar(ctx.tx);
    const thisYear = Number(cal.dateOf(ctx.now).slice(0, 4));
    const yearText = (args.year as string | undefined)?.replace(/年$/, '');
    const year = yearText === undefined ? thisYear : Number(yearText);
    if (!/^\d{4}$/.test(String(year)) || year < 2000 || year > thisYear) {
      throw new UserInputError(`抱歉，「${String(args.year)}」不是有效年份，请写成 /投诉率 ${thisYear}（不晚于今年）。`);
    }
    let depts: { id: number; name: string }[];
    if (isMgmt) {
      depts = (await ctx.tx.select({ id: departments.id, name: departments.name, services: departments.services }).from(departments).orderBy(asc(departments.id))).filter(
        (d) => d.services.length > 0,
      );
    } else {
      if (!p?.departmentId) throw new UserInputError('抱歉，您还没有登记所属部门，请总经办先用 /成员 添加 登记。');
      depts = await ctx.tx.select({ id: departments.id, name: departments.name }).from(departments).where(eq(departments.id, p.departmentId));
    }
    const figures = await rateLines(ctx, cal, year, depts, false);
    const pct = Math.round(pb.rate.threshold * 100);
    ctx.reply(
      [
        `${year} 年投诉率（投诉数 ÷ 服务客户数，${figures.span.complete ? '全年' : `截至 ${formatInstantInChinese(ctx.now, cal)}`}；超过 ${pct}% 的单元小组由部门负责人年终总结检讨，${pb.rate.clause}）：`,
        ...figures.lines,
        figures.review,
      ].join('\n'),
    );
  }

  const EVENT_NAMES: Record<string, string> = {
    received: '接到投诉',
    notified: '通知',
    proposed: '建议级别',
    level: '定级',
    handover: '移交',
    callback: '回电',
    escalated: '上报部门负责人',
    handled: '处理意见',
    explained: '向客户解释',
    replace_proposed: '建议更换负责人',
    replaced: '更换负责人',
    visited: '上门拜访',
    sales_informed: '告知业务员',
    closed: '结案',
    reported: '投诉处理报告',
    review_filed: '检讨书建档',
    gift: '赠送服务',
    reminder: '提醒',
    reminder_held: '提醒未发出',
    breach: '超时',
  };

  async function complaintShow(ctx: ChatContext, id: number) {
    const c = await load(ctx.tx, id);
    const code = complaintCode(c.id);
    const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, c.clientId));
    const [dept] = c.departmentId ? await ctx.tx.select().from(departments).where(eq(departments.id, c.departmentId)) : [];
    const name = async (pid: number | null) => (await personById(ctx.tx, pid))?.name ?? '—';
    const cal = await clocks.calendar(ctx.tx);
    const lines = [
      `${code}｜${client?.name ?? '—'}｜${CHANNEL_NAMES[c.channel]}｜${c.level ? `${c.level} 级（${pb.levels[c.level].name}）` : `建议 ${c.proposedLevel ?? '—'} 级，待确认`}｜${c.status === 'closed' ? '已结案' : '处理中'}`,
      `部门：${dept?.name ?? '—'}　被投诉负责人：${await name(c.handlerId)}${c.replacementId ? `（已换为 ${await name(c.replacementId)}）` : ''}　主管：${await name(c.supervisorId)}`,
      `首问负责人：${await name(c.firstResponderId)}　现由：${await name(c.ownerId)} 负责`,
      `接到投诉：${formatInstant(c.receivedAt)}　相关分配单：${c.orderIds.length ? c.orderIds.map(orderCode).join('、') : '无'}`,
      `内容：${c.content}`,
    ];
    if (c.level) lines.push(`处理方式：${pb.levels[c.level].handling}`);
    if (c.giftShares && c.giftFeeFen !== null) {
      lines.push(`赠送服务：${c.giftNote ?? ''}；官费 ${formatFen(c.giftFeeFen)}：${c.giftShares.map((s) => `${s.name} ${formatFen(s.fen)}`).join('、')}（不提取提成）`);
    }
    const active = await clocks.active(ctx.tx, c.id);
    if (active.length) {
      lines.push('计时：');
      for (const row of active) {
        const rule = pb.byId.get(row.ruleId);
        const late = row.dueAt.getTime() < ctx.now.getTime() ? '，已超时' : '';
        lines.push(`· ${rule?.step ?? row.ruleId}｜期限 ${formatInstantInChinese(row.dueAt, cal, { now: ctx.now })}${late}｜${rule?.clause ?? ''}`);
      }
    }
    const history = await ctx.tx
      .select({ e: complaintEvents, actor: people.name })
      .from(complaintEvents)
      .leftJoin(people, eq(people.id, complaintEvents.actorId))
      .where(eq(complaintEvents.complaintId, c.id))
      .orderBy(asc(complaintEvents.id));
    lines.push('记录：');
    const shown = history.slice(-40);
    if (history.length > shown.length) lines.push(`（较早的 ${history.length - shown.length} 条已省略）`);
    for (const { e, actor } of shown) {
      const at = e.kind === 'received' && typeof e.data.receivedAt === 'string' ? new Date(e.data.receivedAt) : e.at;
      lines.push(`· ${formatInstant(at)} ${actor ?? '系统'} ${EVENT_NAMES[e.kind] ?? e.kind}${e.note ? '：' + nameLadderSteps(e.note) : ''}`);
    }
    ctx.reply(lines.join('\n'));
  }

  return {
    handlers: {
      'complaint.new': complaintNew,
      'complaint.list': complaintList,
      'complaint.rate': complaintRateCmd,
      'complaint.callback': complaintCallback,
      'complaint.escalate': complaintEscalate,
      'complaint.handle': complaintHandle,
      'complaint.level': complaintLevel,
      'complaint.explain': complaintExplain,
      'complaint.visit': complaintVisit,
      'complaint.replace': complaintReplace,
      'complaint.tellsales': complaintTellSales,
      'complaint.report': complaintReport,
      'complaint.selfreview': complaintSelfReview,
      'complaint.close': complaintClose,
      'complaint.gift': complaintGift,
    } as Record<string, (ctx: ChatContext, args: ParsedArgs) => Promise<void>>,
    show: complaintShow,
  };
}
