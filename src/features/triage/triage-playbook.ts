import { z } from 'zod';
import { durationSchema, ruleSchema, MENTION_ROLES, type Duration, type PlaybookRule } from '../../domain/playbooks';
import doc from './triage-playbook.json';

/** The triage's numbers as data (triage-playbook.json), validated with zod; the reminder is an ordinary timer rule. */
const schema = z.object({
  mergeWindow: durationSchema.and(z.object({ note: z.string().optional() })),
  reminder: z.object({
    id: z.string(),
    step: z.string().min(1),
    clause: z.string().min(1),
    duration: durationSchema,
    mention: z.array(z.enum(MENTION_ROLES)).min(1),
    note: z.string().optional(),
  }),
});

export interface TriagePlaybook {
  mergeWindowMs: number;
  reminder: PlaybookRule;
}

const MINUTE = 60_000;
function wallMs(d: Duration): number {
  if (d.unit !== 'minutes') throw new Error('triage-playbook: the merge window is in minutes');
  return d.amount * MINUTE;
}

export function parseTriagePlaybook(input: unknown = doc): TriagePlaybook {
  const p = schema.parse(input);
  const r = p.reminder;
  const rule = ruleSchema.parse({
    id: r.id,
    services: 'all',
    step: r.step,
    clause: r.clause,
    trigger: { kind: 'complaint', event: 'suggested' },
    duration: r.duration,
    pausesWithOrder: false,
    audience: 'staff',
    mention: r.mention,
    quietHours: 'ignore',
    ladder: { headsUp: null, overdue: [] },
    ...(r.note ? { note: r.note } : {}),
  });
  return { mergeWindowMs: wallMs(p.mergeWindow), reminder: { ...rule, ladder: rule.ladder ?? { headsUp: null, overdue: [] } } };
}
