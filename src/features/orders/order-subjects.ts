import { and, eq, inArray, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, departments, groups, orders, people, timers } from '../../db/schema';
import type { WorkCalendar } from '../../domain/calendar';
import { orderCode } from '../../domain/orders';
import {
  appliesToService,
  buildReminderText,
  isClientStep,
  scheduleRules,
  type MentionRole,
  type Playbook,
} from '../../domain/playbooks';
import { nextOccurrence, startTimer } from '../../domain/timers';
import { departmentHold, noticeRoute, type NoticeRoute } from '../roster';
import { ruleById, toRow, type TimerRow } from '../../core/clocks/clock-store';
import { loadStaff } from '../roster';
import type { TimerSubject } from '../../core/clocks/scheduler';

type Person = typeof people.$inferSelect;
type Group = typeof groups.$inferSelect;
type Order = typeof orders.$inferSelect;

/** Resolves who is @-mentioned and where a reminder goes, for one batch, in a few queries. */
async function loadContext(tx: Db, rows: TimerRow[]) {
  const orderIds = [...new Set(rows.map((r) => r.orderId).filter((x): x is number => x !== null))];
  const orderRows = orderIds.length
    ? await tx
        .select({ o: orders, clientName: clients.name })
        .from(orders)
        .innerJoin(clients, eq(clients.id, orders.clientId))
        .where(inArray(orders.id, orderIds))
    : [];
  const ordersById = new Map(orderRows.map((r) => [r.o.id, r]));
  const deptIds = [
    ...new Set([...rows.map((r) => r.departmentId), ...orderRows.map((r) => r.o.departmentId)].filter((x): x is number => x !== null)),
  ];
  const handlerIds = orderRows.flatMap((r) => [r.o.handlerId, r.o.salespersonId]).filter((x): x is number => x !== null);
  const staff = await loadStaff(tx, handlerIds, deptIds);
  const extraSupervisorIds = staff.map((p) => p.supervisorId).filter((x): x is number => x !== null && !staff.some((s) => s.id === x));
  if (extraSupervisorIds.length) staff.push(...(await tx.select().from(people).where(inArray(people.id, extraSupervisorIds))));
  const byId = new Map(staff.map((p) => [p.id, p]));
  const clientIds = orderRows.map((r) => r.o.clientId);
  const groupRows = await tx
    .select()
    .from(groups)
    .where(
      or(
        orderIds.length ? inArray(groups.orderId, orderIds) : sql`false`,
        deptIds.length ? inArray(groups.departmentId, deptIds) : sql`false`,
        clientIds.length ? and(inArray(groups.clientId, clientIds), eq(groups.kind, 'client')) : sql`false`,
      ),
    );
  return { ordersById, byId, staff, groupRows };
}

type Context = Awaited<ReturnType<typeof loadContext>>;

function mentionsFor(roles: readonly MentionRole[], ctx: Context, o: Order | null, departmentId: number | null): Person[] {
  const out = new Map<number, Person>();
  const add = (p: Person | undefined | null) => p && out.set(p.id, p);
  const inDept = (role: Person['role']) => ctx.staff.filter((p) => p.departmentId === departmentId && p.role === role);
  const handler = o?.handlerId ? ctx.byId.get(o.handlerId) : undefined;
  for (const role of roles) {
    if (role === 'handler') {
      if (o) add(handler);
      else inDept('handler').forEach(add);
    } else if (role === 'supervisor') {
      const sup = handler?.supervisorId ? ctx.byId.get(handler.supervisorId) : undefined;
      if (sup) add(sup);
      else inDept('supervisor').forEach(add);
    } else if (role === 'head') inDept('head').forEach(add);
    else if (role === 'sales') add(o?.salespersonId ? ctx.byId.get(o.salespersonId) : undefined);
    else if (role === 'management') ctx.staff.filter((p) => p.role === 'management').forEach(add);
  }
  return [...out.values()];
}

function targetFor(client: boolean, ctx: Context, o: Order | null, departmentId: number | null): Group | undefined {
  const g = ctx.groupRows;
  if (client && o) {
    return g.find((x) => x.orderId === o.id && x.kind === 'client') ?? g.find((x) => x.clientId === o.clientId && x.kind === 'client');
  }
  return (
    (o ? g.find((x) => x.orderId === o.id && x.kind === 'internal') : undefined) ?? g.find((x) => x.departmentId === departmentId && x.kind === 'internal')
  );
}

