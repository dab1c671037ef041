import type { Actor } from '../../core/records';
import type { Role } from '../../db/schema';

/**
 * Who may read which record (an order, a complaint, a return visit, a suspected complaint, a client's
 * file): ONE rule for `/查`, `/客户 查`, `/投诉 列表`, the exports and the 看板 (README, 谁能看什么).
 *
 * - 总经办 and admins: everything;
 * - 部门负责人 and 主管: their department's records;
 * - 负责人 (handler): the records they work on, and their department's open work;
 * - 业务员 (salesperson): the records of their clients (the client's 业务员, or the order's);
 * - everyone: the records they are named on as the one doing the work.
 *
 * `canSee` is the rule, a pure function of the reader (role, department, id) and the record's facts
 * (client owner, department, who works on it, open or not). Lists read the same rule as SQL
 * (record-scope-sql.ts translates `accessScope`, the part of the rule that depends on the reader only).
 */

/** The person reading, as far as the rule cares. */
export interface Reader {
  id: number | null;
  role: Role | null;
  departmentId: number | null;
  isAdmin: boolean;
}

/** What the rule reads of a record. */
export interface RecordFacts {
  /** The salespeople who own the client: the client's 业务员 (for an order also the order's own). */
  owners: readonly (number | null)[];
  departmentId: number | null;
  /** Who works on it: an order's handler; a complaint's accused handler, new handler, owner, first responder, supervisor; a visit's visitor. */
  workers: readonly (number | null)[];
  /** Still work to do (an order not done or cancelled, a complaint not closed, a visit planned or not reviewed). */
  open: boolean;
}

/** The reader's side of the rule: which records match. null fields match nothing. */
export type AccessScope =
  | { all: true }
  | { all: false; worker: number | null; owner: number | null; department: number | null; openIn: number | null };

export function accessScope(r: Reader): AccessScope {
  if (r.isAdmin || r.role === 'management') return { all: true };
  const none = { all: false as const, worker: r.id, owner: null, department: null, openIn: null };
  if (r.role === 'sales') return { ...none, owner: r.id };
  if (r.role === 'handler') return { ...none, openIn: r.departmentId };
  if (r.role === 'supervisor' || r.role === 'head') return { ...none, department: r.departmentId };
  return none;
}

export function inScope(s: AccessScope, f: RecordFacts): boolean {
  if (s.all) return true;
  const named = (ids: readonly (number | null)[], id: number | null) => id !== null && ids.includes(id);
  return (
    named(f.workers, s.worker) ||
    named(f.owners, s.owner) ||
    (s.department !== null && f.departmentId === s.department) ||
    (s.openIn !== null && f.open && f.departmentId === s.openIn)
  );
}

/** Why a record is not the reader's to see (the refusal says so). */
export type AccessRefusal = 'other-client' | 'other-department' | 'closed';

export type AccessVerdict = { ok: true } | { ok: false; why: AccessRefusal };

/** The rule: may this reader see this record? */
export function canSee(r: Reader, f: RecordFacts): AccessVerdict {
  if (inScope(accessScope(r), f)) return { ok: true };
  if (r.role === 'sales') return { ok: false, why: 'other-client' };
  if (r.departmentId !== null && f.departmentId === r.departmentId) return { ok: false, why: 'closed' };
  return { ok: false, why: 'other-department' };
}

/** The reader of a chat message's sender. */
export function readerOf(actor: Pick<Actor, 'person' | 'isAdmin'>): Reader {
  const p = actor.person;
  return { id: p?.id ?? null, role: p?.role ?? null, departmentId: p?.departmentId ?? null, isAdmin: actor.isAdmin || !!p?.isAdmin };
}

/**
 * The polite refusal of a record the reader may not see. `code` names it (D12, T7, V9, X3, Q5),
 * `department` is the record's department name when known.
 */
export function refusalText(code: string, why: AccessRefusal, department: string | null): string {
  if (why === 'other-client') return `抱歉，${code} 属于其他业务员的客户，您没有查看权限。如需查看，请联系该客户的业务员或部门负责人。`;
  if (why === 'closed') return `抱歉，${code} 已办结且不是您经手的，您没有查看权限。如需查看，请联系您的主管或部门负责人。`;
  const dept = department ?? '其他部门';
  return `抱歉，${code} 属于${dept}，您没有查看权限。如需查看，请联系${dept}的部门负责人。`;
}

/** What a reader's scope covers, in words (a list's note, a client refusal). */
export function scopeInWords(r: Reader): string {
  const s = accessScope(r);
  if (s.all) return '全部记录';
  if (s.owner !== null) return '您的客户的记录';
  if (s.openIn !== null) return '您经手的记录和本部门未办结的工作';
  if (s.department !== null) return '本部门的记录';
  return '您经手的记录';
}

/** The polite refusal of a client's file when none of it is the reader's to see. */
export function clientRefusalText(name: string, r: Reader): string {
  if (r.role === 'sales') return `抱歉，客户「${name}」属于其他业务员的客户，您没有查看权限。如需查看，请联系该客户的业务员或部门负责人。`;
  return `抱歉，客户「${name}」没有您可以查看的记录（您可以查看${scopeInWords(r)}）。如需查看，请联系该客户的业务员或部门负责人。`;
}
