import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';

/** The app writes created_at from its clock (ctx.now); the default is only for hand-written SQL. */
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const ROLES = ['handler', 'supervisor', 'head', 'sales', 'management'] as const;
export type Role = (typeof ROLES)[number];

export const departments = pgTable('departments', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  /** Service types this department takes orders for (专利, 软件, …). */
  services: text('services').array().notNull().default(sql`'{}'::text[]`),
  createdAt: createdAt(),
});

export const people = pgTable(
  'people',
  {
    id: serial('id').primaryKey(),
    /** The enterprise userid (WeCom userid / DingTalk staffId / sandbox id). */
    userid: text('userid').notNull().unique(),
    name: text('name').notNull(),
    departmentId: integer('department_id').references(() => departments.id),
    role: text('role', { enum: ROLES }).notNull(),
    supervisorId: integer('supervisor_id').references((): AnyPgColumn => people.id),
    isAdmin: boolean('is_admin').notNull().default(false),
    active: boolean('active').notNull().default(true),
    createdAt: createdAt(),
  },
  (t) => [index('people_name_idx').on(t.name)],
);

/** 客户的类别 (回访, 财税 7.1.3 / 7.2): 优质客户 are visited by a manager or above; 代账 clients by email monthly. */
export const CLIENT_KINDS = ['normal', 'premium', 'bookkeeping'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export const clients = pgTable('clients', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  salespersonId: integer('salesperson_id').references(() => people.id),
  /** Set by `/客户 设置` (src/features/visits). */
  kind: text('kind', { enum: CLIENT_KINDS }).notNull().default('normal'),
  contactName: text('contact_name'),
  phone: text('phone'),
  createdAt: createdAt(),
});

export const GROUP_KINDS = ['internal', 'client'] as const;
export type GroupKind = (typeof GROUP_KINDS)[number];

/** A chat conversation the bot is in. */
export const groups = pgTable(
  'groups',
  {
    id: serial('id').primaryKey(),
    platform: text('platform').notNull(),
    conversationId: text('conversation_id').notNull(),
    title: text('title'),
    kind: text('kind', { enum: GROUP_KINDS }).notNull().default('internal'),
    /**
     * Set when this is a department's group (部门群): the one group where that department's notices go.
     * At most one group per department (unique), moved by `/部门群`; never a client group.
     */
    departmentId: integer('department_id').references(() => departments.id),
    clientId: integer('client_id').references(() => clients.id),
    orderId: integer('order_id').references((): AnyPgColumn => orders.id),
    /** How to post into this group (webhook, robot code, chat id …); set by the platform adapters. */
    route: jsonb('route').$type<Record<string, unknown>>(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('groups_platform_conversation_uq').on(t.platform, t.conversationId),
    uniqueIndex('groups_department_uq').on(t.departmentId),
    index('groups_order_idx').on(t.orderId),
  ],
);

export const ORDER_STATUSES = ['new', 'assigned', 'paused', 'done', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Why an order is paused (3.5.2): unpaid → /收款 lifts it; waiting for the client; anything else. */
export const PAUSE_KINDS = ['unpaid', 'client', 'other'] as const;
export type PauseKind = (typeof PAUSE_KINDS)[number];

/** 分配单 */
export const orders = pgTable(
  'orders',
  {
    id: serial('id').primaryKey(),
    clientId: integer('client_id')
      .notNull()
      .references(() => clients.id),
    serviceType: text('service_type').notNull(),
    departmentId: integer('department_id').references(() => departments.id),
    salespersonId: integer('salesperson_id').references(() => people.id),
    handlerId: integer('handler_id').references(() => people.id),
    status: text('status', { enum: ORDER_STATUSES }).notNull().default('new'),
    /** Status to return to on /恢复. */
    statusBeforePause: text('status_before_pause', { enum: ORDER_STATUSES }),
    paid: boolean('paid').notNull().default(false),
    deadline: date('deadline', { mode: 'string' }),
    /** Free dates and facts a playbook may read (申报截止, 合同结束 …). */
    fields: jsonb('fields').$type<Record<string, string>>().notNull().default({}),
    lastStep: text('last_step'),
    /** Clock events that have happened on this order (src/domain/playbooks/order-events.ts). */
    occurredEvents: text('occurred_events').array().notNull().default(sql`'{}'::text[]`),
    pauseReason: text('pause_reason'),
    pauseKind: text('pause_kind', { enum: PAUSE_KINDS }),
    transferToId: integer('transfer_to_id').references(() => people.id),
    transferReason: text('transfer_reason'),
    transferRequestedById: integer('transfer_requested_by_id').references(() => people.id),
    createdById: integer('created_by_id').references(() => people.id),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('orders_handler_idx').on(t.handlerId),
    index('orders_department_idx').on(t.departmentId),
    index('orders_salesperson_idx').on(t.salespersonId),
  ],
);

/** An order's own timeline (shown by /查). */
export const orderEvents = pgTable(
  'order_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id),
    at: timestamp('at', { withTimezone: true }).notNull(),
    actorId: integer('actor_id').references(() => people.id),
    kind: text('kind').notNull(),
    note: text('note'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('order_events_order_idx').on(t.orderId, t.id)],
);

/**
 * Append-only audit trail: who did what, when, from which message.
 * The standards repeatedly ask that things be "记录在系统中" and "留有相关证据".
 */
export const events = pgTable(
  'events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    actorId: integer('actor_id').references(() => people.id),
    actorUserid: text('actor_userid'),
    action: text('action').notNull(),
    subject: text('subject'),
    platform: text('platform'),
    conversationId: text('conversation_id'),
    messageId: text('message_id'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('events_subject_idx').on(t.subject, t.id)],
);

/** Inbound message ids already handled: the platforms retry, the database deduplicates. */
export const inboundMessages = pgTable(
  'inbound_messages',
  {
    platform: text('platform').notNull(),
    messageId: text('message_id').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    /** The normalised message, kept until handled so a crash after the acknowledgement loses nothing. */
    payload: jsonb('payload').$type<Record<string, unknown>>(),
    status: text('status', { enum: ['pending', 'done', 'failed'] }).notNull().default('done'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.platform, t.messageId] }),
    index('inbound_pending_idx').on(t.status, t.nextAttemptAt),
  ],
);

/** What was said in each conversation, both directions (the sandbox shows it; complaints quote it). */
export const chatLog = pgTable(
  'chat_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    platform: text('platform').notNull(),
    conversationId: text('conversation_id').notNull(),
    direction: text('direction', { enum: ['in', 'out'] }).notNull(),
    sender: text('sender').notNull(),
    senderName: text('sender_name'),
    messageId: text('message_id'),
    text: text('text').notNull(),
    mentions: jsonb('mentions').$type<string[]>().notNull().default([]),
    /** The card buttons a bot message offered (label and click token): the sandbox shows them. */
    buttons: jsonb('buttons').$type<{ label: string; token?: string }[]>(),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [index('chat_log_conversation_idx').on(t.platform, t.conversationId, t.id)],
);
