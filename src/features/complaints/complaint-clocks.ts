import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { complaints, timers } from '../../db/schema';
import { formatInstantInChinese, type WorkCalendar } from '../../domain/calendar';
import {
  complaintRuleApplies,
  complaintRulesStartedBy,
  complaintRulesStoppedBy,
  type ComplaintEvent,
  type ComplaintFacts,
  type ComplaintPlaybook,
  type ComplaintRule,
} from '../../domain/complaints';
import { cancelTimer, completeTimer, ladder, markStepsSent, nextOccurrence, startTimer, type Timer } from '../../domain/timers';
import { activeTimers, fromRow, toRow, type CalendarProvider, type TimerRow } from '../../core/clocks/clock-store';
import { writeAudit, type Actor } from '../../core/records';

export type ComplaintRow = typeof complaints.$inferSelect;

export interface ComplaintClockChange {
  kind: 'started' | 'completed' | 'cancelled';
  rule: ComplaintRule;
  dueAt: Date;
}

export const complaintSubject = (id: number) => `complaint:${id}`;

export function complaintFacts(c: ComplaintRow): ComplaintFacts {
  return { channel: c.channel, level: c.level, unhappy: c.unhappy, attitude: c.attitude };
}

/**
 * Complaint clocks as timers (subject `complaint:<id>`), started and stopped inside the command's own
 * transaction, each transition in the audit trail. The scheduler sends their ladders.
 */
export function createComplaintClocks(deps: { playbook: ComplaintPlaybook; calendar: CalendarProvider }) {
  const { playbook } = deps;

  async function insert(tx: Db, c: ComplaintRow, rule: ComplaintRule, t: Timer, cal: WorkCalendar, now: Date) {
    await tx
      .insert(timers)
      .values({ ...toRow(t, rule.timer, cal), subject: complaintSubject(c.id), departmentId: c.departmentId, createdAt: now, updatedAt: now })
      .onConflictDoNothing();
  }

  async function update(tx: Db, row: TimerRow, rule: ComplaintRule, t: Timer, cal: WorkCalendar, now: Date) {
    await tx.update(timers).set({ ...toRow(t, rule.timer, cal), updatedAt: now }).where(eq(timers.id, row.id));
  }

  /**
   * Starts a rule's clock. `at` is when its trigger happened (the received time for `received`).
   * A heads-up whose time has already passed is marked as sent: the command's own notice names the
   * deadline, so a late heads-up would only repeat it.
   */
  function start(rule: ComplaintRule, at: Date, now: Date, cal: WorkCalendar): Timer | null {
    if (rule.timer.trigger.kind === 'schedule') {
      const occurrence = nextOccurrence(rule.timer, now, cal);
      return occurrence ? startTimer(rule.timer, { occurrence }, now, cal) : null;
    }
    const t = startTimer(rule.timer, { at }, now, cal);
    if (!t) return null;
    const headsUp = ladder(t, rule.timer, cal).find((s) => s.step === 'headsup');
    return headsUp && headsUp.at.getTime() <= now.getTime() ? markStepsSent(t, ['headsup']) : t;
  }

  return {
    playbook,
    calendar: deps.calendar,

    /** Events happened on the complaint (after its row was updated). */
    async events(tx: Db, complaintId: number, events: ComplaintEvent[], now: Date, actor: Actor | null): Promise<ComplaintClockChange[]> {
      const [c] = await tx.select().from(complaints).where(eq(complaints.id, complaintId));
      if (!c) return [];
      const cal = await deps.calendar(tx);
      const facts = complaintFacts(c);
      const changes: ComplaintClockChange[] = [];
      for (const event of events) {
        const stopping = new Set(complaintRulesStoppedBy(playbook, event).map((r) => r.id));
        for (const row of await activeTimers(tx, complaintSubject(c.id))) {
          const rule = playbook.byId.get(row.ruleId);
          if (!rule || !stopping.has(rule.id)) continue;
          // A recurring series ends (cancelled); a one-off clock is done.
          const schedule = rule.timer.trigger.kind === 'schedule';
          const t = schedule ? cancelTimer(fromRow(row), now) : completeTimer(fromRow(row), now);
          await update(tx, row, rule, t, cal, now);
          changes.push({ kind: schedule ? 'cancelled' : 'completed', rule, dueAt: t.dueAt });
        }
        const running = new Set((await activeTimers(tx, complaintSubject(c.id))).map((r) => r.ruleId));
        for (const rule of complaintRulesStartedBy(playbook, event, facts)) {
          if (running.has(rule.id)) continue;
          const t = start(rule, event === 'received' ? c.receivedAt : now, now, cal);
          if (!t) continue;
          await insert(tx, c, rule, t, cal, now);
          running.add(rule.id);
          changes.push({ kind: 'started', rule, dueAt: t.dueAt });
        }
      }
      // A clock whose condition no longer holds (the level was lowered) stops.
      for (const row of await activeTimers(tx, complaintSubject(c.id))) {
        const rule = playbook.byId.get(row.ruleId);
        if (!rule || complaintRuleApplies(rule, facts)) continue;
        const t = cancelTimer(fromRow(row), now);
        await update(tx, row, rule, t, cal, now);
        changes.push({ kind: 'cancelled', rule, dueAt: t.dueAt });
      }
      for (const ch of changes) {
        await writeAudit(tx, {
          at: now,
          actor,
          action: `timer.${ch.kind}`,
          subject: complaintSubject(c.id),
          data: { rule: ch.rule.id, clause: ch.rule.clause, dueAt: ch.dueAt.toISOString() },
        });
      }
      return changes;
    },

    active: (tx: Db, complaintId: number) => activeTimers(tx, complaintSubject(complaintId)),

    /** Every timer a set of complaints has had (for lists: breaches still running). */
    async runningFor(tx: Db, ids: number[]) {
      if (!ids.length) return [];
      return tx
        .select()
        .from(timers)
        .where(and(inArray(timers.subject, ids.map(complaintSubject)), inArray(timers.state, ['running', 'paused'])));
    },

    describe(change: ComplaintClockChange, cal: WorkCalendar, now: Date): string {
      const verb = { started: '开始计时', completed: '已完成', cancelled: '已停止' }[change.kind];
      const recurring = change.rule.timer.trigger.kind === 'schedule';
      const due =
        change.kind !== 'started' ? '' : recurring ? `，首次 ${formatInstantInChinese(change.dueAt, cal, { now })}` : `，期限 ${formatInstantInChinese(change.dueAt, cal, { now })}`;
      return `⏱ ${verb}：${change.rule.step}${due}（${change.rule.clause}）`;
    },
  };
}

export type ComplaintClocks = ReturnType<typeof createComplaintClocks>;
