import * as clk from '../core/commands/clock-commands';
import * as ord from '../core/commands/order-commands';
import { commandsFromTable } from '../core/commands/specs';
import type { OrderClocks } from '../core/clocks/order-clocks';
import { withClocks } from '../core/commands/order-context';
import type { Feature } from '../core/feature';

/** 计时: an order's dates and checked-off clocks, overdue and due lists, the working-day calendar. */
export function clocksFeature(deps: { clocks: OrderClocks }): Feature {
  const handlers = withClocks(deps.clocks, {
    'order.set': ord.orderSet,
    'order.checkoff': ord.orderCheckoff,
    'clock.overdue': clk.overdue,
    'clock.due': clk.due,
    'calendar.show': clk.calendarShow,
    'calendar.adjust': clk.calendarAdjust,
  });
  return {
    name: 'clocks',
    help: { topic: '计时', words: ['计时', '时限', '提醒', '日历', 'clock', 'clocks', 'timer', 'timers'] },
    commands: commandsFromTable(handlers),
  };
}
