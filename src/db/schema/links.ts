import { pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Server keys by name (e.g. `link`: the HMAC key of signed links). Created on first use when no key
 * is configured, so links survive a restart and verify on every instance sharing the database.
 */
export const appSecrets = pgTable('app_secrets', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** `/看板 注销` and the like: every link of (purpose, userid) issued before `revoked_at` is refused. */
export const linkRevocations = pgTable(
  'link_revocations',
  {
    purpose: text('purpose').notNull(),
    userid: text('userid').notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.purpose, t.userid] })],
);

/** Links that work once: the token id is recorded at first use, a second use is refused. */
export const linkUses = pgTable('link_uses', {
  tokenId: text('token_id').primaryKey(),
  usedAt: timestamp('used_at', { withTimezone: true }).notNull(),
});
