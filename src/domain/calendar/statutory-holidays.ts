/**
 * China's statutory holidays (法定节假日) and make-up workdays (调休补班) from the `chinese-days` package.
 *
 * We read the package's published JSON (`dist/chinese-days.json`, documented in its README as the
 * data file for non-JS users) rather than calling isWorkday()/getDayDetail(): those parse
 * 'YYYY-MM-DD' as UTC midnight and then take the start of the day in the *host's* time zone, which
 * shifts every date by one on a server west of UTC. The JSON is keyed by plain dates, so nothing
 * depends on where the bot runs.
 *
 * Coverage (chinese-days 1.5.7): 2004–2026, i.e. up to the latest State Council notice
 * (2026: 国办发明电〔2025〕7号, https://www.gov.cn/zhengce/zhengceku/202511/content_7047091.htm).
 * Each entry is "English name,中文名,sequence", e.g. "Spring Festival,春节,4".
 */
import chineseDaysData from 'chinese-days/dist/chinese-days.json';

export interface StatutoryDay {
  /** holiday: a day off by the notice; makeup: a weekend day that is worked (调休补班). */
  kind: 'holiday' | 'makeup';
  /** Chinese festival name, e.g. 春节; for a make-up day, the festival it makes up for. */
  name: string;
  /** A holiday that is a weekday moved off by 调休 (chinese-days: inLieuDays). */
  inLieu: boolean;
}

export interface StatutoryHolidaySource {
  /** Years the source has data for. */
  readonly years: ReadonlySet<number>;
  lookup(date: string): StatutoryDay | undefined;
}

interface RawData {
  holidays: Record<string, string>;
  workdays: Record<string, string>;
  inLieuDays: Record<string, string>;
}

function chineseName(entry: string): string {
  return entry.split(',')[1]?.trim() || entry;
}

/** Builds a source from data in the chinese-days JSON shape (tests pass their own). */
export function createStatutoryHolidaySource(data: RawData): StatutoryHolidaySource {
  const years = new Set<number>();
  for (const date of Object.keys(data.holidays)) years.add(Number(date.slice(0, 4)));
  return {
    years,
    lookup(date) {
      const work = data.workdays[date];
      if (work !== undefined) return { kind: 'makeup', name: chineseName(work), inLieu: false };
      const off = data.holidays[date];
      if (off !== undefined) return { kind: 'holiday', name: chineseName(off), inLieu: date in data.inLieuDays };
      return undefined;
    },
  };
}

export const chineseDaysSource: StatutoryHolidaySource = createStatutoryHolidaySource(chineseDaysData as RawData);

/** One day of imported data (an applied State Council notice), with the notice's year. */
export interface ImportedStatutoryDay extends StatutoryDay {
  /** The notice's year (a day may lie just outside it, e.g. 12-31 before a 元旦 holiday). */
  year: number;
  date: string;
}

/**
 * Imported notices over a base source: a year with an import is read from the import alone (the
 * package's data for that year is set aside entirely); a day an import names wins in any year; every
 * other day is the base's.
 */
export function withImportedYears(base: StatutoryHolidaySource, imported: readonly ImportedStatutoryDay[]): StatutoryHolidaySource {
  if (!imported.length) return base;
  const byDate = new Map<string, StatutoryDay>();
  const importedYears = new Set<number>();
  for (const d of [...imported].sort((a, b) => a.year - b.year)) {
    importedYears.add(d.year);
    byDate.set(d.date, { kind: d.kind, name: d.name, inLieu: d.inLieu });
  }
  return {
    years: new Set([...base.years, ...importedYears]),
    lookup(date) {
      const hit = byDate.get(date);
      if (hit) return hit;
      return importedYears.has(Number(date.slice(0, 4))) ? undefined : base.lookup(date);
    },
  };
}

/**
 * Used for a year the source does not cover: weekends plus the holidays whose Gregorian dates never move.
 * Lunar holidays (春节, 清明, 端午, 中秋) and 调休 cannot be guessed, so the calendar reports such years.
 */
export const FIXED_DATE_HOLIDAYS: ReadonlyArray<{ monthDay: string; name: string }> = [
  { monthDay: '01-01', name: '元旦' },
  { monthDay: '05-01', name: '劳动节' },
  { monthDay: '10-01', name: '国庆节' },
  { monthDay: '10-02', name: '国庆节' },
  { monthDay: '10-03', name: '国庆节' },
];
