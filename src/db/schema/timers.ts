import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { departments } from './core';

export const TIMER_ROW_STATES = ['running', 'paused', 'done', 'cancelled'] as const;

/**
 * One running clock per (subject, rule): subject is `order:12`, `dept:3` (a department's recurring
 * rule) or `complaint:7`. `data` is the pure Timer value (src/domain/timers); the columns beside it are
 * what the scheduler's index needs. Finished timers stay as history.
 */
export const timers = pgTable(
  'timers',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    subject: text('subject').notNull(),
    orderId: integer('order_id'),
    departmentId: integer('department_id').references(() => departments.id),
    ruleId: text('rule_id').notNull(),
    state: text('state', { enum: TIMER_ROW_STATES }).notNull(),
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    /** When the scheduler must look again (the earliest unsent ladder step); null when nothing is left. */
    nextStepAt: timestamp('next_step_at', { withTimezone: true }),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    // The tick reads only running timers that are due: an index range, not a scan of future timers.
    index('timers_due_idx').on(t.nextStepAt).where(sql`state = 'running' and next_step_at is not null`),
    uniqueIndex('timers_active_uq').on(t.subject, t.ruleId).where(sql`state in ('running', 'paused')`),
    index('timers_order_idx').on(t.orderId),
    index('timers_running_due_idx').on(t.dueAt).where(sql`state = 'running'`),
  ],
);

/** Company calendar overrides (extra days off, extra working days), set by /日历 调整. */
export const calendarOverrides = pgTable('calendar_overrides', {
  date: text('date').primaryKey(),
  kind: text('kind', { enum: ['work', 'off'] }).notNull(),
  note: text('note'),
  createdBy: text('created_by'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
});
