import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { rowsOf } from '../db/rows';
import { chatLog, groups, outbox, people, robotSends, type OutboxPayload } from '../db/schema';
import { safeErrorMessage, type Logger } from '../log';
import { PartialDeliveryError } from './errors';
import type { DeliveryResult, OutboundMessage, OutboundTarget, Platform, PlatformSender } from './types';

export type { DeliveryResult };

export interface OutboxWorkerOptions {
  db: Db;
  senders: PlatformSender[];
  log: Logger;
  clock: () => Date;
  /** Rows claimed per round. */
  batch?: number;
  /** How long a claimed row stays invisible to other instances while it is being sent. */
  leaseMs?: number;
  maxAttempts?: number;
  /** Delay before retry number n (1-based). */
  backoffMs?: (attempt: number) => number;
  /** Messages one robot may send per window (WeCom and DingTalk: 20 a minute). */
  ratePerWindow?: number;
  rateWindowMs?: number;
  /**
   * Conversations sent at once by this instance. 1 (the default) keeps one message in flight, so a
   * crash can cause at most one duplicate delivery; N raises throughput and that bound to N.
   */
  concurrency?: number;
  /** Called after every delivery attempt (metrics, tests): the channel the sender chose, and the row's fate. */
  onResult?: (r: DeliveryResult) => void;
}

interface CandidateRow {
  id: number;
  platform: string;
  conversation_id: string;
  payload: OutboxPayload;
  reply_to: string | null;
  dedupe_key: string | null;
  attempts: number;
  /** The group's stored route (joined in the claim, inside its transaction). */
  route: Record<string, unknown> | null;
  /** The group's kind at the moment of sending (an internal message never goes to a client group). */
  kind: string | null;
}

interface Claimed extends CandidateRow {
  target: OutboundTarget;
  /** The lease this instance holds on the row (its next_attempt_at): a fencing token for the send. */
  leaseUntil: Date;
}

const convKey = (r: { platform: string; conversation_id: string }) => `${r.platform}\u001f${r.conversation_id}`;
const defaultBackoff = (n: number) => Math.min(5 * 60_000, 1000 * 2 ** (n - 1));
const RATE_LIMITED_MIN_DELAY = 60_000;
/** Shown by `/发送失败`: why an internal message was kept back. */
export const INTERNAL_REFUSED = '内部消息未发出：本群现在是客户群（消息排队时本群还是内部群）';

/**
 * Delivers the durable outbox, from any number of instances against one PostgreSQL:
 * - rows are claimed under FOR UPDATE SKIP LOCKED and leased, so no two instances send one row;
 *   a crash between send and mark-sent re-sends that one message after the lease (at most one duplicate);
 * - each conversation's messages go out in order: a conversation is only taken from its earliest
 *   pending row, and a failure holds back the rows behind it;
 * - claims are per conversation (round-robin over the due heads), so a backed-up conversation never
 *   delays another one;
 * - each robot's budget (N per sliding window) is counted in the database under an advisory lock,
 *   so all instances together never exceed it; over-budget rows wait for the next free slot.
 */
