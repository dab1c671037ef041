import { z } from 'zod';
import { isIsoDate, type WorkCalendar } from '../calendar';
import { LADDER_STEPS, ruleApplies, type Duration, type OrderFacts, type PlaybookRule } from '../playbooks';

/**
 * A service-level clock as a plain value, and the pure transitions (state, now) → state.
 * The scheduler stores timers (JSON-friendly; `timerSchema` reads them back) and calls these.
 */

export const TIMER_STATES = ['running', 'paused', 'done', 'cancelled'] as const;
export type TimerState = (typeof TIMER_STATES)[number];

/**
 * working: the duration is working time (workingDays), so a pause keeps the remaining working time;
 * wall: calendar time (calendarDays, weeks, months, minutes), a pause keeps the remaining wall time;
 * fixed: anchored on a date of the order (申报截止 …) that a pause cannot move.
 */
export const TIMER_CLOCKS = ['working', 'wall', 'fixed'] as const;
export type TimerClock = (typeof TIMER_CLOCKS)[number];

export const timerSchema = z.object({
  ruleId: z.string(),
  startedAt: z.coerce.date(),
  dueAt: z.coerce.date(),
  state: z.enum(TIMER_STATES),
  clock: z.enum(TIMER_CLOCKS),
  /** Length of the clock in its own measure (working ms for working/fixed, wall ms for wall). */
  lengthMs: z.number(),
  /** Set while paused: working time left to the due time (negative when already overdue). */
  remainingWorkingMs: z.number().optional(),
  /** Set while paused: wall time left to the due time (negative when already overdue). */
  remainingWallMs: z.number().optional(),
  pausedAt: z.coerce.date().optional(),
  /** When it was completed or cancelled. */
  endedAt: z.coerce.date().optional(),
  /**
   * Set on a cancelled clock that was still open when its order was completed (随单结束): the order ended,
   * the obligation was not met by then. On-time figures never count it as kept.
   */
  endedWithOrder: z.boolean().optional(),
  /** Ladder steps already sent; each is sent once. */
  stepsSent: z.array(z.enum(LADDER_STEPS)),
});
export type Timer = z.infer<typeof timerSchema>;

export interface StartFacts {
  /** The order the clock belongs to; absent for department-scope recurring rules. */
  order?: OrderFacts;
  /** When the trigger happened (event time); default now. */
  at?: Date;
  /** Schedule rules: the occurrence that opens this clock (from nextOccurrence). */
  occurrence?: Date;
}

/** Moves an instant by a duration, forwards (sign 1) or backwards (sign −1). */
export function shiftByDuration(t: Date, d: Duration, sign: 1 | -1, cal: WorkCalendar): Date {
  const n = sign * d.amount;
  switch (d.unit) {
    case 'workingDays':
      return cal.addWorkingTime(t, n * cal.workingDayMs);
    case 'calendarDays':
      return Number.isInteger(n) ? cal.addCalendarDays(t, n) : new Date(t.getTime() + n * 86_400_000);
    case 'weeks':
      return Number.isInteger(n * 7) ? cal.addCalendarDays(t, n * 7) : new Date(t.getTime() + n * 7 * 86_400_000);
    case 'months':
      return cal.addCalendarMonths(t, Math.round(n));
    case 'minutes':
      return new Date(t.getTime() + n * 60_000);
  }
}

/**
 * Due date of a date-anchored rule: a working day's end, `duration` before/after the order's date.
 * Fractional working days round up (at least N before), calendar days and weeks to whole days.
 */
function anchoredDue(rule: PlaybookRule, date: string, cal: WorkCalendar): Date {
  const before = rule.trigger.kind === 'date' && rule.trigger.direction === 'before';
  const { amount, unit } = rule.duration;
  if (unit === 'workingDays') {
    if (before) return cal.workingDaysBefore(date, Math.ceil(amount));
    let d = cal.workingDayOnOrAfter(date);
    for (let i = 0; i < Math.ceil(amount); i++) d = cal.workingDayOnOrAfter(cal.shiftDate(d, 1, 'days'));
    return cal.endOfWorkingDay(d);
  }
  const sign = before ? -1 : 1;
  const shifted =
    unit === 'months'
      ? cal.shiftDate(date, sign * Math.round(amount), 'months')
      : cal.shiftDate(date, sign * Math.round(unit === 'weeks' ? amount * 7 : amount), 'days');
  // "At least N days before": an off day moves the due earlier, never later.
  return cal.endOfWorkingDay(before ? cal.workingDayOnOrBefore(shifted) : cal.workingDayOnOrAfter(shifted));
}

/** The nth working day strictly after `date` (n ≥ 1). */
function nthWorkingDayAfter(cal: WorkCalendar, date: string, n: number): string {
  let d = date;
  for (let i = 0; i < n; i++) d = cal.workingDayOnOrAfter(cal.shiftDate(d, 1, 'days'));
  return d;
}

