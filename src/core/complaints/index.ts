import type { ComplaintPlaybook } from '../../domain/complaints';
import type { Handler } from '../feature';
import type { CalendarProvider } from '../clocks/clock-store';
import type { TimerSubject } from '../clocks/scheduler';
import type { ChatContext } from '../context';
import type { Feature } from '../feature';
import { createComplaintClocks } from './complaint-clocks';
import { createComplaintCommands } from './complaint-commands';
import { createRateReview } from './complaint-rate-review';
import { COMPLAINT_COMMANDS } from './complaint-specs';
import { complaintTimerSubject } from './complaint-subject';

/**
 * The complaints capability as one plug-in: chat commands (extensions), `/查 T7` (a ref kind), and
 * the scheduler's complaint timers (a timer subject).
 */
export function createComplaints(deps: { playbook: ComplaintPlaybook; calendar: CalendarProvider }) {
  const clocks = createComplaintClocks(deps);
  const commands = createComplaintCommands({ playbook: deps.playbook, clocks });
  const extensions = COMPLAINT_COMMANDS.map((spec) => {
    const handler = commands.handlers[spec.id];
    if (!handler) throw new Error(`no handler for ${spec.id}`);
    return { spec, handler: handler as Handler };
  });
  const refs = { T: (ctx: ChatContext, id: number) => commands.show(ctx, id) };
  const timerSubject: TimerSubject = { ...complaintTimerSubject(deps.playbook), housekeeping: createRateReview(deps) };
  /** The feature the app registers: commands, `/查 T7`, complaint timers (+ the year-end rate review, 4.4.3). */
  const feature: Feature = {
    name: 'complaints',
    help: { topic: '投诉', words: ['投诉', 'complaint', 'complaints'] },
    commands: extensions,
    refs: { T: { noun: '投诉', example: 'T7', show: refs.T } },
    timerSubjects: [timerSubject],
  };
  return {
    feature,
    clocks,
    extensions,
    /** `/查 T7`. */
    refs,
    /** Complaint timers, and the year-end complaint-rate review (4.4.3) on the scheduler's tick. */
    timerSubject,
  };
}

export type Complaints = ReturnType<typeof createComplaints>;
export { COMPLAINT_COMMANDS } from './complaint-specs';
