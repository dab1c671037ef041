import { dayFromParts, daysInMonth, formatIsoDate, weekdayOf } from './civil-date';

/**
 * Reads the State Council's holiday notice (国务院办公厅关于20XX年部分节假日安排的通知) as published:
 *
 *   国务院办公厅关于2026年部分节假日安排的通知
 *   一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
 *   二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
 *
 * The year comes from the title (or the preamble before the first item). Each numbered item names its
 * festival and has sentences of two kinds: days off (`<date>[至<date>]放假[调休][，共N天]`, also
 * `放假1天，不调休` and `放假，与周末连休`) and make-up working days (`<date>、<date>上班`). Everything the
 * notice states is checked, never guessed: a `共N天` that does not match the range, a weekday in
 * parentheses that is not the date's, an impossible date, a range that ends before it starts, a make-up
 * day that is not a weekend day, a day named twice — each is an error naming the line. Full-width and
 * half-width digits and punctuation are read alike (NFKC). Sentences without a date, and the advisory
 * sentence (`鼓励各单位…`), are not rules and are skipped.
 *
 * Dates without a year are in the title's year; a range from December to January ends in the next year;
 * a date may also carry its own year (`2026年12月31日`).
 */

export interface NoticeHoliday {
  /** The item's festival name(s) as written, e.g. 春节 or 国庆节、中秋节. */
  name: string;
  /** 1-based line of the text where the item starts. */
  line: number;
  /** Days off, ascending, 'YYYY-MM-DD'. */
  daysOff: string[];
  /** Make-up working days (调休上班), ascending. */
  workdays: string[];
}

export interface HolidayNotice {
  year: number;
  holidays: NoticeHoliday[];
}

export interface NoticeError {
  /** 1-based line of the text that failed. */
  line: number;
  /** That line as written (trimmed). */
  text: string;
  /** Why, in Chinese. */
  reason: string;
}

export type NoticeParse = { ok: true; notice: HolidayNotice } | { ok: false; error: NoticeError };

/** One day of a notice, in the shape of the statutory data (StatutoryDay plus its date). */
export interface NoticeDay {
  date: string;
  kind: 'holiday' | 'makeup';
  name: string;
  inLieu: boolean;
}

class NoticeFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

const NUMERALS = '一二三四五六七八九十';
/** An item's numeral: at a line's start, after a sentence, or right after the title (a notice pasted as one line). */
const ITEM_START = new RegExp(`(?:^|(?<=[。;:]|通知))([${NUMERALS}]{1,3})、`, 'g');
const DATE = String.raw`(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日(?:\(([^)]*)\))?`;
const RANGE = new RegExp(`^${DATE}(?:(?:至|到|~|-|—|–)${DATE})?放假(.*)$`);
const ONE_DATE = new RegExp(`^${DATE}$`);
const WEEKDAY = /^(?:周|星期|礼拜)([日天一二三四五六])$/;
const WEEKDAY_INDEX: Record<string, number> = { 日: 0, 天: 0, 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6 };
const WEEKDAY_NAMES = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];
const HAS_DATE = /\d{1,2}日/;
/** A range longer than this is a typo (the longest holiday so far is 9 days). */
const MAX_RANGE_DAYS = 15;

/** Full-width digits and punctuation to half-width, spaces removed (the notice never needs them). */
function normalise(s: string): string {
  return s.normalize('NFKC').replace(/[\s\u3000]+/g, '');
}

interface RawDate {
  year?: number;
  month?: number;
  day: number;
  paren?: string;
  written: string;
}

function rawDate(m: RegExpExecArray | RegExpMatchArray, at: number): RawDate | undefined {
  if (m[at + 2] === undefined) return undefined;
  return {
    ...(m[at] ? { year: Number(m[at]) } : {}),
    ...(m[at + 1] ? { month: Number(m[at + 1]) } : {}),
    day: Number(m[at + 2]),
    ...(m[at + 3] !== undefined ? { paren: m[at + 3] } : {}),
    written: `${m[at] ? `${m[at]}年` : ''}${m[at + 1] ? `${m[at + 1]}月` : ''}${m[at + 2]}日`,
  };
}

