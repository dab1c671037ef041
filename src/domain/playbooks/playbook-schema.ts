import { validate as validateCron } from 'node-cron';
import { z } from 'zod';
import { ORDER_EVENTS, type OrderEvent } from './order-events';

/**
 * The shape of a playbook file. Every number the service standards name is data here, so the firm can
 * change it without code; the zod schema is the contract and its messages say what is wrong.
 */

/** Service types exactly as the firm names them (orders.service_type). */
export const SERVICE_TYPES = ['专利', '集成电路布图', '软件', '商标', '专利流程事务', '审计', '财税', '代账', '高新', '资助'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

/** Same values as db ROLES; kept here so the domain does not import the database layer. */
export const MENTION_ROLES = ['handler', 'supervisor', 'head', 'sales', 'management'] as const;
export type MentionRole = (typeof MENTION_ROLES)[number];

export const LADDER_STEPS = ['headsup', 'due', 'overdue_supervisor', 'overdue_head', 'overdue_management'] as const;
export type LadderStepName = (typeof LADDER_STEPS)[number];
export const OVERDUE_STEPS = ['overdue_supervisor', 'overdue_head', 'overdue_management'] as const;

export const DURATION_UNITS = ['workingDays', 'calendarDays', 'minutes', 'weeks', 'months'] as const;
export type DurationUnit = (typeof DURATION_UNITS)[number];

const orderEvent = z.enum(ORDER_EVENTS as [OrderEvent, ...OrderEvent[]]);
const role = z.enum(MENTION_ROLES);

export const durationSchema = z
  .object({
    amount: z.number().min(0),
    unit: z.enum(DURATION_UNITS),
  })
  .refine((d) => d.unit !== 'months' || Number.isInteger(d.amount), { message: 'months must be a whole number' });
export type Duration = z.infer<typeof durationSchema>;

const cronSchema = z
  .string()
  .refine((c) => c.trim().split(/\s+/).length === 5, { message: 'use a 5-field cron pattern: minute hour day-of-month month day-of-week' })
  .refine((c) => validateCron(c), { message: 'not a valid node-cron pattern' });

export const triggerSchema = z.discriminatedUnion('kind', [
  /** The clock starts when the order event happens. */
  z.object({ kind: z.literal('event'), event: orderEvent }),
  /**
   * The clock is anchored on a date field of the order (orders.fields, 'YYYY-MM-DD'): due `duration`
   * before (or after) that date, at the end of working hours on a working day.
   */
  z.object({
    kind: z.literal('date'),
    field: z.string().min(1),
    direction: z.enum(['before', 'after']).default('before'),
  }),
  /**
   * A recurring calendar pattern (node-cron 5-field syntax, in the calendar's time zone). Each
   * occurrence starts one clock; an occurrence on a non-working day moves to the next (or previous)
   * working day at the same time, or is kept. scope 'order': one series per open order, from the
   * `from` event until one of the rule's completedBy events; 'department': one series per department.
   */
  z.object({
    kind: z.literal('schedule'),
    /** A fixed calendar pattern; or, instead, `every` (exactly one of the two). */
    cron: cronSchema.optional(),
    /**
     * A series counted from a date of the order (orders.fields): an occurrence every `months` months
     * after that date (the date + 4, + 8 … months, 资助 3.3.9.1 from 合同开始), at `time` on that day.
     * Order scope only; no occurrence until the date is set.
     */
    every: z
      .object({
        field: z.string().min(1),
        months: z.number().int().min(1),
        time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'time is HH:mm').default('09:00'),
      })
      .optional(),
    nonWorkingDay: z.enum(['next', 'previous', 'keep']).default('next'),
    scope: z.enum(['order', 'department', 'complaint']),
    from: orderEvent.optional(),
  }),
  /**
   * The clock starts on an event of a complaint (src/domain/complaints): those rules live in the
   * complaint playbook, never in the order playbook, and complaint code starts and stops them.
   */
  z.object({ kind: z.literal('complaint'), event: z.string().min(1) }),
]);
export type Trigger = z.infer<typeof triggerSchema>;

export const conditionSchema = z.object({
  /** Name of an order field (orders.fields). */
  field: z.string().min(1),
  op: z.enum(['eq', 'ne', 'in', 'lt', 'lte', 'gt', 'gte', 'present', 'absent']),
  value: z.union([z.string(), z.number(), z.array(z.string())]).optional(),
});
export type Condition = z.infer<typeof conditionSchema>;

export const ladderSchema = z.object({
  /**
   * When to warn before the due time: `before` a duration, or at a `fraction` of the clock (0 = at the
   * start, 0.75 = three quarters through); null = no heads-up. Dropped if it would fall before the start.
   */
  headsUp: z.union([z.object({ before: durationSchema }), z.object({ fraction: z.number().min(0).max(1) }), z.null()]),
  /** Escalations after the due time, in this order; each is sent once. */
  overdue: z.array(
    z.object({
      step: z.enum(OVERDUE_STEPS),
      after: durationSchema,
      mention: z.array(role).min(1),
    }),
  ),
});
export type Ladder = z.infer<typeof ladderSchema>;

const ruleId = z
  .string()
  .regex(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/, 'ids look like "patent.assign" (lower case, dot-separated)');

