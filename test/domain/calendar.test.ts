import { describe, expect, it } from 'vitest';
import {
  createStatutoryHolidaySource,
  createWorkCalendar,
  describeDayInChinese,
  formatInstantInChinese,
  type WorkCalendar,
} from '../../src/domain/calendar';

/** Instants are written in +08:00 so every expectation reads as Beijing wall time. */
const bj = (s: string) => new Date(`${s}+08:00`);
const HOUR = 3_600_000;

function datesIn(cal: WorkCalendar, from: string, to: string, pred: (d: string) => boolean): string[] {
  const out: string[] = [];
  for (let t = new Date(`${from}T00:00:00Z`); t <= new Date(`${to}T00:00:00Z`); t = new Date(t.getTime() + 86_400_000)) {
    const d = t.toISOString().slice(0, 10);
    if (pred(d)) out.push(d);
  }
  return out;
}

describe('2026 statutory calendar (国办发明电〔2025〕7号)', () => {
  const cal = createWorkCalendar();

  it('days off are exactly the notice’s holidays plus ordinary weekends', () => {
    const holidays = datesIn(cal, '2026-01-01', '2026-12-31', (d) => cal.explainDay(d).reason === 'holiday');
    expect(holidays).toEqual([
      // 元旦 1月1日至3日
      '2026-01-01', '2026-01-02', '2026-01-03',
      // 春节 2月15日至23日
      '2026-02-15', '2026-02-16', '2026-02-17', '2026-02-18', '2026-02-19', '2026-02-20', '2026-02-21', '2026-02-22', '2026-02-23',
      // 清明 4月4日至6日
      '2026-04-04', '2026-04-05', '2026-04-06',
      // 劳动节 5月1日至5日
      '2026-05-01', '2026-05-02', '2026-05-03', '2026-05-04', '2026-05-05',
      // 端午 6月19日至21日
      '2026-06-19', '2026-06-20', '2026-06-21',
      // 中秋 9月25日至27日
      '2026-09-25', '2026-09-26', '2026-09-27',
      // 国庆 10月1日至7日
      '2026-10-01', '2026-10-02', '2026-10-03', '2026-10-04', '2026-10-05', '2026-10-06', '2026-10-07',
    ]);
  });

  it('make-up workdays are exactly 1/4, 2/14, 2/28, 5/9, 9/20, 10/10', () => {
    const makeups = datesIn(cal, '2026-01-01', '2026-12-31', (d) => cal.explainDay(d).reason === 'makeup');
    expect(makeups).toEqual(['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10']);
    for (const d of makeups) {
      expect(cal.isWorkingDay(d)).toBe(true);
      expect(cal.explainDay(d).makeup).toBe(true);
    }
  });

  it('names holidays and make-up days in Chinese', () => {
    expect(cal.explainDay('2026-02-14')).toEqual({
      date: '2026-02-14', weekday: 6, working: true, reason: 'makeup', holidayName: '春节', makeup: true,
    });
    expect(cal.explainDay('2026-10-01')).toMatchObject({ working: false, reason: 'holiday', holidayName: '国庆节' });
    expect(cal.explainDay('2026-05-09')).toMatchObject({ working: true, holidayName: '劳动节' });
    expect(cal.explainDay('2026-06-19')).toMatchObject({ working: false, holidayName: '端午' });
    expect(cal.explainDay('2026-09-25')).toMatchObject({ working: false, holidayName: '中秋' });
    expect(cal.explainDay('2026-04-06')).toMatchObject({ working: false, holidayName: '清明' });
    expect(cal.explainDay('2026-03-10')).toMatchObject({ working: true, reason: 'weekday', makeup: false });
    expect(cal.explainDay('2026-03-14')).toMatchObject({ working: false, reason: 'weekend' });
  });

  it('counts 248 working days in 2026', () => {
    const workdays = datesIn(cal, '2026-01-01', '2026-12-31', (d) => cal.isWorkingDay(d));
    // 261 Monday–Friday days, 19 of them holidays (元旦 2, 春节 6, 清明 1, 劳动节 3, 端午 1, 中秋 1, 国庆 5), plus 6 make-up days.
    expect(workdays).toHaveLength(248);
  });

  it('describes a day for /日历', () => {
    expect(describeDayInChinese(cal.explainDay('2026-02-14'), cal)).toBe(
      '2026年2月14日(周六) 是工作日(补班日)，因为是春节调休补班。',
    );
    expect(describeDayInChinese(cal.explainDay('2026-10-05'), cal)).toBe(
      '2026年10月5日(周一) 是休息日，因为是法定节假日（国庆节）。',
    );
  });

  it('rejects a malformed or impossible date', () => {
    expect(() => cal.isWorkingDay('2026-02-30')).toThrow(RangeError);
    expect(() => cal.explainDay('26-1-1')).toThrow(RangeError);
  });
});

