import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { rowsOf } from '../db/rows';
import { chatLog, outbox, type OutboxPayload } from '../db/schema';
import type { Logger } from '../log';
import type { Platform, PlatformSender } from './types';

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
  /** Route facts per conversation (group.route), looked up when sending. */
  routeOf?: (platform: string, conversationId: string) => Promise<Record<string, unknown> | null>;
}

interface ClaimedRow {
  id: number;
  platform: string;
  conversation_id: string;
  payload: OutboxPayload;
  reply_to: string | null;
  attempts: number;
}

const defaultBackoff = (n: number) => Math.min(5 * 60_000, 1000 * 2 ** (n - 1));

/**
 * Delivers the durable outbox. Claims rows with FOR UPDATE SKIP LOCKED (any number of instances),
 * one head-of-line row per conversation so each group's messages arrive in order, and leases them:
 * a crash between send and mark-sent re-sends that one message after the lease (at most one duplicate).
 */
export function createOutboxWorker(opts: OutboxWorkerOptions) {
  const { db, log, clock } = opts;
  const batch = opts.batch ?? 20;
  const leaseMs = opts.leaseMs ?? 30_000;
  const maxAttempts = opts.maxAttempts ?? 8;
  const backoff = opts.backoffMs ?? defaultBackoff;
  const senders = new Map<string, PlatformSender>(opts.senders.map((s) => [s.platform, s]));

  async function claim(): Promise<ClaimedRow[]> {
    const now = clock();
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const result = await db.execute(sql`
      update ${outbox} set attempts = attempts + 1, next_attempt_at = ${leaseUntil.toISOString()}::timestamptz
      where id in (
        select o.id from ${outbox} o
        where o.status = 'pending' and o.next_attempt_at <= ${now.toISOString()}::timestamptz
          and not exists (
            select 1 from ${outbox} p
            where p.platform = o.platform and p.conversation_id = o.conversation_id
              and p.status = 'pending' and p.id < o.id)
        order by o.id
        limit ${batch}
        for update skip locked)
      returning id, platform, conversation_id, payload, reply_to, attempts`);
    return rowsOf<ClaimedRow>(result).map((r) => ({ ...r, id: Number(r.id) }));
  }

  async function deliver(row: ClaimedRow): Promise<void> {
    const sender = senders.get(row.platform);
    const rlog = log.child({ outboxId: row.id, platform: row.platform });
    try {
      if (!sender) throw Object.assign(new Error(`no sender for platform ${row.platform}`), { retryable: false });
      const route = opts.routeOf ? await opts.routeOf(row.platform, row.conversation_id) : null;
      await sender.send(
        { platform: row.platform as Platform, conversationId: row.conversation_id, route, replyTo: row.reply_to },
        row.payload,
      );
      const now = clock();
      await db.transaction(async (tx) => {
        await tx.update(outbox).set({ status: 'sent', sentAt: now, lastError: null }).where(eq(outbox.id, row.id));
        await tx.insert(chatLog).values({
          platform: row.platform,
          conversationId: row.conversation_id,
          direction: 'out',
          sender: 'bot',
          text: row.payload.text,
          mentions: row.payload.mentions ?? [],
          at: now,
        });
      });
    } catch (err) {
      const retryable = (err as { retryable?: boolean }).retryable !== false;
      const failed = !retryable || row.attempts >= maxAttempts;
      const message = err instanceof Error ? err.message : String(err);
      rlog.warn({ attempts: row.attempts, failed, error: message }, 'outbox delivery failed');
      await db
        .update(outbox)
        .set({
          status: failed ? 'failed' : 'pending',
          lastError: message.slice(0, 500),
          nextAttemptAt: new Date(clock().getTime() + backoff(row.attempts)),
        })
        .where(eq(outbox.id, row.id));
    }
  }

  return {
    /** One round: claim a batch and deliver it. Returns how many rows were claimed. */
    async runOnce(): Promise<number> {
      const rows = await claim();
      await Promise.all(rows.map(deliver));
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

export type OutboxWorker = ReturnType<typeof createOutboxWorker>;
