import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, serial, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Holiday notices brought in with `/日历 导入` (or `npm run calendar -- import`): the text as sent, who
 * sent it and when, the days read from it, and who applied it and when. `awaiting`: the command had
 * no text and waits for the sender's next message in that chat; `preview`: read and shown with its
 * number; `applied`: its days are in calendar_statutory_days; `failed`: the awaited message did not parse.
 */
export const calendarNotices = pgTable(
  'calendar_notices',
  {
    id: serial('id').primaryKey(),
    status: text('status', { enum: ['awaiting', 'preview', 'applied', 'failed'] }).notNull(),
    year: integer('year'),
    source: text('source'),
    /** The days read from the notice: [{ date, kind, name, inLieu }]. */
    days: jsonb('days').$type<{ date: string; kind: 'holiday' | 'makeup'; name: string; inLieu: boolean }[]>(),
    /** The year's statutory data when the preview was made; confirming refuses if it changed since. */
    baseline: text('baseline'),
    platform: text('platform'),
    conversationId: text('conversation_id'),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    appliedBy: text('applied_by'),
    appliedAt: timestamp('applied_at', { withTimezone: true }),
  },
  (t) => [index('calendar_notices_awaiting_idx').on(t.platform, t.conversationId, t.createdBy).where(sql`status = 'awaiting'`)],
);

/**
 * Statutory holidays and make-up days of applied notices. A year with rows here is read from them alone
 * and takes precedence over the chinese-days package for that year (src/core/clocks/clock-store.ts).
 */
export const calendarStatutoryDays = pgTable(
  'calendar_statutory_days',
  {
    year: integer('year').notNull(),
    date: text('date').notNull(),
    kind: text('kind', { enum: ['holiday', 'makeup'] }).notNull(),
    name: text('name').notNull(),
    inLieu: boolean('in_lieu').notNull().default(false),
    noticeId: integer('notice_id')
      .notNull()
      .references(() => calendarNotices.id),
  },
  (t) => [primaryKey({ columns: [t.year, t.date] })],
);
