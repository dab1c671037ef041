import { PROMISE_CLOCKS } from '../reports';
import { lastStaffContacts } from '../client-groups';
import { countedComplaint } from '../complaints';
import { and, asc, desc, eq, gte, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { rowsOf } from '../../db/rows';
import { chatLog, clients, complaints, departments, groups, orders, people, timers } from '../../db/schema';
import { isIsoDate, type WorkCalendar } from '../../domain/calendar';
import { ruleById } from '../../core/clocks/clock-store';
import type { Playbook, PlaybookRule } from '../../domain/playbooks';
import type { ComplaintPlaybook } from '../../domain/complaints';
import { STATUS_NAMES } from '../../domain/orders';
import { complaintScope, orderScope, timerScope, type Viewer } from './access';
import { timerComplaintJoin } from '../roster';

/** Filters from the URL. They are ANDed with the viewer's scope: they narrow, never widen. */
export interface Filters {
  dept?: number;
  person?: number;
  type?: string;
  from?: string;
  to?: string;
}

export function parseFilters(q: Record<string, unknown>): Filters {
  const f: Filters = {};
  const int = (v: unknown) => (typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : undefined);
  const dept = int(q.dept);
  const person = int(q.person);
  if (dept) f.dept = dept;
  if (person) f.person = person;
  if (typeof q.type === 'string' && q.type.trim() && q.type.length <= 40) f.type = q.type.trim();
  if (typeof q.from === 'string' && isIsoDate(q.from)) f.from = q.from;
  if (typeof q.to === 'string' && isIsoDate(q.to)) f.to = q.to;
  return f;
}

/** [from 00:00, the day after `to` 00:00) in the company's time zone. */
function range(f: Filters, cal: WorkCalendar) {
  return {
    from: f.from ? cal.at(f.from, '00:00') : undefined,
    to: f.to ? cal.at(cal.shiftDate(f.to, 1, 'days'), '00:00') : undefined,
  };
}

const inRange = (col: Parameters<typeof gte>[0], f: Filters, cal: WorkCalendar): SQL[] => {
  const r = range(f, cal);
  return [...(r.from ? [gte(col, r.from)] : []), ...(r.to ? [lt(col, r.to)] : [])];
};

export function orderFilter(f: Filters, cal: WorkCalendar): SQL {
  return and(
    sql`true`,
    ...(f.dept ? [eq(orders.departmentId, f.dept)] : []),
    ...(f.person ? [eq(orders.handlerId, f.person)] : []),
    ...(f.type ? [eq(orders.serviceType, f.type)] : []),
    ...inRange(orders.createdAt, f, cal),
  )!;
}

/** The 看板's complaints: the counted ones (a voided complaint is in no table or chart) within the filters. */
export function complaintFilter(f: Filters, cal: WorkCalendar): SQL {
  return and(
    countedComplaint,
    ...(f.dept ? [eq(complaints.departmentId, f.dept)] : []),
    ...(f.person ? [or(eq(complaints.handlerId, f.person), eq(complaints.replacementId, f.person))!] : []),
    ...(f.type ? [sql`exists (select 1 from ${orders} o where o.id = any(${complaints.orderIds}) and o.service_type = ${f.type})`] : []),
    ...inRange(complaints.receivedAt, f, cal),
  )!;
}

export function timerFilter(f: Filters, cal: WorkCalendar): SQL {
  return and(
    sql`true`,
    ...(f.dept ? [sql`coalesce(${orders.departmentId}, ${complaints.departmentId}, ${timers.departmentId}) = ${f.dept}`] : []),
    ...(f.person ? [or(eq(orders.handlerId, f.person), eq(complaints.handlerId, f.person))!] : []),
    ...(f.type ? [eq(orders.serviceType, f.type)] : []),
    ...inRange(timers.dueAt, f, cal),
  )!;
}

export interface Rules {
  playbook: Playbook;
  complaintPlaybook: ComplaintPlaybook;
  /** The rule of a timer by its subject (every feature's clocks, e.g. 讨论组); the same lookup /逾期 makes. */
  ofTimer?: (row: { subject: string; ruleId: string }) => PlaybookRule | undefined;
}

/** The rule of a timer row (by its subject when known), else of an order or complaint rule id. */
export const ruleOf = (rules: Rules, ruleId: string, subject?: string): PlaybookRule | undefined =>
  (subject ? rules.ofTimer?.({ subject, ruleId }) : undefined) ?? ruleById(rules.playbook, ruleId) ?? rules.complaintPlaybook.byId.get(ruleId)?.timer;

export type ClockRow = Awaited<ReturnType<typeof clockRows>>[number];

/** Timers in the viewer's scope and the filters, with what names them (order, complaint, client, handler, department). */
export async function clockRows(tx: Db, v: Viewer, f: Filters, cal: WorkCalendar, where: SQL, limit = 500) {
  return tx
    .select({
      t: timers,
      orderId: orders.id,
      complaintId: complaints.id,
      serviceType: orders.serviceType,
      client: clients.name,
      clientId: clients.id,
      handler: people.name,
      handlerId: people.id,
      dept: departments.name,
      deptId: departments.id,
    })
    .from(timers)
    .leftJoin(orders, eq(orders.id, timers.orderId))
    .leftJoin(complaints, timerComplaintJoin)
    .leftJoin(clients, sql`${clients.id} = coalesce(${orders.clientId}, ${complaints.clientId})`)
    .leftJoin(people, sql`${people.id} = coalesce(${orders.handlerId}, ${complaints.replacementId}, ${complaints.handlerId})`)
    .leftJoin(departments, sql`${departments.id} = coalesce(${orders.departmentId}, ${complaints.departmentId}, ${timers.departmentId})`)
    .where(and(timerScope(v), timerFilter(f, cal), where))
    .orderBy(asc(timers.dueAt), asc(timers.id))
    .limit(limit);
}

/** Running and overdue: due in the past and still running (what /逾期 lists). */
export const overdueWhere = (now: Date) => and(eq(timers.state, 'running'), lt(timers.dueAt, now))!;
export const dueBetweenWhere = (from: Date, to: Date) => and(eq(timers.state, 'running'), gte(timers.dueAt, from), lt(timers.dueAt, to))!;

/** Monday 00:00 of next week: "this week" ends there. */
export function endOfWeek(now: Date, cal: WorkCalendar): Date {
  const today = cal.dateOf(now);
  const wd = cal.explainDay(today).weekday;
  return cal.at(cal.shiftDate(today, wd === 0 ? 1 : 8 - wd, 'days'), '00:00');
}

export type OpenOrder = Awaited<ReturnType<typeof openOrders>>[number];

/**
 * Open orders in scope with their current step (the step of the earliest-due running clock, else what
 * the status says), the next due time and whether a clock is overdue.
 */
export async function openOrders(tx: Db, v: Viewer, f: Filters, cal: WorkCalendar, rules: Rules, now: Date) {
  const rows = await tx
    .select({ o: orders, client: clients.name, handler: people.name, dept: departments.name })
    .from(orders)
    .innerJoin(clients, eq(clients.id, orders.clientId))
    .leftJoin(people, eq(people.id, orders.handlerId))
    .leftJoin(departments, eq(departments.id, orders.departmentId))
    .where(and(inArray(orders.status, ['new', 'assigned', 'paused']), orderScope(v), orderFilter(f, cal)))
    .orderBy(asc(orders.id))
    .limit(2000);
  const ids = rows.map((r) => r.o.id);
  // The running clocks of the same orders: the same conditions as a join, not a list of ids.
  const clocks = ids.length
    ? await tx
        .select({ orderId: timers.orderId, subject: timers.subject, ruleId: timers.ruleId, dueAt: timers.dueAt })
        .from(timers)
        .innerJoin(orders, eq(orders.id, timers.orderId))
        .where(and(eq(timers.state, 'running'), inArray(orders.status, ['new', 'assigned', 'paused']), orderScope(v), orderFilter(f, cal)))
        .orderBy(asc(timers.dueAt))
    : [];
  const contact = await lastClientContact(tx, ids);
  const byOrder = new Map<number, (typeof clocks)[number][]>();
  for (const t of clocks) byOrder.set(t.orderId!, [...(byOrder.get(t.orderId!) ?? []), t]);
  return rows.map((r) => {
    const mine = byOrder.get(r.o.id) ?? [];
    const next = mine[0];
    const rule = next ? ruleOf(rules, next.ruleId, next.subject) : undefined;
    const step = rule?.step ?? (r.o.status === 'new' ? '待派单' : r.o.status === 'paused' ? STATUS_NAMES.paused : (r.o.lastStep ?? STATUS_NAMES[r.o.status]));
    return {
      ...r,
      step,
      nextDue: next?.dueAt ?? null,
      nextClause: rule?.clause ?? null,
      overdue: mine.filter((t) => t.dueAt.getTime() < now.getTime()).length,
      lastContact: contact.get(r.o.id) ?? null,
    };
  });
}

/** Last client contact of each order: one definition for the whole bot (the 讨论组 feature's). */
export const lastClientContact = lastStaffContacts;

export async function complaintRows(tx: Db, v: Viewer, f: Filters, cal: WorkCalendar, where: SQL, limit = 500) {
  return tx
    .select({ c: complaints, client: clients.name, owner: people.name, dept: departments.name })
    .from(complaints)
    .innerJoin(clients, eq(clients.id, complaints.clientId))
    .leftJoin(people, eq(people.id, complaints.ownerId))
    .leftJoin(departments, eq(departments.id, complaints.departmentId))
    .where(and(complaintScope(v), complaintFilter(f, cal), where))
    .orderBy(desc(complaints.receivedAt))
    .limit(limit);
}

export const complaintStatus = (c: typeof complaints.$inferSelect) =>
  c.status === 'closed' ? '已结案' : c.status === 'voided' ? '已撤销' : c.escalatedAt ? '已上报' : c.callbackAt ? '已回电' : '待回电';

/**
 * The on-time chart's figures, counted in the database: per department and per month (the months given
 * by their starts, company time zone), how many clocks due in that month were judged (finished, or
 * still running past due, or closed with the order after it was due) and how many of them finished on time.
 * Other cancelled clocks and paused ones do not count;
 * the clocks counted are the monthly report's (PROMISE_CLOCKS).
 */
export async function onTimeByMonth(tx: Db, v: Viewer, f: Filters, cal: WorkCalendar, monthStarts: Date[], now: Date) {
  const ends = [...monthStarts.slice(1), now];
  const bucket = sql.join(
    monthStarts.map((m, i) => sql`when ${timers.dueAt} >= ${m.toISOString()}::timestamptz and ${timers.dueAt} < ${ends[i]!.toISOString()}::timestamptz then ${i}`),
    sql` `,
  );
  const ended = sql`(${timers.data}->>'endedAt')::timestamptz`;
  const rows = await tx
    .select({
      deptId: sql<number | null>`coalesce(${orders.departmentId}, ${complaints.departmentId}, ${timers.departmentId})`,
      month: sql<number>`case ${bucket} end`,
      // A clock closed with its order (随单结束) after its due time was missed: judged, never on time.
      judged: sql<number>`count(*) filter (where (${timers.state} = 'done' and ${timers.data}->>'endedAt' is not null) or ${timers.state} = 'running' or (${timers.state} = 'cancelled' and ${timers.data}->>'endedWithOrder' = 'true' and ${ended} > ${timers.dueAt}))::int`,
      onTime: sql<number>`count(*) filter (where ${timers.state} = 'done' and ${ended} <= ${timers.dueAt})::int`,
    })
    .from(timers)
    .leftJoin(orders, eq(orders.id, timers.orderId))
    .leftJoin(complaints, timerComplaintJoin)
    .where(and(inArray(timers.state, ['running', 'done', 'cancelled']), gte(timers.dueAt, monthStarts[0]!), lt(timers.dueAt, now), PROMISE_CLOCKS, timerScope(v), timerFilter(f, cal)))
    .groupBy(sql`1`, sql`2`);
  return rows.map((r) => ({ deptId: r.deptId === null ? null : Number(r.deptId), month: Number(r.month), judged: Number(r.judged), onTime: Number(r.onTime) }));
}
