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
export function createAcceptBatcher(db: Db) {
  let queue: Waiting[] = [];
  let running = false;

  async function flush(): Promise<void> {
    running = true;
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(batch.length);
      try {
        const first = new Map<string, Waiting>();
        for (const w of batch) {
          const k = keyOf(w.msg.platform, w.msg.messageId);
          if (!first.has(k)) first.set(k, w);
        }
        const rows = await db
          .insert(inboundMessages)
          .values(
            [...first.values()].map(({ msg }) => ({
              platform: msg.platform,
              messageId: msg.messageId,
              receivedAt: msg.receivedAt,
              payload: { ...msg, receivedAt: msg.receivedAt.toISOString() },
              status: 'pending' as const,
              nextAttemptAt: msg.receivedAt,
            })),
          )
          .onConflictDoNothing()
          .returning({ platform: inboundMessages.platform, messageId: inboundMessages.messageId });
        const inserted = new Set(rows.map((r) => keyOf(r.platform, r.messageId)));
        for (const w of batch) {
          const k = keyOf(w.msg.platform, w.msg.messageId);
          w.resolve(inserted.has(k) && first.get(k) === w ? 'accepted' : 'duplicate');
        }
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    running = false;
  }

  return (msg: InboundMessage): Promise<AcceptResult> =>
    new Promise<AcceptResult>((resolve, reject) => {
      queue.push({ msg, resolve, reject });
      if (!running) void flush();
    });
}
