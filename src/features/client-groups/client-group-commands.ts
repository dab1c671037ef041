import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { chatLog, clientContacts, clientQuestions, clients, groups, orders, people, timers } from '../../db/schema';
import { formatInstantInChinese } from '../../domain/calendar';
import { orderCode } from '../../domain/orders';
import { fromRow } from '../../core/clocks/clock-store';
import { involvement, loadOrder, type ClockChange, type OrderChange, type OrderClocks } from '../orders';
import type { ChatContext } from '../../core/context';
import { factsOfOrder, groupName, holdNotice, mustSee } from '../roster';
import { PermissionError, UserInputError } from '../../core/errors';
import type { WatchContext } from '../../core/feature';
import { enqueue, type Actor } from '../../core/records';
import { groupSubject, isOpenOrder, orderSubject, questionSubject, type ClientGroupClocks } from './client-group-clocks';
import { orderNoticeRoute } from './client-group-subject';
import { CONTACT_WAYS } from './client-group-specs';
import { CLIENT_TEXTS } from './client-group-texts';
import { isClientQuestion, type QuestionTriage } from './question';

type Order = typeof orders.$inferSelect;
type Args = Record<string, string | number | boolean | undefined>;

export const WAY_NAMES = { phone: '电话', visit: '上门', email: '邮件', chat: '微信/私聊', other: '其他', report: '材料进度' } as const;

export interface ClientGroupDeps {
  clocks: ClientGroupClocks;
  orderClocks: OrderClocks;
  /** The LLM issue's triage, when a model is configured: its verdict on "is this a question" wins over the rule. */
  triage?: QuestionTriage;
}

async function orderRow(tx: Db, id: number): Promise<Order | undefined> {
  return (await tx.select().from(orders).where(eq(orders.id, id)))[0];
}

/** The client group bound to the order (the one the rules post into). */
async function clientGroupOf(tx: Db, orderId: number) {
  const [g] = await tx
    .select()
    .from(groups)
    .where(and(eq(groups.orderId, orderId), eq(groups.kind, 'client')))
    .orderBy(asc(groups.id))
    .limit(1);
  return g;
}

/** An internal notice about an order: its internal group or 部门群 (or held until `/部门群`). */
async function postInternal(tx: Db, o: Order, text: string, mentions: { userid: string; name: string }[], dedupeKey: string, now: Date) {
  const route = await orderNoticeRoute(tx, o);
  const tags = mentions.map((p) => `@${p.name}`).join(' ');
  const body = `${text}${route.kind === 'fallback' ? `\n${route.note}` : ''}${tags ? `\n${tags}` : ''}`;
  const payload = { text: body, mentions: mentions.map((p) => p.userid), internal: true };
  if (route.kind === 'unrouted') return holdNotice(tx, o.departmentId, payload, now, dedupeKey);
  return enqueue(tx, { platform: route.group.platform, conversationId: route.group.conversationId, payload, dedupeKey, now });
}

async function dueText(deps: ClientGroupDeps, tx: Db, subject: string, ruleId: Parameters<ClientGroupClocks['find']>[2], now: Date) {
  const row = await deps.clocks.find(tx, subject, ruleId);
  if (!row) return null;
  const cal = await deps.clocks.calendar(tx);
  return formatInstantInChinese(fromRow(row).dueAt, cal, { now });
}

const describe = async (deps: ClientGroupDeps, tx: Db, changes: (ClockChange | null)[], now: Date) => {
  const list = changes.filter((c): c is ClockChange => !!c);
  if (!list.length) return '';
  const cal = await deps.clocks.calendar(tx);
  return '\n' + list.map((c) => deps.orderClocks.describe(c, cal, now)).join('\n');
};

