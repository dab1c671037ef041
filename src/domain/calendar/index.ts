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
  FIXED_DATE_HOLIDAYS,
  type StatutoryDay,
  type StatutoryHolidaySource,
} from './statutory-holidays';
export { isIsoDate, parseIsoDate, formatIsoDate, weekdayOf } from './civil-date';
