import type { WorkCalendar } from '../../domain/calendar';

/**
 * The sandbox's fast-forward: an offset on top of the app's clock, so a newcomer sees the 30-minute
 * escalation, the next morning's reminder and the working-day arithmetic in seconds. Everything that
 * reads time (chat, scheduler, outbox, links) reads the one clock this wraps, the same injection the
 * tests use; the offset lives in memory only (a restart returns to real time). Only ever built when
 * no platform is configured (app.ts): a real group must never see a simulated time.
 */
export interface FastForward {
  /** The simulated time: the base clock plus the offset. */
  clock: () => Date;
  /** How far ahead of the base clock (ms, ≥ 0). */
  offsetMs(): number;
  /** Moves forward to `target` (never backwards: clocks already fired cannot un-fire). */
  moveTo(target: Date): void;
}

export function createFastForward(base: () => Date): FastForward {
  let offset = 0;
  const clock = () => new Date(base().getTime() + offset);
  return {
    clock,
    offsetMs: () => offset,
    moveTo(target) {
      const by = target.getTime() - clock().getTime();
      if (by > 0) offset += by;
    },
  };
}

/** The furthest one step may go: a month covers every ladder of the standards and keeps the arithmetic readable. */
export const MAX_FAST_FORWARD_DAYS = 31;

export type FastForwardParse = { ok: true; target: Date } | { ok: false; message: string };

export const FAST_FORWARD_FORMS = '快进 30 分钟｜快进 2 小时｜快进 1 天｜快进到 明天 9:00｜快进到 下个工作日｜快进到 周一 9:00｜快进到 2026-12-08 09:00';

const UNIT_MS: Record<string, number> = { 分钟: 60_000, 分: 60_000, 小时: 3_600_000, 时: 3_600_000, 天: 86_400_000, 日: 86_400_000 };
const WEEKDAYS: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 日: 0, 天: 0 };

/** Full-width digits and colon as typed on Chinese keyboards → ASCII. */
function halfWidth(s: string): string {
  return s.replace(/[０-９：－／]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/\s+/g, ' ').trim();
}

function weekdayOf(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

/**
 * Reads `快进 N 分钟/小时/天` (relative) or `快进到 <day> [HH:MM]` (a day: 今天, 明天, 后天, 下个工作日,
 * 周X/星期X — the next one after today — or YYYY-MM-DD; without a time the working day's start) in
 * the calendar's time zone. Pure: (text, now, calendar) → the target instant or a polite reason.
 */
export function parseFastForward(text: string, now: Date, cal: WorkCalendar): FastForwardParse {
  const t = halfWidth(text).replace(/^\/?快进/, '');
  const tooFar = (target: Date): FastForwardParse =>
    target.getTime() - now.getTime() > MAX_FAST_FORWARD_DAYS * 86_400_000
      ? { ok: false, message: `抱歉，一次最多快进 ${MAX_FAST_FORWARD_DAYS} 天。` }
      : target.getTime() <= now.getTime()
        ? { ok: false, message: '抱歉，时间只能向前快进；这个时间已经过去了。' }
        : { ok: true, target };

  const rel = /^\s*(\d+(?:\.\d+)?)\s*(分钟|分|小时|时|天|日)\s*$/.exec(t);
  if (rel) return tooFar(new Date(now.getTime() + Math.round(Number(rel[1]) * UNIT_MS[rel[2]!]!)));

  if (/^到/.test(t)) {
    const said = t.replace(/^到\s*/, '');
    const abs = /^(今天|明天|后天|下一?个工作日|(?:周|星期)[一二三四五六日天]|\d{4}-\d{1,2}-\d{1,2})?\s*(?:(\d{1,2})(?::(\d{2}))?\s*(?:点|时)?(半)?)?$/.exec(said);
    if (!abs || (!abs[1] && !abs[2])) return { ok: false, message: `抱歉，没有看懂「${said}」这一天。可以这样写：${FAST_FORWARD_FORMS}` };
    const today = cal.dateOf(now);
    const dayWord = abs[1];
    const hhmm: string | null = abs[2] ? `${abs[2].padStart(2, '0')}:${abs[4] ? '30' : (abs[3] ?? '00')}` : null;
    let date: string | null = null;
    if (!dayWord) {
      // `快进到 9:00`: that time today, or tomorrow when it has passed.
      date = cal.at(today, hhmm!).getTime() > now.getTime() ? today : cal.shiftDate(today, 1, 'days');
    } else if (dayWord === '今天') date = today;
    else if (dayWord === '明天') date = cal.shiftDate(today, 1, 'days');
    else if (dayWord === '后天') date = cal.shiftDate(today, 2, 'days');
    else if (dayWord.endsWith('工作日')) {
      date = cal.shiftDate(today, 1, 'days');
      while (!cal.isWorkingDay(date)) date = cal.shiftDate(date, 1, 'days');
    } else if (/^(?:周|星期)/.test(dayWord)) {
      const want = WEEKDAYS[dayWord.slice(-1)]!;
      date = cal.shiftDate(today, 1, 'days');
      while (weekdayOf(date) !== want) date = cal.shiftDate(date, 1, 'days');
    } else date = dayWord.replace(/-(\d)(?=-|$)/g, '-0$1');
    const valid = new Date(`${date}T00:00:00Z`);
    if (Number.isNaN(valid.getTime()) || valid.toISOString().slice(0, 10) !== date) {
      return { ok: false, message: `抱歉，没有看懂「${dayWord}」这一天。可以这样写：${FAST_FORWARD_FORMS}` };
    }
    if (hhmm !== null) {
      const [h, m] = hhmm.split(':').map(Number) as [number, number];
      if (h > 23 || m > 59) return { ok: false, message: `抱歉，「${hhmm}」不是有效的时间。可以这样写：${FAST_FORWARD_FORMS}` };
    }
    return tooFar(hhmm !== null ? cal.at(date, hhmm) : cal.startOfWorkingDay(date));
  }
  return { ok: false, message: `抱歉，没有看懂要快进多久。可以这样写：${FAST_FORWARD_FORMS}` };
}
