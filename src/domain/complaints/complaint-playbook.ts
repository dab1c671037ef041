import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { durationSchema, ladderSchema, MENTION_ROLES, ruleSchema, type PlaybookRule } from '../playbooks';
import complaintPlaybookJson from './complaint-playbook.json';

/**
 * The complaint playbook: levels, level proposals, the complaint-rate threshold, the split of gifted
 * official fees and the complaint clocks, as data with clause citations (SERVICE-RULES.md, Complaints).
 * Clock rules become ordinary PlaybookRules (trigger kind `complaint`) so the pure timer and ladder
 * functions and the scheduler treat them like every other clock.
 */

export const COMPLAINT_CHANNELS = ['phone', 'sales', 'boss', 'chat'] as const;
export type ComplaintChannel = (typeof COMPLAINT_CHANNELS)[number];
export const CHANNEL_NAMES: Record<ComplaintChannel, string> = { phone: '电话', sales: '业务部', boss: '老板', chat: '群聊' };

export const COMPLAINT_LEVELS = ['A', 'B', 'C', 'D'] as const;
export type ComplaintLevel = (typeof COMPLAINT_LEVELS)[number];

/** What can happen to a complaint; clocks start and stop on these. */
export const COMPLAINT_EVENTS = [
  'received',
  'level-confirmed',
  'callback',
  'escalated',
  'owner-acted',
  'explained',
  'sales-informed',
  'closed',
  'reported',
  'review-filed',
  'visited',
] as const;
export type ComplaintEvent = (typeof COMPLAINT_EVENTS)[number];

export const COMPLAINT_FLAGS = ['unhappy', 'attitude'] as const;
export type ComplaintFlag = (typeof COMPLAINT_FLAGS)[number];

const event = z.enum(COMPLAINT_EVENTS);
const level = z.enum(COMPLAINT_LEVELS);

const complaintRuleSchema = z.object({
  id: z.string().regex(/^complaint\.[a-z0-9-]+$/, 'complaint rule ids look like "complaint.callback"'),
  step: z.string().min(1),
  clause: z.string().min(1),
  startsOn: z.array(event).min(1),
  stopsOn: z.array(event).min(1),
  /** All given lists must match the complaint (empty: always). */
  when: z
    .object({
      channels: z.array(z.enum(COMPLAINT_CHANNELS)).optional(),
      levels: z.array(level).optional(),
      flags: z.array(z.enum(COMPLAINT_FLAGS)).optional(),
    })
    .default({}),
  /** A weekly (or other) series while the complaint is open instead of one clock. */
  schedule: z.object({ cron: z.string(), nonWorkingDay: z.enum(['next', 'previous', 'keep']).default('next') }).optional(),
  duration: durationSchema,
  dueAt: z.enum(['exact', 'endOfWorkingDay']).default('exact'),
  quietHours: z.enum(['respect', 'ignore']).default('respect'),
  mention: z.array(z.enum(MENTION_ROLES)).min(1),
  ladder: ladderSchema,
  /** Reaching the due time without the obligation met is recorded as a breach on the complaint. */
  breach: z.boolean().default(false),
  enabled: z.boolean().default(true),
  note: z.string().optional(),
});
export type ComplaintRuleInput = z.input<typeof complaintRuleSchema>;

const share = z.object({
  fault: z.number().int().min(0),
  supervisor: z.number().int().min(0),
  head: z.number().int().min(0),
  clause: z.string().min(1),
  note: z.string().optional(),
});
export type FeeShareRatio = z.infer<typeof share>;

export const complaintPlaybookSchema = z.object({
  version: z.literal(1),
  levels: z.record(level, z.object({ name: z.string(), handling: z.string(), clause: z.string() })),
  proposal: z.object({
    keywords: z.record(z.enum(['B', 'C', 'D']), z.array(z.string().min(1))),
    /** This many complaints by the same client to the same department in a year (this one included) → at least B. */
    repeatCountForB: z.number().int().min(2),
    bossChannelLevel: level,
    note: z.string().optional(),
  }),
  rate: z.object({
    threshold: z.number().gt(0).lt(1),
    clause: z.string(),
    /** When the year's rate is reviewed (4.4.3 年终总结检讨): the n-th working day of the month (negative: from its end). */
    review: z
      .object({
        month: z.number().int().min(1).max(12),
        workingDay: z.number().int().min(-10).max(10).refine((n) => n !== 0, 'workingDay: 1 = first, -1 = last'),
        time: z.string().regex(/^\d{2}:\d{2}$/, 'time like "10:00"'),
      })
      .default({ month: 12, workingDay: 1, time: '10:00' }),
    note: z.string().optional(),
  }),
  giftSplit: z.object({
    default: share,
    byService: z.array(share.extend({ services: z.array(z.string()).min(1) })).default([]),
  }),
  rules: z.array(complaintRuleSchema),
});

/** An override file: top-level sections replace the defaults; rules are merged by id, field by field. */
const overrideSchema = z
  .object({
    rate: complaintPlaybookSchema.shape.rate.partial().optional(),
    rules: z.array(z.object({ id: z.string() }).passthrough()).default([]),
  })
  .passthrough();

