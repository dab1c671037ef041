import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { orders, timers } from '../../db/schema';
import { formatInstantInChinese, type WorkCalendar } from '../../domain/calendar';
import {
  dateRulesFor,
  isOrderEvent,
  orderSeriesActive,
  rulesCompletedBy,
  rulesStartedBy,
  scheduleRules,
  type OrderEvent,
  type OrderFacts,
  type Playbook,
  type PlaybookRule,
} from '../../domain/playbooks';
import { cancelTimer, closeWithOrder, completeTimer, nextOccurrence, pauseTimer, resumeTimer, startTimer, type Timer } from '../../domain/timers';
import { writeAudit, type Actor } from '../../core/records';
import { activeTimers, fromRow, ruleById, toRow, type CalendarProvider, type TimerRow } from '../../core/clocks/clock-store';
import type { Group } from '../../core/records';
import type { Engine } from '../../core/feature';
import { orderChanged } from './events';

type Order = typeof orders.$inferSelect;

import type { ClockChange, OrderChange } from './events';
export type { ClockChange, OrderChange } from './events';

export function orderFacts(o: Order): OrderFacts {
  return {
    serviceType: o.serviceType,
    paid: o.paid,
    paused: o.status === 'paused',
    fields: { ...o.fields, ...(o.deadline && !o.fields['申报截止'] ? { 申报截止: o.deadline } : {}) },
    occurred: o.occurredEvents.filter(isOrderEvent),
  };
}

/**
 * The order side of the clocks: every command that changes an order calls one of these inside its own
 * transaction, so a clock starts, pauses, resumes or stops together with the change that caused it,
 * and each transition lands in the audit trail.
 */
