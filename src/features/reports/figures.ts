import { and, asc, eq, gte, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { rowsOf } from '../../db/rows';
import { clients, complaints, departments, orderEvents, orders, people, timers, visits } from '../../db/schema';
import type { ComplaintRate } from '../../domain/complaints';
import { countedComplaint, rateOf } from '../complaints';
import type { Person } from '../../core/records';

/**
 * The figures of the weekly summary (每周汇总), the monthly report to 总经办 and the exports: one module,
 * queries that return plain rows and pure functions that shape them, so the 看板 can share them.
 */

export const OPEN_STATUSES = ['new', 'assigned', 'paused'] as const;

// ---------- weekly ----------

export interface OpenOrderRow {
  id: number;
  clientName: string;
  serviceType: string;
  status: string;
  lastStep: string | null;
  handlerId: number | null;
  /** Earliest due time of the order's running clocks. */
  nextDue: Date | null;
  /** Running clocks already past due. */
  overdue: number;
}

export interface OpenComplaintRow {
  id: number;
  clientName: string;
  level: string | null;
  handlerId: number | null;
  ownerId: number | null;
  receivedAt: Date;
}

export interface DueVisitRow {
  clientName: string;
  ruleId: string;
  dueAt: Date;
  /** Whoever visits (handler, or the head for 优质客户). */
  assigneeIds: number[];
}

export interface HandlerWeek {
  person: Pick<Person, 'id' | 'name' | 'userid'> | null;
  orders: OpenOrderRow[];
  complaints: OpenComplaintRow[];
  visits: DueVisitRow[];
}

/** Open orders of a department (or all) with their clocks' next due and overdue count at `now`. */
export async function openOrders(tx: Db, departmentId: number | null, now: Date): Promise<(OpenOrderRow & { departmentId: number | null })[]> {
  const rows = rowsOf<{
    id: number;
    client_name: string;
    service_type: string;
    status: string;
    last_step: string | null;
    handler_id: number | null;
    department_id: number | null;
    next_due: string | null;
    overdue: number;
  }>(
    await tx.execute(sql`
      select o.id, c.name as client_name, o.service_type, o.status, o.last_step, o.handler_id, o.department_id,
        (select min(t.due_at) from ${timers} t where t.order_id = o.id and t.state = 'running') as next_due,
        (select count(*)::int from ${timers} t where t.order_id = o.id and t.state = 'running' and t.due_at < ${now.toISOString()}::timestamptz) as overdue
      from ${orders} o join ${clients} c on c.id = o.client_id
      where o.status in ('new', 'assigned', 'paused') ${departmentId !== null ? sql`and o.department_id = ${departmentId}` : sql``}
      order by o.id`),
  );
  return rows.map((r) => ({
    id: Number(r.id),
    clientName: r.client_name,
    serviceType: r.service_type,
    status: r.status,
    lastStep: r.last_step,
    handlerId: r.handler_id === null ? null : Number(r.handler_id),
    departmentId: r.department_id === null ? null : Number(r.department_id),
    nextDue: r.next_due ? new Date(r.next_due) : null,
    overdue: Number(r.overdue),
  }));
}

export async function openComplaints(tx: Db, departmentId: number | null): Promise<OpenComplaintRow[]> {
  const rows = await tx
    .select({ c: complaints, clientName: clients.name })
    .from(complaints)
    .innerJoin(clients, eq(clients.id, complaints.clientId))
    .where(and(eq(complaints.status, 'open'), departmentId !== null ? eq(complaints.departmentId, departmentId) : undefined))
    .orderBy(asc(complaints.id));
  return rows.map(({ c, clientName }) => ({
    id: c.id,
    clientName,
    level: c.level,
    handlerId: c.replacementId ?? c.handlerId,
    ownerId: c.ownerId,
    receivedAt: c.receivedAt,
  }));
}

/**
 * Pure: one entry per person of the department (handlers first, in roster order) with their open
 * orders, open complaints and due visits; work nobody holds goes under `person: null`.
 */
export function groupByHandler(staff: Pick<Person, 'id' | 'name' | 'userid' | 'role'>[], os: OpenOrderRow[], cs: OpenComplaintRow[], vs: DueVisitRow[]): HandlerWeek[] {
  const weeks = new Map<number | null, HandlerWeek>();
  const known = new Set(staff.map((p) => p.id));
  const of = (id: number | null): HandlerWeek => {
    const key = id !== null && known.has(id) ? id : null;
    let w = weeks.get(key);
    if (!w) {
      const p = key === null ? null : staff.find((s) => s.id === key)!;
      w = { person: p ? { id: p.id, name: p.name, userid: p.userid } : null, orders: [], complaints: [], visits: [] };
      weeks.set(key, w);
    }
    return w;
  };
  for (const p of staff) if (p.role === 'handler') of(p.id);
  for (const o of os) of(o.handlerId).orders.push(o);
  for (const c of cs) of(c.handlerId ?? c.ownerId).complaints.push(c);
  for (const v of vs) {
    const ids = v.assigneeIds.length ? v.assigneeIds : [null];
    for (const id of ids) of(id).visits.push(v);
  }
  const order = (w: HandlerWeek) => (w.person ? staff.findIndex((s) => s.id === w.person!.id) : Number.MAX_SAFE_INTEGER);
  return [...weeks.values()].sort((a, b) => order(a) - order(b));
}

// ---------- monthly ----------

export interface ClockOutcome {
  dueAt: Date;
  state: string;
  endedAt: Date | null;
  /** Ended open when its order was completed (随单结束), not met. */
  endedWithOrder?: boolean;
}

/**
 * Pure: clocks due in a span, met on time (done by the due time) vs late (done after it, or still
 * running past it at `now`). Cancelled clocks and clocks not yet due are not counted — except one that
 * ended with its order (随单结束) after its due time had passed: it was missed, so it counts as late.
 * A clock closed with its order is never on time.
 */
export function clockFigures(rows: ClockOutcome[], now: Date): { onTime: number; late: number; percentOnTime: number | null } {
  let onTime = 0;
  let late = 0;
  for (const r of rows) {
    if (r.state === 'cancelled') {
      if (r.endedWithOrder && r.endedAt && r.endedAt.getTime() > r.dueAt.getTime()) late++;
      continue;
    }
    if (r.state === 'done' && r.endedAt && r.endedAt.getTime() <= r.dueAt.getTime()) onTime++;
    else if (r.state === 'done' || r.dueAt.getTime() < now.getTime()) late++;
  }
  const total = onTime + late;
  return { onTime, late, percentOnTime: total ? Math.round((onTime / total) * 1000) / 10 : null };
}

/**
 * The clocks that are service promises, for on-time figures (the monthly report and the 看板 alike):
 * recurring department series and the reports themselves are reminders, not promises.
 */
export const PROMISE_CLOCKS = sql`${timers.subject} not like 'dept:%' and ${timers.subject} not like 'report:%'`;

/** Clocks of a department due in [from, to): its orders' clocks, its complaints' and its visits'. */
export async function clocksDue(tx: Db, departmentId: number, from: Date, to: Date): Promise<ClockOutcome[]> {
  const rows = await tx
    .select({
      dueAt: timers.dueAt,
      state: timers.state,
      endedAt: sql<string | null>`${timers.data}->>'endedAt'`,
      endedWithOrder: sql<boolean>`coalesce((${timers.data}->>'endedWithOrder')::boolean, false)`,
    })
    .from(timers)
    .leftJoin(orders, eq(orders.id, timers.orderId))
    .where(
      and(
        gte(timers.dueAt, from),
        lt(timers.dueAt, to),
        or(eq(orders.departmentId, departmentId), and(isNull(timers.orderId), eq(timers.departmentId, departmentId))),
        PROMISE_CLOCKS,
      ),
    );
  return rows.map((r) => ({ dueAt: r.dueAt, state: r.state, endedAt: r.endedAt ? new Date(r.endedAt) : null, endedWithOrder: !!r.endedWithOrder }));
}

export interface MonthFigures {
  departmentId: number;
  departmentName: string;
  opened: number;
  finished: number;
  clocks: ReturnType<typeof clockFigures>;
  complaintsByLevel: Record<string, number>;
  rate: ComplaintRate;
  /** The same figure for the year so far (Jan 1 to the end of the span): 4.4.3 is a yearly line. */
  rateYear: ComplaintRate;
  visitsDue: number;
  visitsDueDone: number;
  visitsDone: number;
}

/** Pure: complaints counted by level; an unlevelled one as 待定级. */
export function byLevel(levels: (string | null)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of levels) out[l ?? '待定级'] = (out[l ?? '待定级'] ?? 0) + 1;
  return out;
}