describe('working time arithmetic', () => {
  const cal = createWorkCalendar();

  it('nextWorkingMoment keeps a working moment and moves others to the next 09:00', () => {
    expect(cal.nextWorkingMoment(bj('2026-03-10T10:30:00'))).toEqual(bj('2026-03-10T10:30:00'));
    expect(cal.nextWorkingMoment(bj('2026-03-10T07:00:00'))).toEqual(bj('2026-03-10T09:00:00'));
    expect(cal.nextWorkingMoment(bj('2026-03-10T18:00:00'))).toEqual(bj('2026-03-11T09:00:00'));
    expect(cal.nextWorkingMoment(bj('2026-03-13T19:00:00'))).toEqual(bj('2026-03-16T09:00:00'));
    expect(cal.isWorkingMoment(bj('2026-03-10T17:59:59'))).toBe(true);
    expect(cal.isWorkingMoment(bj('2026-03-14T10:00:00'))).toBe(false);
  });

  it('addWorkingDays counts N × 9 h from the next working moment', () => {
    expect(cal.workingDayMs).toBe(9 * HOUR);
    expect(cal.addWorkingDays(bj('2026-03-09T14:00:00'), 2)).toEqual(bj('2026-03-11T14:00:00'));
    // Outside hours: counting starts at the next morning, and lands on the end of the day, not the next 09:00.
    expect(cal.addWorkingDays(bj('2026-03-09T20:00:00'), 1)).toEqual(bj('2026-03-10T18:00:00'));
    expect(cal.addWorkingDays(bj('2026-03-13T16:00:00'), 1)).toEqual(bj('2026-03-16T16:00:00'));
    expect(cal.addWorkingDays(bj('2026-03-10T09:00:00'), 0.5)).toEqual(bj('2026-03-10T13:30:00'));
    expect(cal.addWorkingTime(bj('2026-03-10T17:00:00'), 2 * HOUR)).toEqual(bj('2026-03-11T10:00:00'));
  });

  it('adds working days across 春节 (2/14 and 2/28 are make-up Saturdays)', () => {
    // Friday 2/13 10:00 + 1 wd → Saturday 2/14 10:00 (补班), + 2 wd → Tuesday 2/24 10:00.
    expect(cal.addWorkingDays(bj('2026-02-13T10:00:00'), 1)).toEqual(bj('2026-02-14T10:00:00'));
    expect(cal.addWorkingDays(bj('2026-02-13T10:00:00'), 2)).toEqual(bj('2026-02-24T10:00:00'));
    expect(cal.addWorkingDays(bj('2026-02-27T10:00:00'), 1)).toEqual(bj('2026-02-28T10:00:00'));
    expect(cal.workingTimeBetween(bj('2026-02-13T09:00:00'), bj('2026-02-24T18:00:00'))).toBe(3 * 9 * HOUR);
  });

  it('adds working days across 国庆 (9/20 and 10/10 are make-up days)', () => {
    expect(cal.addWorkingDays(bj('2026-09-30T15:00:00'), 1)).toEqual(bj('2026-10-08T15:00:00'));
    expect(cal.addWorkingDays(bj('2026-09-30T15:00:00'), 3)).toEqual(bj('2026-10-10T15:00:00'));
    expect(cal.addWorkingDays(bj('2026-09-18T12:00:00'), 1)).toEqual(bj('2026-09-20T12:00:00'));
  });

  it('moves backwards with negative working time', () => {
    expect(cal.addWorkingTime(bj('2026-03-16T11:00:00'), -3 * HOUR)).toEqual(bj('2026-03-13T17:00:00'));
    expect(cal.addWorkingTime(bj('2026-03-10T18:00:00'), -4.5 * HOUR)).toEqual(bj('2026-03-10T13:30:00'));
  });

  it('workingTimeBetween measures only working hours and is antisymmetric', () => {
    expect(cal.workingTimeBetween(bj('2026-03-13T17:00:00'), bj('2026-03-16T10:00:00'))).toBe(2 * HOUR);
    expect(cal.workingTimeBetween(bj('2026-03-16T10:00:00'), bj('2026-03-13T17:00:00'))).toBe(-2 * HOUR);
    expect(cal.workingTimeBetween(bj('2026-03-14T10:00:00'), bj('2026-03-15T10:00:00'))).toBe(0);
  });

  it('workingDaysBefore: deadline Monday 2026-12-21, n = 2 → Thursday 2026-12-17 18:00', () => {
    expect(cal.workingDaysBefore('2026-12-21', 2)).toEqual(bj('2026-12-17T18:00:00'));
    expect(cal.workingDaysBefore('2026-12-21', 0)).toEqual(bj('2026-12-21T18:00:00'));
    expect(cal.workingDaysBefore('2026-12-20', 0)).toEqual(bj('2026-12-18T18:00:00'));
    // Deadline 10/9 (Fri) with 2 wd → 10/8, then 9/30 (the holiday in between is skipped).
    expect(cal.workingDaysBefore('2026-10-09', 2)).toEqual(bj('2026-09-30T18:00:00'));
    expect(cal.endOfWorkingDay('2026-12-17')).toEqual(bj('2026-12-17T18:00:00'));
  });

  it('calendar days and months keep the wall time; months clamp the day', () => {
    expect(cal.addCalendarDays(bj('2026-03-10T10:00:00'), -45)).toEqual(bj('2026-01-24T10:00:00'));
    expect(cal.addCalendarMonths(bj('2026-01-31T10:00:00'), 1)).toEqual(bj('2026-02-28T10:00:00'));
    expect(cal.shiftDate('2027-06-30', -6, 'months')).toBe('2026-12-30');
  });

  it('does not depend on the host time zone: an instant near midnight UTC lands on the Beijing date', () => {
    expect(cal.dateOf(new Date('2026-02-13T16:30:00Z'))).toBe('2026-02-14');
    expect(cal.at('2026-02-14', '09:00')).toEqual(new Date('2026-02-14T01:00:00Z'));
  });

  it('takes configurable working hours and time zone', () => {
    const short = createWorkCalendar({ workingHours: { start: '08:30', end: '17:30' }, timeZone: 'UTC' });
    expect(short.addWorkingDays(new Date('2026-03-09T20:00:00Z'), 1)).toEqual(new Date('2026-03-10T17:30:00Z'));
    expect(() => createWorkCalendar({ workingHours: { start: '18:00', end: '09:00' } })).toThrow();
    expect(() => createWorkCalendar({ timeZone: 'Mars/Olympus_Mons' })).toThrow(/unknown time zone/);
    const tokyo = createWorkCalendar({ timeZone: 'Asia/Tokyo' });
    expect(tokyo.at('2026-03-10', '09:00')).toEqual(new Date('2026-03-10T00:00:00Z'));
  });
});

