import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, departments, groups, orders, timers, triageSuggestions } from '../../db/schema';
import { formatInstantInChinese } from '../../domain/calendar';
import { completeTimer, ladder } from '../../domain/timers';
import { activeTimers, fromRow, toRow } from '../../core/clocks/clock-store';
import type { ParsedArgs } from '../../core/command-parser';
import type { ChatContext } from '../../core/context';
import { request } from '../../core/events';
import { continueTriageClock, fileComplaint } from '../complaints';
import { factsOfSuggestion, mustSee, ownerOfClient } from '../roster';
import { UserInputError } from '../../core/errors';
import { LEVEL_NAMES, MODEL_DECIDER, personById, subjectOf, suggestionCode, type Suggestion, type TriageEnv } from './shared';

/** `/投诉 确认`, `/投诉 忽略` and the X ref's show. */
export function triageHandlers(env: TriageEnv) {
  const { deps, rule } = env;

  async function loadOpen(ctx: ChatContext, refText: unknown): Promise<Suggestion> {
    const m = /^X(\d{1,9})$/i.exec(String(refText ?? ''));
    if (!m) throw new UserInputError(`抱歉，「${String(refText)}」不是疑似投诉编号（应为 X 加数字，如 X3）。`);
    const [s] = await ctx.tx.select().from(triageSuggestions).where(eq(triageSuggestions.id, Number(m[1]))).for('update');
    if (!s) throw new UserInputError(`抱歉，没有找到疑似投诉 X${m[1]}，请核对编号。`);
    if (s.status === 'confirmed') throw new UserInputError(`${suggestionCode(s.id)} 已确认为投诉 T${s.complaintId}，可发送 /查 T${s.complaintId} 查看。`);
    if (s.status === 'dismissed' && s.decidedBy !== MODEL_DECIDER) throw new UserInputError(`${suggestionCode(s.id)} 已由 ${s.decidedBy ?? '同事'} 忽略（原因：${s.dismissReason ?? '—'}）。`);
    return s;
  }

  /**
   * Stops the suggestion's clock; returns when its ladder's last posted rung was due (the complaint's
   * clock, counted from the same message, does not post a rung up to then again), or null.
   */
  async function stopReminder(tx: Db, id: number, now: Date): Promise<Date | null> {
    const cal = await deps.calendar(tx);
    let toldUntil: Date | null = null;
    for (const row of await activeTimers(tx, subjectOf(id))) {
      const before = fromRow(row);
      for (const step of ladder(before, rule, cal)) {
        if (before.stepsSent.includes(step.step) && (!toldUntil || step.at > toldUntil)) toldUntil = step.at;
      }
      const t = completeTimer(before, now);
      await tx.update(timers).set({ ...toRow(t, rule, cal), updatedAt: now }).where(eq(timers.id, row.id));
    }
    return toldUntil;
  }

  /**
   * The suggestion's client: its group's; where the group is bound to none, the one named by 客户=
   * (found or registered), and the group is bound to it as it goes, so its next message is that client's.
   */
  async function clientOf(ctx: ChatContext, s: Suggestion, source: typeof groups.$inferSelect | undefined, named: string | undefined) {
    const [own] = s.clientId ? await ctx.tx.select().from(clients).where(eq(clients.id, s.clientId)) : [];
    const name = named?.trim();
    if (own) {
      if (name && name !== own.name) throw new UserInputError(`抱歉，${suggestionCode(s.id)} 所在的群是「${own.name}」的客户群，投诉的客户取自该群；如绑定有误，请先在该群更正。`);
      return { client: own, bound: null };
    }
    if (!name) throw new UserInputError(`抱歉，${suggestionCode(s.id)} 所在的客户群还没有绑定客户，请写明客户：/投诉 确认 ${suggestionCode(s.id)} 客户=<客户名称> [部门=<部门>]（该群会随之绑定这位客户）。`);
    const [existing] = await ctx.tx.select().from(clients).where(eq(clients.name, name));
    const client = existing ?? (await ctx.tx.insert(clients).values({ name, createdAt: ctx.now }).returning())[0]!;
    let bound: string | null = null;
    if (source && !source.clientId) {
      await ctx.tx.update(groups).set({ clientId: client.id }).where(eq(groups.id, source.id));
      await ctx.audit('group.client_bound', `group:${source.id}`, { client: client.id, by: 'triage.confirm', suggestion: suggestionCode(s.id) });
      bound = source.title ?? source.conversationId;
    }
    // This suggestion, and the group's other open ones bound to nobody, are this client's now.
    await ctx.tx.update(triageSuggestions).set({ clientId: client.id }).where(eq(triageSuggestions.id, s.id));
    if (bound) {
      await ctx.tx
        .update(triageSuggestions)
        .set({ clientId: client.id })
        .where(and(eq(triageSuggestions.groupId, s.groupId), eq(triageSuggestions.status, 'open'), isNull(triageSuggestions.clientId)));
    }
    return { client, bound };
  }

  async function confirm(ctx: ChatContext, args: ParsedArgs) {
    const s = await loadOpen(ctx, args.ref);
    const [source] = await ctx.tx.select().from(groups).where(eq(groups.id, s.groupId));
    const { client, bound } = await clientOf(ctx, s, source, args.client as string | undefined);
    const [order] = s.orderId ? await ctx.tx.select().from(orders).where(eq(orders.id, s.orderId)) : [];
    // A group with a client but no order: the department the suggestion went to (the client's latest order's, or the salesperson's).
    const [dept] = !order && !args.dept && !args.handler && s.departmentId ? await ctx.tx.select().from(departments).where(eq(departments.id, s.departmentId)) : [];
    const handlerRef = (args.handler as string | undefined) ?? (s.handlerId && !s.orderId ? (await personById(ctx.tx, s.handlerId))?.userid : undefined);
    // Filed by the complaints feature exactly as `/投诉` files (its `fileComplaint` request).
    const filed = await request(ctx.emit, { tx: ctx.tx, now: ctx.now, actor: ctx.actor }, fileComplaint, { chat: ctx, input: {
      client,
      order: order ?? null,
      content: s.messages.map((m) => m.text).join('\n'),
      relayed: true,
      receivedAt: s.firstAt,
      handler: handlerRef,
      dept: (args.dept as string | undefined) ?? dept?.name,
      level: args.level as string | undefined,
      source: source ? { platform: source.platform, conversationId: source.conversationId } : null,
      clientGroupAck: false,
      clientWords: s.messages.map((m) => m.text),
      forceNew: args.new === true,
    } });
    await ctx.tx
      .update(triageSuggestions)
      .set({ status: 'confirmed', complaintId: filed.id, decidedBy: ctx.actor.displayName, decidedAt: ctx.now })
      .where(eq(triageSuggestions.id, s.id));
    // The same clock goes on as the complaint's (its callback deadline counts from s.firstAt): a rung
    // the suggestion's ladder already posted is not posted again.
    const toldUntil = await stopReminder(ctx.tx, s.id, ctx.now);
    if (toldUntil) await request(ctx.emit, { tx: ctx.tx, now: ctx.now, actor: ctx.actor }, continueTriageClock, { complaintId: filed.id, toldUntil, suggestion: suggestionCode(s.id) });
    await ctx.audit('triage.confirmed', subjectOf(s.id), { complaint: filed.code, source: s.source, version: s.version, level: args.level ?? null, client: client.id });
    env.count('confirmed');
    ctx.reply(
      `${suggestionCode(s.id)} 已确认为投诉 ${filed.code}，回电期限从客户发消息时算起。谢谢！` +
        (bound ? `\n客户群「${bound}」已绑定客户「${client.name}」，此后该群的消息按这位客户处理。` : ''),
    );
  }

  async function dismiss(ctx: ChatContext, args: ParsedArgs) {
    const s = await loadOpen(ctx, args.ref);
    const reason = String(args.reason).trim().slice(0, 500);
    await ctx.tx
      .update(triageSuggestions)
      .set({ status: 'dismissed', dismissReason: reason, decidedBy: ctx.actor.displayName, decidedAt: ctx.now })
      .where(eq(triageSuggestions.id, s.id));
    await stopReminder(ctx.tx, s.id, ctx.now);
    const n = s.messages.length;
    await ctx.audit('triage.dismissed', subjectOf(s.id), { reason, source: s.source, version: s.version, messages: n });
    env.count('dismissed');
    ctx.reply(`已忽略疑似投诉 ${suggestionCode(s.id)}：共 ${n} 条客户消息${n > 1 ? `（${s.senderName ?? s.senderId}，/查 ${suggestionCode(s.id)} 可看全部）` : ''}，原因：${reason}。提醒已停止，谢谢！`);
  }

  async function show(ctx: ChatContext, id: number) {
    const [s] = await ctx.tx.select().from(triageSuggestions).where(eq(triageSuggestions.id, id));
    if (!s) throw new UserInputError(`抱歉，没有找到疑似投诉 X${id}。`);
    if (ctx.group.kind === 'client') throw new UserInputError('抱歉，这条命令会显示内部信息，不能在客户群里使用。');
    await mustSee(ctx.tx, ctx.actor, suggestionCode(s.id), factsOfSuggestion(s, await ownerOfClient(ctx.tx, s.clientId)));
    const cal = await deps.calendar(ctx.tx);
    const state = s.status === 'open' ? '待确认' : s.status === 'confirmed' ? `已确认为投诉 T${s.complaintId}` : `已忽略（${s.dismissReason ?? ''}）`;
    ctx.reply(
      [
        `疑似投诉 ${suggestionCode(s.id)}｜${state}｜建议 ${s.level} 级（${LEVEL_NAMES[s.level]}）`,
        `依据：${s.source === 'model' ? '模型' : '规则'}（${s.version}），置信度 ${s.confidence.toFixed(2)}`,
        ...s.messages.map((m) => `${formatInstantInChinese(new Date(m.at), cal, { now: ctx.now })}　${m.text}`),
      ].join('\n'),
    );
  }

  return { confirm, dismiss, show };
}
