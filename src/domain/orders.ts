import type { OrderStatus, PauseKind } from '../db/schema';

/** Pure order rules: what each action may do from each state. The handlers turn refusals into replies. */

export const STATUS_NAMES: Record<OrderStatus, string> = {
  new: '待分配',
  assigned: '进行中',
  paused: '已暂停',
  done: '已完成',
  cancelled: '已取消',
};

export function orderCode(id: number): string {
  return `D${id}`;
}

export interface OrderState {
  id: number;
  status: OrderStatus;
  statusBeforePause: OrderStatus | null;
  handlerId: number | null;
  transferToId: number | null;
}

export type Transition<T> = { ok: true; next: T } | { ok: false; why: string };

const closed = (o: OrderState): string | null =>
  o.status === 'done' || o.status === 'cancelled' ? `${orderCode(o.id)} ${STATUS_NAMES[o.status]}，不能再操作。` : null;

export function ensureOpen(o: OrderState): Transition<OrderState> {
  const c = closed(o);
  return c ? { ok: false, why: c } : { ok: true, next: o };
}

export function assign(o: OrderState, handlerId: number): Transition<Pick<OrderState, 'status' | 'handlerId'>> {
  const c = closed(o);
  if (c) return { ok: false, why: c };
  if (o.status === 'paused') return { ok: false, why: `${orderCode(o.id)} 已暂停，请先 /恢复 ${orderCode(o.id)} 再派单。` };
  if (o.handlerId === handlerId) return { ok: false, why: `${orderCode(o.id)} 已经由这位同事负责了。` };
  return { ok: true, next: { status: 'assigned', handlerId } };
}

export function pause(o: OrderState): Transition<Pick<OrderState, 'status' | 'statusBeforePause'>> {
  const c = closed(o);
  if (c) return { ok: false, why: c };
  if (o.status === 'paused') return { ok: false, why: `${orderCode(o.id)} 已经是暂停状态。` };
  return { ok: true, next: { status: 'paused', statusBeforePause: o.status } };
}

export function resume(o: OrderState): Transition<Pick<OrderState, 'status' | 'statusBeforePause'>> {
  if (o.status !== 'paused') return { ok: false, why: `${orderCode(o.id)} 没有暂停，不需要恢复。` };
  const back = o.statusBeforePause ?? (o.handlerId ? 'assigned' : 'new');
  return { ok: true, next: { status: back, statusBeforePause: null } };
}

export function requestTransfer(o: OrderState, toId: number): Transition<Pick<OrderState, 'transferToId'>> {
  const c = closed(o);
  if (c) return { ok: false, why: c };
  if (!o.handlerId) return { ok: false, why: `${orderCode(o.id)} 还没有负责人，请直接 /派单。` };
  if (o.handlerId === toId) return { ok: false, why: '新负责人和现在的负责人是同一位同事。' };
  if (o.transferToId) return { ok: false, why: `${orderCode(o.id)} 已有一个待批准的转交申请，请先 /批准 或 /驳回。` };
  return { ok: true, next: { transferToId: toId } };
}

export function approveTransfer(o: OrderState): Transition<Pick<OrderState, 'transferToId' | 'handlerId'>> {
  const c = closed(o);
  if (c) return { ok: false, why: c };
  if (!o.transferToId) return { ok: false, why: `${orderCode(o.id)} 没有待批准的转交申请。` };
  return { ok: true, next: { handlerId: o.transferToId, transferToId: null } };
}

export function rejectTransfer(o: OrderState): Transition<Pick<OrderState, 'transferToId'>> {
  if (!o.transferToId) return { ok: false, why: `${orderCode(o.id)} 没有待批准的转交申请。` };
  return { ok: true, next: { transferToId: null } };
}

export function finish(o: OrderState, to: 'done' | 'cancelled'): Transition<Pick<OrderState, 'status'>> {
  const c = closed(o);
  if (c) return { ok: false, why: c };
  if (to === 'done' && !o.handlerId) return { ok: false, why: `${orderCode(o.id)} 还没有负责人，不能标记完成。` };
  return { ok: true, next: { status: to } };
}

/** Pause kinds as people name them (the /暂停 类型= choice and what replies show). */
export const PAUSE_KIND_NAMES: Record<PauseKind, string> = { unpaid: '未付款', client: '等客户', other: '其他' };

const UNPAID_WORDS = /未付|未按合同付|未缴|未交费|没付|欠款|欠费|尾款|未到账|款未到|付款|收款|交费|缴费/;
const CLIENT_WORDS = /客户|资料|材料|等待|对方|答复|确认/;

/**
 * The kind of a pause (3.5.2): an explicit 类型= wins; otherwise read from the reason — payment words
 * first (a client who has not paid is the 3.5.2 case), then waiting for the client, else other.
 */
export function classifyPause(reason: string | null, explicit?: string): PauseKind {
  if (explicit) {
    const byName = (Object.keys(PAUSE_KIND_NAMES) as PauseKind[]).find((k) => PAUSE_KIND_NAMES[k] === explicit || k === explicit);
    if (byName) return byName;
  }
  const text = (reason ?? '').replace(/已(付|收|缴|交)[款费]|已到账/g, '');
  if (UNPAID_WORDS.test(text)) return 'unpaid';
  if (CLIENT_WORDS.test(text)) return 'client';
  return 'other';
}
