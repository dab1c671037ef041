import { eq, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { departments, people } from '../../db/schema';
import type { Person } from '../../core/context';
import { ROLE_NAMES } from '../../domain/roles';
import { accessScope, COMPLAINT_FACTS, ORDER_FACTS, readerForUserid, scopeWhere, timerScopeWhere, VISIT_FACTS, type AccessScope, type Reader } from '../roster';

/**
 * Who may see what on the 看板: the bot's one record-access rule (roster: canSee / accessScope), the
 * same as `/查`, `/客户 查` and `/投诉 列表` — 总经办 and admins everything, a department head or a
 * supervisor their department. The 看板 itself opens for those roles only (as `/看板` does). The roster
 * is re-read on every request (a link names only a userid); anyone who left it sees nothing. Every
 * query of the pages is `scope AND filters`, so a URL parameter can narrow the view, never widen it.
 */
export interface Viewer {
  kind: 'all' | 'scoped';
  userid: string;
  name: string;
  person: Person | null;
  reader: Reader;
  scope: AccessScope;
}

export async function viewerOf(tx: Db, userid: string, adminUserids: readonly string[]): Promise<Viewer | null> {
  const r = await readerForUserid(tx, userid, adminUserids);
  if (!r) return null;
  const { person, reader } = r;
  const base = { userid, name: person?.name ?? userid, person, reader };
  if (reader.isAdmin || reader.role === 'management') return { ...base, kind: 'all', scope: { all: true } };
  if ((reader.role === 'head' || reader.role === 'supervisor') && reader.departmentId) return { ...base, kind: 'scoped', scope: accessScope(reader) };
  return null;
}

/** What the header says the viewer sees. */
export async function scopeText(tx: Db, v: Viewer): Promise<string> {
  if (v.kind === 'all') return `${v.name}｜全部部门`;
  const deptId = v.reader.departmentId;
  const [d] = deptId ? await tx.select({ name: departments.name }).from(departments).where(eq(departments.id, deptId)) : [];
  return `${v.name}（${v.reader.role ? ROLE_NAMES[v.reader.role] : ''}）｜${d?.name ?? ''}`;
}

export const orderScope = (v: Viewer): SQL => scopeWhere(v.scope, ORDER_FACTS);
export const complaintScope = (v: Viewer): SQL => scopeWhere(v.scope, COMPLAINT_FACTS);
/** Return visits (回访). */
export const visitScope = (v: Viewer): SQL => scopeWhere(v.scope, VISIT_FACTS);

/** Timers joined with their order and complaint (roster: timerScopeWhere, the same as `/逾期` and `/待办`). */
export const timerScope = (v: Viewer): SQL => timerScopeWhere(v.scope);

/** Departments whose figures the viewer sees (总经办: those that take orders; others: their own). */
export async function visibleDepartments(tx: Db, v: Viewer) {
  const all = await tx.select().from(departments).orderBy(departments.id);
  if (v.kind === 'all') return all.filter((d) => d.services.length > 0);
  return all.filter((d) => d.id === v.reader.departmentId);
}

/** The people the viewer sees (filters and the 人员 page): the whole roster, or the department. */
export async function visiblePeople(tx: Db, v: Viewer) {
  const all = await tx.select().from(people).where(eq(people.active, true)).orderBy(people.id);
  if (v.kind === 'all') return all;
  return all.filter((p) => p.departmentId === v.reader.departmentId);
}
