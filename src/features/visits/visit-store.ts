import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, orders, people, timers, visits } from '../../db/schema';
import type { WorkCalendar } from '../../domain/calendar';
import type { Timer } from '../../domain/timers';
import { toRow } from '../../core/clocks/clock-store';
import type { Person } from '../../core/records';
import { dueVisits, periodDue, periodOf, type ClientFacts, type DoneVisit, type DueVisit } from './schedule';
import type { VisitPlaybook } from './visit-playbook';

export type ClientRow = typeof clients.$inferSelect;
export type VisitRow = typeof visits.$inferSelect;

export const dueSubject = (clientId: number) => `visit-due:${clientId}`;
export const visitSubject = (visitId: number) => `visit:${visitId}`;
export const visitCode = (id: number) => `V${id}`;

/** What the schedules read of a set of clients: kind, orders (not cancelled), done visits, latest order. */
export async function loadClientFacts(tx: Db, clientIds?: number[]) {
  const where = clientIds ? inArray(clients.id, clientIds.length ? clientIds : [-1]) : undefined;
  const cs = await tx.select().from(clients).where(where);
  const ids = cs.map((c) => c.id);
  const os = ids.length
    ? await tx
        .select()
        .from(orders)
        .where(and(inArray(orders.clientId, ids), ne(orders.status, 'cancelled')))
        .orderBy(asc(orders.id))
    : [];
  const vs = ids.length
    ? await tx
        .select()
        .from(visits)
        .where(inArray(visits.clientId, ids))
        .orderBy(asc(visits.id))
    : [];
  return cs.map((c) => {
    const mine = os.filter((o) => o.clientId === c.id);
    const facts: ClientFacts = { kind: c.kind, createdAt: c.createdAt, orders: mine.map((o) => ({ createdAt: o.createdAt, serviceType: o.serviceType })) };
    const done: DoneVisit[] = vs.filter((v) => v.clientId === c.id && v.status === 'done' && v.doneAt).map((v) => ({ method: v.method, doneAt: v.doneAt! }));
    const latest = mine[mine.length - 1] ?? null;
    return { client: c, facts, done, visits: vs.filter((v) => v.clientId === c.id), latestOrder: latest, departmentId: latest?.departmentId ?? null };
  });
}

export type ClientFactsRow = Awaited<ReturnType<typeof loadClientFacts>>[number];

/**
 * Who visits a client: for 优质客户 the department's head (经理及以上, 7.2); otherwise the handler of
 * the client's latest order, else the department's head. `staff` is the active roster (or a superset).
 */
export function assigneesOf(pb: VisitPlaybook, c: Pick<ClientFactsRow, 'client' | 'latestOrder' | 'departmentId'>, staff: Person[]): Person[] {
  const active = staff.filter((p) => p.active);
  const heads = active.filter((p) => p.departmentId === c.departmentId && p.role === 'head');
  const mgmt = active.filter((p) => p.role === 'management');
  if (c.client.kind === 'premium') return pb.premium.assignee === 'management' || !heads.length ? mgmt : heads;
  const handler = c.latestOrder?.handlerId ? active.find((p) => p.id === c.latestOrder!.handlerId) : undefined;
  if (handler) return [handler];
  return heads.length ? heads : mgmt;
}

/** 经理及以上: a department head, 总经办 or an admin. */
export const isManagerOrAbove = (p: Person | null, isAdmin: boolean) => isAdmin || p?.role === 'head' || p?.role === 'management';

/**
 * The clock of one due visit. It counts from the start of its period (the obligation began then), so a
 * clock started late in the period still gives its heads-up at once rather than dropping it.
 */
function dueTimer(d: DueVisit, now: Date, cal: WorkCalendar): Timer {
  const periodStart = cal.at(d.period.start, '00:00');
  const startedAt = periodStart.getTime() < now.getTime() ? periodStart : now;
  return {
    ruleId: d.schedule.id,
    startedAt,
    dueAt: d.dueAt,
    state: 'running',
    clock: 'fixed',
    lengthMs: Math.max(0, cal.workingTimeBetween(startedAt, d.dueAt)),
    stepsSent: [],
  };
}

/**
 * Keeps one running due-visit clock per (client, schedule) that applies, due at the end of the period
 * the next visit belongs to. A clock whose due moved later because a visit satisfied it is done; one
 * whose schedule no longer applies (or that moved for any other reason) is cancelled. Never further back
 * than the previous period, so a long-standing client does not start with years of overdue visits.
 * Idempotent and safe on two instances (the active-timer unique index). Returns clocks started.
 */
