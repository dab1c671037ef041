export { ORDER_EVENTS, ORDER_EVENT_MEANINGS, isOrderEvent, type OrderEvent } from './order-events';
export {
  SERVICE_TYPES,
  MENTION_ROLES,
  LADDER_STEPS,
  OVERDUE_STEPS,
  DURATION_UNITS,
  ruleSchema,
  ladderSchema,
  triggerSchema,
  durationSchema,
  conditionSchema,
  playbookFileSchema,
  playbookOverrideSchema,
  type ServiceType,
  type MentionRole,
  type LadderStepName,
  type DurationUnit,
  type Duration,
  type Trigger,
  type Condition,
  type Ladder,
  type RuleInput,
  type PlaybookRule,
  type PlaybookOverride,
  type Playbook,
} from './playbook-schema';
export { parsePlaybooks, loadPlaybooks, PlaybookError, DEFAULT_PLAYBOOKS_DOCUMENT } from './load-playbooks';
export {
  appliesToService,
  conditionHolds,
  ruleApplies,
  rulesStartedBy,
  rulesCompletedBy,
  dateRulesFor,
  scheduleRules,
  orderSeriesActive,
  type OrderFacts,
} from './rule-selection';
export { buildReminderText, isClientStep, type ReminderInput, type ReminderOrder } from './reminder-text';
export { EVENT_PHRASES, eventsInNote } from './event-phrases';
export { durationInChinese, isAssignmentRule } from './duration-text';
