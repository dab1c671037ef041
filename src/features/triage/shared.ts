import { and, asc, desc, eq, inArray, isNotNull, or } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, groups, orders, people, triageSuggestions } from '../../db/schema';
import { enqueue } from '../../core/records';
import type { Logger } from '../../log';
import type { LlmClient } from '../../llm/client';
import type { CalendarProvider } from '../../core/clocks/clock-store';
import type { Person } from '../../core/context';
import { noticeRoute, type NoticeRoute } from '../roster';
import type { WatchContext } from '../../core/feature';
import type { PlaybookRule } from '../../domain/playbooks';
import type { ComplaintPlaybook } from '../../domain/complaints';
import type { Emit } from '../../core/events';
import type { Level, Triage } from './classify';
import type { TriagePlaybook } from './triage-playbook';

// What the triage's parts share: the feature's types, numbers, codes and look-ups.

export type Suggestion = typeof triageSuggestions.$inferSelect;
export { LEVEL_NAMES } from './levels';
export const suggestionCode = (id: number) => `X${id}`;
export const subjectOf = (id: number) => `triage:${id}`;
/** decidedBy of a suggestion an earlier version let the model dismiss (rows may still exist): staff may still confirm it. */
export const MODEL_DECIDER = '模型复核';

/** Queues a post like the chat core's watcher post: a post into an internal group is marked internal. */
export const postWith = (tx: Db, now: Date) => async (target: { platform: string; conversationId: string }, m: { text: string; mentions: string[] }, dedupeKey?: string) => {
  const [g] = await tx
    .select({ kind: groups.kind })
    .from(groups)
    .where(and(eq(groups.platform, target.platform), eq(groups.conversationId, target.conversationId)));
  const internal = g?.kind === 'internal';
  await enqueue(tx, { platform: target.platform, conversationId: target.conversationId, payload: { ...m, ...(internal ? { internal } : {}) }, dedupeKey, now });
};

export interface TriageDeps {
  calendar: CalendarProvider;
  /** Absent: rule-based triage only. Present: the rules act at once and the triage worker asks the model. */
  llm?: LlmClient | null;
  /** Lease of a claimed model job (default 120 s: longer than a model call with its retries). */
  jobLeaseMs?: number;
  playbook?: TriagePlaybook;
  /** The complaint playbook the suggestion's ladder reads its rungs from (default: the built-in one). */
  complaintPlaybook?: ComplaintPlaybook;
}

/** The feature's dependencies with its playbook and the reminder rule read from it. */
export interface TriageEnv {
  deps: TriageDeps;
  pb: TriagePlaybook;
  rule: PlaybookRule;
  /** Counts a triage event on /metrics (Engine.count; set by init, a no-op before). */
  count: (event: 'suggested' | 'merged' | 'raised' | 'attached' | 'confirmed' | 'dismissed') => void;
  /** The engine's event bus (set by init): the complaints feature's requests. */
  emit: Emit;
}

export async function personById(tx: Db, id: number | null | undefined): Promise<Person | null> {
  if (!id) return null;
  const [p] = await tx.select().from(people).where(eq(people.id, id));
  return p && p.active ? p : null;
}

