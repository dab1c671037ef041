import { integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { people } from './core';

export const REMINDER_MODES = ['private', 'group'] as const;
export type ReminderMode = (typeof REMINDER_MODES)[number];

/**
 * `/提醒方式 私聊|群`: how one person wants reminders meant only for them. No row: in the group
 * (the default). Only the person sets it for themselves.
 */
export const reminderModes = pgTable('reminder_modes', {
  personId: integer('person_id')
    .primaryKey()
    .references(() => people.id),
  mode: text('mode', { enum: REMINDER_MODES }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
});
