import { dayFromParts, formatIsoDate } from './civil-date';
import type { NoticeDay } from './holiday-notice';
import type { StatutoryDay } from './statutory-holidays';

/** How a notice's days differ from the statutory data in use for its year (dates ascending). */
export interface NoticeDiff {
  /** Days off in the notice that the current data does not have off. */
  newDaysOff: string[];
  /** Days off in the current data that the notice does not have off. */
  noLongerOff: string[];
  /** Make-up working days in the notice that the current data does not have. */
  newWorkdays: string[];
  /** Make-up working days in the current data that the notice does not have. */
  noLongerWorkdays: string[];
}

/**
 * Compares a notice with the current data, day by day over its year (and any day it names outside it).
 * `current` is the statutory entry in use for a date (chinese-days, or an earlier import).
 */
export function diffNoticeDays(year: number, days: readonly NoticeDay[], current: (date: string) => StatutoryDay | undefined): NoticeDiff {
  const next = new Map(days.map((d) => [d.date, d.kind]));
  const dates = new Set(days.map((d) => d.date));
  for (let day = dayFromParts(year, 1, 1); day < dayFromParts(year + 1, 1, 1); day++) {
    const date = formatIsoDate(day);
    if (current(date)) dates.add(date);
  }
  const diff: NoticeDiff = { newDaysOff: [], noLongerOff: [], newWorkdays: [], noLongerWorkdays: [] };
  for (const date of [...dates].sort()) {
    const was = current(date)?.kind;
    const now = next.get(date);
    if (was === now) continue;
    if (now === 'holiday') diff.newDaysOff.push(date);
    if (now === 'makeup') diff.newWorkdays.push(date);
    if (was === 'holiday') diff.noLongerOff.push(date);
    if (was === 'makeup') diff.noLongerWorkdays.push(date);
  }
  return diff;
}