/** The order, department and people a client group's message concerns. */
export async function contextOf(tx: Db, group: WatchContext['group']) {
  let order: typeof orders.$inferSelect | null = null;
  if (group.orderId) [order] = (await tx.select().from(orders).where(eq(orders.id, group.orderId))) as [typeof orders.$inferSelect];
  if (order && group.clientId && order.clientId !== group.clientId) order = null;
  const clientId = group.clientId ?? order?.clientId ?? null;
  let sharedDepartment: number | null = null;
  if (!order && clientId) {
    // A group bound to the client only: its one open order, if there is exactly one; with several,
    // their department when they are all in one.
    const open = await tx
      .select()
      .from(orders)
      .where(and(eq(orders.clientId, clientId), inArray(orders.status, ['new', 'assigned', 'paused'])))
      .orderBy(asc(orders.id))
      .limit(50);
    if (open.length === 1) order = open[0]!;
    const depts = new Set(open.map((o) => o.departmentId));
    if (open.length > 1 && depts.size === 1) sharedDepartment = open[0]!.departmentId;
  }
  const [client] = clientId ? await tx.select().from(clients).where(eq(clients.id, clientId)) : [];
  const handler = await personById(tx, order?.handlerId);
  let supervisor = await personById(tx, handler?.supervisorId);
  const unbound = await unboundContext(tx, order ? null : (client ?? null));
  const departmentId = order?.departmentId ?? sharedDepartment ?? handler?.departmentId ?? unbound.departmentId;
  if (!supervisor && departmentId) {
    const [found] = await tx
      .select()
      .from(people)
      .where(and(eq(people.departmentId, departmentId), eq(people.role, 'supervisor'), eq(people.active, true)))
      .orderBy(asc(people.id))
      .limit(1);
    supervisor = found ?? null;
  }
  // Who is @'d: the order's handler and supervisor; without an order the client's salesperson too;
  // nobody of these (a group bound to nothing): 总经办 and the admins, so someone named always hears of it.
  const known = [handler, supervisor ?? null, unbound.sales].filter((p): p is Person => !!p);
  const notify = [...new Map((known.length ? known : await managementAndAdmins(tx)).map((p) => [p.id, p])).values()];
  return { order, client: client ?? null, handler, supervisor: supervisor ?? null, departmentId, notify };
}

/**
 * A client group without an order: the client's salesperson, and the department of the client's most
 * recent order (any status), else the salesperson's department. Nothing for a group with an order.
 */
async function unboundContext(tx: Db, client: typeof clients.$inferSelect | null) {
  if (!client) return { sales: null, departmentId: null };
  const sales = await personById(tx, client.salespersonId);
  const [latest] = await tx
    .select({ departmentId: orders.departmentId })
    .from(orders)
    .where(and(eq(orders.clientId, client.id), isNotNull(orders.departmentId)))
    .orderBy(desc(orders.createdAt), desc(orders.id))
    .limit(1);
  return { sales, departmentId: latest?.departmentId ?? sales?.departmentId ?? null };
}

async function managementAndAdmins(tx: Db): Promise<Person[]> {
  return tx
    .select()
    .from(people)
    .where(and(eq(people.active, true), or(eq(people.role, 'management'), eq(people.isAdmin, true))))
    .orderBy(asc(people.id));
}

/**
 * Where the suggestion goes: the order's bound internal group, else the department's notice route;
 * with no department known (a client group bound to nothing), 总经办's group, saying which group it came from.
 */
export async function routeOf(tx: Db, s: Pick<Suggestion, 'orderId' | 'departmentId'> & Partial<Pick<Suggestion, 'id' | 'groupId' | 'clientId'>>): Promise<NoticeRoute> {
  if (s.orderId) {
    const [bound] = await tx
      .select()
      .from(groups)
      .where(and(eq(groups.orderId, s.orderId), eq(groups.kind, 'internal')))
      .limit(1);
    if (bound) return { kind: 'department' as const, group: bound };
  }
  const route = await noticeRoute(tx, s.departmentId);
  if (s.departmentId || route.kind !== 'fallback' || !s.groupId) return route;
  const [from] = await tx.select().from(groups).where(eq(groups.id, s.groupId));
  const code = s.id ? suggestionCode(s.id) : 'X…';
  const where = from ? `客户群「${from.title ?? from.conversationId}」` : '客户群';
  return {
    ...route,
    note: s.clientId
      ? `（来自${where}：还不知道该客户属于哪个部门，此通知先发到这里。确认时请写明部门：/投诉 确认 ${code} 部门=<部门>。）`
      : `（来自${where}：该群还没有绑定客户，此通知先发到这里。确认时请写明客户和部门：/投诉 确认 ${code} 客户=<客户> 部门=<部门>，该群会随之绑定这位客户。）`,
  };
}

/** What recording a suggestion needs: the watcher's context, or the triage worker's short transaction. */
export interface Io {
  tx: Db;
  now: Date;
  log: Logger;
  post: WatchContext['post'];
  audit: WatchContext['audit'];
}
export interface ClientMessage {
  messageId: string;
  senderId: string;
  senderName?: string | null;
  receivedAt: Date;
  text: string;
}
export type Decided = { triage: Triage & { level: Level }; source: 'rules' | 'model'; version: string; modelFailure?: string };