describe('company overrides win both ways', () => {
  const cal = createWorkCalendar({
    overrides: [
      { date: '2026-03-14', kind: 'work', note: '年度盘点' },
      { date: '2026-03-16', kind: 'off', note: '公司团建' },
      { date: '2026-10-08', kind: 'work' },
      { date: '2026-02-14', kind: 'off' },
    ],
  });

  it('an override-work Saturday is a working (make-up) day; an override-off Monday is not', () => {
    expect(cal.explainDay('2026-03-14')).toMatchObject({ working: true, reason: 'override-work', makeup: true, note: '年度盘点' });
    expect(cal.explainDay('2026-03-16')).toMatchObject({ working: false, reason: 'override-off', note: '公司团建' });
    expect(cal.explainDay('2026-02-14')).toMatchObject({ working: false, reason: 'override-off', holidayName: '春节' });
    expect(cal.addWorkingDays(bj('2026-03-13T10:00:00'), 1)).toEqual(bj('2026-03-14T10:00:00'));
    expect(cal.addWorkingDays(bj('2026-03-14T10:00:00'), 1)).toEqual(bj('2026-03-17T10:00:00'));
  });

  it('rejects a malformed override', () => {
    expect(() => createWorkCalendar({ overrides: [{ date: '2026-13-01', kind: 'off' }] })).toThrow();
  });
});

