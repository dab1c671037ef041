import { COMPLAINT_LEVELS, type ComplaintChannel, type ComplaintLevel, type ComplaintPlaybook } from './complaint-playbook';

/**
 * A level proposal from the rules (4.2; 审计 3.2): keywords in the content, the channel (a complaint
 * that reached the boss is at least the playbook's bossChannelLevel), and repeats (the client's
 * complaints to this department this year). The supervisor confirms or changes it.
 */
export interface LevelProposal {
  level: ComplaintLevel;
  reasons: string[];
}

const rank = (l: ComplaintLevel) => COMPLAINT_LEVELS.indexOf(l);

export function proposeLevel(
  pb: ComplaintPlaybook,
  input: {
    content: string;
    channel: ComplaintChannel;
    complaintsThisYear: number;
    /** Another reading of the words (the triage's rules), with why; it can only raise the level. */
    reading?: { level: ComplaintLevel; why: string } | null;
  },
): LevelProposal {
  let level: ComplaintLevel = 'A';
  const reasons: string[] = [];
  const raise = (to: ComplaintLevel, why: string) => {
    reasons.push(why);
    if (rank(to) > rank(level)) level = to;
  };
  for (const l of ['D', 'C', 'B'] as const) {
    const hits = (pb.proposal.keywords[l] ?? []).filter((k) => input.content.includes(k));
    if (hits.length) raise(l, `内容提到「${hits.join('、')}」`);
  }
  if (input.reading) raise(input.reading.level, input.reading.why);
  if (input.channel === 'boss') raise(pb.proposal.bossChannelLevel, '投诉到了老板（总经办）');
  if (input.complaintsThisYear >= pb.proposal.repeatCountForB) raise('B', `该客户今年第 ${input.complaintsThisYear} 次投诉本部门`);
  if (!reasons.length) reasons.push('个别偶发，影响较小');
  return { level, reasons };
}
