import type { DirectorySnapshot } from './source';
import type { Role } from '../../db/schema';

/** One roster row as the plan needs it. */
export interface RosterEntry {
  userid: string;
  name: string;
  department: string | null;
  role: Role;
  isAdmin: boolean;
  active: boolean;
}

export interface SyncPlan {
  /** New in the directory: added with a proposed role the admin confirms (a department leader → 部门负责人, else 负责人). */
  adds: { userid: string; name: string; department: string | null; role: Role; supervisor: string | null }[];
  /** Inactive in the roster, back in the directory: made active again on confirm, role unchanged. */
  returning: { userid: string; name: string }[];
  /** Active in the roster, gone from every directory: marked inactive on confirm (open orders handed over, 4.5.1). */
  leavers: { userid: string; name: string }[];
  renames: { userid: string; from: string; to: string }[];
  moves: { userid: string; name: string; from: string | null; to: string }[];
  /** The directory names someone a department leader whose role is not 部门负责人: shown, never applied. */
  roleHints: { userid: string; name: string; role: Role; department: string }[];
  /** Departments the adds and moves need that the roster does not have yet. */
  newDepartments: string[];
}

/** Nothing to apply (role hints are only shown, never applied). */
export const emptyPlan = (p: SyncPlan) => !p.adds.length && !p.returning.length && !p.leavers.length && !p.renames.length && !p.moves.length;

/**
 * Compare the directories with the roster (pure). Nobody's role or admin flag is ever part of a change:
 * the plan only adds people (with a role to confirm), reactivates or deactivates them, and follows
 * names and departments. A member's department is their main one; the root department (the firm
 * itself, no parent) is no department.
 */
export function planDirectorySync(snapshots: DirectorySnapshot[], roster: RosterEntry[], departmentNames: string[]): SyncPlan {
  const byUser = new Map(roster.map((r) => [r.userid, r]));
  const known = new Set(departmentNames);
  const plan: SyncPlan = { adds: [], returning: [], leavers: [], renames: [], moves: [], roleHints: [], newDepartments: [] };
  const inDirectory = new Set<string>();
  const needDept = (name: string | null) => {
    if (name && !known.has(name) && !plan.newDepartments.includes(name)) plan.newDepartments.push(name);
  };

  for (const snap of snapshots) {
    const depts = new Map(snap.departments.map((d) => [d.id, d]));
    const isRoot = (id: string) => {
      const d = depts.get(id);
      return !d || d.parentId === undefined || d.parentId === '0';
    };
    for (const m of snap.members) {
      if (inDirectory.has(m.userid)) continue;
      inDirectory.add(m.userid);
      const mainId = m.departmentIds.find((id) => !isRoot(id)) ?? null;
      const main = mainId ? depts.get(mainId)! : null;
      const department = main?.name ?? null;
      const leader = main ? main.leaders.includes(m.userid) : false;
      const existing = byUser.get(m.userid);
      if (!existing) {
        const supervisor = main?.leaders.find((l) => l !== m.userid) ?? null;
        plan.adds.push({ userid: m.userid, name: m.name, department, role: leader ? 'head' : 'handler', supervisor });
        needDept(department);
        continue;
      }
      if (!existing.active) plan.returning.push({ userid: m.userid, name: m.name });
      if (existing.name !== m.name) plan.renames.push({ userid: m.userid, from: existing.name, to: m.name });
      if (department && existing.department !== department) {
        plan.moves.push({ userid: m.userid, name: m.name, from: existing.department, to: department });
        needDept(department);
      }
      if (leader && existing.role !== 'head' && existing.role !== 'management' && department) {
        plan.roleHints.push({ userid: m.userid, name: m.name, role: existing.role, department });
      }
    }
  }
  for (const r of roster) {
    if (r.active && !inDirectory.has(r.userid)) plan.leavers.push({ userid: r.userid, name: r.name });
  }
  return plan;
}
