export {
  createWorkCalendar,
  calendarOverrideSchema,
  workingHoursSchema,
  DEFAULT_WORKING_HOURS,
  type WorkCalendar,
  type WorkCalendarOptions,
  type CalendarOverride,
  type WorkingHours,
  type DayExplanation,
  type DayReason,
  type YearCoverage,
} from './work-calendar';
export {
  formatInstantInChinese,
  formatDateInChinese,
  describeDayInChinese,
  WEEKDAY_NAMES,
  MAKEUP_MARK,
  type FormatOptions,
} from './format-in-chinese';
export {
  chineseDaysSource,
  createStatutoryHolidaySource,
  withImportedYears,
  FIXED_DATE_HOLIDAYS,
  type ImportedStatutoryDay,
  type StatutoryDay,
  type StatutoryHolidaySource,
} from './statutory-holidays';
export { isIsoDate, parseIsoDate, formatIsoDate, weekdayOf } from './civil-date';
export {
  parseHolidayNotice,
  noticeDays,
  describeNoticeError,
  type HolidayNotice,
  type NoticeHoliday,
  type NoticeError,
  type NoticeParse,
  type NoticeDay,
} from './holiday-notice';
export { diffNoticeDays, type NoticeDiff } from './notice-diff';
