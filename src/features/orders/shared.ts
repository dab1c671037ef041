/** What the order commands share: loading an order, who is involved, refusals, the clock lines of a reply. */
import { and, eq, or } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { orderEvents, orders, people } from '../../db/schema';
import * as rules from '../../domain/orders';
import { orderCode } from '../../domain/orders';
import { type Person } from '../../core/context';
import type { OrderContext } from './order-context';
import { PermissionError, UserInputError } from '../../core/errors';
import type { ClockChange } from './order-clocks';
import { durationInChinese, isAssignmentRule } from '../../domain/playbooks';
import { formatInstantInChinese } from '../../domain/calendar';
import { fromRow } from '../../core/clocks/clock-store';

/** Buttons on a card (WeCom button_interaction allows up to 6). */
export const CARD_MAX_BUTTONS = 6;

export type Order = typeof orders.$inferSelect;

export async function loadOrder(tx: Db, id: number, lock = false): Promise<Order> {
  const q = tx.select().from(orders).where(eq(orders.id, id));
  const rows = lock ? await q.for('update') : await q;
  if (!rows[0]) throw new UserInputError(`没有找到分配单 ${orderCode(id)}，请核对单号（可发送 /单 列表 查看）。`);
  return rows[0];
}

export async function personById(tx: Db, id: number | null): Promise<Person | null> {
  if (!id) return null;
  const rows = await tx.select().from(people).where(eq(people.id, id));
  return rows[0] ?? null;
}

/** Department heads of a department (those who approve and receive escalations). */
export async function headsOf(tx: Db, departmentId: number | null): Promise<Person[]> {
  if (!departmentId) return [];
  return tx
    .select()
    .from(people)
    .where(and(eq(people.departmentId, departmentId), eq(people.role, 'head'), eq(people.active, true)));
}

/**
 * Who is involved in an order: its handler, the handler's supervisor, the salesperson, the heads of its
 * department, management and admins. The handlers below ask this before changing an order.
 */
export async function involvement(ctx: OrderContext, o: Order) {
  const p = ctx.actor.person;
  const handler = await personById(ctx.tx, o.handlerId);
  const isHandler = !!p && p.id === o.handlerId;
  const isSupervisor = !!p && !!handler && handler.supervisorId === p.id;
  const isSales = !!p && p.id === o.salespersonId;
  const isHead = !!p && p.role === 'head' && p.departmentId === o.departmentId;
  const isSupervisorInDept = !!p && p.role === 'supervisor' && p.departmentId === o.departmentId;
  const isManagement = (!!p && p.role === 'management') || ctx.actor.isAdmin;
  return {
    handler,
    isHandler,
    isSupervisor: isSupervisor || isSupervisorInDept,
    isSales,
    isHead,
    isManagement,
    any: isHandler || isSupervisor || isSupervisorInDept || isSales || isHead || isManagement,
  };
}

export function refuse(why: string): never {
  throw new PermissionError(why);
}

export async function recordOrderEvent(ctx: OrderContext, orderId: number, kind: string, note: string | null, data: Record<string, unknown> = {}) {
  await ctx.tx.insert(orderEvents).values({ orderId, at: ctx.now, actorId: ctx.actor.person?.id ?? null, kind, note, data });
  await ctx.audit(`order.${kind}`, `order:${orderId}`, { note, ...data });
}

export async function update(ctx: OrderContext, id: number, values: Partial<typeof orders.$inferInsert>) {
  await ctx.tx
    .update(orders)
    .set({ ...values, updatedAt: ctx.now })
    .where(eq(orders.id, id));
}

/** Lines telling what the change did to the order's clocks. */
export async function clockLines(ctx: OrderContext, changes: ClockChange[]): Promise<string> {
  if (!changes.length) return '';
  const cal = await ctx.clocks.calendar(ctx.tx);
  return '\n' + changes.map((c) => ctx.clocks.describe(c, cal, ctx.now)).join('\n');
}

export function check<T>(t: rules.Transition<T>): T {
  if (!t.ok) throw new UserInputError(t.why);
  return t.next;
}

/**
 * "在 1 个工作日内（3.3.2，期限 …）" from the assignment timer the order just got (its rule's number and
 * clause, the timer's due time), or nothing when no assignment rule applies to the service type.
 */
export async function assignmentDeadline(ctx: OrderContext, orderId: number): Promise<string> {
  const row = (await ctx.clocks.active(ctx.tx, orderId)).find((r) => {
    const rule = ctx.clocks.ruleOf(r);
    return !!rule && isAssignmentRule(rule);
  });
  const rule = row && ctx.clocks.ruleOf(row);
  if (!row || !rule) return '';
  const cal = await ctx.clocks.calendar(ctx.tx);
  return `在 ${durationInChinese(rule.duration)}内（${rule.clause}，期限 ${formatInstantInChinese(fromRow(row).dueAt, cal, { now: ctx.now })}）`;
}
