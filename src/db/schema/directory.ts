import { jsonb, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * A directory sync proposal (`/成员 同步` or the daily job): what the platforms' directories would change
 * in the roster. Nothing in the roster changes until `/成员 同步 确认` applies the latest one.
 */
export const directorySyncs = pgTable('directory_syncs', {
  id: serial('id').primaryKey(),
  /** SyncPlan (src/features/directory/directory-plan.ts). */
  plan: jsonb('plan').$type<Record<string, unknown>>().notNull(),
  /** Who asked (a userid), or 'daily'. */
  requestedBy: text('requested_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  appliedAt: timestamp('applied_at', { withTimezone: true }),
  appliedBy: text('applied_by'),
});
