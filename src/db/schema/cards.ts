import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The buttons the bot has put on cards: a random token per button, written in the same transaction as
 * the outbox row that carries the card. A platform whose click callback names only the button (DingTalk
 * interactive cards: `cardPrivateData.actionIds`) is answered from here — the command to run and the
 * conversation it belongs to come from this row, never from the callback, so a click cannot name
 * another group or a command the bot did not offer.
 */
export const cardActions = pgTable('card_actions', {
  token: text('token').primaryKey(),
  platform: text('platform').notNull(),
  conversationId: text('conversation_id').notNull(),
  command: text('command').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
});
