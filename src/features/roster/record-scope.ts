import { and, eq, or, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, complaints, departments, orders, people, timers, triageSuggestions, visits } from '../../db/schema';
import type { Actor } from '../../core/records';
import { PermissionError } from '../../core/errors';
import { canSee, readerOf, refusalText, type AccessScope, type RecordFacts } from './record-access';

/**
 * The record-access rule (record-access.ts) where records are read: each kind of record's facts,
 * once as values (for `/查` of one record) and once as columns (for lists), side by side so they
 * cannot drift; `scopeWhere` turns the reader's scope into a WHERE over those columns, and `mustSee`
 * refuses one record politely.
 */

type Col = AnyColumn | SQL;

/** A record's facts as SQL over its table (see RecordFacts). */
export interface FactColumns {
  owners: Col[];
  department: Col;
  workers: Col[];
  open: SQL;
}

/** The 业务员 of a client, read next to any row that names the client. */
const clientOwner = (clientId: AnyColumn) => sql`(select ${clients.salespersonId} from ${clients} where ${clients.id} = ${clientId})`;

const OPEN_ORDER = ['new', 'assigned', 'paused'];

type OrderRow = typeof orders.$inferSelect;
type ComplaintRow = typeof complaints.$inferSelect;
type VisitRow = typeof visits.$inferSelect;
type SuggestionRow = typeof triageSuggestions.$inferSelect;

export const factsOfOrder = (o: OrderRow, owner: number | null): RecordFacts => ({
  owners: [owner, o.salespersonId],
  departmentId: o.departmentId,
  workers: [o.handlerId, o.transferToId],
  open: OPEN_ORDER.includes(o.status),
});
export const ORDER_FACTS: FactColumns = {
  owners: [clientOwner(orders.clientId), orders.salespersonId],
  department: orders.departmentId,
  workers: [orders.handlerId, orders.transferToId],
  open: sql`${orders.status} in ('new', 'assigned', 'paused')`,
};

export const factsOfComplaint = (c: ComplaintRow, owner: number | null): RecordFacts => ({
  owners: [owner],
  departmentId: c.departmentId,
  workers: [c.handlerId, c.replacementId, c.ownerId, c.firstResponderId, c.supervisorId],
  open: c.status === 'open',
});
export const COMPLAINT_FACTS: FactColumns = {
  owners: [clientOwner(complaints.clientId)],
  department: complaints.departmentId,
  workers: [complaints.handlerId, complaints.replacementId, complaints.ownerId, complaints.firstResponderId, complaints.supervisorId],
  open: sql`${complaints.status} = 'open'`,
};

export const factsOfVisit = (v: VisitRow, owner: number | null): RecordFacts => ({
  owners: [owner],
  departmentId: v.departmentId,
  workers: [v.visitorId, v.reviewerId],
  open: v.status === 'planned' || (v.status === 'done' && !v.reviewedAt),
});
export const VISIT_FACTS: FactColumns = {
  owners: [clientOwner(visits.clientId)],
  department: visits.departmentId,
  workers: [visits.visitorId, visits.reviewerId],
  open: sql`(${visits.status} = 'planned' or (${visits.status} = 'done' and ${visits.reviewedAt} is null))`,
};

export const factsOfSuggestion = (s: SuggestionRow, owner: number | null): RecordFacts => ({
  owners: [owner],
  departmentId: s.departmentId,
  workers: [s.handlerId, s.supervisorId],
  open: s.status === 'open',
});

/** The reader's scope as a WHERE over a kind of record's columns (the same test as `inScope`). */
export function scopeWhere(s: AccessScope, c: FactColumns): SQL {
  if (s.all) return sql`true`;
  const parts: SQL[] = [];
  const named = (cols: Col[], id: number) => cols.map((col) => sql`${col} = ${id}`);
  if (s.worker !== null) parts.push(...named(c.workers, s.worker));
  if (s.owner !== null) parts.push(...named(c.owners, s.owner));
  if (s.department !== null) parts.push(sql`${c.department} = ${s.department}`);
  if (s.openIn !== null) parts.push(sql`(${c.department} = ${s.openIn} and ${c.open})`);
  // Never null (a null handler compares as null): `not` of it is the rows the scope leaves out.
  return parts.length ? sql`coalesce((${sql.join(parts, sql` or `)}), false)` : sql`false`;
}

/** The 业务员 who owns a client (null: none, or no such client). */
export async function ownerOfClient(tx: Db, clientId: number | null): Promise<number | null> {
  if (clientId === null) return null;
  const [c] = await tx.select({ s: clients.salespersonId }).from(clients).where(eq(clients.id, clientId));
  return c?.s ?? null;
}

/** A department's own clock (`dept:3`, a visit's clock): its department, open while it runs. */
const SERIES_FACTS: FactColumns = { owners: [], department: timers.departmentId, workers: [], open: sql`${timers.state} in ('running', 'paused')` };

/**
 * The scope over timers joined with their order (left join `orders`) and complaint (left join
 * `complaints` on `timerComplaintJoin`): an order's clock follows the order, a complaint's the
 * complaint, any other clock (a department series, a visit's) its department. Used by `/逾期`,
 * `/待办` and the 看板 alike.
 */
export function timerScopeWhere(s: AccessScope): SQL {
  if (s.all) return sql`true`;
  return or(
    and(sql`${orders.id} is not null`, scopeWhere(s, ORDER_FACTS)),
    and(sql`${orders.id} is null and ${complaints.id} is not null`, scopeWhere(s, COMPLAINT_FACTS)),
    and(sql`${orders.id} is null and ${complaints.id} is null`, scopeWhere(s, SERIES_FACTS)),
  )!;
}

/** The join condition of a timer to its complaint (`complaint:<id>`), as a key lookup (no string built per complaint). */
export const timerComplaintJoin = sql`${complaints.id} = (case when ${timers.subject} like 'complaint:%' then substring(${timers.subject} from 11)::int end)`;

/** Refuses (PermissionError, a polite reason) a record the sender may not see; `code` names it (D12). */
export async function mustSee(tx: Db, actor: Pick<Actor, 'person' | 'isAdmin'>, code: string, facts: RecordFacts): Promise<void> {
  const v = canSee(readerOf(actor), facts);
  if (v.ok) return;
  const [d] = facts.departmentId !== null ? await tx.select({ name: departments.name }).from(departments).where(eq(departments.id, facts.departmentId)) : [];
  throw new PermissionError(refusalText(code, v.why, d?.name ?? null));
}

/** The reader behind a signed link's userid, re-read from the active roster (null: not in it and no admin). */
export async function readerForUserid(tx: Db, userid: string, adminUserids: readonly string[]) {
  const [p] = await tx.select().from(people).where(and(eq(people.userid, userid), eq(people.active, true)));
  const isAdmin = adminUserids.includes(userid) || !!p?.isAdmin;
  if (!p && !isAdmin) return null;
  return { person: p ?? null, reader: readerOf({ person: p ?? null, isAdmin }) };
}
