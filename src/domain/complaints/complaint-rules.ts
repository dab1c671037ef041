import type { ComplaintChannel, ComplaintEvent, ComplaintFlag, ComplaintLevel, ComplaintPlaybook, ComplaintRule } from './complaint-playbook';

/**
 * Pure complaint rules: which clocks an event starts or stops, and what must be on record before a
 * complaint may be closed. Functions of the complaint's state; the command handlers turn the answers
 * into replies and the clock code into timers.
 */

export function complaintCode(id: number): string {
  return `T${id}`;
}

/** The facts the clock rules read. */
export interface ComplaintFacts {
  channel: ComplaintChannel;
  /** The confirmed level; a proposal does not count. */
  level: ComplaintLevel | null;
  unhappy: boolean;
  attitude: boolean;
}

export interface ComplaintState extends ComplaintFacts {
  id: number;
  status: 'open' | 'closed' | 'voided';
  callbackAt: Date | null;
  escalatedAt: Date | null;
  ownerNoteAt: Date | null;
  explainedAt: Date | null;
}

function flagsOf(f: ComplaintFacts): ComplaintFlag[] {
  return [...(f.unhappy ? (['unhappy'] as const) : []), ...(f.attitude ? (['attitude'] as const) : [])];
}

export function complaintRuleApplies(rule: ComplaintRule, f: ComplaintFacts): boolean {
  const w = rule.when;
  if (w.channels && !w.channels.includes(f.channel)) return false;
  if (w.levels && (!f.level || !w.levels.includes(f.level))) return false;
  if (w.flags && !w.flags.every((x) => flagsOf(f).includes(x))) return false;
  return true;
}

export function complaintRulesStartedBy(pb: ComplaintPlaybook, event: ComplaintEvent, f: ComplaintFacts): ComplaintRule[] {
  return pb.rules.filter((r) => r.startsOn.includes(event) && complaintRuleApplies(r, f));
}

export function complaintRulesStoppedBy(pb: ComplaintPlaybook, event: ComplaintEvent): ComplaintRule[] {
  return pb.rules.filter((r) => r.stopsOn.includes(event));
}

/**
 * What closing needs, in words: the one sentence `/帮助`, `/结案`'s refusal and the README repeat.
 * The head's handling (`/处理`, 4.3.3, 4.3.5) counts as the callback does, escalated or not.
 */
export const CLOSE_CONDITION = '需已回电（/回电）或部门负责人已登记处理意见（/处理），级别已确认';

/**
 * Why the complaint cannot be closed yet (empty: it can): the one rule of closing. The callback
 * (4.3.3) or the department head's handling note (/处理) must be recorded; the level must be
 * confirmed; a client unhappy with the handler must have had the supervisor's explanation (4.3.1).
 */
export function closeBlockers(s: ComplaintState): string[] {
  const code = complaintCode(s.id);
  if (s.status === 'closed') return [`${code} 已经结案了。`];
  if (s.status === 'voided') return [`${code} 已撤销，不再办理。`];
  const out: string[] = [];
  if (!s.callbackAt && !s.ownerNoteAt) {
    out.push(
      s.escalatedAt
        ? `部门负责人还没有登记处理意见（/处理 ${code} <意见>）或回访结果（/回电 ${code} <结果>）`
        : `还没有登记电话回访（/回电 ${code} <结果>）或部门负责人的处理意见（/处理 ${code} <意见>）；不能自行处理的请先 /上报 ${code} <原因>`,
    );
  }
  if (!s.level) out.push(`投诉级别还没有确认（/定级 ${code} A|B|C|D）`);
  if (s.unhappy && !s.explainedAt) out.push(`主管还没有登记向客户作出的解释（/解释 ${code} <说明>，4.3.1）`);
  return out;
}

/** Who may confirm or change the level: the supervisor, the department head, management. */
export const LEVEL_ROLES = ['supervisor', 'head', 'management'] as const;