export async function syncDueVisits(tx: Db, pb: VisitPlaybook, now: Date, cal: WorkCalendar, clientIds?: number[]): Promise<number> {
  const facts = await loadClientFacts(tx, clientIds);
  if (!facts.length) return 0;
  const running = await tx
    .select()
    .from(timers)
    .where(
      and(
        clientIds ? inArray(timers.subject, facts.map((f) => dueSubject(f.client.id))) : sql`${timers.subject} like 'visit-due:%'`,
        inArray(timers.state, ['running', 'paused']),
      ),
    );
  // Clients never tracked before start with the current period: no backlog of past periods on day one.
  const tracked = new Set(
    (
      await tx
        .selectDistinct({ subject: timers.subject })
        .from(timers)
        .where(clientIds ? inArray(timers.subject, facts.map((f) => dueSubject(f.client.id))) : sql`${timers.subject} like 'visit-due:%'`)
    ).map((r) => r.subject),
  );
  let started = 0;
  for (const f of facts) {
    const subject = dueSubject(f.client.id);
    const mine = running.filter((r) => r.subject === subject);
    const wanted = dueVisits(pb, f.facts, f.done, now, cal).map((d) => clampBack(d, now, cal, tracked.has(subject) ? 1 : 0));
    for (const row of mine) {
      const w = wanted.find((d) => d.schedule.id === row.ruleId);
      if (w && w.dueAt.getTime() === row.dueAt.getTime() && row.departmentId === f.departmentId) continue;
      const schedule = pb.scheduleById.get(row.ruleId);
      const satisfied = !!schedule && f.done.some((v) => schedule.methods.includes(v.method) && v.doneAt.getTime() >= (row.createdAt.getTime() - 1));
      const state = w && satisfied && w.dueAt.getTime() > row.dueAt.getTime() ? 'done' : 'cancelled';
      await tx
        .update(timers)
        .set({ state, nextStepAt: null, data: sql`${timers.data} || ${JSON.stringify({ state, endedAt: now.toISOString() })}::jsonb`, updatedAt: now })
        .where(eq(timers.id, row.id));
    }
    for (const w of wanted) {
      const same = mine.find((r) => r.ruleId === w.schedule.id && r.dueAt.getTime() === w.dueAt.getTime() && r.departmentId === f.departmentId);
      if (same) continue;
      const rule = pb.byId.get(w.schedule.id)!;
      const t = dueTimer(w, now, cal);
      const ins = await tx
        .insert(timers)
        .values({ ...toRow(t, rule, cal, now), subject, departmentId: f.departmentId, createdAt: now, updatedAt: now })
        .onConflictDoNothing()
        .returning({ id: timers.id });
      started += ins.length;
    }
  }
  return started;
}

/** Not further back than `periods` periods before the current one. */
function clampBack(d: DueVisit, now: Date, cal: WorkCalendar, periods: 0 | 1): DueVisit {
  let floor = periodOf(cal.dateOf(now), d.schedule.every);
  if (periods === 1) floor = periodOf(cal.shiftDate(floor.start, -1, 'days'), d.schedule.every);
  if (d.period.start >= floor.start) return d;
  return { ...d, period: floor, dueAt: periodDue(floor, cal) };
}

/** Running due-visit clocks, with their clients (for lists, the weekly summary and /客户 查). */
export async function runningDueVisits(tx: Db, opts: { clientId?: number; departmentId?: number | null } = {}) {
  return tx
    .select({ t: timers, client: clients })
    .from(timers)
    .innerJoin(clients, sql`${timers.subject} = 'visit-due:' || ${clients.id}`)
    .where(
      and(
        eq(timers.state, 'running'),
        sql`${timers.subject} like 'visit-due:%'`,
        opts.clientId !== undefined ? eq(clients.id, opts.clientId) : undefined,
        opts.departmentId !== undefined && opts.departmentId !== null ? eq(timers.departmentId, opts.departmentId) : undefined,
      ),
    )
    .orderBy(asc(timers.dueAt));
}

export async function findClient(tx: Db, name: string): Promise<ClientRow | null> {
  const [c] = await tx.select().from(clients).where(eq(clients.name, name.trim()));
  return c ?? null;
}

export async function activeStaff(tx: Db): Promise<Person[]> {
  return tx.select().from(people).where(eq(people.active, true)).orderBy(asc(people.id));
}