export function createClientGroupHandlers(deps: ClientGroupDeps) {
  const { clocks } = deps;
  const rules = clocks.rules;

  /** A staff member answered in the group (or said it was answered privately): the waiting question is answered. */
  async function answerWaiting(tx: Db, groupId: number, o: Order, state: 'answered' | 'private', actor: Actor, now: Date, note: string | null) {
    const closed = await tx
      .update(clientQuestions)
      .set({ state, closedAt: now, closedById: actor.person?.id ?? null, closeNote: note })
      .where(and(eq(clientQuestions.groupId, groupId), eq(clientQuestions.kind, 'asked'), eq(clientQuestions.state, 'waiting')))
      .returning({ id: clientQuestions.id });
    const change = await clocks.complete(tx, 'client-group.answer', groupSubject(groupId), o, now, actor);
    return { closed: closed.length, change };
  }

  /** Sees every plain message of a client group bound to an order. */
  async function watch(ctx: WatchContext) {
    const g = ctx.group;
    if (g.kind !== 'client' || !g.orderId) return;
    const o = await orderRow(ctx.tx, g.orderId);
    if (!o || !isOpenOrder(o)) return;
    const at = ctx.message.receivedAt.getTime() < ctx.now.getTime() ? ctx.message.receivedAt : ctx.now;
    if (ctx.sender === 'staff') {
      const { closed } = await answerWaiting(ctx.tx, g.id, o, 'answered', ctx.actor, ctx.now, null);
      if (closed) await ctx.audit('clientgroup.answered', `order:${o.id}`, { group: g.id });
      // A staff message in the group is contact with the client: the weekly clock starts again (not audited per message).
      await clocks.restart(ctx.tx, 'client-group.weekly-contact', orderSubject(o.id), o, at, ctx.now, ctx.actor, true);
      return;
    }
    if (!(await isClientQuestion(ctx.message.text, rules.question, deps.triage))) return;
    const [waiting] = await ctx.tx
      .select()
      .from(clientQuestions)
      .where(and(eq(clientQuestions.groupId, g.id), eq(clientQuestions.kind, 'asked'), eq(clientQuestions.state, 'waiting')))
      .limit(1);
    if (waiting) {
      // One clock per unanswered group: a follow-up question does not restart it.
      await ctx.tx.update(clientQuestions).set({ followUps: waiting.followUps + 1 }).where(eq(clientQuestions.id, waiting.id));
      return;
    }
    const [q] = await ctx.tx
      .insert(clientQuestions)
      .values({
        orderId: o.id,
        groupId: g.id,
        kind: 'asked',
        state: 'waiting',
        text: ctx.message.text.slice(0, 2000),
        askedBy: ctx.actor.displayName,
        messageId: ctx.message.messageId,
        createdAt: at,
      })
      .returning();
    await clocks.start(ctx.tx, 'client-group.answer', groupSubject(g.id), o, at, ctx.now, null);
    await ctx.audit('clientgroup.asked', `order:${o.id}`, { question: q!.id, group: g.id });
  }

  async function privately(ctx: ChatContext, a: Args) {
    const g = ctx.group;
    if (g.kind !== 'client' || !g.orderId) {
      throw new UserInputError('请在已绑定分配单的客户群里发送 /已私聊 <备注>，机器人会在该群说明问题已私下回复，谢谢！');
    }
    const o = await loadOrder(ctx.tx, g.orderId);
    const note = String(a.note).trim();
    const { change } = await answerWaiting(ctx.tx, g.id, o, 'private', ctx.actor, ctx.now, note);
    await ctx.tx.insert(clientContacts).values({ orderId: o.id, at: ctx.now, kind: 'chat', note: `已私聊：${note}`, personId: ctx.actor.person?.id ?? null });
    await clocks.restart(ctx.tx, 'client-group.weekly-contact', orderSubject(o.id), o, ctx.now, ctx.now, ctx.actor);
    await ctx.audit('clientgroup.private', `order:${o.id}`, { note, stopped: !!change });
    // The reply is the note the standard asks for, in the client group: nothing internal.
    ctx.reply(CLIENT_TEXTS.answeredPrivately());
  }

  async function open(ctx: ChatContext, a: Args) {
    let text = String(a.text).trim();
    const m = /^[Dd](\d{1,9})\s+([\s\S]+)$/.exec(text);
    const inClientGroup = ctx.group.kind === 'client';
    let orderId: number | null = null;
    if (m) {
      orderId = Number(m[1]);
      text = m[2]!.trim();
    } else if (inClientGroup && ctx.group.orderId) orderId = ctx.group.orderId;
    if (!orderId) {
      throw new UserInputError(
        inClientGroup
          ? '本群还没有绑定分配单，请先发送 /绑定 D12，或写明单号：/待解决 D12 <要点>。'
          : '请写明单号：/待解决 D12 <要点>（在已绑定的客户群里可以不写单号）。',
      );
    }
    const o = await loadOrder(ctx.tx, orderId);
    if (!isOpenOrder(o)) throw new UserInputError(`${orderCode(o.id)} 已经${o.status === 'done' ? '完成' : '取消'}，不能再登记待解决的问题。`);
    if (inClientGroup && ctx.group.orderId !== o.id) {
      throw new UserInputError(ctx.group.orderId ? '本群绑定的是另一张分配单，请在对应的群里登记，谢谢！' : `本群还没有绑定分配单，请先发送 /绑定 ${orderCode(o.id)}，谢谢！`);
    }
    const group = inClientGroup ? ctx.group : await clientGroupOf(ctx.tx, o.id);
    const [q] = await ctx.tx
      .insert(clientQuestions)
      .values({ orderId: o.id, groupId: group?.id ?? null, kind: 'open', state: 'waiting', text, askedBy: ctx.actor.displayName, messageId: ctx.message.messageId, createdAt: ctx.now })
      .returning();
    const change = await clocks.start(ctx.tx, 'client-group.resolve', questionSubject(q!.id), o, ctx.now, ctx.now, ctx.actor);
    // Recording an open question is also an answer to the client's waiting question.
    if (inClientGroup) await answerWaiting(ctx.tx, ctx.group.id, o, 'answered', ctx.actor, ctx.now, `待解决 Q${q!.id}`);
    await ctx.audit('clientgroup.open', `order:${o.id}`, { question: q!.id, text });
    const due = (await dueText(deps, ctx.tx, questionSubject(q!.id), 'client-group.resolve', ctx.now)) ?? '';
    const rule = rules.rule('client-group.resolve').timer;
    const internal = `已登记 ${orderCode(o.id)} 的待解决问题 Q${q!.id}：${text}\n请在 ${due} 前解决（${rule.clause}），解决后发送 /已解决 Q${q!.id} <结果>，机器人会在客户群告知客户。`;
    if (inClientGroup) {
      // The client sees only the polite acknowledgement; the Q number and the deadline go to the internal group.
      ctx.reply(CLIENT_TEXTS.openNoted(due));
      await postInternal(ctx.tx, o, internal, ctx.actor.person ? [{ userid: ctx.actor.person.userid, name: ctx.actor.person.name }] : [], `clientgroup:open:${q!.id}`, ctx.now);
    } else {
      ctx.reply(internal + (await describe(deps, ctx.tx, [change], ctx.now)));
    }
  }

  async function resolve(ctx: ChatContext, a: Args) {
    const ref = String(a.ref);
    if (!/^Q\d+$/.test(ref)) throw new UserInputError(`「${ref}」不是问题编号，请写 Q 加数字，如 /已解决 Q5 <结果>。`);
    const id = Number(ref.slice(1));
    const [q] = await ctx.tx.select().from(clientQuestions).where(eq(clientQuestions.id, id)).for('update');
    if (!q) throw new UserInputError(`没有找到问题 Q${id}，请核对编号（/查 D12 可以看到该单进行中的计时）。`);
    if (q.state !== 'waiting') throw new UserInputError(`问题 Q${id} 已经处理过了（${formatInstantInChinese(q.closedAt ?? q.createdAt, await clocks.calendar(ctx.tx), { now: ctx.now })}）。`);
    const o = await loadOrder(ctx.tx, q.orderId);
    // In a client group only that group's own questions: the reply there is the note to this client.
    if (ctx.group.kind === 'client' && ctx.group.orderId !== q.orderId) {
      throw new UserInputError('这个问题不属于本群，请在内部群或对应的客户群里发送，谢谢！');
    }
    const result = String(a.result).trim();
    await ctx.tx.update(clientQuestions).set({ state: 'resolved', closedAt: ctx.now, closedById: ctx.actor.person?.id ?? null, closeNote: result }).where(eq(clientQuestions.id, id));
    const change =
      q.kind === 'open'
        ? await clocks.complete(ctx.tx, 'client-group.resolve', questionSubject(id), o, ctx.now, ctx.actor)
        : q.groupId
          ? await clocks.complete(ctx.tx, 'client-group.answer', groupSubject(q.groupId), o, ctx.now, ctx.actor)
          : null;
    const weekly = await clocks.restart(ctx.tx, 'client-group.weekly-contact', orderSubject(o.id), o, ctx.now, ctx.now, ctx.actor);
    await ctx.audit('clientgroup.resolved', `order:${o.id}`, { question: id, result });
    const group = q.groupId ? (await ctx.tx.select().from(groups).where(eq(groups.id, q.groupId)))[0] : await clientGroupOf(ctx.tx, o.id);
    const clientGroup = group?.kind === 'client' ? group : await clientGroupOf(ctx.tx, o.id);
    if (ctx.group.kind === 'client') {
      // Sent in the client group itself: the reply is the resolution note, nothing internal.
      ctx.reply(CLIENT_TEXTS.resolved(result));
      return;
    }
    if (clientGroup) await ctx.post(clientGroup, { text: CLIENT_TEXTS.resolved(result), mentions: [] }, `clientgroup:resolved:${id}`);
    ctx.reply(
      `好的，已登记 Q${id}（${orderCode(o.id)}）已解决：${result}\n` +
        (clientGroup ? `已在客户群「${groupName(clientGroup)}」告知客户。` : `${orderCode(o.id)} 还没有绑定客户群，请另行告知客户。`) +
        (await describe(deps, ctx.tx, [change, weekly], ctx.now)),
    );
  }

  async function contact(ctx: ChatContext, a: Args) {
    const o = await loadOrder(ctx.tx, Number(a.order));
    const inv = await involvement({ ...ctx, clocks: deps.orderClocks }, o);
    if (!inv.any) throw new PermissionError(`抱歉，只有 ${orderCode(o.id)} 的负责人、主管、业务员或部门负责人可以登记联系记录。`);
    if (!isOpenOrder(o)) throw new UserInputError(`${orderCode(o.id)} 已经${o.status === 'done' ? '完成' : '取消'}，不需要再登记联系。`);
    const kind = CONTACT_WAYS[String(a.way)]!;
    const note = a.note ? String(a.note).trim() : null;
    await ctx.tx.insert(clientContacts).values({ orderId: o.id, at: ctx.now, kind, note, personId: ctx.actor.person?.id ?? null });
    const change = await clocks.restart(ctx.tx, 'client-group.weekly-contact', orderSubject(o.id), o, ctx.now, ctx.now, ctx.actor);
    await ctx.audit('clientgroup.contact', `order:${o.id}`, { kind, note });
    ctx.reply(`已记录 ${orderCode(o.id)} 的客户联系（${WAY_NAMES[kind]}${note ? `：${note}` : ''}），谢谢！${await describe(deps, ctx.tx, [change], ctx.now)}`);
  }

  async function report(ctx: ChatContext, a: Args) {
    const o = await loadOrder(ctx.tx, Number(a.order));
    const inv = await involvement({ ...ctx, clocks: deps.orderClocks }, o);
    if (!inv.any) throw new PermissionError(`抱歉，只有 ${orderCode(o.id)} 的负责人、主管或部门负责人可以发送材料进度。`);
    if (!isOpenOrder(o)) throw new UserInputError(`${orderCode(o.id)} 已经${o.status === 'done' ? '完成' : '取消'}，不需要再报告材料进度。`);
    if (ctx.group.kind === 'client' && ctx.group.orderId !== o.id) {
      throw new UserInputError(`本群不是 ${orderCode(o.id)} 的客户群，请在内部群或该单的客户群里发送，谢谢！`);
    }
    const group = ctx.group.kind === 'client' ? ctx.group : await clientGroupOf(ctx.tx, o.id);
    if (!group) throw new UserInputError(`${orderCode(o.id)} 还没有绑定客户群。请先在与客户的讨论组里发送 /绑定 ${orderCode(o.id)}，再发送材料进度。`);
    const content = String(a.content).trim();
    await ctx.tx.insert(clientContacts).values({ orderId: o.id, at: ctx.now, kind: 'report', note: content, personId: ctx.actor.person?.id ?? null });
    const changes = [
      await clocks.restart(ctx.tx, 'client-group.materials-report', orderSubject(o.id), o, ctx.now, ctx.now, ctx.actor),
      await clocks.restart(ctx.tx, 'client-group.weekly-contact', orderSubject(o.id), o, ctx.now, ctx.now, ctx.actor),
    ];
    await ctx.audit('clientgroup.report', `order:${o.id}`, { content, group: group.id });
    if (group.id === ctx.group.id) {
      ctx.reply(CLIENT_TEXTS.progressReport(content));
      return;
    }
    await ctx.post(group, { text: CLIENT_TEXTS.progressReport(content), mentions: [] }, `clientgroup:report:${ctx.message.platform}:${ctx.message.messageId}`);
    ctx.reply(`已把 ${orderCode(o.id)} 的材料进度发到客户群「${groupName(group)}」，谢谢！${await describe(deps, ctx.tx, changes, ctx.now)}`);
  }

  /** `/查 Q5`: the question, its state and its clock. */
  async function show(ctx: ChatContext, id: number) {
    const [row] = await ctx.tx
      .select({ q: clientQuestions, o: orders, client: clients.name, owner: clients.salespersonId, closer: people.name })
      .from(clientQuestions)
      .innerJoin(orders, eq(orders.id, clientQuestions.orderId))
      .innerJoin(clients, eq(clients.id, orders.clientId))
      .leftJoin(people, eq(people.id, clientQuestions.closedById))
      .where(eq(clientQuestions.id, id));
    if (!row) throw new UserInputError(`没有找到问题 Q${id}，请核对编号。`);
    // A client's question is part of its order's record: who may see the order may see it.
    await mustSee(ctx.tx, ctx.actor, `Q${row.q.id}`, factsOfOrder(row.o, row.owner));
    const { q } = row;
    const cal = await clocks.calendar(ctx.tx);
    const when = (d: Date) => formatInstantInChinese(d, cal, { now: ctx.now });
    const states = { waiting: q.kind === 'open' ? '待解决' : '待回复', answered: '已在群里回复', private: '已私下回复', resolved: '已解决', closed: '已关闭' };
    const lines = [
      `Q${q.id}｜${orderCode(q.orderId)} ${row.client}｜${q.kind === 'open' ? '待解决的问题' : '客户在群里的提问'}｜${states[q.state]}`,
      `内容：${q.text}`,
      `${q.kind === 'open' ? '登记' : '提问'}：${q.askedBy ?? '—'}，${when(q.createdAt)}${q.followUps ? `（之后又追问 ${q.followUps} 次）` : ''}`,
    ];
    const subject = q.kind === 'open' ? questionSubject(q.id) : q.groupId ? groupSubject(q.groupId) : null;
    if (q.state === 'waiting' && subject) {
      const [t] = await ctx.tx
        .select()
        .from(timers)
        .where(and(eq(timers.subject, subject), eq(timers.orderId, q.orderId)))
        .orderBy(asc(timers.id));
      if (t && (t.state === 'running' || t.state === 'paused')) {
        const timer = fromRow(t);
        const rule = clocks.rules.byId.get(t.ruleId as never)?.timer;
        lines.push(`计时：${rule?.step ?? t.ruleId}｜期限 ${when(timer.dueAt)}${timer.state === 'paused' ? '（暂停中）' : timer.dueAt < ctx.now ? '，已超时' : ''}｜${rule?.clause ?? ''}`);
      }
    }
    if (q.closedAt) lines.push(`处理：${row.closer ?? '—'}，${when(q.closedAt)}${q.closeNote ? `：${q.closeNote}` : ''}`);
    ctx.reply(lines.join('\n'));
  }

  /** Order events and bindings (the orders feature's `orderChanged` event). */
  async function onOrder(tx: Db, change: OrderChange, now: Date, actor: Actor | null): Promise<ClockChange[]> {
    const o = await orderRow(tx, change.orderId);
    if (!o || !isOpenOrder(o)) return [];
    const out: (ClockChange | null)[] = [];
    const events = change.events ?? [];
    if (events.includes('order.assigned')) out.push(await clocks.start(tx, 'client-group.weekly-contact', orderSubject(o.id), o, now, now, actor));
    const create = rules.rule('client-group.create-group');
    if (events.some((e) => create.startsOn.includes(e)) && (!create.services || create.services.includes(o.serviceType)) && !(await clientGroupOf(tx, o.id))) {
      out.push(await clocks.start(tx, 'client-group.create-group', orderSubject(o.id), o, now, now, actor));
    }
    const g = change.boundGroup;
    if (g?.kind === 'client') {
      out.push(await clocks.complete(tx, 'client-group.create-group', orderSubject(o.id), o, now, actor));
      for (const row of await deps.orderClocks.active(tx, o.id)) {
        if (row.subject === `order:${o.id}` && rules.bindCompletes.includes(row.ruleId)) {
          out.push(...(await deps.orderClocks.completeOne(tx, o.id, row, now, actor)));
        }
      }
      out.push(await clocks.start(tx, 'client-group.materials-report', orderSubject(o.id), o, now, now, actor));
      if (o.handlerId) out.push(await clocks.start(tx, 'client-group.weekly-contact', orderSubject(o.id), o, now, now, actor));
      await checkHandlerInGroup(tx, o, g, now);
    }
    return out.filter((c): c is ClockChange => !!c);
  }

  /**
   * 3.2.2.8: the project manager must be in the 讨论组. The platforms tell the bot who is in a group only
   * by the sender of each message (WeCom AI-bot and DingTalk callbacks), so a handler who has not spoken
   * there yet is named in the internal group, to be checked by a person.
   */
  async function checkHandlerInGroup(tx: Db, o: Order, g: { id: number; platform: string; conversationId: string; title: string | null }, now: Date) {
    if (!o.handlerId) return;
    const [handler] = await tx.select().from(people).where(eq(people.id, o.handlerId));
    if (!handler) return;
    const [seen] = await tx
      .select({ id: chatLog.id })
      .from(chatLog)
      .where(and(eq(chatLog.platform, g.platform), eq(chatLog.conversationId, g.conversationId), eq(chatLog.sender, handler.userid)))
      .limit(1);
    if (seen) return;
    await postInternal(
      tx,
      o,
      `客户群「${g.title ?? g.conversationId}」已绑定到 ${orderCode(o.id)}。项目经理须在讨论组内（3.2.2.8 项目），机器人还没有看到负责人 ${handler.name} 在该群发言，` +
        `可能还不在群里：请确认已把 ${handler.name} 拉进群（在群里发一句话，机器人就能确认）。`,
      [{ userid: handler.userid, name: handler.name }],
      `clientgroup:member:${g.id}:${handler.id}`,
      now,
    );
  }

  return {
    watch,
    onOrder,
    show,
    handlers: {
      'clientgroup.private': privately,
      'clientgroup.open': open,
      'clientgroup.resolve': resolve,
      'clientgroup.contact': contact,
      'clientgroup.report': report,
    } as Record<string, (ctx: ChatContext, a: Args) => Promise<void>>,
  };
}
