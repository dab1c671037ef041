import type { CalendarProvider } from '../../core/clocks/clock-store';
import { orderChanged, type OrderClocks } from '../orders';
import { on } from '../../core/events';
import type { Feature } from '../../core/feature';
import { createClientGroupClocks } from './client-group-clocks';
import { createClientGroupHandlers } from './client-group-commands';
import { loadClientGroupRules, type ClientGroupRules } from './client-group-rules';
import { CLIENT_GROUP_COMMANDS } from './client-group-specs';
import { clientGroupTimerSubject } from './client-group-subject';
import type { QuestionTriage } from './question';

export { lastStaffContact, lastStaffContacts } from './client-group-clocks';
export { plainMessage } from './contact-message';
export { WAY_NAMES } from './client-group-commands';
export type { QuestionTriage } from './question';

/**
 * 讨论组 kept alive (SERVICE-RULES.md, 讨论组): every client question answered, open questions resolved
 * in 2 working days, weekly contact, a materials-progress report every two weeks, and the group itself
 * created after coaching. A watcher, five commands, `/查 Q5`, and one timer subject whose timers are
 * bound to the order (it follows the orders feature's `orderChanged`) (they pause with it and show in `/查 D12`, `/逾期`, `/待办`).
 */
export function clientGroupsFeature(deps: { clocks: OrderClocks; calendar: CalendarProvider; rules?: ClientGroupRules; triage?: QuestionTriage }): Feature {
  const rules = deps.rules ?? loadClientGroupRules();
  const clocks = createClientGroupClocks({ rules, calendar: deps.calendar });
  const h = createClientGroupHandlers({ clocks, orderClocks: deps.clocks, ...(deps.triage ? { triage: deps.triage } : {}) });
  return {
    name: 'client-groups',
    help: { topic: '讨论组', words: ['讨论组', '客户群', 'client-group', 'clientgroup'] },
    commands: CLIENT_GROUP_COMMANDS.map((spec) => ({ spec, handler: h.handlers[spec.id]! })),
    refs: { Q: { noun: '客户问题', example: 'Q5', show: (ctx, id) => h.show(ctx, id) } },
    timerSubjects: [clientGroupTimerSubject(rules)],
    on: [on(orderChanged, (e, change) => h.onOrder(e.tx, change, e.now, e.actor))],
    watch: h.watch,
  };
}
