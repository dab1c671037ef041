import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { calendarOverrides, calendarStatutoryDays, timers } from '../../db/schema';
import {
  chineseDaysSource,
  createWorkCalendar,
  withImportedYears,
  type CalendarOverride,
  type WorkCalendar,
  type WorkingHours,
} from '../../domain/calendar';
import type { Playbook, PlaybookRule } from '../../domain/playbooks';
import { nextWakeUp, timerSchema, type Timer } from '../../domain/timers';

export type TimerRow = typeof timers.$inferSelect;

/** Timers as stored: the pure value plus the columns the scheduler indexes. */
export function toRow(t: Timer, rule: PlaybookRule, cal: WorkCalendar, now?: Date) {
  return {
    ruleId: t.ruleId,
    state: t.state,
    dueAt: t.dueAt,
    nextStepAt: nextWakeUp(t, rule, cal, now),
    data: JSON.parse(JSON.stringify(t)) as Record<string, unknown>,
  };
}

export function fromRow(row: Pick<TimerRow, 'data'>): Timer {
  return timerSchema.parse(row.data);
}

export function ruleById(playbook: Playbook, id: string): PlaybookRule | undefined {
  return playbook.rules.find((r) => r.id === id);
}

/**
 * The working-day calendar with the company's overrides and the imported holiday notices from the
 * database (an imported year takes precedence over chinese-days). Rebuilt only when either changes
 * (both tables are small; reading them is two cheap queries).
 */
export function createCalendarProvider(opts: { timeZone: string; workingHours: WorkingHours }) {
  let cached: { sig: string; cal: WorkCalendar } | undefined;
  return async (db: Db): Promise<WorkCalendar> => {
    const rows = await db.select().from(calendarOverrides).orderBy(asc(calendarOverrides.date));
    const imported = await db.select().from(calendarStatutoryDays).orderBy(asc(calendarStatutoryDays.year), asc(calendarStatutoryDays.date));
    const sig = [...rows.map((r) => `${r.date}:${r.kind}`), '|', ...imported.map((d) => `${d.year}:${d.date}:${d.kind}:${d.noticeId}`)].join(',');
    if (cached?.sig === sig) return cached.cal;
    const overrides: CalendarOverride[] = rows.map((r) => ({ date: r.date, kind: r.kind, ...(r.note ? { note: r.note } : {}) }));
    const statutory = withImportedYears(chineseDaysSource, imported);
    const cal = createWorkCalendar({ timeZone: opts.timeZone, workingHours: opts.workingHours, overrides, statutory });
    cached = { sig, cal };
    return cal;
  };
}

export type CalendarProvider = ReturnType<typeof createCalendarProvider>;

export async function activeTimers(tx: Db, subject: string): Promise<TimerRow[]> {
  return tx
    .select()
    .from(timers)
    .where(and(eq(timers.subject, subject), inArray(timers.state, ['running', 'paused'])))
    .orderBy(asc(timers.id));
}

