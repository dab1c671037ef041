import { and, eq, or } from 'drizzle-orm';
import { groups, people } from '../../db/schema';
import { enqueue } from '../../core/records';
import type { MaintainContext } from '../../core/feature';

/**
 * A year the holiday data does not cover is computed from weekends and fixed-date holidays only:
 * tell the admins (总经办's groups) once per year, until an imported notice (`/日历 导入`) or a package
 * update covers it (the calendar counts an imported year as covered).
 * One per process: the log line is written once per process and year (the notice is deduplicated in
 * the outbox across instances). Returns the uncovered years in view (this one and 60 days ahead).
 */
export function uncoveredYearWarning() {
  const loggedUncovered = new Set<number>();
  return async ({ db, now, calendar, log }: MaintainContext): Promise<number[]> => {
    const cal = await calendar(db);
    const years = [...new Set([now, new Date(now.getTime() + 60 * 86_400_000)].map((d) => Number(cal.dateOf(d).slice(0, 4))))];
    const uncovered = years.filter((y) => cal.coverage(y) === 'fallback');
    if (!uncovered.length) return [];
    const targets = await db
      .select({ platform: groups.platform, conversationId: groups.conversationId })
      .from(groups)
      .innerJoin(people, and(eq(people.departmentId, groups.departmentId), eq(people.role, 'management')))
      .where(eq(groups.kind, 'internal'));
    const unique = [...new Map(targets.map((t) => [`${t.platform}|${t.conversationId}`, t])).values()];
    const admins = await db.select().from(people).where(and(eq(people.active, true), or(eq(people.isAdmin, true), eq(people.role, 'management'))));
    for (const year of uncovered) {
      if (!loggedUncovered.has(year)) log.warn({ year }, 'holiday data does not cover this year; using weekends and fixed-date holidays');
      loggedUncovered.add(year);
      for (const t of unique) {
        await enqueue(db, {
          ...t,
          payload: {
            text:
              `【日历提醒】节假日数据尚未包含 ${year} 年的国务院放假安排，目前按“周末 + 元旦、劳动节、国庆固定日期”计算工作日。` +
              `国务院的通知发布后，请管理员发送 /日历 导入 并附上通知全文，核对后 /日历 导入 确认 <编号> 即可；` +
              `个别日期也可以用 /日历 调整 <日期> 上班|休息。谢谢！${admins.map((a) => '@' + a.name).join(' ')}`,
            mentions: admins.map((a) => a.userid),
          },
          dedupeKey: `notice:calendar-fallback:${year}:${t.platform}:${t.conversationId}`,
          now,
        });
      }
    }
    return uncovered;
  };
}
