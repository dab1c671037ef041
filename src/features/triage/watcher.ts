import { and, desc, eq, gte } from 'drizzle-orm';
import { timers, triageJobs, triageSuggestions } from '../../db/schema';
import { formatInstantInChinese } from '../../domain/calendar';
import { orderCode } from '../../domain/orders';
import { startTimer } from '../../domain/timers';
import { toRow } from '../../core/clocks/clock-store';
import type { Group } from '../../core/context';
import { holdNotice } from '../roster';
import type { WatchContext } from '../../core/feature';
import { classifyMessage } from './classify';
import { contextOf, LEVEL_NAMES, routeOf, subjectOf, suggestionCode, type ClientMessage, type Decided, type Io, type TriageEnv } from './shared';

/** The message watcher of client groups and the recording of a complaint reading (the rules' or the model's). */
export function triageWatcher(env: TriageEnv) {
  const { deps, pb, rule } = env;

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
      env.count('merged');
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
    const who = cx.notify;
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
    env.count('suggested');
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

  return { record, watch };
}

export type Recorder = ReturnType<typeof triageWatcher>['record'];
