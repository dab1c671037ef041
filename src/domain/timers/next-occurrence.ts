import { parse as parseCron } from 'node-cron';
import type { WorkCalendar } from '../calendar';
import { daysInMonth, formatIsoDate, isIsoDate, parseIsoDate, weekdayOf, civilParts } from '../calendar/civil-date';
import type { PlaybookRule } from '../playbooks';

/**
 * Next occurrence of a recurring rule.
 *
 * node-cron 4 can compute a next run only on a live ScheduledTask (createTask registers it in a global
 * registry and reads the real clock), so we use its pure `parse` to expand the pattern — the same
 * field semantics node-cron applies, including names (MON), steps and ranges, and 'L' for the last day
 * of the month — and walk the calendar ourselves. Like node-cron's matcher, day-of-month and
 * day-of-week must both match (AND, not classic cron's OR). Patterns have 5 fields (whole minutes).
 */

export type NonWorkingDayPolicy = 'next' | 'previous' | 'keep';

interface Pattern {
  minutes: number[];
  hours: number[];
  daysOfMonth: Set<number | 'L'>;
  months: Set<number>;
  weekdays: Set<number>;
}

const patternCache = new Map<string, Pattern>();

function compile(cron: string): Pattern {
  let p = patternCache.get(cron);
  if (p) return p;
  const f = parseCron(cron);
  p = {
    minutes: [...f.minute].sort((a, b) => a - b),
    hours: [...f.hour].sort((a, b) => a - b),
    daysOfMonth: new Set(f.dayOfMonth.map((d) => (d === 'L' ? 'L' : Number(d)))),
    months: new Set(f.month),
    weekdays: new Set(f.dayOfWeek.map((d) => Number(d) % 7)),
  };
  if ([...p.daysOfMonth].some((d) => d !== 'L' && !Number.isInteger(d))) {
    throw new RangeError(`unsupported day-of-month token in ${JSON.stringify(cron)} (use numbers, ranges or L)`);
  }
  if ([...p.weekdays].some((d) => !Number.isInteger(d))) {
    throw new RangeError(`unsupported day-of-week token in ${JSON.stringify(cron)} (use numbers, names or ranges)`);
  }
  patternCache.set(cron, p);
  return p;
}

function dayMatches(p: Pattern, day: number): boolean {
  const c = civilParts(day);
  if (!p.months.has(c.month)) return false;
  if (!p.weekdays.has(weekdayOf(day))) return false;
  return p.daysOfMonth.has(c.day) || (p.daysOfMonth.has('L') && c.day === daysInMonth(c.year, c.month));
}

/** Non-working days only shift: a long company closure longer than this is not looked behind. */
const MAX_SHIFT_DAYS = 40;
/** A pattern that never matches (0 0 30 2 *) gives up after this many days. */
const MAX_SEARCH_DAYS = 366 * 5;

/**
 * The first occurrence strictly after `after`, in the calendar's time zone, moved off non-working days
 * by `policy` (keeping the time of day). Returns null when the pattern never matches.
 */
export function nextCronOccurrence(
  cron: string,
  after: Date,
  cal: WorkCalendar,
  policy: NonWorkingDayPolicy = 'next',
): Date | null {
  const p = compile(cron);
  const afterDay = parseIsoDate(cal.dateOf(after));
  const shift = (date: string) =>
    policy === 'keep' || cal.isWorkingDay(date)
      ? date
      : policy === 'next'
        ? cal.workingDayOnOrAfter(date)
        : cal.workingDayOnOrBefore(date);

  let best: Date | null = null;
  let bestDay = Infinity;
  // Start behind `after`: an occurrence on an earlier non-working day may move forward past it.
  for (let day = afterDay - (policy === 'next' ? MAX_SHIFT_DAYS : 0); day <= afterDay + MAX_SEARCH_DAYS; day++) {
    // A raw occurrence lands on or after its own day ('next', 'keep') or at most MAX_SHIFT_DAYS before it
    // ('previous'), so past this point nothing can beat the best found.
    if (day > bestDay + (policy === 'previous' ? MAX_SHIFT_DAYS : 0)) break;
    if (!dayMatches(p, day)) continue;
    const date = shift(formatIsoDate(day));
    for (const h of p.hours) {
      for (const m of p.minutes) {
        const t = cal.at(date, `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
        if (t.getTime() > after.getTime() && (best === null || t.getTime() < best.getTime())) {
          best = t;
          bestDay = parseIsoDate(date);
        }
      }
    }
  }
  return best;
}

/**
 * The first occurrence strictly after `after` of a series every `months` months from `anchor`
 * ('YYYY-MM-DD'): anchor + months, + 2 × months … (the anchor day itself is the start, not a check-in),
 * at `time`, moved off non-working days by `policy`. Null when the anchor is not a date.
 */
export function nextAnchoredOccurrence(
  anchor: string | undefined,
  months: number,
  time: string,
  after: Date,
  cal: WorkCalendar,
  policy: NonWorkingDayPolicy = 'next',
): Date | null {
  if (!anchor || !isIsoDate(anchor)) return null;
  // Jump close to `after` first (a contract may be years old), then walk.
  const monthsApart = Math.max(0, Math.floor(monthsBetween(anchor, cal.dateOf(after)) / months) - 1);
  for (let k = Math.max(1, monthsApart); k < monthsApart + 1000; k++) {
    const raw = cal.shiftDate(anchor, k * months, 'months');
    const date = policy === 'keep' || cal.isWorkingDay(raw) ? raw : policy === 'next' ? cal.workingDayOnOrAfter(raw) : cal.workingDayOnOrBefore(raw);
    const t = cal.at(date, time);
    if (t.getTime() > after.getTime()) return t;
  }
  return null;
}

function monthsBetween(a: string, b: string): number {
  const [ya, ma] = a.split('-').map(Number) as [number, number];
  const [yb, mb] = b.split('-').map(Number) as [number, number];
  return (yb - ya) * 12 + (mb - ma);
}

/**
 * Next occurrence of a schedule-triggered rule; null for other triggers. An `every` series needs the
 * order's fields (its anchor date).
 */
export function nextOccurrence(rule: PlaybookRule, after: Date, cal: WorkCalendar, fields?: Readonly<Record<string, string>>): Date | null {
  if (rule.trigger.kind !== 'schedule') return null;
  const { every, cron, nonWorkingDay } = rule.trigger;
  if (every) return nextAnchoredOccurrence(fields?.[every.field], every.months, every.time, after, cal, nonWorkingDay);
  return cron ? nextCronOccurrence(cron, after, cal, nonWorkingDay) : null;
}
