import { and, asc, desc, eq, gte, like } from 'drizzle-orm';
import { calendarNotices, calendarOverrides, calendarStatutoryDays } from '../../db/schema';
import type { Db } from '../../db/client';
import {
  describeNoticeError,
  diffNoticeDays,
  noticeDays,
  parseHolidayNotice,
  WEEKDAY_NAMES,
  type NoticeDay,
  type WorkCalendar,
} from '../../domain/calendar';
import { recomputeRunningClocks, recomputedText } from './recompute';
import type { ClockServices } from './services';

/** How long `/日历 导入` without text waits for the notice in the sender's next message. */
export const AWAIT_NOTICE_MS = 5 * 60_000;

/**
 * What importing a notice needs: the same from a chat command, the awaited next message, or the shell
 * (`npm run calendar -- import`). `userid` is who did it (a shell run: `shell:<user>`).
 */
export interface NoticeContext {
  tx: Db;
  now: Date;
  userid: string;
  audit(action: string, subject: string | null, data?: Record<string, unknown>): Promise<void>;
  clocks: ClockServices;
}

function dateText(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  return `${d.getUTCMonth() + 1}月${d.getUTCDate()}日（${WEEKDAY_NAMES[d.getUTCDay()]}）`;
}

/** Consecutive dates as ranges: 2月15日（周日）至2月23日（周一）. */
function datesText(dates: readonly string[]): string {
  const runs: string[][] = [];
  for (const d of dates) {
    const last = runs[runs.length - 1];
    const prev = last?.[last.length - 1];
    if (prev && new Date(`${d}T00:00:00Z`).getTime() - new Date(`${prev}T00:00:00Z`).getTime() === 86_400_000) last!.push(d);
    else runs.push([d]);
  }
  return runs.map((r) => (r.length === 1 ? dateText(r[0]!) : `${dateText(r[0]!)}至${dateText(r[r.length - 1]!)}`)).join('、');
}

/** The year's statutory data in use, as one string (a confirm compares it with the preview's). */
function baselineOf(cal: WorkCalendar, year: number, days: readonly NoticeDay[]): string {
  const diff = diffNoticeDays(year, [], (d) => cal.statutoryDay(d));
  const named = days.map((d) => `${d.date}:${cal.statutoryDay(d.date)?.kind ?? '-'}`);
  return `${cal.coverage(year)}|${diff.noLongerOff.join(',')}|${diff.noLongerWorkdays.join(',')}|${named.join(',')}`;
}

/**
 * Reads a notice and stores it as a preview with a number; the reply lists each holiday and how the
 * year would change. Nothing is applied. A notice that does not parse gets the failing line, no row.
 */
export async function previewNotice(ctx: NoticeContext, text: string, awaitingId?: number): Promise<string> {
  const parsed = parseHolidayNotice(text);
  if (!parsed.ok) {
    if (awaitingId !== undefined) await ctx.tx.update(calendarNotices).set({ status: 'failed', source: text }).where(eq(calendarNotices.id, awaitingId));
    return `抱歉，这份通知没能读懂，没有做任何修改：\n${describeNoticeError(parsed.error)}\n请核对后重新发送 /日历 导入 <通知全文>。`;
  }
  const { notice } = parsed;
  const days = noticeDays(notice);
  const cal = await ctx.clocks.calendar(ctx.tx);
  const values = {
    status: 'preview' as const,
    year: notice.year,
    source: text,
    days,
    baseline: baselineOf(cal, notice.year, days),
  };
  const [row] =
    awaitingId !== undefined
      ? await ctx.tx.update(calendarNotices).set(values).where(eq(calendarNotices.id, awaitingId)).returning()
      : await ctx.tx.insert(calendarNotices).values({ ...values, createdBy: ctx.userid, createdAt: ctx.now }).returning();
  await ctx.audit('calendar.notice.preview', `calendar-notice:${row!.id}`, { year: notice.year, days: days.length });

  const lines = [`${notice.year} 年节假日安排（编号 ${row!.id}），请核对：`];
  for (const h of notice.holidays) {
    const work = h.workdays.length ? `；调休上班 ${datesText(h.workdays)}` : '';
    lines.push(`· ${h.name}：休息 ${datesText(h.daysOff)}，共 ${h.daysOff.length} 天${work}`);
  }
  const diff = diffNoticeDays(notice.year, days, (d) => cal.statutoryDay(d));
  if (cal.coverage(notice.year) === 'fallback') {
    lines.push(`目前还没有 ${notice.year} 年的节假日数据（按周末和元旦、劳动节、国庆固定日期计算）；导入后按这份通知计算。`);
  } else {
    const changes = [
      diff.newDaysOff.length ? `改为休息：${datesText(diff.newDaysOff)}` : '',
      diff.noLongerOff.length ? `不再休息：${datesText(diff.noLongerOff)}` : '',
      diff.newWorkdays.length ? `改为调休上班：${datesText(diff.newWorkdays)}` : '',
      diff.noLongerWorkdays.length ? `不再调休上班：${datesText(diff.noLongerWorkdays)}` : '',
    ].filter(Boolean);
    lines.push(changes.length ? `与目前的 ${notice.year} 年数据相比：\n${changes.map((c) => `  ${c}`).join('\n')}` : `与目前的 ${notice.year} 年数据完全一致。`);
  }
  const company = await ctx.tx
    .select()
    .from(calendarOverrides)
    .where(like(calendarOverrides.date, `${notice.year}-%`))
    .orderBy(asc(calendarOverrides.date));
  if (company.length) {
    lines.push(`公司安排（/日历 调整）仍然优先：${company.map((o) => `${dateText(o.date)}${o.kind === 'work' ? '上班' : '休息'}${o.note ? `（${o.note}）` : ''}`).join('、')}`);
  }
  lines.push(`确认无误请发送 /日历 导入 确认 ${row!.id}，谢谢！`);
  return lines.join('\n');
}

