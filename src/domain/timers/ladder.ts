import type { WorkCalendar } from '../calendar';
import type { LadderStepName, MentionRole, PlaybookRule } from '../playbooks';
import { shiftByDuration, type Timer } from './timer';

/**
 * The escalation ladder of a timer: heads-up, due, then overdue steps to the supervisor, the department
 * head and 总经办, at times given by the rule's ladder data. Pure; the scheduler sends dueSteps() and
 * records them with markStepsSent().
 */

export interface LadderStep {
  step: LadderStepName;
  at: Date;
  mention: MentionRole[];
  /** Heads-up and due follow the rule's audience; escalations always go to staff. */
  audience: 'staff' | 'client';
}

/**
 * A step may be sent at a working moment, or exactly at the end of working hours (a due of 18:00 is
 * announced at 18:00, not the next morning).
 */
function sendable(at: Date, cal: WorkCalendar): Date {
  if (cal.isWorkingMoment(at) || cal.previousWorkingMoment(at).getTime() === at.getTime()) return at;
  return cal.nextWorkingMoment(at);
}

function headsUpAt(timer: Timer, rule: PlaybookRule, cal: WorkCalendar): Date | null {
  const spec = rule.ladder.headsUp;
  if (spec === null) return null;
  let at: Date;
  if ('before' in spec) {
    at = shiftByDuration(timer.dueAt, spec.before, -1, cal);
  } else {
    const lead = (1 - spec.fraction) * timer.lengthMs;
    at = timer.clock === 'wall' ? new Date(timer.dueAt.getTime() - lead) : cal.addWorkingTime(timer.dueAt, -lead);
    // Backwards working time stops at the previous working moment; a fraction of 0 means the start itself.
    if (spec.fraction === 0) at = timer.startedAt;
  }
  return at.getTime() < timer.startedAt.getTime() ? null : at;
}

/** All steps of the timer's ladder in order, with quiet hours applied unless the rule ignores them. */
export function ladder(timer: Timer, rule: PlaybookRule, cal: WorkCalendar): LadderStep[] {
  const quiet = rule.quietHours === 'respect';
  const place = (at: Date) => (quiet ? sendable(at, cal) : at);
  const steps: LadderStep[] = [];

  const due = place(timer.dueAt);
  const heads = headsUpAt(timer, rule, cal);
  if (heads) {
    const at = place(heads);
    // A heads-up that would arrive together with (or after) the due step is noise.
    if (at.getTime() < due.getTime()) steps.push({ step: 'headsup', at, mention: [...rule.mention], audience: rule.audience });
  }
  steps.push({ step: 'due', at: due, mention: [...rule.mention], audience: rule.audience });

  let previous = due;
  for (const o of rule.ladder.overdue) {
    let at = place(shiftByDuration(timer.dueAt, o.after, 1, cal));
    if (at.getTime() < previous.getTime()) at = previous;
    steps.push({ step: o.step, at, mention: [...o.mention], audience: 'staff' });
    previous = at;
  }
  return steps;
}

/**
 * Steps whose time has come and that were not sent yet, oldest first. Silent unless the timer runs.
 * After a long pause several may be due at once; the caller may send only the last and mark them all.
 */
export function dueSteps(timer: Timer, rule: PlaybookRule, now: Date, cal: WorkCalendar): LadderStep[] {
  if (timer.state !== 'running') return [];
  // A step placed on working time may still come due outside it (a back-dated date, a scheduler that was
  // down, an order created late at night): staff reminders then wait for the next working moment.
  if (rule.quietHours === 'respect' && !mayNotifyAt(now, cal)) return [];
  const sent = new Set(timer.stepsSent);
  return ladder(timer, rule, cal).filter((s) => s.at.getTime() <= now.getTime() && !sent.has(s.step));
}

/**
 * How long after the end of working hours a tick may still send: a step due at 18:00 goes out at 18:00
 * even when the tick runs a moment late, but nothing waits until the middle of the night.
 */
export const QUIET_HOURS_GRACE_MS = 10 * 60_000;

/** True when a quiet-hours rule may post at `now`: working time, or just after it ended. */
export function mayNotifyAt(now: Date, cal: WorkCalendar): boolean {
  return cal.isWorkingMoment(now) || now.getTime() - cal.previousWorkingMoment(now).getTime() <= QUIET_HOURS_GRACE_MS;
}

export function markStepsSent(timer: Timer, steps: readonly (LadderStep | LadderStepName)[]): Timer {
  const names = steps.map((s) => (typeof s === 'string' ? s : s.step));
  const stepsSent = [...timer.stepsSent];
  for (const n of names) if (!stepsSent.includes(n)) stepsSent.push(n);
  return { ...timer, stepsSent };
}

/**
 * When the scheduler should look at this timer again: the earliest unsent step, or null. Given `now`,
 * a quiet-hours step already past while sending is not allowed waits for the next working moment (so
 * the scheduler does not claim it again every tick all night).
 */
export function nextWakeUp(timer: Timer, rule: PlaybookRule, cal: WorkCalendar, now?: Date): Date | null {
  if (timer.state !== 'running') return null;
  const sent = new Set(timer.stepsSent);
  const at = ladder(timer, rule, cal).find((s) => !sent.has(s.step))?.at ?? null;
  if (!at || !now || rule.quietHours !== 'respect' || at.getTime() > now.getTime() || mayNotifyAt(now, cal)) return at;
  return cal.nextWorkingMoment(now);
}
