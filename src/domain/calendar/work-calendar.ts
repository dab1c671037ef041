import { z } from 'zod';
import {
  MS_PER_DAY,
  addMonthsToDay,
  civilParts,
  formatIsoDate,
  isIsoDate,
  parseClock,
  parseIsoDate,
  weekdayOf,
} from './civil-date';
import {
  FIXED_DATE_HOLIDAYS,
  chineseDaysSource,
  type StatutoryDay,
  type StatutoryHolidaySource,
} from './statutory-holidays';
import { createTimeZoneOffsets } from './time-zone';

/**
 * The working-day calendar every clock is measured on: statutory holidays and 调休 from chinese-days,
 * company overrides on top, working hours within each working day, in one time zone.
 *
 * All operations are pure functions of their arguments and the options given at creation. The object
 * memoises per-day lookups (a scheduler asks about the same few hundred days thousands of times) and
 * remembers which uncovered years it had to fall back for, so the caller can warn admins once.
 */

export const calendarOverrideSchema = z.object({
  date: z.string().refine(isIsoDate, { message: 'must be a real date written YYYY-MM-DD' }),
  kind: z.enum(['work', 'off']),
  note: z.string().optional(),
});
export type CalendarOverride = z.infer<typeof calendarOverrideSchema>;

export const workingHoursSchema = z
  .object({
    start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:mm'),
    end: z.string().regex(/^([01]\d|2[0-4]):[0-5]\d$/, 'HH:mm'),
  })
  .refine((h) => parseClock(h.start) < parseClock(h.end), { message: 'start must be before end' });
export type WorkingHours = z.infer<typeof workingHoursSchema>;

export const DEFAULT_WORKING_HOURS: WorkingHours = { start: '09:00', end: '18:00' };

export interface WorkCalendarOptions {
  /** IANA zone; default Asia/Shanghai. */
  timeZone?: string;
  workingHours?: WorkingHours;
  /** Company decisions; they win over the statutory calendar in both directions. */
  overrides?: readonly CalendarOverride[];
  /** Statutory data; default chinese-days. Tests may pass their own. */
  statutory?: StatutoryHolidaySource;
}

export type DayReason =
  | 'weekday'
  | 'weekend'
  | 'holiday'
  | 'makeup'
  | 'override-work'
  | 'override-off'
  | 'fallback-weekday'
  | 'fallback-weekend'
  | 'fallback-holiday';

export interface DayExplanation {
  date: string;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  working: boolean;
  reason: DayReason;
  /** Chinese festival name for holidays and make-up days (春节, 国庆节 …). */
  holidayName?: string;
  /**
   * A working day on what would otherwise be a weekend: a statutory 调休 make-up day, or a company
   * override that makes a weekend/holiday a working day. Reminders mark such days "(补班日)".
   */
  makeup: boolean;
  /** The override's note, when an override decided the day. */
  note?: string;
}

export type YearCoverage = 'statutory' | 'fallback';

export interface WorkCalendar {
  readonly timeZone: string;
  readonly workingHours: WorkingHours;
  /** Length of one working day in milliseconds (9 h for 09:00–18:00). */
  readonly workingDayMs: number;

  isWorkingDay(date: string): boolean;
  explainDay(date: string): DayExplanation;
  /** Local calendar date of an instant, 'YYYY-MM-DD'. */
  dateOf(t: Date): string;
  /** The instant of a local wall time on a date ('HH:mm'). */
  at(date: string, hhmm: string): Date;
  /** True when t lies inside working hours [start, end) of a working day. */
  isWorkingMoment(t: Date): boolean;
  /** t itself when it is a working moment, else the start of the next working period. */
  nextWorkingMoment(t: Date): Date;
  /** t itself when it lies in (start, end] of a working day, else the end of the previous working period. */
  previousWorkingMoment(t: Date): Date;
  /**
   * Moves by `ms` of working time. Forward starts at nextWorkingMoment(t); a result that lands exactly
   * on the end of working hours stays there (18:00), it does not roll to the next morning. Negative ms
   * moves backwards from previousWorkingMoment(t).
   */
  addWorkingTime(t: Date, ms: number): Date;
  /**
   * n × workingDayMs of working time (fractions allowed): Monday 14:00 + 2 → Wednesday 14:00; Friday
   * 20:00 + 1 → next working day 18:00, because counting starts at the next working moment.
   */
  addWorkingDays(t: Date, n: number): Date;
  /** Working time in [a, b) in milliseconds; negative when b is before a. */
  workingTimeBetween(a: Date, b: Date): number;
  startOfWorkingDay(date: string): Date;
  /** End of working hours on that date (whether or not it is a working day). */
  endOfWorkingDay(date: string): Date;
  /**
   * End of working hours on the nth working day strictly before `date` (deadline Monday 2026-12-21,
   * n = 2 → Thursday 2026-12-17 18:00). n = 0: `date` itself if it is a working day, else the last
   * working day before it.
   */
  workingDaysBefore(date: string, n: number): Date;
  /** First working day on or after / on or before a date. */
  workingDayOnOrAfter(date: string): string;
  workingDayOnOrBefore(date: string): string;
  /** Same wall time n calendar days later (or earlier). */
  addCalendarDays(t: Date, n: number): Date;
  /** Same wall time n months later; the day of month is clamped to the month's length. */
  addCalendarMonths(t: Date, n: number): Date;
  /** 'YYYY-MM-DD' n calendar days / months away. */
  shiftDate(date: string, n: number, unit: 'days' | 'months'): string;

