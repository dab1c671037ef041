import { and, eq, sql } from 'drizzle-orm';
import { timers } from '../../db/schema';
import { fromRow, toRow } from '../../core/clocks/clock-store';
import type { Db } from '../../db/client';
import type { WorkCalendar } from '../../domain/calendar';
import type { ClockServices } from './services';

/**
 * After a calendar change (`/日历 调整`, an imported notice): every running working-day clock due after
 * `from` keeps its remaining working time, measured on the old calendar from now, and gets the due time
 * that remainder gives on the new one. Order, department and features' order-bound clocks are moved;
 * complaint clocks keep their reckoning, as before. Returns how many clocks moved.
 */
export async function recomputeRunningClocks(
  ctx: { tx: Db; now: Date; clocks: ClockServices },
  before: WorkCalendar,
  after: WorkCalendar,
  from: Date,
): Promise<number> {
  const affected = await ctx.tx
    .select()
    .from(timers)
    .where(and(eq(timers.state, 'running'), sql`${timers.dueAt} > ${from.toISOString()}::timestamptz`, sql`${timers.data}->>'clock' = 'working'`));
  let moved = 0;
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
    moved++;
  }
  return moved;
}
