import { sql } from 'drizzle-orm';
import { rowsOf } from '../db/rows';
import { inboundMessages } from '../db/schema';
import { isRowDataError } from '../db/errors';
import { cleanInbound } from './clean-text';
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
 * in one batch is accepted once. Text is cleaned of characters no column can hold; if the grouped
 * insert still fails, its rows are retried one by one, so only a row that cannot be stored fails
 * (its route answers 503 and the platform re-delivers).
 */
export function createAcceptBatcher(db: Db, maxInFlight = 3) {
  let queue: Waiting[] = [];
  let running = 0;

  /** One statement for the rows, as one JSON parameter: no per-value query building on the hot path. */
  async function insert(rows: InboundMessage[]): Promise<Set<string>> {
    const json = JSON.stringify(
      rows.map((msg) => ({
        platform: msg.platform,
        message_id: msg.messageId,
        received_at: msg.receivedAt.toISOString(),
        payload: { ...msg, receivedAt: msg.receivedAt.toISOString() },
      })),
    );
    const inserted = rowsOf<{ platform: string; message_id: string }>(
      await db.execute(sql`
        insert into ${inboundMessages} (platform, message_id, received_at, payload, status, next_attempt_at)
        select platform, message_id, received_at, payload, 'pending', received_at
        from jsonb_to_recordset(${json}::jsonb) as x(platform text, message_id text, received_at timestamptz, payload jsonb)
        on conflict do nothing
        returning platform, message_id`),
    );
    return new Set(inserted.map((r) => keyOf(r.platform, r.message_id)));
  }

  async function flush(): Promise<void> {
    running++;
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(batch.length);
      const first = new Map<string, Waiting>();
      for (const w of batch) {
        const k = keyOf(w.msg.platform, w.msg.messageId);
        if (!first.has(k)) first.set(k, w);
      }
      // key → inserted (true), already there (false), or the error that refused its row.
      const outcome = new Map<string, boolean | { err: unknown }>();
      try {
        const inserted = await insert([...first.values()].map((w) => cleanInbound(w.msg)));
        for (const k of first.keys()) outcome.set(k, inserted.has(k));
      } catch (err) {
        // One bad row fails the whole statement: retry the rows one by one, so the valid ones commit
        // and only the bad one is refused (its route answers 503).
        for (const [k, w] of first) {
          if (first.size === 1 || !isRowDataError(err)) {
            outcome.set(k, { err });
            continue;
          }
          try {
            outcome.set(k, (await insert([cleanInbound(w.msg)])).has(k));
          } catch (rowErr) {
            outcome.set(k, { err: rowErr });
          }
        }
      }
      for (const w of batch) {
        const k = keyOf(w.msg.platform, w.msg.messageId);
        const o = outcome.get(k)!;
        if (typeof o === 'object') w.reject(o.err);
        else w.resolve(o && first.get(k) === w ? 'accepted' : 'duplicate');
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
