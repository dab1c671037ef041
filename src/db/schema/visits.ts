import { sql } from 'drizzle-orm';
import { index, integer, pgTable, serial, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import { clients, departments, people } from './core';

const ts = (name: string) => timestamp(name, { withTimezone: true });

export const VISIT_METHODS = ['phone', 'onsite', 'email'] as const;
export type VisitMethod = (typeof VISIT_METHODS)[number];

/** planned: `/回访 计划`; done: `/回访 记录` (or the third refusal); refused: one `/回访 失约`. */
export const VISIT_STATUSES = ['planned', 'done', 'refused'] as const;
export type VisitStatus = (typeof VISIT_STATUSES)[number];

/**
 * 回访 (财税 7, 审计 4, 003 制度8 五): one row per planned, done or refused visit. The visit's report
 * and the supervisor's review are clocks (timers `visit:<id>`); the due visits of a client are clocks
 * too (timers `visit-due:<clientId>`), computed from the client's kind and orders.
 */
export const visits = pgTable(
  'visits',
  {
    id: serial('id').primaryKey(),
    clientId: integer('client_id')
      .notNull()
      .references(() => clients.id),
    departmentId: integer('department_id').references(() => departments.id),
    method: text('method', { enum: VISIT_METHODS }).notNull(),
    status: text('status', { enum: VISIT_STATUSES }).notNull(),
    /** The planned day ('YYYY-MM-DD'), when one was given. */
    plannedFor: text('planned_for'),
    /** Who visits (or visited). */
    visitorId: integer('visitor_id').references(() => people.id),
    doneAt: ts('done_at'),
    result: text('result'),
    opinion: text('opinion'),
    /** 1–5. */
    satisfaction: smallint('satisfaction'),
    note: text('note'),
    reportAt: ts('report_at'),
    report: text('report'),
    reviewedAt: ts('reviewed_at'),
    reviewerId: integer('reviewer_id').references(() => people.id),
    reviewNote: text('review_note'),
    createdById: integer('created_by_id').references(() => people.id),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    index('visits_client_idx').on(t.clientId, t.id),
    index('visits_department_done_idx').on(t.departmentId, t.doneAt).where(sql`status = 'done'`),
  ],
);
