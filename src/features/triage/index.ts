import { and, asc, desc, eq, gte, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, groups, orders, people, timers, triageSuggestions } from '../../db/schema';
import { formatInstantInChinese } from '../../domain/calendar';
import { orderCode } from '../../domain/orders';
import { completeTimer, startTimer } from '../../domain/timers';
import type { LlmClient } from '../../llm/client';
import type { CalendarProvider, TimerRow } from '../../core/clocks/clock-store';
import { activeTimers, fromRow, toRow } from '../../core/clocks/clock-store';
import type { TimerSubject } from '../../core/clocks/scheduler';
import type { ParsedArgs } from '../../core/command-parser';
import type { CommandDef } from '../../core/commands/specs';
import type { FileComplaintInput } from '../../core/complaints';
import { writeAudit, type ChatContext, type Person } from '../../core/context';
import { holdNotice, noticeRoute } from '../../core/department-group';
import { UserInputError } from '../../core/errors';
import type { Feature, WatchContext } from '../../core/feature';
import { triageText } from './model-triage';
import { parseTriagePlaybook, type TriagePlaybook } from './triage-playbook';

export { classifyMessage, type Triage, type RuleTriage } from './classify';

type Suggestion = typeof triageSuggestions.$inferSelect;
const LEVEL_NAMES = { A: '轻微', B: '一般', C: '重大', D: '严重' } as const;
export const suggestionCode = (id: number) => `X${id}`;
const subjectOf = (id: number) => `triage:${id}`;

const ref = { name: 'ref', label: '疑似投诉编号（如 X3）', kind: 'ref' as const };
export const TRIAGE_COMMANDS: CommandDef[] = [
  {
    id: 'triage.confirm',
    zh: ['投诉', '确认'],
    en: ['complain', 'confirm'],
    summary: '把疑似投诉确认为投诉（与 /投诉 相同，30 分钟从客户发消息时算起，4.3.3）',
    usage: '/投诉 确认 <疑似投诉编号> [级别=A|B|C|D] [负责人=<人员>] [部门=<部门>]',
    example: '/投诉 确认 X3 级别=B',
    args: {
      positional: [ref],
      named: [
        { key: 'level', names: ['级别', 'level'], label: 'A|B|C|D', choices: ['A', 'B', 'C', 'D', 'a', 'b', 'c', 'd'] },
        { key: 'handler', names: ['负责人', 'handler'], label: '被投诉的负责人', kind: 'person' },
        { key: 'dept', names: ['部门', 'dept'], label: '部门' },
      ],
    },
    gate: 'staff',
    internal: true,
  },
  {
    id: 'triage.dismiss',
    zh: ['投诉', '忽略'],
    en: ['complain', 'dismiss'],
    summary: '判断疑似投诉不是投诉，登记原因',
    usage: '/投诉 忽略 <疑似投诉编号> <原因>',
    example: '/投诉 忽略 X3 客户只是在催进度，已电话说明',
    args: { positional: [ref], rest: { name: 'reason', label: '原因' } },
    gate: 'staff',
    internal: true,
  },
];

export interface TriageDeps {
  /** Files a complaint exactly as `/投诉` does (src/core/complaints/complaint-intake.ts). */
  fileComplaint: (ctx: ChatContext, input: FileComplaintInput) => Promise<{ id: number; code: string }>;
  calendar: CalendarProvider;
  /** Absent: rule-based triage only. */
  llm?: LlmClient | null;
  playbook?: TriagePlaybook;
}

/**
 * 疑似投诉: every client message in a client group is read (the model when one is configured, else the
 * rules); a complaint is told at once to the department's internal group with @ of the handler and the
 * supervisor, and becomes a complaint with one `/投诉 确认`. The client group hears nothing of it.
 */