/** One department's month [from, to) at `now`. The complaint rate is 4.4.3's (rateOf), over the same span. */
export async function monthFigures(
  tx: Db,
  dept: { id: number; name: string },
  from: Date,
  to: Date,
  now: Date,
  threshold: number,
  yearStart?: Date,
): Promise<MonthFigures> {
  const span = and(gte(orders.createdAt, from), lt(orders.createdAt, to));
  const [opened] = await tx.select({ n: sql<number>`count(*)::int` }).from(orders).where(and(eq(orders.departmentId, dept.id), span));
  const [finished] = await tx
    .select({ n: sql<number>`count(distinct ${orderEvents.orderId})::int` })
    .from(orderEvents)
    .innerJoin(orders, eq(orders.id, orderEvents.orderId))
    .where(and(eq(orders.departmentId, dept.id), eq(orderEvents.kind, 'done'), gte(orderEvents.at, from), lt(orderEvents.at, to)));
  const levels = await tx
    .select({ level: complaints.level })
    .from(complaints)
    .where(and(eq(complaints.departmentId, dept.id), gte(complaints.receivedAt, from), lt(complaints.receivedAt, to), countedComplaint));
  const rate = await rateOf(tx, dept.id, from, to, threshold);
  const rateYear = await rateOf(tx, dept.id, yearStart ?? from, to, threshold);
  const visitClocks = await tx
    .select({ state: timers.state, dueAt: timers.dueAt, endedAt: sql<string | null>`${timers.data}->>'endedAt'` })
    .from(timers)
    .where(and(sql`${timers.subject} like 'visit-due:%'`, eq(timers.departmentId, dept.id), gte(timers.dueAt, from), lt(timers.dueAt, to)));
  // A due-visit clock cancelled before its due time no longer applied; one cancelled after it was missed.
  const due = visitClocks.filter((v) => v.state !== 'cancelled' || (v.endedAt && new Date(v.endedAt).getTime() > v.dueAt.getTime()));
  const [done] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(visits)
    .where(and(eq(visits.departmentId, dept.id), eq(visits.status, 'done'), gte(visits.doneAt, from), lt(visits.doneAt, to)));
  return {
    departmentId: dept.id,
    departmentName: dept.name,
    opened: Number(opened?.n ?? 0),
    finished: Number(finished?.n ?? 0),
    clocks: clockFigures(await clocksDue(tx, dept.id, from, to), now),
    complaintsByLevel: byLevel(levels.map((l) => l.level)),
    rate,
    rateYear,
    visitsDue: due.length,
    visitsDueDone: due.filter((v) => v.state === 'done').length,
    visitsDone: Number(done?.n ?? 0),
  };
}