export function createOutboxWorker(opts: OutboxWorkerOptions) {
  const { db, log, clock } = opts;
  const batch = opts.batch ?? 50;
  const leaseMs = opts.leaseMs ?? 30_000;
  const maxAttempts = opts.maxAttempts ?? 12;
  const backoff = opts.backoffMs ?? defaultBackoff;
  const ratePerWindow = opts.ratePerWindow ?? 20;
  const windowMs = opts.rateWindowMs ?? 60_000;
  const concurrency = opts.concurrency ?? 1;
  const senders = new Map<string, PlatformSender>(opts.senders.map((s) => [s.platform, s]));

  function rateKeyOf(t: OutboundTarget, payload: OutboxPayload): string | null {
    const s = senders.get(t.platform);
    if (!s) return null;
    if (s.rateKey) return s.rateKey(t, payload);
    return `${t.platform}:${t.conversationId}`;
  }

  async function claim(): Promise<Claimed[]> {
    const now = clock();
    const nowIso = now.toISOString();
    return db.transaction(async (tx) => {
      // Per group (platform, conversation): only the run of due rows from its oldest pending row, and
      // the batch filled round-robin (every group's first row, then every group's second …), so one
      // group's backlog (a robot over budget, a dead platform) never crowds out another group.
      const candidates = rowsOf<CandidateRow>(
        await tx.execute(sql`
          select o.id, o.platform, o.conversation_id, o.payload, o.reply_to, o.dedupe_key, o.attempts, g.route, g.kind
          from (
            -- The groups with something due, then each group's first pending rows (its index): cheaper
            -- than a window over every pending row when a backlog is large.
            select distinct platform, conversation_id from ${outbox}
            where status = 'pending' and next_attempt_at <= ${nowIso}::timestamptz
          ) cv
          cross join lateral (
            select h.id, row_number() over w as rn, bool_and(h.next_attempt_at <= ${nowIso}::timestamptz) over w as run_due
            from (
              select p.id, p.next_attempt_at from ${outbox} p
              where p.platform = cv.platform and p.conversation_id = cv.conversation_id and p.status = 'pending'
              order by p.id
              limit ${batch}
            ) h
            window w as (order by h.id rows between unbounded preceding and current row)
          ) c
          join ${outbox} o on o.id = c.id
          left join ${groups} g on g.platform = o.platform and g.conversation_id = o.conversation_id
          where c.run_due and o.status = 'pending' and o.next_attempt_at <= ${nowIso}::timestamptz
          order by c.rn, o.id
          limit ${batch}
          for update of o skip locked`),
      ).map((r) => ({ ...r, id: Number(r.id) }));
      if (candidates.length === 0) return [];

      // Keep, per conversation, only the run of candidates before its first pending row that is not
      // ours (locked by another instance, leased, or waiting for a retry): order within a group holds.
      const ids = candidates.map((c) => c.id);
      const convs = [...new Map(candidates.map((c) => [convKey(c), c])).values()];
      const gaps = rowsOf<{ platform: string; conversation_id: string; gap: number | string }>(
        await tx.execute(sql`
          select platform, conversation_id, min(id) as gap from ${outbox}
          where status = 'pending'
            and (platform, conversation_id) in (${sql.join(convs.map((c) => sql`(${c.platform}, ${c.conversation_id})`), sql`, `)})
            and id not in (${sql.join(ids.map((i) => sql`${i}`), sql`, `)})
          group by platform, conversation_id`),
      );
      const gapOf = new Map(gaps.map((g) => [convKey(g), Number(g.gap)]));
      const beforeGaps = candidates.filter((c) => {
        const gap = gapOf.get(convKey(c));
        return gap === undefined || c.id < gap;
      });
      // The group's kind is read now, not when the message was queued: a message for staff only that
      // was queued while the group was internal is refused if the group has since become a client group.
      const refused = beforeGaps.filter((c) => c.payload.internal === true && c.kind === 'client');
      if (refused.length) {
        await tx
          .update(outbox)
          .set({ status: 'failed', lastError: INTERNAL_REFUSED })
          .where(inArray(outbox.id, refused.map((c) => c.id)));
        for (const c of refused) log.warn({ outboxId: c.id, platform: c.platform }, 'internal message not sent: the group is now a client group');
      }
      const sendable = beforeGaps.filter((c) => !refused.includes(c));

      const claimed: Claimed[] = sendable.map((c) => ({
        ...c,
        target: {
          platform: c.platform as Platform,
          conversationId: c.conversation_id,
          route: c.route,
          replyTo: c.reply_to,
          messageKey: c.dedupe_key ?? String(c.id),
          replyRoute: c.payload.replyRoute ?? null,
        },
        leaseUntil: now,
      }));

      // Per-robot budget, counted in the database. Keys are locked in sorted order (no deadlocks).
      const byKey = new Map<string, Claimed[]>();
      for (const c of claimed) {
        const key = rateKeyOf(c.target, c.payload);
        if (key === null) continue;
        byKey.set(key, [...(byKey.get(key) ?? []), c]);
      }
      const deferred = new Map<number, Date>();
      const blockedConvs = new Set<string>();
      for (const key of [...byKey.keys()].sort()) {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`);
        const windowStart = new Date(now.getTime() - windowMs);
        await tx.execute(sql`delete from ${robotSends} where rate_key = ${key} and sent_at < ${new Date(now.getTime() - 10 * windowMs).toISOString()}::timestamptz`);
        const recent = rowsOf<{ sent_at: string | Date }>(
          await tx.execute(sql`
            select sent_at from ${robotSends}
            where rate_key = ${key} and sent_at > ${windowStart.toISOString()}::timestamptz
            order by sent_at`),
        ).map((r) => new Date(r.sent_at));
        let free = ratePerWindow - recent.length;
        const admitted: Claimed[] = [];
        for (const c of byKey.get(key)!) {
          const conv = convKey(c);
          if (free > 0 && !blockedConvs.has(conv)) {
            admitted.push(c);
            free--;
          } else {
            // The slot frees when the oldest send in the window leaves it.
            const k = recent.length + admitted.length - ratePerWindow;
            const oldest = recent[Math.max(0, Math.min(recent.length - 1, k))] ?? now;
            deferred.set(c.id, new Date(Math.max(now.getTime() + 1000, oldest.getTime() + windowMs + 1)));
            blockedConvs.add(conv);
          }
        }
        if (admitted.length) {
          await tx.insert(robotSends).values(admitted.map((c) => ({ rateKey: key, sentAt: now, outboxId: c.id })));
        }
      }
      // Once a conversation has a deferred row, the rows behind it are deferred too (order).
      const sending = claimed.filter((c) => !deferred.has(c.id));
      for (const [id, at] of deferred) {
        await tx.update(outbox).set({ nextAttemptAt: at }).where(eq(outbox.id, id));
      }
      if (sending.length) {
        const leaseUntil = new Date(now.getTime() + leaseMs);
        await tx
          .update(outbox)
          .set({ nextAttemptAt: leaseUntil })
          .where(inArray(outbox.id, sending.map((c) => c.id)));
        for (const c of sending) c.leaseUntil = leaseUntil;
      }
      return sending;
    });
  }

  /**
   * Renews this instance's lease on a row just before sending it, if the lease is still ours: a batch
   * that takes longer than the lease (a slow platform, a loaded machine) must not send rows another
   * instance has re-claimed meanwhile. The lease value is the fencing token: a re-claim changes it, and
   * the row lock serialises this update with any concurrent claim.
   */
  async function renewLease(row: Claimed): Promise<boolean> {
    const leaseUntil = new Date(clock().getTime() + leaseMs);
    const renewed = await db
      .update(outbox)
      .set({ nextAttemptAt: leaseUntil })
      .where(and(eq(outbox.id, row.id), eq(outbox.status, 'pending'), eq(outbox.nextAttemptAt, row.leaseUntil)))
      .returning({ id: outbox.id });
    if (renewed.length === 0) return false;
    row.leaseUntil = leaseUntil;
    return true;
  }

  /**
   * The sender's note when this message's mentions will not render as a real @ here, if the group
   * has not had it yet. Never for a client group, nor for the kept rest of a longer message.
   */
  async function mentionGapOf(sender: PlatformSender, row: Claimed, message: OutboundMessage): Promise<string | null> {
    if (!sender.mentionGap || message.mentions.length === 0 || message.parts || row.kind === 'client') return null;
    const note = sender.mentionGap(row.target, message);
    if (!note) return null;
    const [shown] = await db.select({ id: outbox.id }).from(outbox).where(eq(outbox.dedupeKey, gapKey(row)));
    return shown ? null : note;
  }

  /** The roster names of the people a message @-s, for channels whose @ carries a display name. */
  async function withMentionNames(message: OutboundMessage): Promise<OutboundMessage> {
    if (!message.mentions.length) return message;
    const rows = await db.select({ userid: people.userid, name: people.name }).from(people).where(inArray(people.userid, message.mentions));
    return rows.length ? { ...message, mentionNames: Object.fromEntries(rows.map((r) => [r.userid, r.name])) } : message;
  }

  /** Returns false when the row failed (the rest of its conversation then waits). */
  async function deliver(row: Claimed): Promise<{ ok: boolean; retryAt?: Date; lost?: boolean }> {
    const sender = senders.get(row.platform);
    let channel = '';
    const report = (ok: boolean, failed: boolean, error?: string) => opts.onResult?.({ id: row.id, ok, error, platform: row.platform, channel, result: ok ? 'sent' : failed ? 'failed' : 'retry' });
    if (!(await renewLease(row))) {
      log.info({ outboxId: row.id }, 'outbox lease lost before sending: another instance has the row');
      return { ok: false, lost: true };
    }
    try {
      if (!sender) throw Object.assign(new Error(`no sender for platform ${row.platform}`), { retryable: false });
      const { replyRoute: _, internal: _internal, ...payload } = row.payload;
      // The first message in a group whose channel cannot @ carries, once, how to get a real @ there.
      const gap = await mentionGapOf(sender, row, payload);
      const message = await withMentionNames(gap ? withNote(payload, gap) : payload);
      channel = sender.channelOf?.(row.target, message) ?? '';
      await sender.send(row.target, message);
      const now = clock();
      await db.transaction(async (tx) => {
        if (gap) {
          // Marks the note as shown in this group (the dedupe key makes it once).
          await tx
            .insert(outbox)
            .values({ platform: row.platform, conversationId: row.conversation_id, payload: { text: gap, mentions: [], internal: true }, dedupeKey: gapKey(row), status: 'sent', sentAt: now, nextAttemptAt: now, createdAt: now })
            .onConflictDoNothing({ target: outbox.dedupeKey });
        }
        await tx.update(outbox).set({ status: 'sent', sentAt: now, lastError: null, attempts: row.attempts + 1 }).where(eq(outbox.id, row.id));
        await tx.insert(chatLog).values({
          platform: row.platform,
          conversationId: row.conversation_id,
          direction: 'out',
          sender: 'bot',
          text: row.payload.text,
          mentions: row.payload.mentions ?? [],
          ...(row.payload.buttons?.length ? { buttons: row.payload.buttons.map((b) => ({ label: b.label, ...(b.token ? { token: b.token } : {}) })) } : {}),
          at: now,
        });
      });
      report(true, false);
      return { ok: true };
    } catch (err) {
      const e = err as { retryable?: boolean; rateLimited?: boolean; retryAfterMs?: number };
      // A partial delivery's pause comes from what stopped it (a rate limit: the platform's block).
      const why = (err instanceof PartialDeliveryError && err.cause ? err.cause : err) as { rateLimited?: boolean; retryAfterMs?: number };
      const attempts = row.attempts + 1;
      const failed = e.retryable === false || attempts >= maxAttempts;
      const message = safeErrorMessage(err);
      // A platform that says how long it blocks (DingTalk: 10 minutes after 130101) is believed.
      const delay = why.rateLimited ? Math.max(RATE_LIMITED_MIN_DELAY, why.retryAfterMs ?? 0, backoff(attempts)) : backoff(attempts);
      const retryAt = new Date(clock().getTime() + delay);
      if (err instanceof PartialDeliveryError && err.delivered > 0) {
        // The first parts arrived: keep only the rest (never resent from the start, never dropped).
        // Their mentions went with the first part.
        const { markdown: _md, ...rest } = row.payload;
        const payload = {
          ...rest,
          text: err.remaining.join('\n'),
          mentions: [],
          parts: err.remaining,
          ...((err.partsMarkdown ?? (row.payload.markdown !== undefined || row.payload.partsMarkdown)) ? { partsMarkdown: true } : {}),
        };
        log.warn({ outboxId: row.id, platform: row.platform, attempts, failed, delivered: err.delivered, kept: err.remaining.length, error: message }, 'outbox delivery partly done; the rest is kept');
        await db
          .update(outbox)
          .set({ status: failed ? 'failed' : 'pending', attempts, payload, lastError: message.slice(0, 500), nextAttemptAt: retryAt })
          .where(eq(outbox.id, row.id));
        report(false, failed, message);
        return { ok: false, retryAt };
      }
      log.warn({ outboxId: row.id, platform: row.platform, attempts, failed, error: message }, 'outbox delivery failed');
      await db
        .update(outbox)
        .set({ status: failed ? 'failed' : 'pending', attempts, lastError: message.slice(0, 500), nextAttemptAt: retryAt })
        .where(eq(outbox.id, row.id));
      report(false, failed, message);
      return { ok: false, retryAt };
    }
  }

  async function deliverConversation(rows: Claimed[]) {
    for (let i = 0; i < rows.length; i++) {
      const r = await deliver(rows[i]!);
      // Another instance re-claimed this row (our lease ran out): the rest of the run is its now.
      if (r.lost) return;
      if (!r.ok) {
        // Hold back the rest of this conversation until the failed row goes through (order).
        const rest = rows.slice(i + 1).map((x) => x.id);
        if (rest.length) {
          await db
            .update(outbox)
            .set({ nextAttemptAt: r.retryAt ?? clock() })
            .where(and(inArray(outbox.id, rest), eq(outbox.status, 'pending')));
        }
        return;
      }
    }
  }

  return {
    /** One round: claim a batch and deliver it, conversations in parallel. Returns rows claimed. */
    async runOnce(): Promise<number> {
      const rows = await claim();
      const byConv = new Map<string, Claimed[]>();
      for (const r of rows) {
        const k = convKey(r);
        byConv.set(k, [...(byConv.get(k) ?? []), r]);
      }
      const queue = [...byConv.values()];
      const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) await deliverConversation(next);
      });
      await Promise.all(lanes);
      return rows.length;
    },
    /** Deliver until nothing is due (tests and the sandbox's synchronous answer use this). */
    async drain(maxRounds = 50): Promise<number> {
      let total = 0;
      for (let i = 0; i < maxRounds; i++) {
        const n = await this.runOnce();
        total += n;
        if (n === 0) break;
      }
      return total;
    },
  };
}

const gapKey = (row: { platform: string; conversation_id: string }) => `mention-gap:${row.platform}:${row.conversation_id}`;

function withNote(message: OutboundMessage, note: string): OutboundMessage {
  return {
    ...message,
    text: `${message.text}\n${note}`,
    ...(message.markdown !== undefined ? { markdown: `${message.markdown}\n\n${note}` } : {}),
  };
}

export type OutboxWorker = ReturnType<typeof createOutboxWorker>;
