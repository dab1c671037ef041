import type { CommandDef } from '../../core/commands';
import type { Actor } from '../../core/records';
import type { AccessPolicy } from '../../core/feature';
import type { Role } from '../../db/schema';

const GATE_NAMES: Record<Role, string> = { handler: '负责人', supervisor: '主管', head: '部门负责人', sales: '业务员', management: '总经办' };

/** A role gate in words: 「部门负责人、总经办」; `staff` and `anyone` read 服务人员. */
export function gateText(def: Pick<CommandDef, 'gate'>): string {
  if (def.gate === 'anyone' || def.gate === 'staff') return '服务人员';
  return def.gate.map((r) => GATE_NAMES[r as Role] ?? r).join('、');
}

/**
 * The roster's reading of role gates: 总经办 passes every gate; anyone else passes a gate that lists
 * their role. (Admins pass before the policy is asked; src/core/registry.ts.)
 */
export const rosterAccess: AccessPolicy = {
  allows: (roles: readonly string[], actor: Actor) => !!actor.person && (actor.person.role === 'management' || roles.includes(actor.person.role)),
  describe: (roles) => gateText({ gate: roles }),
  refusal: (def) => `抱歉，「${def.zh.join(' ')}」需要${gateText(def)}权限，您目前没有。如有需要请联系部门负责人。`,
};