/** The day number of a written date, with its weekday (if it names one) checked. */
function resolve(d: RawDate, year: number, month: number): number {
  if (month < 1 || month > 12) throw new NoticeFailure(`「${d.written}」的月份不存在。`);
  if (d.day < 1 || d.day > daysInMonth(year, month)) throw new NoticeFailure(`「${d.written}」这个日期不存在（${year}年${month}月只有 ${daysInMonth(year, month)} 天）。`);
  const day = dayFromParts(year, month, d.day);
  for (const part of (d.paren ?? '').split(/[、,,]/)) {
    const w = WEEKDAY.exec(part);
    if (w && WEEKDAY_INDEX[w[1]!] !== weekdayOf(day)) {
      throw new NoticeFailure(`${year}年${month}月${d.day}日是${WEEKDAY_NAMES[weekdayOf(day)]}，通知里写的是「${part}」，星期不符。`);
    }
  }
  return day;
}

function parseDaysOff(sentence: string, year: number): number[] {
  const m = RANGE.exec(sentence);
  if (!m) throw new NoticeFailure(`没能读懂「${sentence}」（应写成「1月1日至3日放假调休，共3天」或「5月1日放假」）。`);
  const start = rawDate(m, 1)!;
  const end = rawDate(m, 5);
  if (start.month === undefined) throw new NoticeFailure(`「${start.written}」缺少月份。`);
  const startYear = start.year ?? year;
  const from = resolve(start, startYear, start.month);
  let to = from;
  if (end) {
    const month = end.month ?? start.month;
    // December to January crosses the year end; any other later-month-first range ends before it starts.
    const crosses = end.year === undefined && start.month === 12 && month === 1;
    to = resolve(end, end.year ?? (crosses ? startYear + 1 : startYear), month);
    if (to < from) throw new NoticeFailure(`结束日期「${end.written}」早于开始日期「${start.written}」。`);
    if (to - from + 1 > MAX_RANGE_DAYS) throw new NoticeFailure(`「${start.written}至${end.written}」长达 ${to - from + 1} 天，请核对。`);
  }
  const days = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  checkTail(m[9] ?? '', days.length);
  return days;
}

/** What follows 放假: 调休, 共N天 / N天, 不调休, 与周末连休 — in any order, comma-separated. */
function checkTail(tail: string, count: number) {
  let rest = tail.replace(/^调休/, '');
  const direct = /^(\d+)天/.exec(rest);
  const counts: number[] = [];
  if (direct) {
    counts.push(Number(direct[1]));
    rest = rest.slice(direct[0].length);
  }
  for (const part of rest.split(/[,,]/).filter(Boolean)) {
    const total = /^共(\d+)天$/.exec(part);
    if (total) counts.push(Number(total[1]));
    else if (!['调休', '不调休', '与周末连休', '放假调休'].includes(part)) throw new NoticeFailure(`没能读懂「${part}」。`);
  }
  for (const n of counts) {
    if (n !== count) throw new NoticeFailure(`写的是共 ${n} 天，但日期算下来是 ${count} 天。`);
  }
}

function parseWorkdays(sentence: string, year: number, crossing: { startYear: number; endYear: number; startMonth: number } | null): number[] {
  const body = sentence.replace(/(?:调休)?上班$/, '');
  if (body === sentence || !body) throw new NoticeFailure(`没能读懂「${sentence}」（应写成「1月4日（周日）上班」）。`);
  const days: number[] = [];
  for (const written of body.split(/[、,,和及]/)) {
    const m = ONE_DATE.exec(written);
    const d = m && rawDate(m, 1);
    if (!d) throw new NoticeFailure(`没能读懂上班日期「${written}」。`);
    if (d.month === undefined) throw new NoticeFailure(`上班日期「${d.written}」缺少月份。`);
    const y = d.year ?? (crossing && d.month < crossing.startMonth ? crossing.endYear : (crossing?.startYear ?? year));
    const day = resolve(d, y, d.month);
    const wd = weekdayOf(day);
    if (wd !== 0 && wd !== 6) throw new NoticeFailure(`${formatIsoDate(day)} 是${WEEKDAY_NAMES[wd]}，本来就上班，不是调休上班日。`);
    days.push(day);
  }
  return days;
}

interface RawItem {
  line: number;
  text: string;
}

/** Items by their numeral (一、二、…), each with the line it starts on; continuation lines join it. */
function splitItems(lines: string[]): { preamble: string; items: RawItem[] } {
  const items: RawItem[] = [];
  let preamble = '';
  lines.forEach((raw, i) => {
    const line = normalise(raw);
    if (!line) return;
    const starts = [...line.matchAll(ITEM_START)].map((m) => m.index! + m[0].indexOf(m[1]!));
    if (!starts.length) {
      if (!items.length) preamble += line + '\n';
      // A wrapped item: a line with a date right after an item belongs to it.
      else if (HAS_DATE.test(line)) items[items.length - 1]!.text += line;
      return;
    }
    if (!items.length) preamble += line.slice(0, starts[0]) + '\n';
    starts.forEach((s, k) => items.push({ line: i + 1, text: line.slice(s, starts[k + 1] ?? line.length) }));
  });
  return { preamble, items };
}