  coverage(year: number): YearCoverage;
  /** The statutory data's entry for a date (company overrides aside); undefined for a plain day or an uncovered year. */
  statutoryDay(date: string): StatutoryDay | undefined;
  /** Uncovered years the calendar has actually answered questions about, ascending. */
  fallbackYearsUsed(): number[];
}

interface DayInfo {
  working: boolean;
  reason: DayReason;
  holidayName?: string;
  makeup: boolean;
  note?: string;
}

const MS_PER_MINUTE = 60_000;
/** Safety bound for searches for the next/previous working day (ten years of days off is a bug). */
const MAX_SCAN_DAYS = 3660;

export function createWorkCalendar(options: WorkCalendarOptions = {}): WorkCalendar {
  const timeZone = options.timeZone ?? 'Asia/Shanghai';
  const workingHours = workingHoursSchema.parse(options.workingHours ?? DEFAULT_WORKING_HOURS);
  const overrides = new Map<string, CalendarOverride>();
  for (const o of options.overrides ?? []) overrides.set(o.date, calendarOverrideSchema.parse(o));
  const statutory = options.statutory ?? chineseDaysSource;
  const zone = createTimeZoneOffsets(timeZone);

  const startMs = parseClock(workingHours.start) * MS_PER_MINUTE;
  const endMs = parseClock(workingHours.end) * MS_PER_MINUTE;
  const workingDayMs = endMs - startMs;

  const fixedHolidays = new Map(FIXED_DATE_HOLIDAYS.map((h) => [h.monthDay, h.name]));
  const fallbackYears = new Set<number>();
  const dayCache = new Map<number, DayInfo>();

  function computeDay(day: number): DayInfo {
    const date = formatIsoDate(day);
    const weekday = weekdayOf(day);
    const weekend = weekday === 0 || weekday === 6;
    const override = overrides.get(date);
    if (override) {
      const working = override.kind === 'work';
      const base = statutoryInfo(day, date, weekend);
      return {
        working,
        reason: working ? 'override-work' : 'override-off',
        holidayName: base.holidayName,
        makeup: working && !base.working,
        note: override.note,
      };
    }
    return statutoryInfo(day, date, weekend);
  }

  function statutoryInfo(day: number, date: string, weekend: boolean): DayInfo {
    const year = civilParts(day).year;
    if (statutory.years.has(year)) {
      const s = statutory.lookup(date);
      if (s?.kind === 'makeup') return { working: true, reason: 'makeup', holidayName: s.name, makeup: true };
      if (s?.kind === 'holiday') return { working: false, reason: 'holiday', holidayName: s.name, makeup: false };
      return weekend ? { working: false, reason: 'weekend', makeup: false } : { working: true, reason: 'weekday', makeup: false };
    }
    fallbackYears.add(year);
    const fixed = fixedHolidays.get(date.slice(5));
    if (fixed) return { working: false, reason: 'fallback-holiday', holidayName: fixed, makeup: false };
    return weekend
      ? { working: false, reason: 'fallback-weekend', makeup: false }
      : { working: true, reason: 'fallback-weekday', makeup: false };
  }

  function info(day: number): DayInfo {
    let hit = dayCache.get(day);
    if (!hit) {
      hit = computeDay(day);
      dayCache.set(day, hit);
    }
    return hit;
  }

  const working = (day: number) => info(day).working;

  function nextWorkingDay(day: number): number {
    for (let d = day + 1, i = 0; i < MAX_SCAN_DAYS; d++, i++) if (working(d)) return d;
    throw new RangeError(`no working day within ${MAX_SCAN_DAYS} days after ${formatIsoDate(day)}`);
  }
  function previousWorkingDay(day: number): number {
    for (let d = day - 1, i = 0; i < MAX_SCAN_DAYS; d--, i++) if (working(d)) return d;
    throw new RangeError(`no working day within ${MAX_SCAN_DAYS} days before ${formatIsoDate(day)}`);
  }

  function local(t: Date): { day: number; ms: number } {
    const localMs = zone.utcToLocal(t.getTime());
    const day = Math.floor(localMs / MS_PER_DAY);
    return { day, ms: localMs - day * MS_PER_DAY };
  }
  const instant = (day: number, ms: number) => new Date(zone.localToUtc(day * MS_PER_DAY + ms));

  function nextWorkingMoment(t: Date): Date {
    const { day, ms } = local(t);
    if (working(day) && ms < endMs) return ms < startMs ? instant(day, startMs) : new Date(t.getTime());
    return instant(nextWorkingDay(day), startMs);
  }

  function previousWorkingMoment(t: Date): Date {
    const { day, ms } = local(t);
    if (working(day) && ms > startMs) return ms > endMs ? instant(day, endMs) : new Date(t.getTime());
    return instant(previousWorkingDay(day), endMs);
  }

  function addWorkingTime(t: Date, ms: number): Date {
    if (!Number.isFinite(ms)) throw new RangeError(`working time must be finite, got ${ms}`);
    if (ms >= 0) {
      let { day, ms: pos } = local(nextWorkingMoment(t));
      let remaining = ms;
      for (;;) {
        const available = endMs - pos;
        if (remaining <= available) return instant(day, pos + remaining);
        remaining -= available;
        day = nextWorkingDay(day);
        pos = startMs;
      }
    }
    let { day, ms: pos } = local(previousWorkingMoment(t));
    let remaining = -ms;
    for (;;) {
      const available = pos - startMs;
      if (remaining <= available) return instant(day, pos - remaining);
      remaining -= available;
      day = previousWorkingDay(day);
      pos = endMs;
    }
  }

  function workingTimeBetween(a: Date, b: Date): number {
    if (b.getTime() < a.getTime()) return -workingTimeBetween(b, a);
    const from = local(a);
    const to = local(b);
    let total = 0;
    for (let day = from.day; day <= to.day; day++) {
      if (!working(day)) continue;
      const lo = Math.max(startMs, day === from.day ? from.ms : 0);
      const hi = Math.min(endMs, day === to.day ? to.ms : MS_PER_DAY);
      if (hi > lo) total += hi - lo;
    }
    return total;
  }

  function explainDay(date: string): DayExplanation {
    const day = parseIsoDate(date);
    const i = info(day);
    const out: DayExplanation = { date, weekday: weekdayOf(day), working: i.working, reason: i.reason, makeup: i.makeup };
    if (i.holidayName !== undefined) out.holidayName = i.holidayName;
    if (i.note !== undefined) out.note = i.note;
    return out;
  }

  return {
    timeZone,
    workingHours,
    workingDayMs,
    isWorkingDay: (date) => working(parseIsoDate(date)),
    explainDay,
    dateOf: (t) => formatIsoDate(local(t).day),
    at: (date, hhmm) => instant(parseIsoDate(date), parseClock(hhmm) * MS_PER_MINUTE),
    isWorkingMoment(t) {
      const { day, ms } = local(t);
      return working(day) && ms >= startMs && ms < endMs;
    },
    nextWorkingMoment,
    previousWorkingMoment,
    addWorkingTime,
    addWorkingDays: (t, n) => addWorkingTime(t, n * workingDayMs),
    workingTimeBetween,
    startOfWorkingDay: (date) => instant(parseIsoDate(date), startMs),
    endOfWorkingDay: (date) => instant(parseIsoDate(date), endMs),
    workingDaysBefore(date, n) {
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a whole number ≥ 0, got ${n}`);
      const day = parseIsoDate(date);
      let d = n === 0 && working(day) ? day : previousWorkingDay(day);
      for (let i = 1; i < n; i++) d = previousWorkingDay(d);
      return instant(d, endMs);
    },
    workingDayOnOrAfter(date) {
      const day = parseIsoDate(date);
      return formatIsoDate(working(day) ? day : nextWorkingDay(day));
    },
    workingDayOnOrBefore(date) {
      const day = parseIsoDate(date);
      return formatIsoDate(working(day) ? day : previousWorkingDay(day));
    },
    addCalendarDays(t, n) {
      const { day, ms } = local(t);
      return instant(day + n, ms);
    },
    addCalendarMonths(t, n) {
      const { day, ms } = local(t);
      return instant(addMonthsToDay(day, n), ms);
    },
    shiftDate(date, n, unit) {
      const day = parseIsoDate(date);
      return formatIsoDate(unit === 'days' ? day + n : addMonthsToDay(day, n));
    },
    coverage: (year) => (statutory.years.has(year) ? 'statutory' : 'fallback'),
    statutoryDay: (date) => (statutory.years.has(Number(date.slice(0, 4))) ? statutory.lookup(date) : undefined),
    fallbackYearsUsed: () => [...fallbackYears].sort((x, y) => x - y),
  };
}
