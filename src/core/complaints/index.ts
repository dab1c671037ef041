import type { ComplaintPlaybook } from '../../domain/complaints';
import type { Handler } from '../feature';
import type { CalendarProvider } from '../clocks/clock-store';
import type { TimerSubject } from '../clocks/scheduler';
import type { ChatContext } from '../context';
import type { Feature } from '../feature';
import { createComplaintClocks } from './complaint-clocks';
import { createComplaintCommands } from './complaint-commands';
import type { LevelReader } from './complaint-kit';
import { createRateReview } from './complaint-rate-review';
import { COMPLAINT_COMMANDS } from './complaint-specs';
import { complaintTimerSubject } from './complaint-subject';

/**
 * 投诉 as one feature (feature.ts): its commands, `/查 T7`, and the scheduler's complaint timers with the
 * year-end complaint-rate review (4.4.3) as that subject's housekeeping.
 */
export function createComplaints(deps: { playbook: ComplaintPlaybook; calendar: CalendarProvider; readLevel?: LevelReader }) {
  const clocks = createComplaintClocks(deps);
  const commands = createComplaintCommands({ playbook: deps.playbook, clocks, readLevel: deps.readLevel });
  const timerSubject: TimerSubject = { ...complaintTimerSubject(deps.playbook), housekeeping: createRateReview(deps) };
  const feature: Feature = {
    name: 'complaints',
    help: { topic: '投诉', words: ['投诉', 'complaint', 'complaints'] },
    commands: COMPLAINT_COMMANDS.map((spec) => {
      const handler = commands.handlers[spec.id];
      if (!handler) throw new Error(`no handler for ${spec.id}`);
      return { spec, handler: handler as Handler };
    }),
    refs: { T: { noun: '投诉', example: 'T7', show: (ctx: ChatContext, id: number) => commands.show(ctx, id) } },
    timerSubjects: [timerSubject],
  };
    // `/投诉 确认` (triage) files through the same intake as `/投诉`.
  return { feature, clocks, timerSubject, fileComplaint: commands.fileComplaint };
}

export type Complaints = ReturnType<typeof createComplaints>;
export { COMPLAINT_COMMANDS } from './complaint-specs';
export type { FileComplaintInput } from './complaint-intake';