describe('years chinese-days does not cover', () => {
  it('covers 2004–2026 and reports later years as fallback', () => {
    const cal = createWorkCalendar();
    expect(cal.coverage(2004)).toBe('statutory');
    expect(cal.coverage(2026)).toBe('statutory');
    expect(cal.coverage(2027)).toBe('fallback');
  });

  it('falls back to weekends plus 元旦, 劳动节, 国庆 1–3, and reports the years it was asked about', () => {
    const cal = createWorkCalendar();
    cal.isWorkingDay('2026-06-01');
    expect(cal.fallbackYearsUsed()).toEqual([]);
    expect(cal.explainDay('2027-10-01')).toMatchObject({ working: false, reason: 'fallback-holiday', holidayName: '国庆节' });
    expect(cal.explainDay('2027-10-04')).toMatchObject({ working: true, reason: 'fallback-weekday' });
    expect(cal.explainDay('2027-05-01')).toMatchObject({ working: false, reason: 'fallback-holiday', holidayName: '劳动节' });
    expect(cal.explainDay('2028-01-01')).toMatchObject({ working: false, reason: 'fallback-holiday', holidayName: '元旦' });
    expect(cal.explainDay('2027-01-02')).toMatchObject({ working: false, reason: 'fallback-weekend' });
    expect(cal.fallbackYearsUsed()).toEqual([2027, 2028]);
    // Working days past the end of the data keep working.
    expect(cal.addWorkingDays(bj('2026-12-31T10:00:00'), 1)).toEqual(bj('2027-01-04T10:00:00'));
  });

  it('an override still wins in an uncovered year', () => {
    const cal = createWorkCalendar({ overrides: [{ date: '2027-02-08', kind: 'off', note: '春节' }] });
    expect(cal.explainDay('2027-02-08')).toMatchObject({ working: false, reason: 'override-off' });
  });

  it('uses the statutory source it is given', () => {
    const source = createStatutoryHolidaySource({
      holidays: { '2030-01-01': "New Year's Day,元旦,1", '2030-02-04': 'Spring Festival,春节,4' },
      workdays: { '2030-02-09': 'Spring Festival,春节,4' },
      inLieuDays: {},
    });
    const cal = createWorkCalendar({ statutory: source });
    expect(cal.coverage(2030)).toBe('statutory');
    expect(cal.explainDay('2030-02-04')).toMatchObject({ working: false, reason: 'holiday', holidayName: '春节' });
    expect(cal.explainDay('2030-02-09')).toMatchObject({ working: true, reason: 'makeup' });
  });
});

describe('Chinese formatting for reminders', () => {
  const cal = createWorkCalendar();

  it('writes month, day, weekday and time', () => {
    expect(formatInstantInChinese(bj('2026-12-17T18:00:00'), cal)).toBe('12月17日(周四) 18:00');
  });

  it('marks a make-up working day', () => {
    expect(formatInstantInChinese(bj('2026-02-14T18:00:00'), cal)).toBe('2月14日(周六) 18:00(补班日)');
  });

  it('writes the year when it differs from now', () => {
    expect(formatInstantInChinese(bj('2027-01-05T09:30:00'), cal, { now: bj('2026-12-30T10:00:00') })).toBe(
      '2027年1月5日(周二) 09:30',
    );
  });
});

describe('speed', () => {
  it('computes 10,000 dues across a year quickly (per-day lookups are cached)', () => {
    const cal = createWorkCalendar();
    const start = performance.now();
    let last = new Date(0);
    for (let i = 0; i < 10_000; i++) {
      const t = new Date(bj('2026-01-05T09:00:00').getTime() + (i % 300) * 86_400_000 + (i % 17) * HOUR);
      last = cal.addWorkingDays(t, 1 + (i % 10));
    }
    expect(last.getTime()).toBeGreaterThan(0);
    expect(performance.now() - start).toBeLessThan(2000);
  });
});
