import { and, desc, eq, inArray, max } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { chatLog, clientContacts, groups, orders, people, timers, type ClientContactKind } from '../../db/schema';
import type { WorkCalendar } from '../../domain/calendar';
import { completeTimer, pauseTimer, type Timer } from '../../domain/timers';
import { activeTimers, fromRow, toRow, type CalendarProvider, type TimerRow } from '../../core/clocks/clock-store';
import type { ClockChange } from '../orders';
import { writeAudit, type Actor } from '../../core/records';
import { plainMessage } from './contact-message';
import { startClientGroupTimer, type ClientGroupRuleId, type ClientGroupRules } from './client-group-rules';

type Order = typeof orders.$inferSelect;

/** Timer subjects of this feature (one prefix, so the scheduler hands them all to one TimerSubject). */
export const CLIENT_GROUP_PREFIX = 'client-group';
export const groupSubject = (groupId: number) => `${CLIENT_GROUP_PREFIX}:group:${groupId}`;
export const questionSubject = (questionId: number) => `${CLIENT_GROUP_PREFIX}:question:${questionId}`;
export const orderSubject = (orderId: number) => `${CLIENT_GROUP_PREFIX}:order:${orderId}`;

export function parseSubject(subject: string): { kind: 'group' | 'question' | 'order'; id: number } | null {
  const m = /^client-group:(group|question|order):(\d+)$/.exec(subject);
  return m ? { kind: m[1] as 'group' | 'question' | 'order', id: Number(m[2]) } : null;
}

export const isOpenOrder = (o: Pick<Order, 'status'>) => o.status === 'new' || o.status === 'assigned' || o.status === 'paused';

/**
 * The 讨论组 clocks as timer rows bound to their order (timers.order_id): they pause, resume and stop
 * with the order (OrderClocks.transition) and show in `/查 D12`, `/逾期` and `/待办`. Started, restarted
 * and stopped inside the transaction of the message or command that caused it.
 */
export function createClientGroupClocks(deps: { rules: ClientGroupRules; calendar: CalendarProvider }) {
  const { rules } = deps;

  async function insert(tx: Db, subject: string, o: Order, t: Timer, cal: WorkCalendar, now: Date) {
    const rule = rules.rule(t.ruleId as ClientGroupRuleId).timer;
    await tx
      .insert(timers)
      .values({ ...toRow(t, rule, cal, now), subject, orderId: o.id, departmentId: o.departmentId, createdAt: now, updatedAt: now })
      .onConflictDoNothing();
  }

  async function save(tx: Db, row: TimerRow, t: Timer, cal: WorkCalendar, now: Date) {
    const rule = rules.rule(t.ruleId as ClientGroupRuleId).timer;
    await tx.update(timers).set({ ...toRow(t, rule, cal, now), updatedAt: now }).where(eq(timers.id, row.id));
  }

  const find = async (tx: Db, subject: string, ruleId: ClientGroupRuleId) => (await activeTimers(tx, subject)).find((r) => r.ruleId === ruleId);

  async function audit(tx: Db, now: Date, actor: Actor | null, o: Order, c: ClockChange, subject: string) {
    await writeAudit(tx, { at: now, actor, action: `timer.${c.kind}`, subject: `order:${o.id}`, data: { rule: c.rule.id, clause: c.rule.clause, dueAt: c.dueAt.toISOString(), timer: subject } });
  }

  /** A fresh clock from `at`; a paused order gets a paused clock (3.5.2). */
  function fresh(ruleId: ClientGroupRuleId, o: Order, at: Date, now: Date, cal: WorkCalendar): Timer {
    const t = startClientGroupTimer(rules.rule(ruleId), at, cal);
    return o.status === 'paused' ? pauseTimer(t, now, cal) : t;
  }

  return {
    rules,
    calendar: deps.calendar,

    /** Starts the clock unless one is running (or paused) already. */
    async start(tx: Db, ruleId: ClientGroupRuleId, subject: string, o: Order, at: Date, now: Date, actor: Actor | null): Promise<ClockChange | null> {
      if (!isOpenOrder(o) || (await find(tx, subject, ruleId))) return null;
      const cal = await deps.calendar(tx);
      const t = fresh(ruleId, o, at, now, cal);
      await insert(tx, subject, o, t, cal, now);
      const c: ClockChange = { kind: 'started', rule: rules.rule(ruleId).timer, dueAt: t.dueAt };
      await audit(tx, now, actor, o, c, subject);
      return c;
    },

    /**
     * Starts the clock again from `at` (a contact, a report). A clock that has not sent anything yet is
     * reset in place (no new row per chat message); one that has is completed and a new row begins, so
     * the next reminder has its own outbox key.
     */
    async restart(tx: Db, ruleId: ClientGroupRuleId, subject: string, o: Order, at: Date, now: Date, actor: Actor | null, quiet = false): Promise<ClockChange | null> {
      if (!isOpenOrder(o)) return null;
      const cal = await deps.calendar(tx);
      const row = await find(tx, subject, ruleId);
      const t = fresh(ruleId, o, at, now, cal);
      if (row && fromRow(row).stepsSent.length === 0) {
        await save(tx, row, t, cal, now);
      } else {
        if (row) await save(tx, row, completeTimer(fromRow(row), now), cal, now);
        await insert(tx, subject, o, t, cal, now);
      }
      const c: ClockChange = { kind: row ? 'restarted' : 'started', rule: rules.rule(ruleId).timer, dueAt: t.dueAt };
      if (!quiet) await audit(tx, now, actor, o, c, subject);
      return c;
    },

    /** The obligation was met: the clock is done. */
    async complete(tx: Db, ruleId: ClientGroupRuleId, subject: string, o: Order, now: Date, actor: Actor | null): Promise<ClockChange | null> {
      const row = await find(tx, subject, ruleId);
      if (!row) return null;
      const cal = await deps.calendar(tx);
      const t = completeTimer(fromRow(row), now);
      await save(tx, row, t, cal, now);
      const c: ClockChange = { kind: 'completed', rule: rules.rule(ruleId).timer, dueAt: t.dueAt };
      await audit(tx, now, actor, o, c, subject);
      return c;
    },

    /** The running (or paused) timer row of a rule on a subject, for replies that name its due time. */
    find,
  };
}

