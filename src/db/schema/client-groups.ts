import { index, integer, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { groups, orders, people } from './core';

export const CLIENT_QUESTION_KINDS = ['asked', 'open'] as const;
export const CLIENT_QUESTION_STATES = ['waiting', 'answered', 'private', 'resolved', 'closed'] as const;

/**
 * Questions of clients in 讨论组 (Q numbers): `asked` = a client's question waiting for a first answer
 * (the watcher opens it; a staff message or `/已私聊` answers it); `open` = not solved on the spot
 * (`/待解决`), resolved by `/已解决 Q5`.
 */
export const clientQuestions = pgTable(
  'client_questions',
  {
    id: serial('id').primaryKey(),
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id),
    groupId: integer('group_id').references(() => groups.id),
    kind: text('kind', { enum: CLIENT_QUESTION_KINDS }).notNull(),
    state: text('state', { enum: CLIENT_QUESTION_STATES }).notNull(),
    text: text('text').notNull(),
    /** Who asked (a client's display name) or who recorded it (staff). */
    askedBy: text('asked_by'),
    messageId: text('message_id'),
    /** Further client messages while it waited for an answer. */
    followUps: integer('follow_ups').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    closedById: integer('closed_by_id').references(() => people.id),
    closeNote: text('close_note'),
  },
  (t) => [index('client_questions_order_idx').on(t.orderId), index('client_questions_group_idx').on(t.groupId, t.state)],
);

export const CLIENT_CONTACT_KINDS = ['phone', 'visit', 'email', 'chat', 'other', 'report'] as const;
export type ClientContactKind = (typeof CLIENT_CONTACT_KINDS)[number];

/** Contact with the client recorded by hand (`/联系`: phone, visit, email …) and progress reports (`/材料进度`). */
export const clientContacts = pgTable(
  'client_contacts',
  {
    id: serial('id').primaryKey(),
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id),
    at: timestamp('at', { withTimezone: true }).notNull(),
    kind: text('kind', { enum: CLIENT_CONTACT_KINDS }).notNull(),
    note: text('note'),
    personId: integer('person_id').references(() => people.id),
  },
  (t) => [index('client_contacts_order_idx').on(t.orderId, t.at)],
);
