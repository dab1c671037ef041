/** Reading orders: `/查 D12` and `/单 列表`. */
import { and, asc, count, desc, eq, inArray, not, or } from 'drizzle-orm';
import { clients, departments, orderEvents, orders, people } from '../../db/schema';
import * as rules from '../../domain/orders';
import { orderCode, STATUS_NAMES } from '../../domain/orders';
import type { OrderContext } from './order-context';
import { UserInputError } from '../../core/errors';
import { formatInstant } from '../../domain/calendar/format-instant';
import { formatInstantInChinese } from '../../domain/calendar';
import { fromRow } from '../../core/clocks/clock-store';
import { loadOrder, personById, refuse } from './shared';
import { accessScope, factsOfOrder, mustSee, ORDER_FACTS, readerOf, scopeInWords, scopeWhere } from '../roster';

/** Names of an order's timeline events (also the 看板's timeline). */
export const EVENT_NAMES: Record<string, string> = {
  created: '新建',
  assigned: '派单',
  step: '进度',
  paid: '确认收款',
  paused: '暂停',
  resumed: '恢复',
  transfer_requested: '申请转交',
  transfer_approved: '批准转交',
  transfer_rejected: '驳回转交',
  done: '完成',
  cancelled: '取消',
  dropout: '客户无法继续或退出',
  bound: '绑定群',
  fields: '设置',
  complaint_handover: '投诉换人',
};

export async function orderShow(ctx: OrderContext, id: number) {
  const o = await loadOrder(ctx.tx, id);
  const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, o.clientId));
  await mustSee(ctx.tx, ctx.actor, orderCode(o.id), factsOfOrder(o, client?.salespersonId ?? null));
  const [dept] = o.departmentId ? await ctx.tx.select().from(departments).where(eq(departments.id, o.departmentId)) : [];
  const handler = await personById(ctx.tx, o.handlerId);
  const sales = await personById(ctx.tx, o.salespersonId);
  const transferTo = await personById(ctx.tx, o.transferToId);
  const history = await ctx.tx
    .select({ e: orderEvents, actor: people.name })
    .from(orderEvents)
    .leftJoin(people, eq(people.id, orderEvents.actorId))
    .where(eq(orderEvents.orderId, o.id))
    .orderBy(asc(orderEvents.id));
  const lines = [
    `${orderCode(o.id)}｜${client?.name ?? '—'}｜${o.serviceType}｜${STATUS_NAMES[o.status]}${o.status === 'paused' && o.pauseReason ? `（${rules.PAUSE_KIND_NAMES[o.pauseKind ?? rules.classifyPause(o.pauseReason)]}：${o.pauseReason}）` : ''}`,
    `部门：${dept?.name ?? '—'}　负责人：${handler?.name ?? '未派单'}　业务员：${sales?.name ?? '—'}`,
    `付款：${o.paid ? '已付款' : '未付款'}${o.deadline ? '　截止：' + o.deadline : ''}`,
  ];
  if (transferTo) lines.push(`待批准转交：→ ${transferTo.name}（${o.transferReason ?? ''}）`);
  const fieldText = Object.entries(o.fields).map(([k, v]) => `${k}=${v}`).join('　');
  if (fieldText) lines.push(`资料：${fieldText}`);
  const active = await ctx.clocks.active(ctx.tx, o.id);
  if (active.length) {
    const cal = await ctx.clocks.calendar(ctx.tx);
    lines.push('计时：');
    active.forEach((row, i) => {
      const rule = ctx.clocks.ruleOf(row);
      const t = fromRow(row);
      const late = t.state === 'running' && t.dueAt.getTime() < ctx.now.getTime() ? '，已超时' : '';
      const state = t.state === 'paused' ? '（暂停中）' : '';
      lines.push(`${i + 1}. ${rule?.step ?? row.ruleId}｜期限 ${formatInstantInChinese(t.dueAt, cal, { now: ctx.now })}${late}${state}｜${rule?.clause ?? ''}`);
    });
  }
  lines.push('记录：');
  const shown = history.slice(-30);
  if (history.length > shown.length) lines.push(`（较早的 ${history.length - shown.length} 条已省略）`);
  for (const { e, actor } of shown) {
    lines.push(`· ${formatInstant(e.at)} ${actor ?? '系统'} ${EVENT_NAMES[e.kind] ?? e.kind}${e.note ? '：' + e.note : ''}`);
  }
  ctx.reply(lines.join('\n'));
}

export async function orderList(ctx: OrderContext, scope: 'mine' | 'dept' | 'all') {
  const p = ctx.actor.person;
  const open = inArray(orders.status, ['new', 'assigned', 'paused']);
  let where;
  if (scope === 'mine') {
    if (!p) throw new UserInputError('您还不在名册中，没有自己的分配单。');
    where = and(open, or(eq(orders.handlerId, p.id), eq(orders.salespersonId, p.id), eq(orders.transferToId, p.id)));
  } else if (scope === 'dept') {
    if (!p?.departmentId) throw new UserInputError('您在名册中没有所属部门，请改用 /单 列表 我的。');
    where = and(open, eq(orders.departmentId, p.departmentId));
  } else {
    if (!(ctx.actor.isAdmin || p?.role === 'management')) refuse('抱歉，查看全部分配单需要总经办权限。');
    where = open;
  }
  // The record-access rule (roster): the list is filtered to what the sender may see, never refused.
  const reader = readerOf(ctx.actor);
  const access = accessScope(reader);
  const visible = scopeWhere(access, ORDER_FACTS);
  const rows = await ctx.tx
    .select({ o: orders, client: clients.name, handler: people.name })
    .from(orders)
    .innerJoin(clients, eq(clients.id, orders.clientId))
    .leftJoin(people, eq(people.id, orders.handlerId))
    .where(and(where, visible))
    .orderBy(desc(orders.id))
    .limit(50);
  const [h] = access.all ? [] : await ctx.tx.select({ n: count() }).from(orders).where(and(where, not(visible)));
  const note = h?.n ? [`（另有 ${h.n} 张不在您的查看范围内，未列出；您可以查看${scopeInWords(reader)}。）`] : [];
  const title = scope === 'mine' ? '您的分配单' : scope === 'dept' ? '本部门的分配单' : '全部分配单';
  if (rows.length === 0) {
    ctx.reply([`${title}：目前没有未完成的分配单。`, ...note].join('\n'));
    return;
  }
  const lines = [`${title}（未完成，最近 ${rows.length} 张）：`];
  for (const { o, client, handler } of rows) {
    lines.push(`· ${orderCode(o.id)} ${client}｜${o.serviceType}｜${STATUS_NAMES[o.status]}｜${handler ?? '未派单'}${o.paid ? '' : '｜未付款'}`);
  }
  lines.push(...note);
  ctx.reply(lines.join('\n'));
}
