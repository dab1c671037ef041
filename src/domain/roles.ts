import type { Role } from '../db/schema';

/** Chinese role names used in commands and replies (SERVICE-RULES.md, "Roles"). */
export const ROLE_NAMES: Record<Role, string> = {
  handler: '负责人',
  supervisor: '主管',
  head: '部门负责人',
  sales: '业务员',
  management: '总经办',
};

const BY_NAME: Record<string, Role> = {
  负责人: 'handler',
  具体负责人: 'handler',
  项目负责人: 'handler',
  handler: 'handler',
  主管: 'supervisor',
  主管上级: 'supervisor',
  supervisor: 'supervisor',
  部门负责人: 'head',
  部门经理: 'head',
  总监: 'head',
  head: 'head',
  业务员: 'sales',
  市场人员: 'sales',
  sales: 'sales',
  总经办: 'management',
  老板: 'management',
  management: 'management',
};

export function parseRole(s: string): Role | null {
  return BY_NAME[s] ?? BY_NAME[s.toLowerCase()] ?? null;
}
