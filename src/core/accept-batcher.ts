import { sql } from 'drizzle-orm';
import { rowsOf } from '../db/rows';
import { inboundMessages } from '../db/schema';
import type { Db } from '../db/client';
import type { InboundMessage } from './types';

export type AcceptResult = 'accepted' | 'duplicate';

interface Waiting {
  msg: InboundMessage;
  resolve(r: AcceptResult): void;
  reject(err: unknown): void;
}

const MAX_BATCH = 256;
const keyOf = (platform: string, messageId: string) => `${platform}\u001f${messageId}`;

/**
 * Records inbound messages with one multi-row INSERT … ON CONFLICT DO NOTHING for all the callbacks
 * that arrive while the previous insert is running (group commit). Under load that is one statement
 * for dozens of callbacks; alone, a message is written at once. The unique key is still the
 * database's: a message counts as accepted only if its own row was inserted, and a message twice
 * in one batch is accepted once. A failed insert fails every message in it (each route answers 503
 * and the platform re-delivers).
 */
export function createAcceptBatcher(db: Db, maxInFlight = 3) {
  let queue: Waiting[] = [];
  let running = 0;

  async function flush(): Promise<void> {
    running++;
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(batch.length);
      try {
        const first = new Map<string, Waiting>();
        for (const w of batch) {
          const k = keyOf(w.msg.platform, w.msg.messageId);
          if (!first.has(k)) first.set(k, w);
        }
        // One statement, the rows as one JSON parameter: no per-value query building on the hot path.
        const json = JSON.stringify(
          [...first.values()].map(({ msg }) => ({
            platform: msg.platform,
            message_id: msg.messageId,
            received_at: msg.receivedAt.toISOString(),
            payload: { ...msg, receivedAt: msg.receivedAt.toISOString() },
          })),
        );
        const rows = rowsOf<{ platform: string; message_id: string }>(
          await db.execute(sql`
            insert into ${inboundMessages} (platform, message_id, received_at, payload, status, next_attempt_at)
            select platform, message_id, received_at, payload, 'pending', received_at
            from jsonb_to_recordset(${json}::jsonb) as x(platform text, message_id text, received_at timestamptz, payload jsonb)
            on conflict do nothing
            returning platform, message_id`),
        ).map((r) => ({ platform: r.platform, messageId: r.message_id }));
        const inserted = new Set(rows.map((r) => keyOf(r.platform, r.messageId)));
        for (const w of batch) {
          const k = keyOf(w.msg.platform, w.msg.messageId);
          w.resolve(inserted.has(k) && first.get(k) === w ? 'accepted' : 'duplicate');
        }
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    running--;
  }

  return (msg: InboundMessage): Promise<AcceptResult> =>
    new Promise<AcceptResult>((resolve, reject) => {
      queue.push({ msg, resolve, reject });
      // A few inserts in flight at once: each waits for its commit's WAL flush, and PostgreSQL
      // flushes concurrent commits together, so throughput no longer equals one batch per fsync.
      if (running < maxInFlight && (running === 0 || queue.length >= 8)) void flush();
    });
}