export function createOrderClocks(deps: { playbook: Playbook; calendar: CalendarProvider }) {
  const { playbook } = deps;
  /** The engine's services, once every feature is registered (Feature.init): the event bus and every subject's rules. */
  let engine: Engine | null = null;

  /** The rule of a timer: its subject's (e.g. `client-group:…`), else the playbook's (`order:`, `dept:`). */
  function ruleOf(row: Pick<TimerRow, 'subject' | 'ruleId'>): PlaybookRule | undefined {
    return engine?.ruleOf(row) ?? ruleById(playbook, row.ruleId);
  }

  /** Every running or paused timer bound to the order, of any subject, oldest first. */
  async function activeForOrder(tx: Db, orderId: number): Promise<TimerRow[]> {
    return tx
      .select()
      .from(timers)
      .where(and(eq(timers.orderId, orderId), inArray(timers.state, ['running', 'paused'])))
      .orderBy(asc(timers.id));
  }

  /** Tells the features that follow orders what happened (events, a group bound); returns their clock changes. */
  async function tellSubjects(tx: Db, change: OrderChange, now: Date, actor: Actor | null): Promise<ClockChange[]> {
    if (!engine) return [];
    return (await engine.emit({ tx, now, actor }, orderChanged, change)).flat();
  }

  async function save(tx: Db, row: TimerRow | null, t: Timer, rule: PlaybookRule, cal: WorkCalendar, o: Order, now: Date) {
    const values = toRow(t, rule, cal, now);
    if (row) {
      await tx.update(timers).set({ ...values, updatedAt: now }).where(eq(timers.id, row.id));
    } else {
      await tx
        .insert(timers)
        .values({ ...values, subject: `order:${o.id}`, orderId: o.id, departmentId: o.departmentId, createdAt: now, updatedAt: now })
        .onConflictDoNothing();
    }
  }

  async function audit(tx: Db, now: Date, actor: Actor | null, o: Order, changes: ClockChange[]) {
    for (const c of changes) {
      await writeAudit(tx, {
        at: now,
        actor,
        action: `timer.${c.kind}`,
        subject: `order:${o.id}`,
        data: { rule: c.rule.id, clause: c.rule.clause, dueAt: c.dueAt.toISOString() },
      });
    }
  }

  /** Starts the order-scope recurring series that became active, and the date rules not yet running. */
  async function startSeriesAndDates(tx: Db, o: Order, now: Date, cal: WorkCalendar, running: Set<string>, changes: ClockChange[]) {
    const facts = orderFacts(o);
    const candidates: { rule: PlaybookRule; timer: Timer | null }[] = [];
    for (const rule of scheduleRules(playbook, 'order')) {
      if (running.has(rule.id) || !orderSeriesActive(rule, facts)) continue;
      const occurrence = nextOccurrence(rule, now, cal, facts.fields);
      candidates.push({ rule, timer: occurrence ? startTimer(rule, { order: facts, occurrence }, now, cal) : null });
    }
    for (const rule of dateRulesFor(playbook, facts)) {
      if (running.has(rule.id)) continue;
      candidates.push({ rule, timer: startTimer(rule, { order: facts, at: now }, now, cal) });
    }
    for (const { rule, timer } of candidates) {
      if (!timer) continue;
      await save(tx, null, timer, rule, cal, o, now);
      running.add(rule.id);
      changes.push({ kind: 'started', rule, dueAt: timer.dueAt });
    }
  }

  return {
    /** Clock events happened on the order (after the order row itself was updated). */
    async events(tx: Db, orderId: number, events: OrderEvent[], now: Date, actor: Actor | null): Promise<ClockChange[]> {
      const cal = await deps.calendar(tx);
      const [current] = await tx.select().from(orders).where(eq(orders.id, orderId));
      if (!current) return [];
      const occurred = [...new Set([...current.occurredEvents, ...events])];
      await tx.update(orders).set({ occurredEvents: occurred }).where(eq(orders.id, orderId));
      const o: Order = { ...current, occurredEvents: occurred };
      const facts = orderFacts(o);
      const changes: ClockChange[] = [];
      let rows = await activeTimers(tx, `order:${o.id}`);

      for (const event of events) {
        for (const rule of rulesCompletedBy(playbook, event, facts)) {
          for (const row of rows.filter((r) => r.ruleId === rule.id)) {
            const t = completeTimer(fromRow(row), now);
            await save(tx, row, t, rule, cal, o, now);
            changes.push({ kind: 'completed', rule, dueAt: t.dueAt });
          }
        }
        rows = await activeTimers(tx, `order:${o.id}`);
        const running = new Set(rows.map((r) => r.ruleId));
        for (const rule of rulesStartedBy(playbook, event, facts)) {
          if (running.has(rule.id)) continue;
          const t = startTimer(rule, { order: facts, at: now }, now, cal);
          if (!t) continue;
          await save(tx, null, t, rule, cal, o, now);
          running.add(rule.id);
          changes.push({ kind: 'started', rule, dueAt: t.dueAt });
        }
        // Series that an event ends (e.g. the weekly chase ends when the 交底书 arrives).
        for (const row of rows) {
          const rule = ruleById(playbook, row.ruleId);
          if (rule?.trigger.kind === 'schedule' && !orderSeriesActive(rule, facts)) {
            const t = cancelTimer(fromRow(row), now);
            await save(tx, row, t, rule, cal, o, now);
            running.delete(rule.id);
            changes.push({ kind: 'cancelled', rule, dueAt: t.dueAt });
          }
        }
        rows = await activeTimers(tx, `order:${o.id}`);
      }
      await startSeriesAndDates(tx, o, now, cal, new Set(rows.map((r) => r.ruleId)), changes);
      await audit(tx, now, actor, o, changes);
      return [...changes, ...(await tellSubjects(tx, { orderId: o.id, events }, now, actor))];
    },

    /** A group was bound to the order (`/绑定`): subjects that follow orders may start or stop clocks. */
    groupBound: (tx: Db, orderId: number, group: Group, now: Date, actor: Actor | null) => tellSubjects(tx, { orderId, boundGroup: group }, now, actor),

    /** Called once by the orders feature's init with the engine (the event bus, every subject's rules). */
    connect(e: Engine) {
      engine = e;
    },
    ruleOf,

    /** The order's date fields changed: date rules and series counted from a date restart from the new dates. */
    async fieldsChanged(tx: Db, orderId: number, changedFields: string[], now: Date, actor: Actor | null): Promise<ClockChange[]> {
      const cal = await deps.calendar(tx);
      const [o] = await tx.select().from(orders).where(eq(orders.id, orderId));
      if (!o) return [];
      const changes: ClockChange[] = [];
      const rows = await activeTimers(tx, `order:${o.id}`);
      const restarted = new Set<string>();
      for (const row of rows) {
        const rule = ruleById(playbook, row.ruleId);
        const anchor = rule?.trigger.kind === 'date' ? rule.trigger.field : rule?.trigger.kind === 'schedule' ? rule.trigger.every?.field : undefined;
        if (rule && anchor && changedFields.includes(anchor)) {
          await save(tx, row, cancelTimer(fromRow(row), now), rule, cal, o, now);
          restarted.add(rule.id);
        }
      }
      const after = await activeTimers(tx, `order:${o.id}`);
      await startSeriesAndDates(tx, o, now, cal, new Set(after.map((r) => r.ruleId)), changes);
      for (const c of changes) if (restarted.has(c.rule.id)) c.kind = 'restarted';
      await audit(tx, now, actor, o, changes);
      return changes;
    },

    async pause(tx: Db, orderId: number, now: Date, actor: Actor | null) {
      return transition(tx, orderId, now, actor, 'paused', (t, rule, cal) => (rule.pausesWithOrder ? pauseTimer(t, now, cal) : t));
    },
    async resume(tx: Db, orderId: number, now: Date, actor: Actor | null) {
      return transition(tx, orderId, now, actor, 'resumed', (t, _rule, cal) => resumeTimer(t, now, cal));
    },
    /** The order is finished or cancelled: every clock stops. */
    async close(tx: Db, orderId: number, how: 'done' | 'cancelled', now: Date, actor: Actor | null) {
      // A completed order ends its open clocks as 随单结束, not 已完成: only /已办, an event or the
      // obligation itself (an answer, a contact) marks a clock met.
      return transition(tx, orderId, now, actor, how === 'done' ? 'closedWithOrder' : 'cancelled', (t) =>
        how === 'done' ? closeWithOrder(t, now) : cancelTimer(t, now),
      );
    },
    /** One clock done by hand (`/已办 D12 <编号或步骤>`). */
    async completeOne(tx: Db, orderId: number, row: TimerRow, now: Date, actor: Actor | null) {
      return transition(tx, orderId, now, actor, 'completed', (t) => completeTimer(t, now), row.id);
    },
    /** The order's running and paused timers, its features' order-bound timers included. */
    active: activeForOrder,
    describe(change: ClockChange, cal: WorkCalendar, now: Date): string {
      const verb = { started: '开始计时', restarted: '重新计时', completed: '已完成', cancelled: '已停止', closedWithOrder: '随单结束', paused: '暂停计时', resumed: '继续计时' }[change.kind];
      const due = change.kind === 'completed' || change.kind === 'cancelled' || change.kind === 'closedWithOrder' ? '' : `，期限 ${formatInstantInChinese(change.dueAt, cal, { now })}`;
      return `⏱ ${verb}：${change.rule.step}${due}（${change.rule.clause}）`;
    },
    calendar: deps.calendar,
    playbook,
  };

  async function transition(
    tx: Db,
    orderId: number,
    now: Date,
    actor: Actor | null,
    kind: ClockChange['kind'],
    f: (t: Timer, rule: PlaybookRule, cal: WorkCalendar) => Timer,
    onlyId?: number,
  ): Promise<ClockChange[]> {
    const cal = await deps.calendar(tx);
    const [o] = await tx.select().from(orders).where(eq(orders.id, orderId));
    if (!o) return [];
    const changes: ClockChange[] = [];
    // Features' timers bound to the order (e.g. client-group clocks) pause, resume and stop with it too.
    for (const row of await activeForOrder(tx, orderId)) {
      if (onlyId !== undefined && row.id !== onlyId) continue;
      const rule = ruleOf(row);
      if (!rule) continue;
      const before = fromRow(row);
      const after = f(before, rule, cal);
      if (after === before) continue;
      await save(tx, row, after, rule, cal, o, now);
      changes.push({ kind, rule, dueAt: after.dueAt });
    }
    await audit(tx, now, actor, o, changes);
    return changes;
  }
}

export type OrderClocks = ReturnType<typeof createOrderClocks>;
