import { pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * When the bot last said a once-in-a-while line in a conversation (`kind`: 'media-hint' — "I read
 * text only"). Kept in the database so "once per group per hour" holds across all instances: the
 * line is sent only by the transaction whose conditional upsert moves `last_at`.
 */
export const inboundNotices = pgTable(
  'inbound_notices',
  {
    platform: text('platform').notNull(),
    conversationId: text('conversation_id').notNull(),
    kind: text('kind').notNull(),
    lastAt: timestamp('last_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.platform, t.conversationId, t.kind] })],
);
