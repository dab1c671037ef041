import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { cardActions, type OutboxPayload } from '../db/schema';

/**
 * Gives every button of an outgoing card a random token and records what it runs, in the caller's
 * transaction (the outbox row's). A platform that reports a click by button id alone turns the token
 * back into the command and its conversation with `resolveCardAction`.
 */
export async function issueCardTokens(
  tx: Db,
  row: { platform: string; conversationId: string; payload: OutboxPayload },
  now: Date,
): Promise<OutboxPayload> {
  const buttons = row.payload.buttons;
  if (!buttons?.length || buttons.every((b) => b.token)) return row.payload;
  const issued = buttons.map((b) => ({ ...b, token: b.token ?? newToken() }));
  await tx
    .insert(cardActions)
    .values(issued.map((b) => ({ token: b.token, platform: row.platform, conversationId: row.conversationId, command: b.command, createdAt: now })))
    .onConflictDoNothing();
  return { ...row.payload, buttons: issued };
}

/** 96 random bits, URL-safe: short enough for a card's action id, impossible to guess. */
function newToken(): string {
  return `b${randomBytes(12).toString('base64url')}`;
}

/** The command and conversation a clicked button stands for, or null when the bot never offered it. */
export async function resolveCardAction(
  tx: Db,
  platform: string,
  token: string,
): Promise<{ conversationId: string; command: string } | null> {
  const [row] = await tx
    .select({ conversationId: cardActions.conversationId, command: cardActions.command })
    .from(cardActions)
    .where(and(eq(cardActions.token, token), eq(cardActions.platform, platform)));
  return row ?? null;
}
