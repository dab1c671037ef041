import * as clk from './clock-commands';
import { commandsFromTable } from '../../core/commands';
import type { CalendarProvider } from '../../core/clocks/clock-store';
import type { Engine, Feature, Handler } from '../../core/feature';
import type { HandlerArgs } from '../../core/context';
import { CLOCK_COMMANDS } from './specs';
import { uncoveredYearWarning } from './uncovered-years';

export { wallTimeText } from './clock-commands';
export { uncoveredYearWarning } from './uncovered-years';

/**
 * 计时: overdue and due lists over every feature's timers, the working-day calendar (`/日历`), and the
 * warning to 总经办 when the calendar does not cover the coming year (minute upkeep).
 */
export function clocksFeature(deps: { calendar: CalendarProvider }): Feature {
  let engine: Engine | null = null;
  const services: clk.ClockServices = { calendar: deps.calendar, ruleOf: (row) => engine?.ruleOf(row) };
  const withServices = (h: (ctx: clk.ClockContext, a: HandlerArgs) => Promise<void>): Handler => (ctx, a) => h({ ...ctx, clocks: services }, a);
  const handlers: Record<string, Handler> = {
    'clock.overdue': withServices(clk.overdue),
    'clock.due': withServices(clk.due),
    'calendar.show': withServices(clk.calendarShow),
    'calendar.adjust': withServices(clk.calendarAdjust),
  };
  return {
    name: 'clocks',
    help: { topic: '计时', words: ['计时', '时限', '提醒', '日历', 'clock', 'clocks', 'timer', 'timers'] },
    commands: commandsFromTable(CLOCK_COMMANDS, handlers),
    maintain: uncoveredYearWarning(),
    init: (e) => {
      engine = e;
    },
  };
}
