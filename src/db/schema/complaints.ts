import { sql } from 'drizzle-orm';
import { bigserial, boolean, index, integer, jsonb, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { clients, departments, people } from './core';

export const COMPLAINT_CHANNEL_VALUES = ['phone', 'sales', 'boss', 'chat'] as const;
export const COMPLAINT_LEVEL_VALUES = ['A', 'B', 'C', 'D'] as const;
/** voided: `/投诉 撤销` (a duplicate or a mistake): kept with its timeline, counted nowhere. */
export const COMPLAINT_STATUSES = ['open', 'closed', 'voided'] as const;

const ts = (name: string) => timestamp(name, { withTimezone: true });

/**
 * 投诉 (SERVICE-RULES.md, Complaints). One row per complaint with what the standards ask to keep:
 * who took it first (首问制), who is accused, who owns it now, the level, and when each obligation was
 * met. The timeline is complaint_events.
 */
export const complaints = pgTable(
  'complaints',
  {
    id: serial('id').primaryKey(),
    clientId: integer('client_id')
      .notNull()
      .references(() => clients.id),
    departmentId: integer('department_id').references(() => departments.id),
    /** The order named at intake first, then the client's other open orders in the department. */
    orderIds: integer('order_ids').array().notNull().default(sql`'{}'::int[]`),
    channel: text('channel', { enum: COMPLAINT_CHANNEL_VALUES }).notNull(),
    content: text('content').notNull(),
    /** When the complaint was actually received (时间=): the 30-minute clock starts here. */
    receivedAt: ts('received_at').notNull(),
    /** 首问制: whoever logged it; owns it until it is handed over. */
    firstResponderId: integer('first_responder_id').references(() => people.id),
    /** The accused handler (被投诉的负责人). */
    handlerId: integer('handler_id').references(() => people.id),
    supervisorId: integer('supervisor_id').references(() => people.id),
    /** Who owns the complaint now (first responder, then the department head on escalation, B or D). */
    ownerId: integer('owner_id').references(() => people.id),
    /** The new handler after /换人 (4.3.2). */
    replacementId: integer('replacement_id').references(() => people.id),
    level: text('level', { enum: COMPLAINT_LEVEL_VALUES }),
    proposedLevel: text('proposed_level', { enum: COMPLAINT_LEVEL_VALUES }),
    unhappy: boolean('unhappy').notNull().default(false),
    attitude: boolean('attitude').notNull().default(false),
    status: text('status', { enum: COMPLAINT_STATUSES }).notNull().default('open'),
    callbackAt: ts('callback_at'),
    callbackNote: text('callback_note'),
    escalatedAt: ts('escalated_at'),
    escalationReason: text('escalation_reason'),
    ownerNoteAt: ts('owner_note_at'),
    ownerNote: text('owner_note'),
    explainedAt: ts('explained_at'),
    salesInformedAt: ts('sales_informed_at'),
    /** The 30-minute callback passed without a callback or an escalation. */
    breachedAt: ts('breached_at'),
    closedAt: ts('closed_at'),
    resolution: text('resolution'),
    closeReason: text('close_reason'),
    reportAt: ts('report_at'),
    reportNote: text('report_note'),
    reviewFiledAt: ts('review_filed_at'),
    reviewNote: text('review_note'),
    /** 4.4.2: official fees of a gifted service, in fen, and the split. */
    giftFeeFen: integer('gift_fee_fen'),
    giftShares: jsonb('gift_shares').$type<{ role: 'fault' | 'supervisor' | 'head'; personId: number | null; name: string; fen: number }[]>(),
    giftNote: text('gift_note'),
    /** Chat relay: the conversation the client's words came from. */
    sourcePlatform: text('source_platform'),
    sourceConversationId: text('source_conversation_id'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    index('complaints_department_idx').on(t.departmentId, t.receivedAt),
    index('complaints_client_idx').on(t.clientId, t.receivedAt),
  ],
);

/** A complaint's timeline (/查 T7): received, notified, callback, escalations, level changes, closure. */
export const complaintEvents = pgTable(
  'complaint_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    complaintId: integer('complaint_id')
      .notNull()
      .references(() => complaints.id),
    at: ts('at').notNull(),
    actorId: integer('actor_id').references(() => people.id),
    kind: text('kind').notNull(),
    note: text('note'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('complaint_events_complaint_idx').on(t.complaintId, t.id)],
);