/** Departments that take orders (the ones the reports cover), in id order. */
export async function serviceDepartments(tx: Db, only?: number | null) {
  const ds = await tx.select().from(departments).where(only ? eq(departments.id, only) : undefined).orderBy(asc(departments.id));
  return ds.filter((d) => only || d.services.length > 0);
}

export async function departmentStaff(tx: Db, departmentId: number) {
  return tx
    .select()
    .from(people)
    .where(and(eq(people.departmentId, departmentId), eq(people.active, true)))
    .orderBy(asc(people.id));
}

// ---------- exports (`visible`: the reader's record-access scope as SQL, roster's scopeWhere) ----------

export async function complaintRows(tx: Db, visible: SQL, from: Date, to: Date) {
  return tx
    .select({ c: complaints, clientName: clients.name, departmentName: departments.name, handlerName: people.name })
    .from(complaints)
    .innerJoin(clients, eq(clients.id, complaints.clientId))
    .leftJoin(departments, eq(departments.id, complaints.departmentId))
    .leftJoin(people, eq(people.id, complaints.handlerId))
    .where(and(gte(complaints.receivedAt, from), lt(complaints.receivedAt, to), visible, countedComplaint))
    .orderBy(asc(complaints.id));
}

export async function visitRows(tx: Db, visible: SQL, from: Date, to: Date) {
  const rows = await tx
    .select({ v: visits, clientName: clients.name, departmentName: departments.name })
    .from(visits)
    .innerJoin(clients, eq(clients.id, visits.clientId))
    .leftJoin(departments, eq(departments.id, visits.departmentId))
    .where(
      and(
        or(and(gte(visits.doneAt, from), lt(visits.doneAt, to)), and(isNull(visits.doneAt), gte(visits.createdAt, from), lt(visits.createdAt, to))),
        visible,
      ),
    )
    .orderBy(asc(visits.id));
  const ids = [...new Set(rows.flatMap((r) => [r.v.visitorId, r.v.reviewerId]).filter((x): x is number => x !== null))];
  const names = new Map((ids.length ? await tx.select().from(people).where(inArray(people.id, ids)) : []).map((p) => [p.id, p.name]));
  return rows.map((r) => ({ ...r, visitorName: r.v.visitorId ? (names.get(r.v.visitorId) ?? null) : null, reviewerName: r.v.reviewerId ? (names.get(r.v.reviewerId) ?? null) : null }));
}

export async function orderRows(tx: Db, visible: SQL, from: Date, to: Date) {
  const rows = await tx
    .select({ o: orders, clientName: clients.name, departmentName: departments.name })
    .from(orders)
    .innerJoin(clients, eq(clients.id, orders.clientId))
    .leftJoin(departments, eq(departments.id, orders.departmentId))
    .where(and(gte(orders.createdAt, from), lt(orders.createdAt, to), visible))
    .orderBy(asc(orders.id));
  const ids = [...new Set(rows.flatMap((r) => [r.o.handlerId, r.o.salespersonId]).filter((x): x is number => x !== null))];
  const names = new Map((ids.length ? await tx.select().from(people).where(inArray(people.id, ids)) : []).map((p) => [p.id, p.name]));
  return rows.map((r) => ({ ...r, handlerName: r.o.handlerId ? (names.get(r.o.handlerId) ?? null) : null, salesName: r.o.salespersonId ? (names.get(r.o.salespersonId) ?? null) : null }));
}
