import type { ComplaintPlaybook } from '../../domain/complaints';
import type { CalendarProvider } from '../../core/clocks/clock-store';
import type { TimerSubject } from '../../core/clocks/scheduler';
import type { ChatContext } from '../../core/context';
import { on } from '../../core/events';
import type { Feature, Handler } from '../../core/feature';
import { createComplaintClocks } from './complaint-clocks';
import { createComplaintCommands } from './complaint-commands';
import { createRateReview } from './complaint-rate-review';
import { COMPLAINT_COMMANDS } from './complaint-specs';
import { complaintTimerSubject } from './complaint-subject';
import { attachClientMessage, complaintLevelAsked, continueTriageClock, fileComplaint } from './events';
import { createContinuation } from './complaint-continuation';

export { COMPLAINT_COMMANDS } from './complaint-specs';
export { COMPLAINT_EVENT_NAMES } from './complaint-reports';
export { rateOf, rateSpan } from './complaint-rate-review';
export { attachClientMessage, complaintLevelAsked, continueTriageClock, fileComplaint, type ClientFollowUpInput, type FileComplaintInput, type FileComplaintRequest, type LevelReading } from './events';
export { countedComplaint } from './complaint-void';
export { CLIENT_GROUP_ACK } from './complaint-kit';

/**
 * 投诉 as one feature: its commands, `/查 T7`, and the scheduler's complaint timers with the year-end
 * complaint-rate review (4.4.3) as that subject's housekeeping. It answers `fileComplaint` (another
 * feature relays a client's words, e.g. a confirmed triage suggestion) through the same intake as
 * `/投诉`, and asks `complaintLevelAsked` for other features' readings of a complaint's level.
 */
export function complaintsFeature(deps: { playbook: ComplaintPlaybook; calendar: CalendarProvider }): Feature {
  const clocks = createComplaintClocks(deps);
  const commands = createComplaintCommands({ playbook: deps.playbook, clocks });
  const continuation = createContinuation(deps);
  const timerSubject: TimerSubject = { ...complaintTimerSubject(deps.playbook), housekeeping: createRateReview(deps) };
  return {
    name: 'complaints',
    help: { topic: '投诉', words: ['投诉', 'complaint', 'complaints'] },
    commands: COMPLAINT_COMMANDS.map((spec) => {
      const handler = commands.handlers[spec.id];
      if (!handler) throw new Error(`no handler for ${spec.id}`);
      return { spec, handler: handler as Handler };
    }),
    refs: { T: { noun: '投诉', example: 'T7', show: (ctx: ChatContext, id: number) => commands.show(ctx, id) } },
    timerSubjects: [timerSubject],
    emits: [complaintLevelAsked],
    on: [
      on(fileComplaint, (_e, r) => commands.fileComplaint(r.chat, r.input)),
      on(attachClientMessage, continuation.attachClientMessage),
      on(continueTriageClock, continuation.continueTriageClock),
    ],
  };
}
