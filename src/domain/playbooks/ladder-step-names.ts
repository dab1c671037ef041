import type { LadderStepName } from './playbook-schema';

/** The ladder steps as people read them (timelines, lists); the codes stay in data and logs. */
export const LADDER_STEP_NAMES: Record<LadderStepName, string> = {
  headsup: '到期前提醒',
  due: '到期提醒',
  overdue_supervisor: '超时提醒主管',
  overdue_head: '超时提醒部门负责人',
  overdue_management: '超时通报总经办',
};

/** Replaces step codes written in parentheses (as older timeline notes have them) with their names. */
export function nameLadderSteps(text: string): string {
  return text.replace(/（(headsup|due|overdue_supervisor|overdue_head|overdue_management)）/g, (_, code: LadderStepName) => `（${LADDER_STEP_NAMES[code]}）`);
}
