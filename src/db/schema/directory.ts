import { integer, jsonb, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * A directory sync proposal (`/成员 同步` or the daily job): what the platforms' directories would change
 * in the roster. Nothing in the roster changes until `/成员 同步 确认` applies the latest one.
 * `/成员 同步` first stores a request (status 'requested', plan null, the group to answer): the
 * directory worker reads the platforms with no transaction open, then stores the plan and answers.
 */
export const DIRECTORY_SYNC_STATUSES = ['requested', 'proposed', 'failed'] as const;
export const directorySyncs = pgTable('directory_syncs', {
  id: serial('id').primaryKey(),
  /** SyncPlan (src/features/directory/directory-plan.ts); null while requested. */
  plan: jsonb('plan').$type<Record<string, unknown>>(),
  status: text('status', { enum: DIRECTORY_SYNC_STATUSES }).notNull().default('proposed'),
  /** Where the answer to a `/成员 同步` request goes. */
  platform: text('platform'),
  conversationId: text('conversation_id'),
  /** A request is due at this time; while claimed, the end of the worker's lease. */
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  /** Who asked (a userid), or 'daily'. */
  requestedBy: text('requested_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  appliedAt: timestamp('applied_at', { withTimezone: true }),
  appliedBy: text('applied_by'),
});
