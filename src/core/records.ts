import type { Db } from '../db/client';
import { events, groups, outbox, people, type OutboxPayload } from '../db/schema';
import type { InboundMessage } from './types';
import { issueCardTokens } from './card-actions';

/**
 * The rows every part writes alongside its change: the outbox and the audit trail, plus the roster
 * types. Kept apart from context.ts so the clocks can record without importing the chat context.
 */

export type Person = typeof people.$inferSelect;
export type Group = typeof groups.$inferSelect;

export interface Actor {
  userid: string;
  /** null: not in the roster (a client contact, or an admin not yet registered). */
  person: Person | null;
  isAdmin: boolean;
  displayName: string;
}

/**
 * Queues a message. `now` is the app's clock: the row's created_at, and its next_attempt_at unless
 * `notBefore` holds it later. Never the database's now(): the outbox worker compares next_attempt_at
 * with the app's clock, so a row stamped by the database would not be due while the clock is behind it.
 */
export async function enqueue(
  tx: Db,
  row: { platform: string; conversationId: string; payload: OutboxPayload; dedupeKey?: string | null; replyTo?: string | null; now: Date; notBefore?: Date },
): Promise<boolean> {
  // Card buttons get their tokens here, so every path that posts a card records what its buttons run.
  const payload = await issueCardTokens(tx, row, row.now);
  const inserted = await tx
    .insert(outbox)
    .values({
      platform: row.platform,
      conversationId: row.conversationId,
      payload,
      dedupeKey: row.dedupeKey ?? null,
      replyTo: row.replyTo ?? null,
      nextAttemptAt: row.notBefore ?? row.now,
      createdAt: row.now,
    })
    .onConflictDoNothing({ target: outbox.dedupeKey })
    .returning({ id: outbox.id });
  return inserted.length > 0;
}

export async function writeAudit(
  tx: Db,
  e: { at: Date; actor?: Actor | null; action: string; subject: string | null; message?: InboundMessage | null; data?: Record<string, unknown> },
): Promise<void> {
  await tx.insert(events).values({
    at: e.at,
    actorId: e.actor?.person?.id ?? null,
    actorUserid: e.actor?.userid ?? null,
    action: e.action,
    subject: e.subject,
    platform: e.message?.platform ?? null,
    conversationId: e.message?.conversationId ?? null,
    messageId: e.message?.messageId ?? null,
    data: e.data ?? {},
  });
}
