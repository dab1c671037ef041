import { index, integer, jsonb, pgTable, real, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { clients, departments, groups, orders, people } from './core';
import { complaints } from './complaints';

const ts = (name: string) => timestamp(name, { withTimezone: true });

export const TRIAGE_STATUSES = ['open', 'confirmed', 'dismissed'] as const;

/**
 * 疑似投诉 X3: a client's message(s) in a client group that the triage read as a complaint, waiting for
 * staff to confirm (`/投诉 确认 X3` files it as `/投诉` would) or dismiss it. Several messages from the
 * same client group within the window are one row: `messages` grows, `firstAt` stays the clock's start.
 */
export const triageSuggestions = pgTable(
  'triage_suggestions',
  {
    id: serial('id').primaryKey(),
    groupId: integer('group_id')
      .notNull()
      .references(() => groups.id),
    /** The client contact (platform user id) who wrote first. */
    senderId: text('sender_id').notNull(),
    senderName: text('sender_name'),
    clientId: integer('client_id').references(() => clients.id),
    orderId: integer('order_id').references(() => orders.id),
    departmentId: integer('department_id').references(() => departments.id),
    handlerId: integer('handler_id').references(() => people.id),
    supervisorId: integer('supervisor_id').references(() => people.id),
    /** The client's messages, in order: their words are the complaint's evidence. */
    messages: jsonb('messages').$type<{ id: string; at: string; text: string }[]>().notNull(),
    /** When the client first wrote: the complaint's received time. */
    firstAt: ts('first_at').notNull(),
    lastAt: ts('last_at').notNull(),
    level: text('level', { enum: ['A', 'B', 'C', 'D'] }).notNull(),
    summary: text('summary').notNull(),
    evidenceQuote: text('evidence_quote').notNull(),
    confidence: real('confidence').notNull(),
    /** 'rules' or 'model'; with the prompt or rules version that informed the decision. */
    source: text('source', { enum: ['rules', 'model'] }).notNull(),
    version: text('version').notNull(),
    status: text('status', { enum: TRIAGE_STATUSES }).notNull().default('open'),
    complaintId: integer('complaint_id').references(() => complaints.id),
    decidedBy: text('decided_by'),
    decidedAt: ts('decided_at'),
    dismissReason: text('dismiss_reason'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('triage_open_idx').on(t.groupId, t.status)],
);

export const TRIAGE_JOB_STATUSES = ['pending', 'done', 'failed'] as const;

/**
 * A client message waiting for the model's reading (only when a model is configured). The watcher
 * writes it in the message's transaction, after the rules have already acted; the triage worker claims
 * it (FOR UPDATE SKIP LOCKED, leased through `nextAttemptAt`), calls the model outside any transaction,
 * and applies the answer in a short one that also marks the row done: exactly once. A crash mid-call
 * leaves the row pending; it is claimed again when the lease runs out. One row per message.
 */
export const triageJobs = pgTable(
  'triage_jobs',
  {
    id: serial('id').primaryKey(),
    groupId: integer('group_id')
      .notNull()
      .references(() => groups.id),
    messageId: text('message_id').notNull(),
    senderId: text('sender_id').notNull(),
    senderName: text('sender_name'),
    text: text('text').notNull(),
    receivedAt: ts('received_at').notNull(),
    /** The suggestion the rules made or merged this message into (null: the rules saw no complaint). */
    ruleSuggestionId: integer('rule_suggestion_id').references(() => triageSuggestions.id),
    status: text('status', { enum: TRIAGE_JOB_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** Due time while pending; while claimed, the lease's end (the fencing token of the claim). */
    nextAttemptAt: ts('next_attempt_at').notNull(),
    /** What the model's answer did: created, merged, upgraded, agreed, dismissed, kept, no-complaint, rules-stand, decided-already. */
    outcome: text('outcome'),
    lastError: text('last_error'),
    createdAt: ts('created_at').notNull(),
    doneAt: ts('done_at'),
  },
  (t) => [uniqueIndex('triage_jobs_message_uq').on(t.groupId, t.messageId), index('triage_jobs_due_idx').on(t.status, t.nextAttemptAt)],
);

/** Free-text orders (`/单 <文本>`) waiting for `/单 确认 <编号>`: the exact `/单 新建 …` command shown. */
export const orderDrafts = pgTable('order_drafts', {
  id: serial('id').primaryKey(),
  command: text('command').notNull(),
  fields: jsonb('fields').$type<Record<string, unknown>>().notNull(),
  source: text('source', { enum: ['rules', 'model'] }).notNull(),
  version: text('version').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: ts('created_at').notNull(),
  usedAt: ts('used_at'),
  orderId: integer('order_id').references(() => orders.id),
});