const ruleFields = {
  id: ruleId,
  /** Service types the rule applies to, or "all". */
  services: z.union([z.literal('all'), z.array(z.enum(SERVICE_TYPES)).min(1)]),
  /** What must be done, in Chinese (shown in reminders). */
  step: z.string().min(1),
  /** Clause of the service standards that requires it, e.g. "3.1.2" or "2.1.2 (审计)". */
  clause: z.string().min(1),
  trigger: triggerSchema,
  /** Length of the clock (event and schedule triggers) or the distance from the date (date triggers). */
  duration: durationSchema,
  /** exact: due when the duration ends; endOfWorkingDay: rounded up to the end of that working day. */
  dueAt: z.enum(['exact', 'endOfWorkingDay']).default('exact'),
  /** All must hold on the order's fields for the rule to apply. */
  when: z.array(conditionSchema).default([]),
  /** Order events that stop the clock (besides completing the timer by hand). */
  completedBy: z.array(orderEvent).default([]),
  /** 3.5.2: an unpaid / paused order's clocks stop. */
  pausesWithOrder: z.boolean().default(true),
  /** Start only once payment is confirmed (项目 3.1.2: unpaid clients wait for 市场部's 进款通知). */
  requiresPayment: z.boolean().default(false),
  /** staff → the order's internal group or its department's group; client → the order's client group. */
  audience: z.enum(['staff', 'client']).default('staff'),
  /** Who is @-mentioned at heads-up and due (staff rules need someone; client messages may mention nobody). */
  mention: z.array(role).default(['handler']),
  /** respect: a step falling outside working time waits for the next working moment. */
  quietHours: z.enum(['respect', 'ignore']).default('respect'),
  /** Omitted → the playbook's default ladder. */
  ladder: ladderSchema.optional(),
  /**
   * Client-facing text (audience client), polite, with placeholders {client}, {order}, {due} and
   * {field:名称} (an order date field, formatted). Never names staff or says "overdue".
   */
  clientText: z.string().min(1).optional(),
  enabled: z.boolean().default(true),
  /** Why the numbers are what they are, when the source text needs interpreting. */
  note: z.string().optional(),
};

const INTERNAL_WORDS = ['超时', '逾期', '主管', '总经办', '部门负责人', '{handler}'];

export const ruleSchema = z
  .object(ruleFields)
  .refine((r) => r.audience !== 'client' || r.clientText !== undefined, {
    message: 'a client-audience rule needs clientText',
    path: ['clientText'],
  })
  .refine((r) => !r.clientText || INTERNAL_WORDS.every((w) => !r.clientText!.includes(w)), {
    message: `clientText must not contain internal words (${INTERNAL_WORDS.join(', ')})`,
    path: ['clientText'],
  })
  .refine((r) => r.audience === 'client' || r.mention.length > 0, {
    message: 'a staff rule must mention at least one role',
    path: ['mention'],
  })
  .refine((r) => !r.requiresPayment || r.trigger.kind === 'event', {
    message: 'requiresPayment only applies to event triggers',
    path: ['requiresPayment'],
  })
  .refine((r) => r.trigger.kind !== 'schedule' || (r.trigger.cron === undefined) !== (r.trigger.every === undefined), {
    message: 'a schedule trigger has either a cron pattern or an "every" series, not both',
    path: ['trigger'],
  })
  .refine((r) => r.trigger.kind !== 'schedule' || !r.trigger.every || r.trigger.scope === 'order', {
    message: 'an "every" series counts from an order date, so its scope is order',
    path: ['trigger', 'scope'],
  })
  .refine((r) => r.trigger.kind !== 'date' || r.duration.unit !== 'minutes', {
    message: 'a date-anchored rule counts days, weeks or months, not minutes',
    path: ['duration'],
  });
export type RuleInput = z.input<typeof ruleSchema>;
type ParsedRule = z.output<typeof ruleSchema>;

/** A rule as the rest of the code sees it: defaults filled in, ladder resolved. */
export type PlaybookRule = Omit<ParsedRule, 'ladder'> & { ladder: Ladder };

/** Notes on clauses that are deliberately not clocks (kept in the data so the reasoning travels with it). */
export const exceptionNoteSchema = z.object({
  clause: z.string().min(1),
  handling: z.enum(['clock', 'pause', 'not-a-clock']),
  text: z.string().min(1),
});

export const playbookFileSchema = z.object({
  version: z.literal(1),
  defaults: z.object({ ladder: ladderSchema }),
  rules: z.array(z.unknown()),
  exceptions: z.array(exceptionNoteSchema).default([]),
});

/** An override file: partial defaults, rules merged by id (a partial rule changes only what it names). */
export const playbookOverrideSchema = z.object({
  version: z.literal(1).optional(),
  defaults: z.object({ ladder: ladderSchema.optional() }).optional(),
  rules: z.array(z.object({ id: ruleId }).passthrough()).default([]),
});
export type PlaybookOverride = z.input<typeof playbookOverrideSchema>;

export interface Playbook {
  defaults: { ladder: Ladder };
  /** Enabled rules in file order. */
  rules: PlaybookRule[];
  byId: ReadonlyMap<string, PlaybookRule>;
  exceptions: z.infer<typeof exceptionNoteSchema>[];
}
