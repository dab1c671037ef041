import { z } from 'zod';
import { durationSchema, ladderSchema, ruleSchema, MENTION_ROLES, type PlaybookRule } from '../../domain/playbooks';
import visitPlaybookJson from './visit-playbook.json';

/**
 * The return-visit rules (回访) as data, each citing its clause: which clients are due a visit how
 * often and by which method, who visits 优质客户, the three-refusals rule, and the report and review
 * clocks after a visit. Validated with zod; the clocks become ordinary PlaybookRules so the pure timer
 * ladder and the scheduler run them.
 */

export const VISIT_APPLIES = ['bookkeeping', 'first-year', 'later-years', 'any'] as const;
export type VisitApplies = (typeof VISIT_APPLIES)[number];
export const VISIT_PERIODS = ['month', 'quarter', 'year'] as const;
export type VisitPeriod = (typeof VISIT_PERIODS)[number];

const method = z.enum(['phone', 'onsite', 'email']);
const role = z.enum(MENTION_ROLES);

const clockSchema = z.object({
  id: z.string().regex(/^visit\.[a-z-]+$/),
  step: z.string().min(1),
  clause: z.string().min(1),
  duration: durationSchema,
  mention: z.array(role).min(1),
  note: z.string().optional(),
});

export const visitPlaybookSchema = z.object({
  version: z.literal(1),
  schedules: z
    .array(
      z.object({
        id: z.string().regex(/^visit\.[a-z-]+$/),
        step: z.string().min(1),
        clause: z.string().min(1),
        appliesTo: z.enum(VISIT_APPLIES),
        every: z.enum(VISIT_PERIODS),
        methods: z.array(method).min(1),
        headsUp: durationSchema.optional(),
        note: z.string().optional(),
      }),
    )
    .min(1),
  premium: z.object({ assignee: z.enum(['head', 'management']), clause: z.string().min(1), note: z.string().optional() }),
  refusals: z.object({ count: z.number().int().min(1), note: z.string().min(1), clause: z.string().min(1) }),
  clocks: z.object({ report: clockSchema, review: clockSchema }),
  dueHeadsUp: durationSchema,
  ladder: ladderSchema.omit({ headsUp: true }),
});

export type VisitSchedule = z.infer<typeof visitPlaybookSchema>['schedules'][number];

export interface VisitPlaybook {
  schedules: VisitSchedule[];
  premium: z.infer<typeof visitPlaybookSchema>['premium'];
  refusals: z.infer<typeof visitPlaybookSchema>['refusals'];
  clocks: { report: PlaybookRule; review: PlaybookRule };
  /** Timer rules by id: the schedules' due-visit clocks and the two clocks after a visit. */
  byId: ReadonlyMap<string, PlaybookRule>;
  scheduleById: ReadonlyMap<string, VisitSchedule>;
}

function timerRule(input: { id: string; step: string; clause: string; duration: z.infer<typeof durationSchema>; mention: string[]; ladder: unknown; dueAt: 'exact' | 'endOfWorkingDay'; note?: string }): PlaybookRule {
  const parsed = ruleSchema.parse({
    id: input.id,
    services: 'all',
    step: input.step,
    clause: input.clause,
    // Visit clocks are started by visit code, never by an order event (like complaint clocks).
    trigger: { kind: 'complaint', event: input.id },
    duration: input.duration,
    dueAt: input.dueAt,
    pausesWithOrder: false,
    audience: 'staff',
    mention: input.mention,
    ladder: input.ladder,
    ...(input.note ? { note: input.note } : {}),
  });
  return { ...parsed, ladder: parsed.ladder! };
}

/** Pure: validates the document and builds the timer rules. */
export function parseVisitPlaybook(doc: unknown): VisitPlaybook {
  const pb = visitPlaybookSchema.parse(doc);
  const byId = new Map<string, PlaybookRule>();
  for (const s of pb.schedules) {
    byId.set(
      s.id,
      timerRule({
        id: s.id,
        step: s.step,
        clause: s.clause,
        duration: { amount: 1, unit: 'months' },
        dueAt: 'exact',
        mention: ['handler'],
        ladder: { headsUp: { before: s.headsUp ?? pb.dueHeadsUp }, overdue: pb.ladder.overdue },
        ...(s.note ? { note: s.note } : {}),
      }),
    );
  }
  const clock = (c: z.infer<typeof clockSchema>) =>
    timerRule({ ...c, dueAt: 'endOfWorkingDay', ladder: { headsUp: null, overdue: pb.ladder.overdue } });
  const report = clock(pb.clocks.report);
  const review = clock(pb.clocks.review);
  byId.set(report.id, report);
  byId.set(review.id, review);
  if (byId.size !== pb.schedules.length + 2) throw new Error('visit playbook: duplicate rule id');
  return {
    schedules: pb.schedules,
    premium: pb.premium,
    refusals: pb.refusals,
    clocks: { report, review },
    byId,
    scheduleById: new Map(pb.schedules.map((s) => [s.id, s])),
  };
}

export const loadVisitPlaybook = (): VisitPlaybook => parseVisitPlaybook(visitPlaybookJson);