export function triageFeature(deps: TriageDeps): Feature {
  const pb = deps.playbook ?? parseTriagePlaybook();
  const rule = pb.reminder;

  async function personById(tx: Db, id: number | null | undefined): Promise<Person | null> {
    if (!id) return null;
    const [p] = await tx.select().from(people).where(eq(people.id, id));
    return p && p.active ? p : null;
  }

  /** The order, department and people a client group's message concerns. */
  async function contextOf(tx: Db, group: WatchContext['group']) {
    let order: typeof orders.$inferSelect | null = null;
    if (group.orderId) [order] = (await tx.select().from(orders).where(eq(orders.id, group.orderId))) as [typeof orders.$inferSelect];
    if (order && group.clientId && order.clientId !== group.clientId) order = null;
    const clientId = group.clientId ?? order?.clientId ?? null;
    if (!order && clientId) {
      // A group bound to the client only: its one open order, if there is exactly one.
      const open = await tx
        .select()
        .from(orders)
        .where(and(eq(orders.clientId, clientId), inArray(orders.status, ['new', 'assigned', 'paused'])))
        .orderBy(asc(orders.id))
        .limit(2);
      if (open.length === 1) order = open[0]!;
    }
    const [client] = clientId ? await tx.select().from(clients).where(eq(clients.id, clientId)) : [];
    const handler = await personById(tx, order?.handlerId);
    let supervisor = await personById(tx, handler?.supervisorId);
    const departmentId = order?.departmentId ?? handler?.departmentId ?? null;
    if (!supervisor && departmentId) {
      const [found] = await tx
        .select()
        .from(people)
        .where(and(eq(people.departmentId, departmentId), eq(people.role, 'supervisor'), eq(people.active, true)))
        .orderBy(asc(people.id))
        .limit(1);
      supervisor = found ?? null;
    }
    return { order, client: client ?? null, handler, supervisor: supervisor ?? null, departmentId };
  }

  /** Where the suggestion goes: the order's bound internal group, else the department's notice route. */
  async function routeOf(tx: Db, s: Pick<Suggestion, 'orderId' | 'departmentId'>) {
    if (s.orderId) {
      const [bound] = await tx
        .select()
        .from(groups)
        .where(and(eq(groups.orderId, s.orderId), eq(groups.kind, 'internal')))
        .limit(1);
      if (bound) return { kind: 'department' as const, group: bound };
    }
    return noticeRoute(tx, s.departmentId);
  }

  async function watch(w: WatchContext) {
    if (w.group.kind !== 'client' || w.sender !== 'client') return;
    const text = w.message.text.trim();
    if (!text) return;
    const cx = await contextOf(w.tx, w.group);
    const names = deps.llm?.privacy
      ? {
          clients: (await w.tx.select({ n: clients.name }).from(clients)).map((r) => r.n),
          people: [...(await w.tx.select({ n: people.name }).from(people)).map((r) => r.n), ...(w.message.senderName ? [w.message.senderName] : [])],
        }
      : undefined;
    const d = await triageText(text, { llm: deps.llm, clientName: cx.client?.name, names, log: w.log });
    if (!d.triage.isComplaint || !d.triage.level) return;
    const t = { ...d.triage, level: d.triage.level };
    const entry = { id: w.message.messageId, at: w.message.receivedAt.toISOString(), text: text.slice(0, 2000) };

    // Several messages of one client (the client group's company, any of its contacts) within the window: one suggestion.
    const [open] = await w.tx
      .select()
      .from(triageSuggestions)
      .where(
        and(
          eq(triageSuggestions.groupId, w.group.id),
          eq(triageSuggestions.status, 'open'),
          gte(triageSuggestions.lastAt, new Date(w.message.receivedAt.getTime() - pb.mergeWindowMs)),
        ),
      )
      .orderBy(desc(triageSuggestions.id))
      .limit(1)
      .for('update');
    if (open) {
      const higher = 'ABCD'.indexOf(t.level) > 'ABCD'.indexOf(open.level);
      await w.tx
        .update(triageSuggestions)
        .set({ messages: [...open.messages, entry], lastAt: w.message.receivedAt, ...(higher ? { level: t.level, summary: t.summary, evidenceQuote: t.evidenceQuote } : {}) })
        .where(eq(triageSuggestions.id, open.id));
      await w.audit('triage.merged', subjectOf(open.id), { source: d.source, version: d.version, level: t.level, ...(d.modelFailure ? { modelFailure: d.modelFailure } : {}) });
      return;
    }

    const [s] = await w.tx
      .insert(triageSuggestions)
      .values({
        groupId: w.group.id,
        senderId: w.message.senderId,
        senderName: w.message.senderName ?? null,
        clientId: cx.client?.id ?? null,
        orderId: cx.order?.id ?? null,
        departmentId: cx.departmentId,
        handlerId: cx.handler?.id ?? null,
        supervisorId: cx.supervisor?.id ?? null,
        messages: [entry],
        firstAt: w.message.receivedAt,
        lastAt: w.message.receivedAt,
        level: t.level,
        summary: t.summary.slice(0, 500),
        evidenceQuote: t.evidenceQuote.slice(0, 500),
        confidence: t.confidence,
        source: d.source,
        version: d.version,
        createdAt: w.now,
      })
      .returning();
    const code = suggestionCode(s!.id);
    const who = [cx.handler, cx.supervisor].filter((p): p is Person => !!p);
    const lines = [
      `疑似投诉 ${code}：${cx.client?.name ?? w.group.title ?? '客户'}${cx.order ? `（${orderCode(cx.order.id)}，${cx.order.serviceType}）` : ''}「${t.evidenceQuote}」`,
      `发消息的客户：${w.message.senderName ?? w.message.senderId}　时间：${formatInstantInChinese(w.message.receivedAt, await deps.calendar(w.tx), { now: w.now })}`,
      `建议级别 ${t.level}（${LEVEL_NAMES[t.level]}）${t.summary ? `：${t.summary}` : ''}`,
      `确认后按投诉处理，30 分钟回电期限从客户发消息时算起（4.3.3）。`,
      `确认：/投诉 确认 ${code}　忽略：/投诉 忽略 ${code} <原因>`,
    ];
    const route = await routeOf(w.tx, s!);
    const tags = who.map((p) => `@${p.name}`).join(' ');
    const payload = { text: `${lines.join('\n')}${route.kind === 'fallback' ? `\n${route.note}` : ''}${tags ? `\n${tags}` : ''}`, mentions: who.map((p) => p.userid) };
    if (route.kind === 'unrouted') await holdNotice(w.tx, s!.departmentId, payload, `triage:${s!.id}:notice`);
    else await w.post({ platform: route.group.platform, conversationId: route.group.conversationId }, payload, `triage:${s!.id}:notice`);

    // One reminder to the supervisor if nobody confirms or dismisses it in time.
    const cal = await deps.calendar(w.tx);
    const timer = startTimer(rule, { at: w.now }, w.now, cal);
    if (timer) {
      await w.tx
        .insert(timers)
        .values({ ...toRow(timer, rule, cal), subject: subjectOf(s!.id), createdAt: w.now, updatedAt: w.now })
        .onConflictDoNothing();
    }
    await w.audit('triage.suggested', subjectOf(s!.id), {
      code,
      level: t.level,
      confidence: t.confidence,
      source: d.source,
      version: d.version,
      ...(d.modelFailure ? { modelFailure: d.modelFailure } : {}),
      route: route.kind === 'unrouted' ? null : route.group.conversationId,
    });
  }

  async function loadOpen(ctx: ChatContext, refText: unknown): Promise<Suggestion> {
    const m = /^X(\d{1,9})$/i.exec(String(refText ?? ''));
    if (!m) throw new UserInputError(`抱歉，「${String(refText)}」不是疑似投诉编号（应为 X 加数字，如 X3）。`);
    const [s] = await ctx.tx.select().from(triageSuggestions).where(eq(triageSuggestions.id, Number(m[1]))).for('update');
    if (!s) throw new UserInputError(`抱歉，没有找到疑似投诉 X${m[1]}，请核对编号。`);
    if (s.status === 'confirmed') throw new UserInputError(`${suggestionCode(s.id)} 已确认为投诉 T${s.complaintId}，可发送 /查 T${s.complaintId} 查看。`);
    if (s.status === 'dismissed') throw new UserInputError(`${suggestionCode(s.id)} 已由 ${s.decidedBy ?? '同事'} 忽略（原因：${s.dismissReason ?? '—'}）。`);
    return s;
  }

  async function stopReminder(tx: Db, id: number, now: Date) {
    const cal = await deps.calendar(tx);
    for (const row of await activeTimers(tx, subjectOf(id))) {
      const t = completeTimer(fromRow(row), now);
      await tx.update(timers).set({ ...toRow(t, rule, cal), updatedAt: now }).where(eq(timers.id, row.id));
    }
  }

  async function confirm(ctx: ChatContext, args: ParsedArgs) {
    const s = await loadOpen(ctx, args.ref);
    const [client] = s.clientId ? await ctx.tx.select().from(clients).where(eq(clients.id, s.clientId)) : [];
    if (!client) throw new UserInputError(`抱歉，${suggestionCode(s.id)} 所在的客户群还没有绑定客户，请先在该群 /绑定，或用 /投诉 客户=<客户> 登记。`);
    const [order] = s.orderId ? await ctx.tx.select().from(orders).where(eq(orders.id, s.orderId)) : [];
    const [source] = await ctx.tx.select().from(groups).where(eq(groups.id, s.groupId));
    const handlerRef = (args.handler as string | undefined) ?? (s.handlerId && !s.orderId ? (await personById(ctx.tx, s.handlerId))?.userid : undefined);
    const filed = await deps.fileComplaint(ctx, {
      client,
      order: order ?? null,
      content: s.messages.map((m) => m.text).join('\n'),
      relayed: true,
      receivedAt: s.firstAt,
      handler: handlerRef,
      dept: args.dept as string | undefined,
      level: args.level as string | undefined,
      source: source ? { platform: source.platform, conversationId: source.conversationId } : null,
      clientGroupAck: false,
    });
    await ctx.tx
      .update(triageSuggestions)
      .set({ status: 'confirmed', complaintId: filed.id, decidedBy: ctx.actor.displayName, decidedAt: ctx.now })
      .where(eq(triageSuggestions.id, s.id));
    await stopReminder(ctx.tx, s.id, ctx.now);
    await ctx.audit('triage.confirmed', subjectOf(s.id), { complaint: filed.code, source: s.source, version: s.version, level: args.level ?? null });
    ctx.reply(`${suggestionCode(s.id)} 已确认为投诉 ${filed.code}，回电期限从客户发消息时算起。谢谢！`);
  }

  async function dismiss(ctx: ChatContext, args: ParsedArgs) {
    const s = await loadOpen(ctx, args.ref);
    const reason = String(args.reason).trim().slice(0, 500);
    await ctx.tx
      .update(triageSuggestions)
      .set({ status: 'dismissed', dismissReason: reason, decidedBy: ctx.actor.displayName, decidedAt: ctx.now })
      .where(eq(triageSuggestions.id, s.id));
    await stopReminder(ctx.tx, s.id, ctx.now);
    await ctx.audit('triage.dismissed', subjectOf(s.id), { reason, source: s.source, version: s.version });
    ctx.reply(`已忽略疑似投诉 ${suggestionCode(s.id)}（原因：${reason}），谢谢！`);
  }

  async function show(ctx: ChatContext, id: number) {
    const [s] = await ctx.tx.select().from(triageSuggestions).where(eq(triageSuggestions.id, id));
    if (!s) throw new UserInputError(`抱歉，没有找到疑似投诉 X${id}。`);
    if (ctx.group.kind === 'client') throw new UserInputError('抱歉，这条命令会显示内部信息，不能在客户群里使用。');
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

  const timerSubject: TimerSubject = {
    prefix: 'triage',
    rule: (id) => (id === rule.id ? rule : undefined),
    async prepare(tx: Db, rows: TimerRow[]) {
      const ids = rows.map((r) => Number(r.subject.split(':')[1])).filter(Number.isInteger);
      const list = ids.length ? await tx.select().from(triageSuggestions).where(inArray(triageSuggestions.id, ids)) : [];
      const byId = new Map(list.map((s) => [s.id, s]));
      const routes = new Map<number, Awaited<ReturnType<typeof routeOf>>>();
      const sups = new Map<number, Person | null>();
      const names = new Map<number, string>();
      for (const s of list) {
        if (s.status !== 'open') continue;
        routes.set(s.id, await routeOf(tx, s));
        sups.set(s.id, await personById(tx, s.supervisorId));
        if (s.clientId) names.set(s.id, (await tx.select({ n: clients.name }).from(clients).where(eq(clients.id, s.clientId)))[0]?.n ?? '客户');
      }
      return {
        render(row) {
          const s = byId.get(Number(row.subject.split(':')[1]));
          const route = s ? routes.get(s.id) : undefined;
          if (!s || !route) return { target: null, text: '', mentions: [] };
          const sup = sups.get(s.id);
          const code = suggestionCode(s.id);
          const text =
            `提醒：疑似投诉 ${code}（${names.get(s.id) ?? '客户'}「${s.evidenceQuote}」）已 10 分钟未确认。` +
            `30 分钟回电期限从客户发消息时算起，请尽快判断：/投诉 确认 ${code}　或　/投诉 忽略 ${code} <原因>。谢谢！`;
          return {
            target: route.kind === 'unrouted' ? null : { platform: route.group.platform, conversationId: route.group.conversationId, internal: true },
            ...(route.kind === 'unrouted' ? { hold: { departmentId: s.departmentId } } : {}),
            text,
            mentions: sup ? [{ userid: sup.userid, name: sup.name }] : [],
          };
        },
      };
    },
  };

  return {
    name: 'triage',
    help: { topic: '投诉', words: ['疑似投诉', 'triage'] },
    commands: TRIAGE_COMMANDS.map((spec) => ({ spec, handler: spec.id === 'triage.confirm' ? confirm : dismiss })),
    refs: { X: { noun: '疑似投诉', example: 'X3', show } },
    timerSubjects: [timerSubject],
    watch,
  };
}

export { writeAudit };
