import type { WorkCalendar } from '../../domain/calendar';
import type { ClientKind } from '../../db/schema/core';
import type { VisitMethod } from '../../db/schema/visits';
import type { VisitPeriod, VisitPlaybook, VisitSchedule } from './visit-playbook';

/**
 * Pure visit schedules (回访): from a client's kind, its orders' start dates and its visits, which
 * schedules apply and when the next visit of each is due. Periods are calendar months, quarters and
 * years in the calendar's zone; a period's visit is due at the end of its last working day (a make-up
 * Saturday counts, a holiday does not).
 */

export interface ClientFacts {
  kind: ClientKind;
  createdAt: Date;
  /** Orders that are not cancelled. */
  orders: { createdAt: Date; serviceType: string }[];
}

export interface DoneVisit {
  method: VisitMethod;
  doneAt: Date;
}

export interface Period {
  start: string;
  end: string;
}

export interface DueVisit {
  schedule: VisitSchedule;
  period: Period;
  dueAt: Date;
}

const pad = (n: number) => String(n).padStart(2, '0');
const lastDay = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();

/** The calendar period containing a date ('YYYY-MM-DD'). */
export function periodOf(date: string, every: VisitPeriod): Period {
  const y = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7));
  if (every === 'year') return { start: `${y}-01-01`, end: `${y}-12-31` };
  const first = every === 'month' ? m : Math.floor((m - 1) / 3) * 3 + 1;
  const last = every === 'month' ? m : first + 2;
  return { start: `${y}-${pad(first)}-01`, end: `${y}-${pad(last)}-${pad(lastDay(y, last))}` };
}

export function nextPeriod(p: Period, every: VisitPeriod, cal: WorkCalendar): Period {
  return periodOf(cal.shiftDate(p.end, 1, 'days'), every);
}

/** A period's visit is due at the end of its last working day. */
export function periodDue(p: Period, cal: WorkCalendar): Date {
  return cal.endOfWorkingDay(cal.workingDayOnOrBefore(p.end));
}

const isBookkeeping = (c: ClientFacts) => c.kind === 'bookkeeping' || c.orders.some((o) => o.serviceType === '代账');

/** The date a year before `now` ('YYYY-MM-DD'): an order started after it is in its first year. */
const yearAgo = (now: Date, cal: WorkCalendar) => cal.shiftDate(cal.dateOf(now), -12, 'months');

/** Since when a schedule applies to the client ('YYYY-MM-DD'), or null when it does not apply now. */
export function applicableSince(s: VisitSchedule, c: ClientFacts, now: Date, cal: WorkCalendar): string | null {
  const starts = c.orders.map((o) => cal.dateOf(o.createdAt)).sort();
  const cutoff = yearAgo(now, cal);
  switch (s.appliesTo) {
    case 'bookkeeping': {
      if (!isBookkeeping(c)) return null;
      const own = c.orders.filter((o) => o.serviceType === '代账').map((o) => cal.dateOf(o.createdAt)).sort();
      return own[0] ?? cal.dateOf(c.createdAt);
    }
    case 'first-year': {
      const recent = starts.filter((d) => d > cutoff);
      return recent.length ? recent[recent.length - 1]! : null;
    }
    case 'later-years': {
      if (!starts.length || starts.some((d) => d > cutoff)) return null;
      // From the day the newest order turned one year old.
      return cal.shiftDate(starts[starts.length - 1]!, 12, 'months');
    }
    case 'any':
      if (starts.length) return starts[0]!;
      return c.kind === 'normal' ? null : cal.dateOf(c.createdAt);
  }
}

/**
 * The next visit a schedule asks for: the period after the last visit that satisfies it (by one of its
 * methods), but not before the period the schedule began to apply in. Overdue when its due time has passed.
 */
export function nextDueVisit(s: VisitSchedule, c: ClientFacts, visits: DoneVisit[], now: Date, cal: WorkCalendar): DueVisit | null {
  const since = applicableSince(s, c, now, cal);
  if (!since) return null;
  let period = periodOf(since, s.every);
  const last = visits
    .filter((v) => s.methods.includes(v.method))
    .map((v) => cal.dateOf(v.doneAt))
    .sort()
    .pop();
  if (last) {
    const after = nextPeriod(periodOf(last, s.every), s.every, cal);
    if (after.start > period.start) period = after;
  }
  return { schedule: s, period, dueAt: periodDue(period, cal) };
}

/** Every schedule's next due visit for one client. */
export function dueVisits(pb: VisitPlaybook, c: ClientFacts, visits: DoneVisit[], now: Date, cal: WorkCalendar): DueVisit[] {
  return pb.schedules.map((s) => nextDueVisit(s, c, visits, now, cal)).filter((d): d is DueVisit => d !== null);
}

/**
 * The third refusal in a row counts as a visit (7.1.5): refusals since the last done visit, oldest first.
 * Returns true when this refusal (already in the list) makes the count.
 */
export function refusalsMakeVisit(statusesSinceLastDone: readonly ('refused' | 'done' | 'planned')[], count: number): boolean {
  const refused = statusesSinceLastDone.filter((s) => s === 'refused').length;
  return refused > 0 && refused % count === 0;
}

export const VISIT_STATUS_NAMES: Record<'planned' | 'done' | 'refused', string> = { planned: '已计划', done: '已回访', refused: '客户拒约' };
export const METHOD_NAMES: Record<VisitMethod, string> = { phone: '电话', onsite: '现场', email: '邮件' };
export const METHOD_WORDS: Record<string, VisitMethod> = { 电话: 'phone', 现场: 'onsite', 上门: 'onsite', 邮件: 'email', phone: 'phone', onsite: 'onsite', email: 'email', 微信: 'phone' };
export const KIND_NAMES: Record<ClientKind, string> = { normal: '普通', premium: '优质', bookkeeping: '代账' };
export const KIND_WORDS: Record<string, ClientKind> = { 普通: 'normal', 优质: 'premium', 优质客户: 'premium', 代账: 'bookkeeping', 代账客户: 'bookkeeping' };
