import { and, eq, sql } from 'drizzle-orm';
import { timers } from '../../db/schema';
import { fromRow, toRow } from '../../core/clocks/clock-store';
import { defineEvent, type EventContext } from '../../core/events';
import type { Db } from '../../db/client';
import type { WorkCalendar } from '../../domain/calendar';
import type { ClockServices } from './services';

/**
 * Emitted inside the transaction of a calendar change, after the working-time clocks moved: a feature
 * whose clocks are anchored on calendar days (the return visits' "last working day of the period")
 * recomputes them on the new calendar and answers how many moved, with the kind's name for the reply.
 */
export const calendarChanged = defineEvent<{ calendar: WorkCalendar }, { kind: string; moved: number }>('clocks.calendar-changed');

/** Reply names of the kinds of working-time clocks, by their timer subject's prefix. */
const KIND_NAMES: Record<string, string> = {
  order: '分配单',
  dept: '部门事项',
  'client-group': '讨论组（提问、每周联系、材料进度）',
  visit: '回访情况表与审阅',
  report: '报告',
};

export interface Recomputed {
  total: number;
  /** Moved clocks per kind, in a fixed order, kinds with none left out. */
  byKind: { kind: string; moved: number }[];
}

/**
 * After a calendar change (`/日历 调整`, an imported notice): every running working-time clock due after
 * `from` keeps its remaining working time, measured on the old calendar from now, and gets the due time
 * that remainder gives on the new one — orders, department items, the 讨论组 clocks, the visit report and
 * review. Then every feature subscribed to calendarChanged recomputes its calendar-anchored clocks (the
 * return visits). Wall-clock minutes (complaint callbacks, the triage ladder: 4.3.3 counts natural
 * minutes) do not depend on the calendar; complaint clocks keep their reckoning, as before.
 */
export async function recomputeRunningClocks(
  ctx: { tx: Db; now: Date; clocks: ClockServices; actor?: EventContext['actor'] },
  before: WorkCalendar,
  after: WorkCalendar,
  from: Date,
): Promise<Recomputed> {
  const affected = await ctx.tx
    .select()
    .from(timers)
    .where(and(eq(timers.state, 'running'), sql`${timers.dueAt} > ${from.toISOString()}::timestamptz`, sql`${timers.data}->>'clock' = 'working'`));
  const counts = new Map<string, number>();
  for (const row of affected) {
    const data = row.data as { dueAt: string };
    const oldDue = new Date(data.dueAt);
    const remaining = before.workingTimeBetween(ctx.now, oldDue);
    if (remaining <= 0) continue;
    const newDue = after.addWorkingTime(ctx.now, remaining);
    if (newDue.getTime() === oldDue.getTime()) continue;
    const rule = row.subject.startsWith('complaint:') ? undefined : ctx.clocks.ruleOf(row);
    if (!rule) continue;
    const t = { ...fromRow(row), dueAt: newDue };
    await ctx.tx.update(timers).set({ ...toRow(t, rule, after), updatedAt: ctx.now }).where(eq(timers.id, row.id));
    const kind = KIND_NAMES[row.subject.slice(0, row.subject.indexOf(':'))] ?? '其他计时';
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const byKind = [...Object.values(KIND_NAMES), '其他计时'].flatMap((kind) => (counts.get(kind) ? [{ kind, moved: counts.get(kind)! }] : []));
  for (const answer of await ctx.clocks.emit({ tx: ctx.tx, now: ctx.now, actor: ctx.actor ?? null }, calendarChanged, { calendar: after })) {
    if (answer.moved > 0) byKind.push(answer);
  }
  return { total: byKind.reduce((n, k) => n + k.moved, 0), byKind };
}

/** 「已按新日历重算 5 项进行中的计时：分配单 2 项、回访 3 项。」, or '' when nothing moved. */
export function recomputedText(r: Recomputed): string {
  if (!r.total) return '';
  return `已按新日历重算 ${r.total} 项进行中的计时：${r.byKind.map((k) => `${k.kind} ${k.moved} 项`).join('、')}。`;
}