function clockOf(rule: PlaybookRule): TimerClock {
  if (rule.trigger.kind === 'date') return 'fixed';
  return rule.duration.unit === 'workingDays' ? 'working' : 'wall';
}

function lengthOf(clock: TimerClock, start: Date, due: Date, cal: WorkCalendar): number {
  return clock === 'wall' ? due.getTime() - start.getTime() : Math.max(0, cal.workingTimeBetween(start, due));
}

/**
 * Starts the rule's clock, or returns null when the rule does not apply: another service type, a
 * condition on the order's fields fails, payment is needed and missing, the anchoring date is not set,
 * or a schedule rule got no occurrence. Which rules an event starts is rulesStartedBy's business; this
 * function trusts that the trigger happened at `facts.at`. An order that is paused at the start gets
 * a paused timer (3.5.2).
 */
export function startTimer(rule: PlaybookRule, facts: StartFacts, now: Date, cal: WorkCalendar): Timer | null {
  const order = facts.order;
  if (order && !ruleApplies(rule, order)) return null;
  if (rule.requiresPayment && !order?.paid) return null;

  const clock = clockOf(rule);
  let start: Date;
  let due: Date;
  switch (rule.trigger.kind) {
    case 'event':
    case 'complaint':
      start = facts.at ?? now;
      due = shiftByDuration(start, rule.duration, 1, cal);
      break;
    case 'date': {
      const date = order?.fields?.[rule.trigger.field];
      if (!date || !isIsoDate(date)) return null;
      start = facts.at ?? now;
      due = anchoredDue(rule, date, cal);
      break;
    }
    case 'schedule':
      if (!facts.occurrence) return null;
      start = facts.occurrence;
      due = shiftByDuration(start, rule.duration, 1, cal);
      break;
  }
  if (rule.dueAt === 'endOfWorkingDay') {
    const { amount, unit } = rule.duration;
    if (rule.trigger.kind !== 'date' && unit === 'workingDays' && Number.isInteger(amount) && amount >= 1) {
      // "By the end of the Nth working day after the day it happened" (7.3.1 (财税) 第二天): whole working
      // days from the event's local date, so a visit at 07:00 or on a Saturday is due at the end of the
      // next working day, not of the same day.
      due = cal.endOfWorkingDay(nthWorkingDayAfter(cal, cal.dateOf(start), amount));
    } else {
      due = cal.endOfWorkingDay(cal.workingDayOnOrAfter(cal.dateOf(due)));
    }
  }

  const timer: Timer = {
    ruleId: rule.id,
    startedAt: start,
    dueAt: due,
    state: 'running',
    clock,
    lengthMs: lengthOf(clock, start, due, cal),
    stepsSent: [],
  };
  return order?.paused && rule.pausesWithOrder ? pauseTimer(timer, now, cal) : timer;
}

/** Stops the clock, keeping what is left (working or wall time); a date-anchored due does not move. */
export function pauseTimer(timer: Timer, now: Date, cal: WorkCalendar): Timer {
  if (timer.state !== 'running') return timer;
  const paused: Timer = { ...timer, state: 'paused', pausedAt: now };
  if (timer.clock === 'working') paused.remainingWorkingMs = cal.workingTimeBetween(now, timer.dueAt);
  if (timer.clock === 'wall') paused.remainingWallMs = timer.dueAt.getTime() - now.getTime();
  return paused;
}

/** Restarts the clock with the time that was left when it paused (not from the beginning). */
export function resumeTimer(timer: Timer, now: Date, cal: WorkCalendar): Timer {
  if (timer.state !== 'paused') return timer;
  const { remainingWorkingMs, remainingWallMs, pausedAt: _pausedAt, ...rest } = timer;
  let dueAt = timer.dueAt;
  if (timer.clock === 'working') dueAt = cal.addWorkingTime(now, remainingWorkingMs ?? 0);
  if (timer.clock === 'wall') dueAt = new Date(now.getTime() + (remainingWallMs ?? 0));
  return { ...rest, state: 'running', dueAt };
}

export function completeTimer(timer: Timer, now: Date): Timer {
  if (timer.state === 'done' || timer.state === 'cancelled') return timer;
  return { ...timer, state: 'done', endedAt: now };
}

/**
 * The order was completed while this clock was still open (随单结束): it ends, but not as met — a client
 * question never answered stays unanswered in the figures (late when already past due, else not judged).
 */
export function closeWithOrder(timer: Timer, now: Date): Timer {
  if (timer.state === 'done' || timer.state === 'cancelled') return timer;
  return { ...timer, state: 'cancelled', endedAt: now, endedWithOrder: true };
}

export function cancelTimer(timer: Timer, now: Date): Timer {
  if (timer.state === 'done' || timer.state === 'cancelled') return timer;
  return { ...timer, state: 'cancelled', endedAt: now };
}
