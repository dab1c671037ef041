import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client';
import { chatLog, inboundMessages, outbox } from '../db/schema';
import type { OutboundMessage, Platform } from './types';

/**
 * Replies answered in the callback's own HTTP response (the WeCom AI bot's passive reply): the chat
 * core queued them held until `replyHoldUntil`; the callback route waits a little for the message to be
 * handled, then claims the held rows (marks them sent) and puts them in its answer. Rows it does not
 * claim in time are sent by the outbox worker when the hold ends, through the usual channels
 * (response_url …). A row is claimed only while its hold is untouched (next_attempt_at still equals
 * the hold), under a row lock, so the route and the worker never both send it.
 */
export interface PassiveReplies {
  /**
   * Wait until `deadline` (epoch ms, wall clock: the platform's HTTP window) for the message to be
   * handled; then claim its held replies if `fits` accepts them. null: nothing claimed.
   */
  collect(
    q: { platform: Platform; messageId: string; holdUntil: number; deadline: number },
    fits: (replies: OutboundMessage[]) => boolean,
  ): Promise<OutboundMessage[] | null>;
}

const POLL_MS = 40;

export function createPassiveReplies(deps: { db: Db; clock: () => Date; pollMs?: number }): PassiveReplies {
  const { db, clock } = deps;
  const pollMs = deps.pollMs ?? POLL_MS;
  return {
    async collect(q, fits) {
      for (;;) {
        const [row] = await db
          .select({ status: inboundMessages.status })
          .from(inboundMessages)
          .where(and(eq(inboundMessages.platform, q.platform), eq(inboundMessages.messageId, q.messageId)));
        if (row?.status === 'done') break;
        if (!row || row.status === 'failed') return null;
        if (Date.now() + pollMs >= q.deadline) return null;
        await new Promise((r) => setTimeout(r, pollMs));
      }
      return db.transaction(async (tx) => {
        const rows = await tx
          .select({ id: outbox.id, payload: outbox.payload, conversationId: outbox.conversationId })
          .from(outbox)
          .where(
            and(
              eq(outbox.platform, q.platform),
              eq(outbox.replyTo, q.messageId),
              eq(outbox.status, 'pending'),
              eq(outbox.nextAttemptAt, new Date(q.holdUntil)),
            ),
          )
          .orderBy(asc(outbox.id))
          .for('update', { skipLocked: true });
        if (rows.length === 0) return null;
        const replies = rows.map((r) => ({
          text: r.payload.text,
          mentions: r.payload.mentions,
          ...(r.payload.markdown !== undefined ? { markdown: r.payload.markdown } : {}),
          ...(r.payload.buttons?.length ? { buttons: r.payload.buttons } : {}),
        }));
        if (!fits(replies)) return null;
        const now = clock();
        await tx
          .update(outbox)
          .set({ status: 'sent', sentAt: now, attempts: 1, lastError: null })
          .where(inArray(outbox.id, rows.map((r) => r.id)));
        // The conversation's record, as the outbox worker writes it for what it sends.
        await tx.insert(chatLog).values(
          rows.map((r) => ({ platform: q.platform, conversationId: r.conversationId, direction: 'out' as const, sender: 'bot', text: r.payload.text, mentions: r.payload.mentions ?? [], at: now })),
        );
        return replies;
      });
    },
  };
}