export type ClientGroupClocks = ReturnType<typeof createClientGroupClocks>;

/**
 * The last time staff contacted the client of an order: the latest staff message in a client group
 * bound to the order, or the latest `/联系` record or `/材料进度` report. For reports (issue 13) and
 * the 看板 (issue 16). null: no contact recorded.
 */
export async function lastStaffContact(db: Db, orderId: number): Promise<{ at: Date; via: 'message' | ClientContactKind } | null> {
  const [msg] = await db
    .select({ at: max(chatLog.at) })
    .from(chatLog)
    .innerJoin(groups, and(eq(groups.platform, chatLog.platform), eq(groups.conversationId, chatLog.conversationId)))
    .innerJoin(people, eq(people.userid, chatLog.sender))
    .where(and(eq(groups.orderId, orderId), eq(groups.kind, 'client'), eq(chatLog.direction, 'in'), plainMessage));
  const [rec] = await db
    .select({ at: clientContacts.at, kind: clientContacts.kind })
    .from(clientContacts)
    .where(eq(clientContacts.orderId, orderId))
    .orderBy(desc(clientContacts.at))
    .limit(1);
  const m = msg?.at ? new Date(msg.at) : null;
  if (rec && (!m || rec.at.getTime() >= m.getTime())) return { at: rec.at, via: rec.kind };
  return m ? { at: m, via: 'message' } : null;
}

/** lastStaffContact for many orders at once (lists, the 看板). */
export async function lastStaffContacts(db: Db, orderIds: number[]): Promise<Map<number, Date>> {
  const out = new Map<number, Date>();
  if (!orderIds.length) return out;
  const msgs = await db
    .select({ orderId: groups.orderId, at: max(chatLog.at) })
    .from(chatLog)
    .innerJoin(groups, and(eq(groups.platform, chatLog.platform), eq(groups.conversationId, chatLog.conversationId)))
    .innerJoin(people, eq(people.userid, chatLog.sender))
    .where(and(inArray(groups.orderId, orderIds), eq(groups.kind, 'client'), eq(chatLog.direction, 'in'), plainMessage))
    .groupBy(groups.orderId);
  const recs = await db
    .select({ orderId: clientContacts.orderId, at: max(clientContacts.at) })
    .from(clientContacts)
    .where(inArray(clientContacts.orderId, orderIds))
    .groupBy(clientContacts.orderId);
  for (const r of [...msgs, ...recs]) {
    if (r.orderId === null || !r.at) continue;
    const at = new Date(r.at);
    const prev = out.get(r.orderId);
    if (!prev || at > prev) out.set(r.orderId, at);
  }
  return out;
}
