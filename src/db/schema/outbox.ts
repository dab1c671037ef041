import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * `unrouted`: a notice with no group to go to, held under its hold key (a department's notice with no
 * 部门群 and no fallback: `dept:<id>`); kept visible in `/发送失败 全部` and released to the group when
 * `/部门群` sets one.
 */
export const OUTBOX_STATUSES = ['pending', 'sent', 'failed', 'unrouted'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

export interface OutboxPayload {
  text: string;
  /** Userids to @-mention. */
  mentions: string[];
  /** Optional markdown rendering, for platforms that have it. */
  markdown?: string;
  /** What is left of a long message after its first parts were delivered (OutboundMessage.parts). */
  parts?: string[];
  partsMarkdown?: boolean;
  /** Card buttons (OutboundMessage.buttons), each with the token its click reports (card_actions). */
  buttons?: { label: string; command: string; token?: string }[];
  /** Route facts of the inbound message a reply answers (OutboundTarget.replyRoute). */
  replyRoute?: Record<string, unknown>;
  /**
   * Meant for staff only (an internal command's reply, a notice to an internal group): the worker
   * re-reads the group's kind when sending and refuses it if the group has become a client group.
   */
  internal?: boolean;
}

/**
 * Durable outbox: every message the bot sends is a row written in the same transaction as the change
 * that caused it, then delivered by a worker. dedupe_key makes "send once" a database fact.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    platform: text('platform').notNull(),
    conversationId: text('conversation_id').notNull(),
    payload: jsonb('payload').$type<OutboxPayload>().notNull(),
    /** Unique when set: e.g. `reply:<platform>:<message id>:<n>` or `timer:<id>:<step>`. */
    dedupeKey: text('dedupe_key').unique(),
    /** Inbound message this answers, if any (lets an adapter reply in-thread or via response_url). */
    replyTo: text('reply_to'),
    /** For an `unrouted` row: what it waits for, named by the feature that held it (e.g. `dept:12`). */
    holdKey: text('hold_key'),
    /** The department of a `dept:<id>` hold key (derived, for the roster's queries). */
    departmentId: integer('department_id').generatedAlwaysAs(sql`case when hold_key ~ '^dept:[0-9]{1,9}$' then substring(hold_key from 6)::integer end`),
    status: text('status', { enum: OUTBOX_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** Set from the app's clock by every insert (the worker compares it with that clock); the defaults are for hand-written SQL. */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [
    index('outbox_due_idx').on(t.status, t.nextAttemptAt, t.id),
    index('outbox_conversation_idx').on(t.platform, t.conversationId, t.id),
  ],
);

/**
 * Sends per robot (rate key) inside the sliding window: the per-robot budget (20 a minute) lives in
 * the database so it holds across all instances. A slot is taken when a message is claimed for sending.
 */
export const robotSends = pgTable(
  'robot_sends',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    rateKey: text('rate_key').notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true }).notNull(),
    outboxId: integer('outbox_id'),
  },
  (t) => [index('robot_sends_key_idx').on(t.rateKey, t.sentAt)],
);
