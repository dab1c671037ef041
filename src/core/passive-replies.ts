import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { chatLog, inboundMessages, outbox } from '../db/schema';
import type { InboundMessage, OutboundMessage, Platform } from './types';
import { SLASHES } from './tokenize';

/**
 * Replies answered in the callback's own HTTP response (the WeCom AI bot's passive reply): the chat
 * core queued them held until `replyHoldUntil`; the callback route waits — woken by the handling's own
 * signal (SettleSignal below), never by polling — for the message to be handled, then claims the held rows (marks them sent) and puts them in its answer. Rows it does not
 * claim in time are sent by the outbox worker when the hold ends, through the usual channels
 * (response_url …). A row is claimed only while its hold is untouched (next_attempt_at still equals
 * the hold), under a row lock, so the route and the worker never both send it.
 */
export interface PassiveReplies {
  /**
   * Wait until `deadline` (epoch ms, wall clock: the platform's HTTP window; a past deadline looks once)
   * for the message to be handled; then claim its held replies if `fits` accepts them, or release them
   * to the outbox at once when they do not fit. `holdUntil`: the hold the replies were queued with;
   * without it (a later stream refresh) any reply still held and never tried is claimed.
   */
  collect(
    q: { platform: Platform; messageId: string; holdUntil?: number; deadline: number },
    fits: (replies: OutboundMessage[]) => boolean,
  ): Promise<Collected>;
}

export type Collected =
  /** Claimed (marked sent): put them in the answer. */
  | { state: 'claimed'; replies: OutboundMessage[] }
  /** Not handled yet by the deadline. */
  | { state: 'pending' }
  /** Handled (or given up on): nothing held for this answer. */
  | { state: 'none' }
  /** Handled, but too big for the answer: released to the outbox, which sends them now. */
  | { state: 'released' };

/**
 * Whether a message can be answered in place, decided from the message alone (no database): a command,
 * a card click, an arrival, a picture or file (the once-an-hour hint) or anything in a one-to-one chat.
 * Plain group text is only seen by the features' watchers, whose notices go to other groups: its
 * callback is acknowledged at once instead of waiting. Should a watcher answer it in place after all,
 * the answer is not lost: it goes out through the usual channels (response_url …), just not passively.
 */
export function expectsReply(msg: InboundMessage): boolean {
  return (
    msg.event !== undefined ||
    msg.cardToken !== undefined ||
    (msg.attachment !== undefined && !msg.text.trim()) ||
    msg.conversationType === 'single' ||
    SLASHES.test(msg.text.trim())
  );
}

/**
 * Wakes the requests waiting for a message's handling (no polling): the handler that committed the
 * message calls `settle` in this process, and another instance's commit arrives as a PostgreSQL
 * NOTIFY on `INBOUND_SETTLED_CHANNEL` (one listening connection per process, app.ts), which calls
 * `settle` too. Keys are `<platform>:<message id>`; settling a key nobody waits for costs nothing.
 */
export interface SettleSignal {
  /** Resolves when `key` is settled or at `deadline` (epoch ms, wall clock), whichever comes first. */
  wait(key: string, deadline: number): { settled: Promise<void>; cancel(): void };
  settle(key: string): void;
}

/** The NOTIFY channel the handling transaction signals on (payload: the settle key). */
export const INBOUND_SETTLED_CHANNEL = 'inbound_settled';

export const settleKey = (platform: string, messageId: string) => `${platform}:${messageId}`;

/** In the handling transaction: delivered at commit to every instance's listener. */
export const notifySettled = (tx: Db, key: string) => tx.execute(sql`select pg_notify(${INBOUND_SETTLED_CHANNEL}, ${key})`);

export function createSettleSignal(): SettleSignal {
  const waiting = new Map<string, Set<() => void>>();
  return {
    wait(key, deadline) {
      let wake!: () => void;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settled = new Promise<void>((resolve) => {
        wake = () => {
          if (timer) clearTimeout(timer);
          const set = waiting.get(key);
          set?.delete(wake);
          if (set?.size === 0) waiting.delete(key);
          resolve();
        };
      });
      let set = waiting.get(key);
      if (!set) waiting.set(key, (set = new Set()));
      set.add(wake);
      timer = setTimeout(wake, Math.max(0, deadline - Date.now()));
      return { settled, cancel: wake };
    },
    settle(key) {
      for (const wake of [...(waiting.get(key) ?? [])]) wake();
    },
  };
}

export function createPassiveReplies(deps: { db: Db; clock: () => Date; signal: SettleSignal }): PassiveReplies {
  const { db, clock, signal } = deps;
  const status = async (q: { platform: Platform; messageId: string }) =>
    (
      await db
        .select({ status: inboundMessages.status })
        .from(inboundMessages)
        .where(and(eq(inboundMessages.platform, q.platform), eq(inboundMessages.messageId, q.messageId)))
    )[0]?.status;
  return {
    async collect(q, fits): Promise<Collected> {
      // Listen first, then look once: a handling that commits in between still wakes us.
      const waiter = signal.wait(settleKey(q.platform, q.messageId), q.deadline);
      try {
        let now = await status(q);
        if (now === 'pending' && q.deadline > Date.now()) {
          await waiter.settled;
          now = await status(q);
        }
        if (now === 'pending') return { state: 'pending' };
        if (now !== 'done') return { state: 'none' };
      } finally {
        waiter.cancel();
      }
      return db.transaction(async (tx): Promise<Collected> => {
        const now = clock();
        const held = and(
          eq(outbox.platform, q.platform),
          eq(outbox.replyTo, q.messageId),
          eq(outbox.status, 'pending'),
          q.holdUntil !== undefined ? eq(outbox.nextAttemptAt, new Date(q.holdUntil)) : and(eq(outbox.attempts, 0), gt(outbox.nextAttemptAt, now)),
        );
        const rows = await tx
          .select({ id: outbox.id, payload: outbox.payload, conversationId: outbox.conversationId })
          .from(outbox)
          .where(held)
          .orderBy(asc(outbox.id))
          .for('update', { skipLocked: true });
        if (rows.length === 0) return { state: 'none' };
        const ids = inArray(outbox.id, rows.map((r) => r.id));
        const replies = rows.map((r) => ({
          text: r.payload.text,
          mentions: r.payload.mentions,
          ...(r.payload.markdown !== undefined ? { markdown: r.payload.markdown } : {}),
          ...(r.payload.buttons?.length ? { buttons: r.payload.buttons } : {}),
        }));
        if (!fits(replies)) {
          await tx.update(outbox).set({ nextAttemptAt: now }).where(ids);
          return { state: 'released' };
        }
        await tx.update(outbox).set({ status: 'sent', sentAt: now, attempts: 1, lastError: null }).where(ids);
        // The conversation's record, as the outbox worker writes it for what it sends.
        await tx.insert(chatLog).values(
          rows.map((r) => ({ platform: q.platform, conversationId: r.conversationId, direction: 'out' as const, sender: 'bot', text: r.payload.text, mentions: r.payload.mentions ?? [], at: now })),
        );
        return { state: 'claimed', replies };
      });
    },
  };
}
