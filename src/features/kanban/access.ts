import { and, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { complaints, departments, orders, people, timers, visits } from '../../db/schema';
import type { Person } from '../../core/context';
import { ROLE_NAMES } from '../../domain/roles';

/**
 * Who may see what on the 看板, re-read from the roster on every request (a link names only a userid):
 * 总经办 and admins everything; a department head their department; a supervisor their people (those
 * whose 上级 they are) and themselves. Everyone else, and anyone who left the roster, sees nothing.
 * Every query of the pages is `scope AND filters`, so a URL parameter can narrow the view, never widen it.
 */
export type Viewer =
  | { kind: 'all'; userid: string; name: string; person: Person | null }
  | { kind: 'dept'; userid: string; name: string; person: Person; deptId: number }
  | { kind: 'people'; userid: string; name: string; person: Person; deptId: number | null; peopleIds: number[] };

export async function viewerOf(tx: Db, userid: string, adminUserids: readonly string[]): Promise<Viewer | null> {
  const [p] = await tx.select().from(people).where(and(eq(people.userid, userid), eq(people.active, true)));
  if (adminUserids.includes(userid) || p?.isAdmin || p?.role === 'management') return { kind: 'all', userid, name: p?.name ?? userid, person: p ?? null };
  if (!p) return null;
  if (p.role === 'head' && p.departmentId) return { kind: 'dept', userid, name: p.name, person: p, deptId: p.departmentId };
  if (p.role === 'supervisor') {
    const team = await tx.select({ id: people.id }).from(people).where(eq(people.supervisorId, p.id));
    return { kind: 'people', userid, name: p.name, person: p, deptId: p.departmentId, peopleIds: [p.id, ...team.map((t) => t.id)] };
  }
  return null;
}

/** What the header says the viewer sees. */
export async function scopeText(tx: Db, v: Viewer): Promise<string> {
  if (v.kind === 'all') return `${v.name}｜全部部门`;
  const [d] = v.deptId ? await tx.select({ name: departments.name }).from(departments).where(eq(departments.id, v.deptId)) : [];
  if (v.kind === 'dept') return `${v.name}（${ROLE_NAMES.head}）｜${d?.name ?? ''}`;
  return `${v.name}（${ROLE_NAMES.supervisor}）｜${d?.name ?? ''} 您和您带的 ${v.peopleIds.length - 1} 位同事`;
}

export function orderScope(v: Viewer): SQL {
  if (v.kind === 'all') return sql`true`;
  if (v.kind === 'dept') return eq(orders.departmentId, v.deptId);
  return inArray(orders.handlerId, v.peopleIds);
}

export function complaintScope(v: Viewer): SQL {
  if (v.kind === 'all') return sql`true`;
  if (v.kind === 'dept') return eq(complaints.departmentId, v.deptId);
  return or(inArray(complaints.handlerId, v.peopleIds), inArray(complaints.replacementId, v.peopleIds), eq(complaints.supervisorId, v.person.id))!;
}

/** Return visits (回访): a department head sees the department's, a supervisor their people's. */
export function visitScope(v: Viewer): SQL {
  if (v.kind === 'all') return sql`true`;
  if (v.kind === 'dept') return eq(visits.departmentId, v.deptId);
  return inArray(visits.visitorId, v.peopleIds);
}

/**
 * Timers joined with their order (left join `orders`) and complaint (left join `complaints` on the
 * subject): an order's clock follows the order's scope, a complaint's the complaint's, a department
 * series (`dept:3`) its department (heads and 总经办 only).
 */
export function timerScope(v: Viewer): SQL {
  if (v.kind === 'all') return sql`true`;
  if (v.kind === 'dept') return sql`coalesce(${orders.departmentId}, ${complaints.departmentId}, ${timers.departmentId}) = ${v.deptId}`;
  return or(
    and(sql`${orders.id} is not null`, orderScope(v)),
    and(sql`${complaints.id} is not null`, complaintScope(v)),
  )!;
}

/** The join condition of a timer to its complaint (`complaint:<id>`), as a key lookup (no string built per complaint). */
export const timerComplaintJoin = sql`${complaints.id} = (case when ${timers.subject} like 'complaint:%' then substring(${timers.subject} from 11)::int end)`;

/** Departments whose figures the viewer sees (总经办: those that take orders; others: their own). */
export async function visibleDepartments(tx: Db, v: Viewer) {
  const all = await tx.select().from(departments).orderBy(departments.id);
  if (v.kind === 'all') return all.filter((d) => d.services.length > 0);
  return all.filter((d) => d.id === v.deptId);
}

/** The people the viewer sees (filters and the 人员 page): the whole roster, the department, the team. */
export async function visiblePeople(tx: Db, v: Viewer) {
  const all = await tx.select().from(people).where(eq(people.active, true)).orderBy(people.id);
  if (v.kind === 'all') return all;
  if (v.kind === 'dept') return all.filter((p) => p.departmentId === v.deptId);
  return all.filter((p) => v.peopleIds.includes(p.id));
}
