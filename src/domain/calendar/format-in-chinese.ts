import { civilParts, parseIsoDate } from './civil-date';
import type { DayExplanation, WorkCalendar } from './work-calendar';

/** Chinese wording of dates and instants for reminders and the /日历 command. */

export const WEEKDAY_NAMES = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'] as const;

export const MAKEUP_MARK = '(补班日)';

export interface FormatOptions {
  /** When given and the instant falls in another year, the year is written out. */
  now?: Date;
  /** Leave out the time of day ("12月17日(周四)"). */
  dateOnly?: boolean;
}

/**
 * "12月17日(周四) 18:00", with "(补班日)" appended when that day is a make-up working day, and
 * "2027年1月5日(周二) 18:00" when the year differs from `now`.
 */
export function formatInstantInChinese(t: Date, cal: WorkCalendar, options: FormatOptions = {}): string {
  const date = cal.dateOf(t);
  const head = formatDateInChinese(date, cal, options.now ? cal.dateOf(options.now).slice(0, 4) !== date.slice(0, 4) : false);
  if (options.dateOnly) return head + (cal.explainDay(date).makeup ? MAKEUP_MARK : '');
  const localClock = new Date(t.getTime() - cal.at(date, '00:00').getTime());
  const hh = String(localClock.getUTCHours()).padStart(2, '0');
  const mm = String(localClock.getUTCMinutes()).padStart(2, '0');
  return `${head} ${hh}:${mm}${cal.explainDay(date).makeup ? MAKEUP_MARK : ''}`;
}

/** "12月17日(周四)" or, with year, "2026年12月17日(周四)". */
export function formatDateInChinese(date: string, cal: WorkCalendar, withYear = false): string {
  const p = civilParts(parseIsoDate(date));
  const weekday = WEEKDAY_NAMES[cal.explainDay(date).weekday];
  return `${withYear ? `${p.year}年` : ''}${p.month}月${p.day}日(${weekday})`;
}

/**
 * The /日历 answer: "2026年2月14日(周六) 是工作日(补班日)，因为是春节调休补班。"
 * Uncovered years say that only weekends and fixed-date holidays are known.
 */
export function describeDayInChinese(e: DayExplanation, cal: WorkCalendar): string {
  const when = formatDateInChinese(e.date, cal, true);
  const verdict = e.working ? `是工作日${e.makeup ? MAKEUP_MARK : ''}` : '是休息日';
  const because = (() => {
    switch (e.reason) {
      case 'weekday':
        return '是普通工作日（周一至周五）';
      case 'weekend':
        return '是周末';
      case 'holiday':
        return `是法定节假日（${e.holidayName ?? '节假日'}）`;
      case 'makeup':
        return `是${e.holidayName ?? '节假日'}调休补班`;
      case 'override-work':
        return `公司安排上班${e.note ? `（${e.note}）` : ''}`;
      case 'override-off':
        return `公司安排休息${e.note ? `（${e.note}）` : ''}`;
      case 'fallback-weekday':
        return '是周一至周五（该年度的法定节假日安排尚未收录，仅按周末和固定日期节日计算）';
      case 'fallback-weekend':
        return '是周末（该年度的法定节假日安排尚未收录，仅按周末和固定日期节日计算）';
      case 'fallback-holiday':
        return `是${e.holidayName ?? '节假日'}（该年度的法定节假日安排尚未收录，仅按固定日期节日计算）`;
    }
  })();
  return `${when} ${verdict}，因为${because}。`;
}
