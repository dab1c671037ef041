import { and, asc, desc, eq, gte, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, groups, orders, people, timers, triageJobs, triageSuggestions } from '../../db/schema';
import { enqueue } from '../../core/records';
import type { Logger } from '../../log';
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
import { writeAudit, type ChatContext, type Group, type Person } from '../../core/context';
import { holdNotice, noticeRoute } from '../../core/department-group';
import { UserInputError } from '../../core/errors';
import type { Feature, FeatureWorker, RouteContext, WatchContext } from '../../core/feature';
import { classifyMessage, type Level, type Triage } from './classify';
import { triageText, type TriageDecision } from './model-triage';
import { createTriageWorker, type TriageJob } from './worker';
import { parseTriagePlaybook, type TriagePlaybook } from './triage-playbook';

export { classifyMessage, type Triage, type RuleTriage } from './classify';

type Suggestion = typeof triageSuggestions.$inferSelect;
const LEVEL_NAMES = { A: '轻微', B: '一般', C: '重大', D: '严重' } as const;
export const suggestionCode = (id: number) => `X${id}`;

/** The triage's rules as the level reader of `/投诉` (its level proposal takes the higher reading). */
export function readComplaintLevel(text: string): { level: 'A' | 'B' | 'C' | 'D'; why: string } | null {
  const r = classifyMessage(text);
  return r.isComplaint && r.level ? { level: r.level, why: `分诊规则（${r.version}）：${r.summary}` } : null;
}
const subjectOf = (id: number) => `triage:${id}`;
/** decidedBy of a suggestion an earlier version let the model dismiss (rows may still exist): staff may still confirm it. */
export const MODEL_DECIDER = '模型复核';

