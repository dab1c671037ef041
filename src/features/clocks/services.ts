import type { CalendarProvider, TimerRow } from '../../core/clocks/clock-store';
import type { ChatContext } from '../../core/context';
import type { Emit } from '../../core/events';
import type { PlaybookRule } from '../../domain/playbooks';

/** What the clock commands read besides the chat context: the calendar and any timer's rule (the engine's). */
export interface ClockServices {
  calendar: CalendarProvider;
  ruleOf(row: Pick<TimerRow, 'subject' | 'ruleId'>): PlaybookRule | undefined;
  /** The engine's event bus (calendarChanged after a calendar change). */
  emit: Emit;
}
export type ClockContext = ChatContext & { clocks: ClockServices };