export interface RateReview {
  month: number;
  workingDay: number;
  time: string;
}

export interface ComplaintRule {
  id: string;
  step: string;
  clause: string;
  startsOn: ComplaintEvent[];
  stopsOn: ComplaintEvent[];
  when: { channels?: ComplaintChannel[]; levels?: ComplaintLevel[]; flags?: ComplaintFlag[] };
  breach: boolean;
  /** The same rule as the timer functions and the scheduler see it. */
  timer: PlaybookRule;
}

export interface ComplaintPlaybook {
  levels: Record<ComplaintLevel, { name: string; handling: string; clause: string }>;
  proposal: z.infer<typeof complaintPlaybookSchema>['proposal'];
  rate: { threshold: number; clause: string; review: RateReview };
  giftSplit: z.infer<typeof complaintPlaybookSchema>['giftSplit'];
  rules: ComplaintRule[];
  byId: ReadonlyMap<string, ComplaintRule>;
}

export class ComplaintPlaybookError extends Error {
  readonly code = 'playbook';
  constructor(readonly problems: string[]) {
    super(`投诉流程配置有误 / invalid complaint playbook:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ComplaintPlaybookError';
  }
}

function issues(where: string, e: z.ZodError): string[] {
  return e.issues.map((i) => `${where}${i.path.length ? '.' + i.path.map(String).join('.') : ''}: ${i.message}`);
}

function toTimerRule(r: z.output<typeof complaintRuleSchema>): PlaybookRule {
  const parsed = ruleSchema.safeParse({
    id: r.id,
    services: 'all',
    step: r.step,
    clause: r.clause,
    trigger: r.schedule
      ? { kind: 'schedule', cron: r.schedule.cron, nonWorkingDay: r.schedule.nonWorkingDay, scope: 'complaint' }
      : { kind: 'complaint', event: r.startsOn[0] },
    duration: r.duration,
    dueAt: r.dueAt,
    pausesWithOrder: false,
    audience: 'staff',
    mention: r.mention,
    quietHours: r.quietHours,
    ladder: r.ladder,
    ...(r.note ? { note: r.note } : {}),
  });
  if (!parsed.success) throw new ComplaintPlaybookError(issues(`rules[${r.id}]`, parsed.error));
  return { ...parsed.data, ladder: parsed.data.ladder ?? r.ladder };
}

/** Pure: validates the document (and an override), returns the playbook with timer rules resolved. */
export function parseComplaintPlaybook(base: unknown, override?: unknown): ComplaintPlaybook {
  let doc = base;
  if (override !== undefined) {
    const o = overrideSchema.safeParse(override);
    if (!o.success) throw new ComplaintPlaybookError(issues('override', o.error));
    const b = base as Record<string, unknown> & { rules: Record<string, unknown>[]; rate: Record<string, unknown> };
    const { rules: patches, rate, ...sections } = o.data;
    const rules = b.rules.map((r) => ({ ...r }));
    for (const patch of patches) {
      const at = rules.findIndex((r) => r.id === patch.id);
      if (at >= 0) rules[at] = { ...rules[at], ...patch };
      else rules.push({ ...patch });
    }
    doc = { ...b, ...sections, rate: { ...b.rate, ...(rate ?? {}) }, rules };
  }
  const file = complaintPlaybookSchema.safeParse(doc);
  if (!file.success) throw new ComplaintPlaybookError(issues('complaint playbook', file.error));
  const seen = new Set<string>();
  const rules: ComplaintRule[] = [];
  for (const r of file.data.rules) {
    if (seen.has(r.id)) throw new ComplaintPlaybookError([`rules[${r.id}]: duplicate id`]);
    seen.add(r.id);
    if (!r.enabled) continue;
    rules.push({ id: r.id, step: r.step, clause: r.clause, startsOn: r.startsOn, stopsOn: r.stopsOn, when: r.when, breach: r.breach, timer: toTimerRule(r) });
  }
  for (const l of COMPLAINT_LEVELS) {
    if (!file.data.levels[l]) throw new ComplaintPlaybookError([`levels.${l}: missing`]);
  }
  return {
    levels: file.data.levels as ComplaintPlaybook['levels'],
    proposal: file.data.proposal,
    rate: file.data.rate,
    giftSplit: file.data.giftSplit,
    rules,
    byId: new Map(rules.map((r) => [r.id, r])),
  };
}

export const DEFAULT_COMPLAINT_PLAYBOOK_DOCUMENT: unknown = complaintPlaybookJson;

/** The I/O shell: the built-in playbook, or with the firm's override file (config COMPLAINT_PLAYBOOK_FILE). */
export function loadComplaintPlaybook(options: { overridePath?: string } = {}): ComplaintPlaybook {
  if (!options.overridePath) return parseComplaintPlaybook(DEFAULT_COMPLAINT_PLAYBOOK_DOCUMENT);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(options.overridePath, 'utf8'));
  } catch (cause) {
    throw new ComplaintPlaybookError([`cannot read complaint override ${options.overridePath}: ${(cause as Error).message}`]);
  }
  return parseComplaintPlaybook(DEFAULT_COMPLAINT_PLAYBOOK_DOCUMENT, json);
}
