import { and, desc, eq, gte, isNotNull, isNull } from 'drizzle-orm';
import { timers, triageJobs, triageSuggestions } from '../../db/schema';
import { formatInstantInChinese } from '../../domain/calendar';
import { orderCode } from '../../domain/orders';
import { ladder, markStepsSent, startTimer } from '../../domain/timers';
import { toRow } from '../../core/clocks/clock-store';
import type { Group, Person } from '../../core/context';
import { request } from '../../core/events';
import { attachClientMessage } from '../complaints';
import { holdNotice, mention } from '../roster';
import type { WatchContext } from '../../core/feature';
import { classifyMessage } from './classify';
import { ladderLine, postAbout } from './notices';
import { suggestedLevelText } from './levels';
import { contextOf, LEVEL_NAMES, routeOf, subjectOf, suggestionCode, type ClientMessage, type Decided, type Io, type TriageEnv } from './shared';

/** The message watcher of client groups and the recording of a complaint reading (the rules' or the model's). */
export function triageWatcher(env: TriageEnv) {
  const { deps, pb, rule } = env;

  /**
   * Records a complaint reading, by rule: a message of the same client person about the same order as
   * one of theirs already confirmed into a complaint still open is attached to that complaint; else it
   * joins their open suggestion within the window (a more severe one raises its level, with an update
   * notice); else it is a new suggestion told at once to the internal group with real @, on the ladder
   * from the client's message. Returns the suggestion's id (null when attached to a complaint).
   */
  async function record(io: Io, group: Group, msg: ClientMessage, d: Decided, jobKey?: string): Promise<Recorded> {
    const t = d.triage;
    const cx = await contextOf(io.tx, group);
    const entry = { id: msg.messageId, at: msg.receivedAt.toISOString(), text: msg.text.slice(0, 2000) };
    const orderId = cx.order?.id ?? null;
    const samePerson = and(
      eq(triageSuggestions.groupId, group.id),
      eq(triageSuggestions.senderId, msg.senderId),
      orderId === null ? isNull(triageSuggestions.orderId) : eq(triageSuggestions.orderId, orderId),
    );
    const extra = d.modelFailure ? { modelFailure: d.modelFailure } : {};

    // About a complaint of theirs that is still open: on that complaint's record, told to its handler.
    const theirs = await io.tx
      .select({ complaintId: triageSuggestions.complaintId })
      .from(triageSuggestions)
      .where(and(samePerson, eq(triageSuggestions.status, 'confirmed'), isNotNull(triageSuggestions.complaintId)))
      .orderBy(desc(triageSuggestions.id))
      .limit(20);
    if (theirs.length) {
      const attached = await request(env.emit, { tx: io.tx, now: io.now, actor: null }, attachClientMessage, {
        complaintIds: theirs.map((r) => r.complaintId!),
        message: { id: msg.messageId, at: msg.receivedAt, text: msg.text, senderName: msg.senderName ?? null },
      });
      if (attached) {
        await io.audit('triage.attached', `complaint:${attached.id}`, { complaint: attached.code, source: d.source, version: d.version, level: t.level, ...extra });
        env.count('attached');
        return { id: null, merged: false, attached: attached.code };
      }
    }

    // The same person about the same order within the window: one suggestion.
    const [open] = await io.tx
      .select()
      .from(triageSuggestions)
      .where(and(samePerson, eq(triageSuggestions.status, 'open'), gte(triageSuggestions.lastAt, new Date(msg.receivedAt.getTime() - pb.mergeWindowMs))))
      .orderBy(desc(triageSuggestions.id))
      .limit(1)
      .for('update');
    if (open) {
      const known = open.messages.some((m) => m.id === entry.id);
      const higher = !known && 'ABCD'.indexOf(t.level) > 'ABCD'.indexOf(open.level);
      await io.tx
        .update(triageSuggestions)
        .set({
          ...(known ? {} : { messages: [...open.messages, entry] }),
          lastAt: msg.receivedAt > open.lastAt ? msg.receivedAt : open.lastAt,
          ...(higher ? { level: t.level, summary: t.summary.slice(0, 500), evidenceQuote: t.evidenceQuote.slice(0, 500) } : {}),
        })
        .where(eq(triageSuggestions.id, open.id));
      if (higher) {
        // More severe: the same people hear it at once, with the words that raised it.
        const code = suggestionCode(open.id);
        await postAbout(
          io,
          open,
          `疑似投诉 ${code} 升级为 ${t.level} 级：「${t.evidenceQuote}」
` +
            `建议级别由 ${open.level}（${LEVEL_NAMES[open.level]}）改为 ${t.level}（${LEVEL_NAMES[t.level]}）${t.summary ? `：${t.summary}` : ''}；该客户共 ${open.messages.length + 1} 条消息，/查 ${code} 可看全部。
` +
            `确认：/投诉 确认 ${code}　忽略：/投诉 忽略 ${code} <原因>`,
          `triage:${open.id}:raised:${msg.messageId}`,
        );
      }
      await io.audit(higher ? 'triage.raised' : 'triage.merged', subjectOf(open.id), { source: d.source, version: d.version, level: t.level, ...(higher ? { from: open.level } : {}), ...extra });
      env.count(higher ? 'raised' : 'merged');
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
    const cal = await deps.calendar(io.tx);
    // The suggestion's clock counts from the client's message, like a confirmed complaint's (4.3.3).
    const started = startTimer(rule, { at: msg.receivedAt }, io.now, cal);
    // A reminder already due when the notice goes out (a model's late reading) is that notice.
    const timer = started && ladder(started, rule, cal).some((x) => x.step === 'due' && x.at.getTime() <= io.now.getTime()) ? markStepsSent(started, ['due']) : started;
    const who = cx.notify;
    const lines = [
      `疑似投诉 ${code}：${cx.client?.name ?? group.title ?? '客户'}${cx.order ? `（${orderCode(cx.order.id)}，${cx.order.serviceType}）` : ''}「${t.evidenceQuote}」`,
      `发消息的客户：${msg.senderName ?? msg.senderId}　时间：${formatInstantInChinese(msg.receivedAt, cal, { now: io.now })}`,
      `${suggestedLevelText(t.level, t.levelRange)}${t.summary ? `：${t.summary}` : ''}`,
      `按投诉计时，30 分钟回电期限从客户发消息时算起（4.3.3）${timer ? `；未确认时 ${ladderLine(timer, rule, cal, io.now)}` : ''}。确认后期限不变。`,
      `确认：/投诉 确认 ${code}　忽略：/投诉 忽略 ${code} <原因>`,
    ];
    const route = await routeOf(io.tx, s!);
    const tags = who.map(mention).join(' ');
    const payload = { text: `${lines.join('\n')}${route.kind === 'fallback' ? `\n${route.note}` : ''}${tags ? `\n${tags}` : ''}`, mentions: who.map((p) => p.userid) };
    // A model's suggestion is keyed by its job as well: a re-run of the job can never post a second notice.
    const key = jobKey ? `${jobKey}:notice` : `triage:${s!.id}:notice`;
    if (route.kind === 'unrouted') await holdNotice(io.tx, s!.departmentId, payload, io.now, key);
    else await io.post({ platform: route.group.platform, conversationId: route.group.conversationId }, payload, key);

    if (timer) {
      await io.tx
        .insert(timers)
        .values({ ...toRow(timer, rule, cal, io.now), subject: subjectOf(s!.id), createdAt: io.now, updatedAt: io.now })
        .onConflictDoNothing();
    }
    await io.audit('triage.suggested', subjectOf(s!.id), {
      code,
      level: t.level,
      ...(t.levelRange ? { levelRange: t.levelRange } : {}),
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
    let made: Recorded | null = null;
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
/** What recording a reading did: a suggestion (new or joined), or an entry on an open complaint. */
export type Recorded = { id: number | null; merged: boolean; attached?: string };
