import type { CalendarProvider } from '../../core/clocks/clock-store';
import type { Feature, Handler } from '../../core/feature';
import { on } from '../../core/events';
import { calendarChanged } from '../clocks';
import { createVisitCommands, lastContact } from './commands';
import { syncDueVisits } from './visit-store';
import { VISIT_COMMANDS } from './specs';
import { dueVisitSubject, visitClockSubject } from './subjects';
import { loadVisitPlaybook, type VisitPlaybook } from './visit-playbook';

/**
 * 客户 and 回访 as one feature: `/客户 设置|查`, `/回访 计划|记录|失约|报告|审阅|列表`, `/查 V9`, and two
 * timer subjects — the clients' due visits (`visit-due:<clientId>`) and the report and review clocks
 * after a visit (`visit:<id>`).
 */
export function visitsFeature(deps: { calendar: CalendarProvider; playbook?: VisitPlaybook }): Feature {
  const playbook = deps.playbook ?? loadVisitPlaybook();
  const commands = createVisitCommands({ playbook, calendar: deps.calendar });
  return {
    name: 'visits',
    help: { topic: '回访', words: ['回访', '客户', 'visit', 'visits', 'client'] },
    commands: VISIT_COMMANDS.map((spec) => {
      const handler = commands.handlers[spec.id];
      if (!handler) throw new Error(`no handler for ${spec.id}`);
      return { spec, handler: handler as Handler };
    }),
    refs: { V: { noun: '回访', example: 'V9', show: (ctx, id) => commands.show(ctx, id) } },
    timerSubjects: [dueVisitSubject(playbook, deps.calendar), visitClockSubject(playbook)],
    // A return visit is due at the end of its period's last working day: a calendar change moves it.
    on: [on(calendarChanged, async (ctx, p) => ({ kind: '回访', moved: await syncDueVisits(ctx.tx, playbook, ctx.now, p.calendar) }))],
  };
}

export { loadVisitPlaybook, lastContact, type VisitPlaybook };
export { METHOD_NAMES, VISIT_STATUS_NAMES } from './schedule';
export { assigneesOf, loadClientFacts, runningDueVisits, visitCode } from './visit-store';
