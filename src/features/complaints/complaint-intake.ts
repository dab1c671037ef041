import { outsiderMessages } from '../roster';
import { and, asc, desc, eq, gte, inArray, isNull, ne, or, sql } from 'drizzle-orm';
import { clients, complaints, departments, orders, people } from '../../db/schema';
import { formatInstantInChinese } from '../../domain/calendar';
import {
  CHANNEL_NAMES,
  complaintCode,
  parseReceivedAt,
  proposeLevel,
  type ComplaintChannel,
  type ComplaintLevel,
} from '../../domain/complaints';
import { orderCode, STATUS_NAMES } from '../../domain/orders';
import type { ParsedArgs } from '../../core/command-parser';
import { type ChatContext, type Person } from '../../core/context';
import { findDepartment, mention, resolvePerson } from '../roster';
import { UserInputError } from '../../core/errors';
import { formatInstant } from '../../domain/calendar/format-instant';
import { complaintLevelAsked, type FileComplaintInput } from './events';
import type { ComplaintRow } from './complaint-clocks';
export type { FileComplaintInput } from './events';
import { CHANNEL_WORDS, CLIENT_GROUP_ACK, refuse, complaintId, personById, headsOf, managementPeople, type ComplaintKit } from './complaint-kit';

/** Intake and relay: /投诉 (a complaint from any channel, 4.1) and /告知业务 (telling the sales person, 4.3.5). */
export function createIntakeCommands(kit: ComplaintKit) {
  const { pb, clocks, load, record, set, clockLines, roleIn, notifyDepartment, isHere, visitLine } = kit;

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
        const [created] = await ctx.tx.insert(clients).values({ name: clientName, createdAt: ctx.now }).returning();
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
  async function contentOf(ctx: ChatContext, args: ParsedArgs): Promise<{ content: string; relayed: boolean; words?: string[] }> {
    const typed = (args.content as string | undefined)?.trim() ?? '';
    const quoted = ctx.message.quotedText?.trim();
    if (quoted) return { content: typed ? `${quoted}\n（记录人补充：${typed}）` : quoted, relayed: true, words: [quoted] };
    if (typed) return { content: typed, relayed: false };
    if (ctx.group.kind === 'client') {
      const [last] = await outsiderMessages(ctx.tx, ctx.group, { limit: 1, plainOnly: true });
      if (last) return { content: last.text, relayed: true, words: [last.text.trim()] };
    }
    throw new UserInputError('抱歉，请写上投诉内容：/投诉 客户=<客户> <内容>，或回复（引用）客户的消息发送 /投诉。');
  }

  async function complaintNew(ctx: ChatContext, args: ParsedArgs) {
    const cal = await clocks.calendar(ctx.tx);
    const { client, order } = await resolveClientAndOrder(ctx, args);
    let { content, relayed, words } = await contentOf(ctx, args);

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
    await fileComplaint(ctx, {
      client,
      order,
      content,
      relayed,
      receivedAt,
      channelWord: args.channel as string | undefined,
      handler: args.handler as string | undefined,
      dept: args.dept as string | undefined,
      level: args.level as string | undefined,
      unhappy: args.unhappy === true,
      source: relayed ? { platform: ctx.group.platform, conversationId: ctx.group.conversationId } : null,
      clientGroupAck: ctx.group.kind === 'client',
      ...(words ? { clientWords: words } : {}),
      forceNew: args.new === true,
    });
  }

  /** The client's open complaint whose words already hold one of these client messages (newest first). */
  async function openComplaintBehind(ctx: ChatContext, clientId: number, words: string[]) {
    const rows = await ctx.tx
      .select({ c: complaints, client: clients.name })
      .from(complaints)
      .innerJoin(clients, eq(clients.id, complaints.clientId))
      .where(and(eq(complaints.status, 'open'), eq(complaints.clientId, clientId)))
      .orderBy(desc(complaints.id))
      .limit(100);
    const holds = (content: string, w: string) => content === w || content.startsWith(`${w}\n`) || content.endsWith(`\n${w}`) || content.includes(`\n${w}\n`);
    const clean = words.map((w) => w.trim()).filter(Boolean);
    return rows.find((r) => clean.some((w) => holds(r.c.content, w.slice(0, 2000)))) ?? null;
  }

  /** A message already behind an open complaint: named (staff), or acknowledged to the client and named in the internal group. */
  async function answerDuplicate(ctx: ChatContext, input: FileComplaintInput, dup: { c: ComplaintRow; client: string }): Promise<{ id: number; code: string }> {
    const code = complaintCode(dup.c.id);
    const said = `该消息已登记为投诉 ${code}（${dup.client}，${dup.c.callbackAt ? '已回电' : dup.c.escalatedAt ? '已上报' : '处理中'}），不再重复登记；可发送 /查 ${code} 查看。`;
    const again = '如确属另一次投诉，请在命令里加上「新」再发一次。';
    await ctx.audit('complaint.duplicate', `complaint:${dup.c.id}`, { words: input.clientWords, by: ctx.actor.userid });
    if (!input.clientGroupAck) throw new UserInputError(`${said}\n${again}`);
    // In the client group the client hears the acknowledgement only; the number goes to the internal group.
    const actor = ctx.actor.person;
    await notifyDepartment(ctx, dup.c, `${actor?.name ?? ctx.actor.displayName} 在客户群「${ctx.group.title ?? ctx.group.conversationId}」登记的投诉：${said}\n${again}`, actor ? [actor] : [], 'duplicate');
    ctx.reply(CLIENT_GROUP_ACK);
    return { id: dup.c.id, code };
  }

  /**
   * Files a complaint once its client, order, words and received time are known: the row, its clocks
   * (counted from `receivedAt`), the notice to the department and the reply. `/投诉` and the triage
   * feature's `/投诉 确认` both come here, so a confirmed suggestion is exactly a `/投诉`.
   */
  async function fileComplaint(ctx: ChatContext, input: FileComplaintInput): Promise<{ id: number; code: string }> {
    const actor = ctx.actor.person;
    const cal = await clocks.calendar(ctx.tx);
    const { client, order, content, relayed, receivedAt } = input;
    if (!input.forceNew && input.clientWords?.length) {
      const dup = await openComplaintBehind(ctx, client.id, input.clientWords);
      if (dup) return answerDuplicate(ctx, input, dup);
    }
    const args = { handler: input.handler, dept: input.dept, level: input.level, unhappy: input.unhappy };
    const channelWord = input.channelWord;
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
      .where(and(eq(complaints.clientId, client.id), eq(complaints.departmentId, departmentId), gte(complaints.receivedAt, cal.at(`${year}-01-01`, '00:00')), ne(complaints.status, 'voided')))) as [{ n: number }];
    const proposal = proposeLevel(pb, { content, channel, complaintsThisYear: before + 1, reading: (await ctx.emit({ tx: ctx.tx, now: ctx.now, actor: ctx.actor }, complaintLevelAsked, { content }))[0] ?? null });
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
        sourcePlatform: input.source?.platform ?? null,
        sourceConversationId: input.source?.conversationId ?? null,
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

    if (input.clientGroupAck) {
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
    return { id: c.id, code };
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

  return {
    fileComplaint,
    handlers: {
      'complaint.new': complaintNew,
      'complaint.tellsales': complaintTellSales,
    } as Record<string, (ctx: ChatContext, args: ParsedArgs) => Promise<void>>,
  };
}