export function parseHolidayNotice(text: string): NoticeParse {
  const lines = text.split(/\r\n|\r|\n/);
  const lineText = (n: number) => (lines[n - 1] ?? '').trim();
  const fail = (line: number, reason: string): NoticeParse => ({ ok: false, error: { line, text: lineText(line), reason } });
  const firstLine = Math.max(1, lines.findIndex((l) => l.trim()) + 1);

  const { preamble, items } = splitItems(lines);
  const y = /(\d{4})年/.exec(preamble);
  if (!y) return fail(firstLine, '没有找到年份：标题应写明年份，例如「国务院办公厅关于2027年部分节假日安排的通知」。');
  const year = Number(y[1]);
  if (year < 2000 || year > 2100) return fail(firstLine, `年份 ${year} 不像是节假日安排的年份，请核对。`);
  if (!items.length) return fail(firstLine, '没有找到「一、元旦：1月1日放假……」这样的条目。');

  const seen = new Map<number, number>();
  const holidays: NoticeHoliday[] = [];
  for (const item of items) {
    try {
      const m = new RegExp(`^[${NUMERALS}]{1,3}、([^:]+):(.*)$`).exec(item.text);
      if (!m) throw new NoticeFailure('没有读到「节日：日期」（例如「一、元旦：1月1日放假」）。');
      const name = m[1]!;
      const off: number[] = [];
      const work: number[] = [];
      const sentences = m[2]!.split(/[。;]/).filter(Boolean);
      for (const s of sentences) {
        if (s.includes('放假')) off.push(...parseDaysOff(s, year));
      }
      if (!off.length) throw new NoticeFailure('没有读到放假日期（应写成「1月1日至3日放假调休，共3天」或「5月1日放假」）。');
      const first = new Date(off[0]! * 86_400_000);
      const last = new Date(off[off.length - 1]! * 86_400_000);
      const crossing =
        first.getUTCFullYear() !== last.getUTCFullYear()
          ? { startYear: first.getUTCFullYear(), endYear: last.getUTCFullYear(), startMonth: first.getUTCMonth() + 1 }
          : null;
      for (const s of sentences) {
        if (s.includes('放假')) continue;
        if (s.includes('上班')) work.push(...parseWorkdays(s, year, crossing));
        else if (HAS_DATE.test(s) && !s.startsWith('鼓励')) throw new NoticeFailure(`没能读懂「${s}」：应是放假日期或上班日期。`);
      }
      for (const d of [...off, ...work]) {
        const other = seen.get(d);
        if (other !== undefined) throw new NoticeFailure(`${formatIsoDate(d)} 在通知里出现了两次${other !== item.line ? `（另一处在第 ${other} 行）` : ''}。`);
        seen.set(d, item.line);
      }
      holidays.push({
        name,
        line: item.line,
        daysOff: off.sort((a, b) => a - b).map(formatIsoDate),
        workdays: work.sort((a, b) => a - b).map(formatIsoDate),
      });
    } catch (err) {
      if (err instanceof NoticeFailure) return fail(item.line, err.reason);
      throw err;
    }
  }
  return { ok: true, notice: { year, holidays } };
}

/**
 * The notice's days in the statutory data's shape. A notice does not say which of its days off are
 * weekdays moved by 调休 (chinese-days' inLieuDays needs the lunar festival dates), so `inLieu` is false;
 * nothing in the bot reads it.
 */
export function noticeDays(notice: HolidayNotice): NoticeDay[] {
  const out: NoticeDay[] = [];
  for (const h of notice.holidays) {
    for (const date of h.daysOff) out.push({ date, kind: 'holiday', name: h.name, inLieu: false });
    for (const date of h.workdays) out.push({ date, kind: 'makeup', name: h.name, inLieu: false });
  }
  return out.sort((a, b) => a.date.localeCompare(b.date));
}

/** The failure as one Chinese sentence naming the line: 第 3 行「三、清明节：…」：写的是共 4 天…… */
export function describeNoticeError(e: NoticeError): string {
  const text = e.text.length > 60 ? `${e.text.slice(0, 60)}…` : e.text;
  return `第 ${e.line} 行${text ? `「${text}」` : ''}：${e.reason}`;
}