/** Queues a post like the chat core's watcher post: a post into an internal group is marked internal. */
const postWith = (tx: Db, now: Date) => async (target: { platform: string; conversationId: string }, m: { text: string; mentions: string[] }, dedupeKey?: string) => {
  const [g] = await tx
    .select({ kind: groups.kind })
    .from(groups)
    .where(and(eq(groups.platform, target.platform), eq(groups.conversationId, target.conversationId)));
  const internal = g?.kind === 'internal';
  await enqueue(tx, { platform: target.platform, conversationId: target.conversationId, payload: { ...m, ...(internal ? { internal } : {}) }, dedupeKey, now });
};

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
  /** Absent: rule-based triage only. Present: the rules act at once and the triage worker asks the model. */
  llm?: LlmClient | null;
  /** Lease of a claimed model job (default 120 s: longer than a model call with its retries). */
  jobLeaseMs?: number;
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
    let sharedDepartment: number | null = null;
    if (!order && clientId) {
      // A group bound to the client only: its one open order, if there is exactly one; with several,
      // their department when they are all in one.
      const open = await tx
        .select()
        .from(orders)
        .where(and(eq(orders.clientId, clientId), inArray(orders.status, ['new', 'assigned', 'paused'])))
        .orderBy(asc(orders.id))
        .limit(50);
      if (open.length === 1) order = open[0]!;
      const depts = new Set(open.map((o) => o.departmentId));
      if (open.length > 1 && depts.size === 1) sharedDepartment = open[0]!.departmentId;
    }
    const [client] = clientId ? await tx.select().from(clients).where(eq(clients.id, clientId)) : [];
    const handler = await personById(tx, order?.handlerId);
    let supervisor = await personById(tx, handler?.supervisorId);
    const departmentId = order?.departmentId ?? sharedDepartment ?? handler?.departmentId ?? null;
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

  /** What recording a suggestion needs: the watcher's context, or the triage worker's short transaction. */
  interface Io {
    tx: Db;
    now: Date;
    log: Logger;
    post: WatchContext['post'];
    audit: WatchContext['audit'];
  }
  interface ClientMessage {
    messageId: string;
    senderId: string;
    senderName?: string | null;
    receivedAt: Date;
    text: string;
  }
  type Decided = { triage: Triage & { level: Level }; source: 'rules' | 'model'; version: string; modelFailure?: string };

  /**
   * Records a complaint reading: merged into the group's open suggestion within the window, else a new
   * suggestion told at once to the internal group with real @, and its reminder clock. Returns its id.
   */
  async function record(io: Io, group: Group, msg: ClientMessage, d: Decided, jobKey?: string): Promise<{ id: number; merged: boolean }> {
    const t = d.triage;
    const cx = await contextOf(io.tx, group);
    const entry = { id: msg.messageId, at: msg.receivedAt.toISOString(), text: msg.text.slice(0, 2000) };

    // Several messages of one client (the client group's company, any of its contacts) within the window: one suggestion.
    const [open] = await io.tx
      .select()
      .from(triageSuggestions)
      .where(
        and(
          eq(triageSuggestions.groupId, group.id),
          eq(triageSuggestions.status, 'open'),
          gte(triageSuggestions.lastAt, new Date(msg.receivedAt.getTime() - pb.mergeWindowMs)),
        ),
      )
      .orderBy(desc(triageSuggestions.id))
      .limit(1)
      .for('update');
    if (open) {
      const higher = 'ABCD'.indexOf(t.level) > 'ABCD'.indexOf(open.level);
      const known = open.messages.some((m) => m.id === entry.id);
      await io.tx
        .update(triageSuggestions)
        .set({
          ...(known ? {} : { messages: [...open.messages, entry] }),
          lastAt: msg.receivedAt > open.lastAt ? msg.receivedAt : open.lastAt,
          ...(higher ? { level: t.level, summary: t.summary, evidenceQuote: t.evidenceQuote } : {}),
        })
        .where(eq(triageSuggestions.id, open.id));
      await io.audit('triage.merged', subjectOf(open.id), { source: d.source, version: d.version, level: t.level, ...(d.modelFailure ? { modelFailure: d.modelFailure } : {}) });
      return { id: open.id, merged: true };
    }

    const [s] = await io.tx
      .insert(triageSuggestions)
      .values({
        groupId: group.id,
        senderId: msg.senderId,
        senderName: msg.senderName ?? null,
        clientId: cx.client?.id ?? null,
        orderId: cx.order?.id ?? null,
        departmentId: cx.departmentId,
        handlerId: cx.handler?.id ?? null,
        supervisorId: cx.supervisor?.id ?? null,
        messages: [entry],
        firstAt: msg.receivedAt,
        lastAt: msg.receivedAt,
        level: t.level,
        summary: t.summary.slice(0, 500),
        evidenceQuote: t.evidenceQuote.slice(0, 500),
        confidence: t.confidence,
        source: d.source,
        version: d.version,
        createdAt: io.now,
      })
      .returning();
    const code = suggestionCode(s!.id);
    const who = [cx.handler, cx.supervisor].filter((p): p is Person => !!p);
    const lines = [
      `疑似投诉 ${code}：${cx.client?.name ?? group.title ?? '客户'}${cx.order ? `（${orderCode(cx.order.id)}，${cx.order.serviceType}）` : ''}「${t.evidenceQuote}」`,
      `发消息的客户：${msg.senderName ?? msg.senderId}　时间：${formatInstantInChinese(msg.receivedAt, await deps.calendar(io.tx), { now: io.now })}`,
      `建议级别 ${t.level}（${LEVEL_NAMES[t.level]}）${t.summary ? `：${t.summary}` : ''}`,
      `确认后按投诉处理，30 分钟回电期限从客户发消息时算起（4.3.3）。`,
      `确认：/投诉 确认 ${code}　忽略：/投诉 忽略 ${code} <原因>`,
    ];
    const route = await routeOf(io.tx, s!);
    const tags = who.map((p) => `@${p.name}`).join(' ');
    const payload = { text: `${lines.join('\n')}${route.kind === 'fallback' ? `\n${route.note}` : ''}${tags ? `\n${tags}` : ''}`, mentions: who.map((p) => p.userid) };
    // A model's suggestion is keyed by its job as well: a re-run of the job can never post a second notice.
    const key = jobKey ? `${jobKey}:notice` : `triage:${s!.id}:notice`;
    if (route.kind === 'unrouted') await holdNotice(io.tx, s!.departmentId, payload, io.now, key);
    else await io.post({ platform: route.group.platform, conversationId: route.group.conversationId }, payload, key);

    // One reminder to the supervisor if nobody confirms or dismisses it in time.
    const cal = await deps.calendar(io.tx);
    const timer = startTimer(rule, { at: io.now }, io.now, cal);
    if (timer) {
      await io.tx
        .insert(timers)
        .values({ ...toRow(timer, rule, cal), subject: subjectOf(s!.id), createdAt: io.now, updatedAt: io.now })
        .onConflictDoNothing();
    }
    await io.audit('triage.suggested', subjectOf(s!.id), {
      code,
      level: t.level,
      confidence: t.confidence,
      source: d.source,
      version: d.version,
      ...(d.modelFailure ? { modelFailure: d.modelFailure } : {}),
      route: route.kind === 'unrouted' ? null : route.group.conversationId,
    });
    return { id: s!.id, merged: false };
  }

  /**
   * In the message's transaction: the rules only (instant). With a model configured, a durable job is
   * recorded too; the triage worker asks the model outside any transaction and then upgrades, notes its doubt about
   * or adds to what the rules did (see `applyModel`).
   */
  async function watch(w: WatchContext) {
    if (w.group.kind !== 'client' || w.sender !== 'client') return;
    const text = w.message.text.trim();
    if (!text) return;
    const rules = classifyMessage(text);
    const msg: ClientMessage = { messageId: w.message.messageId, senderId: w.message.senderId, senderName: w.message.senderName ?? null, receivedAt: w.message.receivedAt, text };
    let made: { id: number } | null = null;
    if (rules.isComplaint && rules.level) {
      made = await record(w, w.group, msg, { triage: { ...rules, level: rules.level }, source: 'rules', version: rules.version });
    }
    if (deps.llm) {
      await w.tx
        .insert(triageJobs)
        .values({
          groupId: w.group.id,
          messageId: msg.messageId,
          senderId: msg.senderId,
          senderName: msg.senderName ?? null,
          text: text.slice(0, 8000),
          receivedAt: msg.receivedAt,
          ruleSuggestionId: made?.id ?? null,
          nextAttemptAt: w.now,
          createdAt: w.now,
        })
        .onConflictDoNothing();
    }
  }

  /** The people a suggestion concerns, for a follow-up notice's real @. */
  async function whoOf(tx: Db, s: Suggestion) {
    return [await personById(tx, s.handlerId), await personById(tx, s.supervisorId)].filter((p): p is Person => !!p);
  }

  async function postAbout(io: Io, s: Suggestion, text: string, key: string) {
    const who = await whoOf(io.tx, s);
    const payload = { text: `${text}${who.length ? `\n${who.map((p) => `@${p.name}`).join(' ')}` : ''}`, mentions: who.map((p) => p.userid) };
    const route = await routeOf(io.tx, s);
    if (route.kind === 'unrouted') await holdNotice(io.tx, s.departmentId, payload, io.now, key);
    else await io.post({ platform: route.group.platform, conversationId: route.group.conversationId }, payload, key);
  }

  /**
   * The model's reading of one job's message, applied in the worker's short transaction (exactly once):
   * - the rules saw a complaint and so does the model: the suggestion takes the model's wording; a higher
   *   level is told to the internal group once;
   * - the rules saw none and the model does: a suggestion as the rules would have made it;
   * - the rules saw a complaint of this one message and the model does not: NOT dismissed (a model changes
   *   nothing on its own); a note 模型复核认为可能不是投诉 goes once to the internal group and the audit, the
   *   suggestion stays open and its 10-minute reminder still fires;
   * - the model failed: the rule result stands, and the log and the audit say so.
   */
  async function applyModel(io: Io, job: TriageJob, d: TriageDecision): Promise<string> {
    const subject = job.ruleSuggestionId ? subjectOf(job.ruleSuggestionId) : null;
    if (d.source !== 'model') {
      io.log.warn({ triageJob: job.id, reason: d.modelFailure }, 'model triage failed; the rule-based triage result stands');
      await io.audit('triage.model', subject, { job: job.id, outcome: 'rules-stand', modelFailure: d.modelFailure ?? null });
      return 'rules-stand';
    }
    const [group] = await io.tx.select().from(groups).where(eq(groups.id, job.groupId));
    const [s] = job.ruleSuggestionId ? await io.tx.select().from(triageSuggestions).where(eq(triageSuggestions.id, job.ruleSuggestionId)).for('update') : [];
    const t = d.triage;
    let outcome: string;
    if (t.isComplaint && t.level) {
      const level = t.level;
      if (s && s.status === 'open') {
        const higher = 'ABCD'.indexOf(level) > 'ABCD'.indexOf(s.level);
        const alone = s.messages.length === 1;
        await io.tx
          .update(triageSuggestions)
          .set({
            source: 'model',
            version: d.version,
            confidence: t.confidence,
            ...(higher ? { level } : {}),
            ...(higher || alone ? { summary: t.summary.slice(0, 500), evidenceQuote: t.evidenceQuote.slice(0, 500) } : {}),
          })
          .where(eq(triageSuggestions.id, s.id));
        if (higher) {
          const code = suggestionCode(s.id);
          await postAbout(
            io,
            s,
            `疑似投诉 ${code} 复核：建议级别改为 ${level}（${LEVEL_NAMES[level]}）${t.summary ? `：${t.summary}` : ''}「${t.evidenceQuote}」\n确认：/投诉 确认 ${code}　忽略：/投诉 忽略 ${code} <原因>`,
            `triage-job:${job.id}:upgrade`,
          );
        }
        outcome = higher ? 'upgraded' : 'agreed';
      } else if (s) {
        outcome = 'decided-already';
      } else if (group) {
        const r = await record(io, group, job, { triage: { ...t, level }, source: 'model', version: d.version }, `triage-job:${job.id}`);
        outcome = r.merged ? 'merged' : 'created';
        await io.tx.update(triageJobs).set({ ruleSuggestionId: r.id }).where(eq(triageJobs.id, job.id));
      } else {
        outcome = 'no-group';
      }
    } else if (s && s.status === 'open' && s.messages.length === 1 && s.messages[0]!.id === job.messageId) {
      // A model cannot change anything on its own: the suggestion stays open (its reminder still fires);
      // staff are told once that the model doubts it, and they confirm or dismiss it as always.
      const code = suggestionCode(s.id);
      await postAbout(
        io,
        s,
        `疑似投诉 ${code}：模型复核认为可能不是投诉（仅供参考）。仍请同事判断后处理：确认：/投诉 确认 ${code}　忽略：/投诉 忽略 ${code} <原因>。谢谢！`,
        `triage-job:${job.id}:doubt`,
      );
      outcome = 'model-doubts';
    } else {
      outcome = s ? 'kept' : 'no-complaint';
    }
    await io.audit('triage.model', subject, {
      job: job.id,
      outcome,
      version: d.version,
      level: t.level,
      confidence: t.confidence,
      ...(outcome === 'model-doubts' ? { note: '模型复核认为可能不是投诉' } : {}),
    });
    return outcome;
  }

  /** Names to replace in the prompt (LLM_PRIVACY): every client and person, and the sender. */
  async function namesFor(db: Db, job: TriageJob) {
    if (!deps.llm?.privacy) return undefined;
    return {
      clients: (await db.select({ n: clients.name }).from(clients)).map((r) => r.n),
      people: [...(await db.select({ n: people.name }).from(people)).map((r) => r.n), ...(job.senderName ? [job.senderName] : [])],
    };
  }

  function worker(wc: RouteContext): FeatureWorker {
    const llm = deps.llm;
    return createTriageWorker({
      db: wc.db,
      clock: wc.clock,
      log: wc.log,
      leaseMs: deps.jobLeaseMs,
      async process(job, commit) {
        // Read-only look-ups and the model call: no transaction is open while the model thinks.
        const [group] = await wc.db.select().from(groups).where(eq(groups.id, job.groupId));
        const cx = group ? await contextOf(wc.db, group) : null;
        const d = await triageText(job.text, { llm, clientName: cx?.client?.name, names: await namesFor(wc.db, job), log: wc.log });
        const applied = await commit(async (tx) => {
          const now = wc.clock();
          const io: Io = {
            tx,
            now,
            log: wc.log.child({ triageJob: job.id }),
            post: postWith(tx, now),
            audit: (action, subject, data) => writeAudit(tx, { at: now, action, subject, data }),
          };
          return applyModel(io, job, d);
        });
        if (applied) wc.log.info({ triageJob: job.id, source: d.source }, 'triage job done');
      },
    });
  }

  async function loadOpen(ctx: ChatContext, refText: unknown): Promise<Suggestion> {
    const m = /^X(\d{1,9})$/i.exec(String(refText ?? ''));
    if (!m) throw new UserInputError(`抱歉，「${String(refText)}」不是疑似投诉编号（应为 X 加数字，如 X3）。`);
    const [s] = await ctx.tx.select().from(triageSuggestions).where(eq(triageSuggestions.id, Number(m[1]))).for('update');
    if (!s) throw new UserInputError(`抱歉，没有找到疑似投诉 X${m[1]}，请核对编号。`);
    if (s.status === 'confirmed') throw new UserInputError(`${suggestionCode(s.id)} 已确认为投诉 T${s.complaintId}，可发送 /查 T${s.complaintId} 查看。`);
    if (s.status === 'dismissed' && s.decidedBy !== MODEL_DECIDER) throw new UserInputError(`${suggestionCode(s.id)} 已由 ${s.decidedBy ?? '同事'} 忽略（原因：${s.dismissReason ?? '—'}）。`);
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
    ...(deps.llm ? { worker } : {}),
  };
}

export { writeAudit };