/**
 * The playbook's timers, as the scheduler's subjects: `order:<id>` (an order's clocks; a client step
 * goes to its client group) and `dept:<id>` (a department's recurring series, e.g. the weekly list).
 * A reminder goes to the order's internal group, else the department's; with neither, to 总经办's group
 * saying why, else it is held as unrouted until `/部门群` sets one (never lost).
 */
export function orderTimerSubjects(playbook: Playbook): TimerSubject[] {
  const rule = (id: string) => ruleById(playbook, id);

  const subject = (prefix: 'order' | 'dept'): TimerSubject => ({
    prefix,
    rule,
    async prepare(tx, rows, now, cal: WorkCalendar) {
      const ctx = await loadContext(tx, rows);
      const orderOf = (row: TimerRow) => (row.orderId ? (ctx.ordersById.get(row.orderId) ?? null) : null);
      const deptOf = (row: TimerRow) => orderOf(row)?.o.departmentId ?? row.departmentId;
      // Only where there is no internal group of its own: 总经办's group, or held.
      const routes = new Map<number | null, NoticeRoute>();
      for (const row of rows) {
        const deptId = deptOf(row);
        if (!routes.has(deptId) && !targetFor(false, ctx, orderOf(row)?.o ?? null, deptId)) routes.set(deptId, await noticeRoute(tx, deptId));
      }
      return {
        render(row, r, step, t) {
          const o = orderOf(row);
          const deptId = deptOf(row);
          const client = isClientStep(r, step.step);
          const handler = o?.o.handlerId ? ctx.byId.get(o.o.handlerId) : undefined;
          const text = buildReminderText({
            rule: r,
            step: step.step,
            dueAt: t.dueAt,
            calendar: cal,
            now,
            ...(o ? { order: { code: orderCode(o.o.id), clientName: o.clientName, handlerName: handler?.name, fields: o.o.fields } } : {}),
          });
          const who = client ? [] : mentionsFor(step.mention, ctx, o?.o ?? null, deptId);
          const mentions = who.map((p) => ({ userid: p.userid, name: p.name }));
          const own = targetFor(client, ctx, o?.o ?? null, deptId) ?? (client ? targetFor(false, ctx, o?.o ?? null, deptId) : undefined);
          if (own) return { target: { platform: own.platform, conversationId: own.conversationId, internal: own.kind === 'internal' }, text, mentions };
          const route = routes.get(deptId);
          if (route?.kind === 'fallback') {
            return { target: { platform: route.group.platform, conversationId: route.group.conversationId, internal: true }, text: `${text}\n${route.note}`, mentions };
          }
          return { target: null, hold: departmentHold(deptId), text, mentions };
        },
        nextTimer(row, r, after) {
          const o = orderOf(row);
          const occurrence = nextOccurrence(r, after, cal, o?.o.fields);
          if (!occurrence) return null;
          return startTimer(r, { occurrence, ...(o ? { order: { serviceType: o.o.serviceType, paid: o.o.paid, fields: o.o.fields } } : {}) }, now, cal);
        },
      };
    },
  });

  const dept = subject('dept');
  return [
    subject('order'),
    {
      ...dept,
      // Keeps one running occurrence of each department-scope recurring rule per department it concerns.
      async maintain(db, now, calendar) {
        return db.transaction(async (tx) => {
          const cal = await calendar(tx);
          const depts = await tx.select().from(departments);
          // Only the departments' own subjects, through the active (subject, rule) index: a scan of every
          // department timer ran once a minute and held the scheduler loop for seconds on a large table.
          const wanted = depts.map((d) => `dept:${d.id}`);
          const existing = wanted.length
            ? await tx
                .select({ subject: timers.subject, ruleId: timers.ruleId })
                .from(timers)
                .where(and(inArray(timers.state, ['running', 'paused']), inArray(timers.subject, wanted)))
            : [];
          const have = new Set(existing.map((e) => `${e.subject}|${e.ruleId}`));
          let started = 0;
          for (const r of scheduleRules(playbook, 'department')) {
            for (const d of depts) {
              const concerns = d.services.some((s) => appliesToService(r, s));
              if (!concerns || have.has(`dept:${d.id}|${r.id}`)) continue;
              const occurrence = nextOccurrence(r, now, cal);
              const t = occurrence ? startTimer(r, { occurrence }, now, cal) : null;
              if (!t) continue;
              await tx
                .insert(timers)
                .values({ ...toRow(t, r, cal), subject: `dept:${d.id}`, departmentId: d.id, createdAt: now, updatedAt: now })
                .onConflictDoNothing();
              started++;
            }
          }
          return started;
        });
      },
    },
  ];
}
