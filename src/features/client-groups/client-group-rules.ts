import { z } from 'zod';
import type { WorkCalendar } from '../../domain/calendar';
import { ORDER_EVENTS, ladderSchema, MENTION_ROLES, ruleSchema, SERVICE_TYPES, type OrderEvent, type PlaybookRule } from '../../domain/playbooks';
import type { Timer } from '../../domain/timers';
import rulesJson from './client-group-rules.json';

/**
 * The 讨论组 rules (SERVICE-RULES.md, 讨论组; 项目 3.2.2.8, 审计 2.2.2.6–2.2.2.7, all centres 2.1.7) as
 * data with their clauses. Each becomes an ordinary PlaybookRule so the pure ladder and the scheduler
 * treat it like every other clock; `workingMinutes` (the answer clock) is counted here, in working time.
 */

export const CLIENT_GROUP_RULE_IDS = [
  'client-group.answer',
  'client-group.resolve',
  'client-group.weekly-contact',
  'client-group.materials-report',
  'client-group.create-group',
] as const;
export type ClientGroupRuleId = (typeof CLIENT_GROUP_RULE_IDS)[number];

const duration = z.object({ amount: z.number().positive(), unit: z.enum(['workingMinutes', 'workingDays', 'calendarDays']) });
type Duration = z.infer<typeof duration>;

const ruleInput = z.object({
  id: z.enum(CLIENT_GROUP_RULE_IDS),
  step: z.string().min(1),
  clause: z.string().min(1),
  services: z.array(z.enum(SERVICE_TYPES)).min(1).optional(),
  /** Order events that start the clock (only the group-creation clock has them). */
  startsOn: z.array(z.enum(ORDER_EVENTS as [OrderEvent, ...OrderEvent[]])).default([]),
  duration,
  mention: z.array(z.enum(MENTION_ROLES)).min(1),
  ladder: ladderSchema,
  quietHours: z.enum(['respect', 'ignore']).default('respect'),
  note: z.string().optional(),
});

export const clientGroupFileSchema = z.object({
  version: z.literal(1),
  question: z.object({ marks: z.array(z.string().min(1)), words: z.array(z.string().min(1)), note: z.string().optional() }),
  rules: z.array(ruleInput),
  /** Order-playbook rules that `/绑定` in a client group completes (the 讨论组 now exists). */
  bindCompletes: z.array(z.string()).default([]),
});

export interface ClientGroupRule {
  id: ClientGroupRuleId;
  services?: string[];
  startsOn: OrderEvent[];
  duration: Duration;
  /** The same rule as the timer functions and the scheduler see it. */
  timer: PlaybookRule;
}

export interface ClientGroupRules {
  question: { marks: string[]; words: string[] };
  byId: ReadonlyMap<ClientGroupRuleId, ClientGroupRule>;
  rule(id: ClientGroupRuleId): ClientGroupRule;
  bindCompletes: string[];
}

/** Pure: validates the document; every rule id must be present exactly once. */
export function parseClientGroupRules(doc: unknown): ClientGroupRules {
  const file = clientGroupFileSchema.parse(doc);
  const byId = new Map<ClientGroupRuleId, ClientGroupRule>();
  for (const r of file.rules) {
    if (byId.has(r.id)) throw new Error(`client-group rules: duplicate id ${r.id}`);
    const timer = ruleSchema.parse({
      id: r.id,
      services: r.services ?? 'all',
      step: r.step,
      clause: r.clause,
      trigger: { kind: 'event', event: r.startsOn[0] ?? 'order.assigned' },
      // Informative only: startClientGroupTimer counts the clock (working minutes are not a playbook unit).
      duration: r.duration.unit === 'workingMinutes' ? { amount: r.duration.amount, unit: 'minutes' } : r.duration,
      pausesWithOrder: true,
      audience: 'staff',
      mention: r.mention,
      quietHours: r.quietHours,
      ladder: r.ladder,
      ...(r.note ? { note: r.note } : {}),
    });
    byId.set(r.id, { id: r.id, ...(r.services ? { services: r.services } : {}), startsOn: r.startsOn, duration: r.duration, timer: { ...timer, ladder: r.ladder } });
  }
  const missing = CLIENT_GROUP_RULE_IDS.filter((id) => !byId.has(id));
  if (missing.length) throw new Error(`client-group rules: missing ${missing.join(', ')}`);
  return {
    question: file.question,
    byId,
    rule: (id) => byId.get(id)!,
    bindCompletes: file.bindCompletes,
  };
}

export const loadClientGroupRules = (): ClientGroupRules => parseClientGroupRules(rulesJson);

/** Pure: the clock of a rule started at `at` (working minutes and days in working time, calendar days on the wall). */
export function startClientGroupTimer(rule: ClientGroupRule, at: Date, cal: WorkCalendar): Timer {
  const { amount, unit } = rule.duration;
  const working = unit !== 'calendarDays';
  const dueAt =
    unit === 'workingMinutes'
      ? cal.addWorkingTime(at, amount * 60_000)
      : unit === 'workingDays'
        ? cal.addWorkingTime(at, amount * cal.workingDayMs)
        : cal.addCalendarDays(at, amount);
  return {
    ruleId: rule.id,
    startedAt: at,
    dueAt,
    state: 'running',
    clock: working ? 'working' : 'wall',
    lengthMs: working ? cal.workingTimeBetween(at, dueAt) : dueAt.getTime() - at.getTime(),
    stepsSent: [],
  };
}

/** "30 个工作分钟" / "2 个工作日" / "7 天", for replies (from the same rule that drives the clock). */
export function durationText(d: Duration): string {
  return d.unit === 'workingMinutes' ? `${d.amount} 分钟（工作时间）` : d.unit === 'workingDays' ? `${d.amount} 个工作日` : `${d.amount} 天`;
}