/** Applies a previewed notice in the caller's transaction: its days replace the year's, running clocks are recomputed. */
export async function applyNotice(ctx: NoticeContext, id: number): Promise<string> {
  const [row] = await ctx.tx.select().from(calendarNotices).where(eq(calendarNotices.id, id)).for('update');
  if (!row || row.status === 'awaiting' || row.status === 'failed') return `抱歉，没有找到编号 ${id} 的节假日通知，请核对 /日历 导入 回复里的编号。`;
  if (row.status === 'applied') return `编号 ${id}（${row.year} 年）已在 ${row.appliedAt!.toISOString().slice(0, 10)} 由 ${row.appliedBy} 导入，不会重复导入。`;
  const year = row.year!;
  const days = row.days!;
  const before = await ctx.clocks.calendar(ctx.tx);
  if (baselineOf(before, year, days) !== row.baseline) {
    return `抱歉，编号 ${id} 预览之后 ${year} 年的节假日数据已有变动，预览已不准确。请重新发送 /日历 导入 查看新的预览。`;
  }
  await ctx.tx.delete(calendarStatutoryDays).where(eq(calendarStatutoryDays.year, year));
  await ctx.tx.insert(calendarStatutoryDays).values(days.map((d) => ({ year, date: d.date, kind: d.kind, name: d.name, inLieu: d.inLieu, noticeId: id })));
  await ctx.tx.update(calendarNotices).set({ status: 'applied', appliedBy: ctx.userid, appliedAt: ctx.now }).where(eq(calendarNotices.id, id));
  await ctx.audit('calendar.notice.apply', `calendar-notice:${id}`, { year, days, source: row.source, previewedBy: row.createdBy });
  const after = await ctx.clocks.calendar(ctx.tx);
  // Clocks running across the first day that changed keep their remaining working time.
  const diff = diffNoticeDays(year, days, (d) => before.statutoryDay(d));
  const changed = [...diff.newDaysOff, ...diff.noLongerOff, ...diff.newWorkdays, ...diff.noLongerWorkdays].sort();
  // A year that had no data changes from its first day (the fixed-date guesses give way to the notice).
  if (before.coverage(year) === 'fallback') changed.push(`${year}-01-01`, days[0]!.date);
  const from = changed.sort()[0];
  const moved = from ? recomputedText(await recomputeRunningClocks(ctx, before, after, after.at(from, '00:00'))) : '';
  const off = days.filter((d) => d.kind === 'holiday').length;
  const work = days.length - off;
  return (
    `已导入 ${year} 年节假日安排（编号 ${id}）：休息 ${off} 天，调休上班 ${work} 天。今后按这份通知计算 ${year} 年的工作日。` +
    (moved ? `\n${moved}` : '')
  );
}

/** The sender's `/日历 导入` without text in this chat within the last few minutes, if any. */
export async function awaitingNotice(tx: Db, where: { platform: string; conversationId: string; userid: string; now: Date }) {
  const [row] = await tx
    .select()
    .from(calendarNotices)
    .where(
      and(
        eq(calendarNotices.status, 'awaiting'),
        eq(calendarNotices.platform, where.platform),
        eq(calendarNotices.conversationId, where.conversationId),
        eq(calendarNotices.createdBy, where.userid),
        gte(calendarNotices.createdAt, new Date(where.now.getTime() - AWAIT_NOTICE_MS)),
      ),
    )
    .orderBy(desc(calendarNotices.id))
    .limit(1);
  return row;
}
