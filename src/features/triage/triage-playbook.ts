import { z } from 'zod';
import { DEFAULT_COMPLAINT_PLAYBOOK_DOCUMENT, parseComplaintPlaybook, type ComplaintPlaybook } from '../../domain/complaints';
import { durationSchema, ruleSchema, MENTION_ROLES, type Duration, type MentionRole, type PlaybookRule } from '../../domain/playbooks';
import doc from './triage-playbook.json';

/**
 * The triage's numbers as data (triage-playbook.json), validated with zod. The suggestion's clock is an
 * ordinary timer rule: its due step is the reminder to the supervisor, its escalations are read from
 * the complaint playbook's rules (ladderFrom), so both ladders always name the same minutes.
 */
const rungSchema = z.object({ rule: z.string().min(1), step: z.enum(['overdue_head', 'overdue_management']) });
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
  ladderFrom: z.object({ head: rungSchema, management: rungSchema, note: z.string().optional() }),
});

export interface TriagePlaybook {
  mergeWindowMs: number;
  /** The suggestion's clock: due = the reminder, then the department head and 总经办 (complaint playbook times). */
  reminder: PlaybookRule;
}

const MINUTE = 60_000;
/**
 * The triage ladder stays on the wall clock on purpose: it leads to the phone complaint's callback,
 * which 4.3.3 states in natural minutes (回电 within 30 分钟 of the client's words, night or weekend), so
 * neither the working calendar nor `/日历 调整` moves it.
 */
function wallMs(d: Duration, what: string): number {
  if (d.unit !== 'minutes') throw new Error(`triage-playbook: ${what} must be in minutes`);
  return d.amount * MINUTE;
}

/** Where a complaint rule's escalation step falls, in ms after its clock starts, and whom it names. */
function rungOf(complaints: ComplaintPlaybook, ref: z.infer<typeof rungSchema>): { ms: number; mention: MentionRole[] } {
  const rule = complaints.byId.get(ref.rule);
  if (!rule) throw new Error(`triage-playbook: ladderFrom names ${ref.rule}, which the complaint playbook does not have`);
  const step = rule.timer.ladder.overdue.find((o) => o.step === ref.step);
  if (!step) throw new Error(`triage-playbook: ${ref.rule} has no ${ref.step} step`);
  return { ms: wallMs(rule.timer.duration, `${ref.rule}'s duration`) + wallMs(step.after, `${ref.rule}.${ref.step}`), mention: [...step.mention] };
}

export function parseTriagePlaybook(input: unknown = doc, complaints: ComplaintPlaybook = parseComplaintPlaybook(DEFAULT_COMPLAINT_PLAYBOOK_DOCUMENT)): TriagePlaybook {
  const p = schema.parse(input);
  const r = p.reminder;
  const remindMs = wallMs(r.duration, 'the reminder');
  const head = rungOf(complaints, p.ladderFrom.head);
  // 总经办: the head's own clock runs from the head's rung.
  const mgmt = rungOf(complaints, p.ladderFrom.management);
  const headAt = head.ms;
  const mgmtAt = head.ms + mgmt.ms;
  if (!(remindMs < headAt && headAt < mgmtAt)) throw new Error('triage-playbook: the reminder must come before the head, the head before 总经办');
  const minutes = (ms: number): Duration => ({ amount: ms / MINUTE, unit: 'minutes' });
  const callback = complaints.byId.get(p.ladderFrom.head.rule)!;
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
    quietHours: callback.timer.quietHours,
    ladder: {
      headsUp: null,
      overdue: [
        { step: 'overdue_head', after: minutes(headAt - remindMs), mention: head.mention },
        { step: 'overdue_management', after: minutes(mgmtAt - remindMs), mention: mgmt.mention },
      ],
    },
    ...(r.note ? { note: r.note } : {}),
  });
  return { mergeWindowMs: wallMs(p.mergeWindow, 'the merge window'), reminder: { ...rule, ladder: rule.ladder ?? { headsUp: null, overdue: [] } } };
}
