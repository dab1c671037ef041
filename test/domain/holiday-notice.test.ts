import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chineseDaysSource,
  describeNoticeError,
  diffNoticeDays,
  noticeDays,
  parseHolidayNotice,
  type HolidayNotice,
  type NoticeError,
} from '../../src/domain/calendar';

const FIXTURES = join(import.meta.dirname, '../fixtures/calendar-notices');
const notice = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

function parsed(text: string): HolidayNotice {
  const r = parseHolidayNotice(text);
  if (!r.ok) throw new Error(describeNoticeError(r.error));
  return r.notice;
}
function failure(text: string): NoticeError {
  const r = parseHolidayNotice(text);
  if (r.ok) throw new Error(`parsed, but should not have: ${JSON.stringify(r.notice)}`);
  return r.error;
}
function daysOfYear(year: number): string[] {
  const out: string[] = [];
  for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

describe('the State Council notices as published', () => {
  for (const year of [2024, 2025, 2026]) {
    it(`${year}: every day off and every make-up day is chinese-days', and no other`, () => {
      const n = parsed(notice(`${year}.txt`));
      expect(n.year).toBe(year);
      const days = new Map(noticeDays(n).map((d) => [d.date, d]));
      const theirs = daysOfYear(year).flatMap((date) => {
        const s = chineseDaysSource.lookup(date);
        return s ? [[date, s.kind] as const] : [];
      });
      expect([...days.values()].map((d) => [d.date, d.kind])).toEqual(theirs);
      // The festival named by chinese-days is the item's (國庆节、中秋节 in 2025 names both).
      for (const [date] of theirs) expect(days.get(date)!.name).toContain(chineseDaysSource.lookup(date)!.name);
    });
  }

  it('reads the forms of each year: 星期日 and 周日, 与周末连休, 放假1天不调休, a range across a month, two festivals in one item', () => {
    const y2024 = parsed(notice('2024.txt'));
    expect(y2024.holidays.map((h) => h.name)).toEqual(['元旦', '春节', '清明节', '劳动节', '端午节', '中秋节', '国庆节']);
    expect(y2024.holidays[0]).toMatchObject({ line: 2, daysOff: ['2024-01-01'], workdays: [] });
    // The advice to rest on 除夕 (2月9日) is not a day off.
    expect(y2024.holidays[1]!.daysOff).not.toContain('2024-02-09');
    const y2025 = parsed(notice('2025.txt'));
    expect(y2025.holidays[1]).toMatchObject({ name: '春节', workdays: ['2025-01-26', '2025-02-08'] });
    expect(y2025.holidays[1]!.daysOff).toEqual(['2025-01-28', '2025-01-29', '2025-01-30', '2025-01-31', '2025-02-01', '2025-02-02', '2025-02-03', '2025-02-04']);
    expect(y2025.holidays[5]).toMatchObject({ name: '国庆节、中秋节', line: 7 });
    expect(y2025.holidays[0]!.daysOff).toEqual(['2025-01-01']);
  });

  it('reads half-width text, full-width digits, and the whole notice pasted as one line alike', () => {
    const text = notice('2026.txt');
    const expected = noticeDays(parsed(text));
    const halfWidth = text.replace(/[：（），、。]/g, (c) => ({ '：': ':', '（': '(', '）': ')', '，': ',', '、': '、', '。': '。' })[c]!);
    const fullDigits = text.replace(/[0-9]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
    const oneLine = text.replace(/\n/g, '');
    for (const variant of [halfWidth, fullDigits, oneLine]) {
      expect(variant).not.toBe(text);
      expect(noticeDays(parsed(variant))).toEqual(expected);
    }
  });

  it('takes the year from the title and crosses the year end (written years, or December to January)', () => {
    const written = parsed('国务院办公厅关于2027年部分节假日安排的通知\n一、元旦：2026年12月31日（周四）至2027年1月2日（周六）放假调休，共3天。2027年1月3日（周日）上班。');
    expect(written.holidays[0]).toMatchObject({ daysOff: ['2026-12-31', '2027-01-01', '2027-01-02'], workdays: ['2027-01-03'] });
    const implicit = parsed('关于2027年部分节假日安排的通知\n一、元旦：12月31日（周五）至1月2日（周日）放假，共3天。1月8日（周六）上班。');
    expect(implicit.holidays[0]).toMatchObject({ daysOff: ['2027-12-31', '2028-01-01', '2028-01-02'], workdays: ['2028-01-08'] });
  });

  it('reads the constructed 2027 test fixture (marked as such on its first line)', () => {
    const text = notice('2027-TEST-FIXTURE.txt');
    expect(text.split('\n')[0]).toContain('测试');
    const n = parsed(text);
    expect(n.year).toBe(2027);
    expect(n.holidays[1]).toMatchObject({ name: '春节', line: 4, workdays: ['2027-02-20'] });
    expect(n.holidays[1]!.daysOff).toHaveLength(9);
  });
});

describe('a malformed notice is an error naming the line, never a guess', () => {
  const T = '国务院办公厅关于2026年部分节假日安排的通知';
  const cases: [string, string, number, RegExp][] = [
    ['count mismatch', `${T}\n一、元旦：1月1日（周四）至3日（周六）放假调休，共4天。1月4日（周日）上班。`, 2, /共 4 天.*3 天/],
    ['weekday mismatch', `${T}\n一、元旦：1月1日（周五）至3日（周六）放假调休，共3天。`, 2, /2026年1月1日是周四.*「周五」/],
    ['weekday mismatch on a make-up day', `${T}\n一、元旦：1月1日至3日放假，共3天。\n二、春节：2月15日至23日放假调休，共9天。2月14日（周日）上班。`, 3, /2026年2月14日是周六/],
    ['missing year', '国务院办公厅关于部分节假日安排的通知\n一、元旦：1月1日放假。', 1, /没有找到年份/],
    ['no such date', `${T}\n一、元旦：1月1日放假。\n二、春节：2月30日至3月2日放假调休，共3天。`, 3, /2月30日.*不存在/],
    ['no such month', `${T}\n一、元旦：13月1日放假。`, 2, /月份不存在/],
    ['unknown form (no 放假)', `${T}\n一、元旦：1月1日放假。\n二、春节：2月15日到23日休息9天。`, 3, /没有读到放假日期/],
    ['unknown form (an unread tail)', `${T}\n一、元旦：1月1日至3日放假调休，共3天，具体另行通知。`, 2, /没能读懂「具体另行通知」/],
    ['unknown sentence with a date', `${T}\n一、元旦：1月1日至3日放假，共3天。1月4日（周日）补班。`, 2, /没能读懂「1月4日\(周日\)补班」/],
    ['end before start', `${T}\n一、元旦：1月1日放假。\n二、劳动节：5月5日至1日放假调休，共5天。`, 3, /结束日期「1日」早于开始日期「5月5日」/],
    ['a month back that is not the year end', `${T}\n一、劳动节：5月5日至4月30日放假。`, 2, /早于开始日期/],
    ['start without a month', `${T}\n一、元旦：1日至3日放假，共3天。`, 2, /缺少月份/],
    ['make-up day on a weekday', `${T}\n一、元旦：1月1日至3日放假，共3天。1月5日（周一）上班。`, 2, /周一，本来就上班/],
    ['a day named twice', `${T}\n一、元旦：1月1日至3日放假，共3天。\n二、春节：1月3日放假。`, 3, /2026-01-03 在通知里出现了两次（另一处在第 2 行）/],
    ['an item without 节日：', `${T}\n一、元旦 1月1日放假。`, 2, /节日：日期/],
    ['no items at all', `${T}\n各省、自治区、直辖市人民政府：`, 1, /没有找到「一、元旦/],
    ['a range far too long', `${T}\n一、国庆节：10月1日至31日放假。`, 2, /长达 31 天/],
  ];
  for (const [what, text, line, reason] of cases) {
    it(`${what}: line ${line}`, () => {
      const e = failure(text);
      expect(e.line).toBe(line);
      expect(e.text).toBe(text.split('\n')[line - 1]!.trim());
      expect(e.reason).toMatch(reason);
      expect(describeNoticeError(e)).toMatch(new RegExp(`^第 ${line} 行「`));
    });
  }
});

describe('the diff against the data in use', () => {
  it('is empty against chinese-days for a notice it already has, and names each changed day otherwise', () => {
    const n = parsed(notice('2026.txt'));
    const lookup = (d: string) => chineseDaysSource.lookup(d);
    expect(diffNoticeDays(2026, noticeDays(n), lookup)).toEqual({ newDaysOff: [], noLongerOff: [], newWorkdays: [], noLongerWorkdays: [] });
    const changed = parsed(notice('2026.txt').replace('5月9日（周六）上班', '5月10日（周日）上班').replace('6月19日（周五）至21日（周日）放假，共3天', '6月19日（周五）放假，与周末连休'));
    expect(diffNoticeDays(2026, noticeDays(changed), lookup)).toEqual({
      newDaysOff: [],
      noLongerOff: ['2026-06-20', '2026-06-21'],
      newWorkdays: ['2026-05-10'],
      noLongerWorkdays: ['2026-05-09'],
    });
  });
});
