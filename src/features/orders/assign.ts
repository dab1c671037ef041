/** Who works on an order: `/派单`, `/转派` and `/绑定` (a group bound to the order). */
import { and, eq, inArray } from 'drizzle-orm';
import { clients, groups } from '../../db/schema';
import * as rules from '../../domain/orders';
import { orderCode } from '../../domain/orders';
import type { ParsedArgs } from '../../core/command-parser';
import { mention, resolvePerson } from '../roster';
import type { OrderContext } from './order-context';
import { UserInputError } from '../../core/errors';
import { loadOrder, personById, headsOf, involvement, refuse, recordOrderEvent, update, clockLines, check } from './shared';

export async function orderAssign(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!(inv.isHead || inv.isManagement || inv.isSupervisor))
    refuse(`抱歉，${orderCode(o.id)} 需由所属部门的负责人或主管派单。`);
  const handler = await resolvePerson(ctx.tx, String(args.person), ctx.message.mentions);
  if (handler.role === 'sales') throw new UserInputError(`${handler.name} 是业务员，请派给具体负责人。`);
  const next = check(rules.assign(o, handler.id));
  await update(ctx, o.id, next);
  const previous = inv.handler;
  await recordOrderEvent(ctx, o.id, 'assigned', null, { handler: handler.userid, previous: previous?.userid ?? null });
  const clocks = await clockLines(ctx, await ctx.clocks.events(ctx.tx, o.id, ['order.assigned'], ctx.now, ctx.actor));
  const sales = await personById(ctx.tx, o.salespersonId);
  const mentions = [handler.userid, ...(sales ? [sales.userid] : [])];
  ctx.reply(
    `${orderCode(o.id)} 已${previous ? `由 ${previous.name} 改派给` : '派给'} ${mention(handler)}，辛苦了！\n` +
      `请尽快联系业务员${sales ? ' ' + mention(sales) : ''} 了解情况，并按标准时限联系客户。` +
      clocks,
    mentions,
  );
}

export async function orderTransfer(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!inv.any) refuse(`抱歉，只有 ${orderCode(o.id)} 的相关同事可以申请转交。`);
  const to = await resolvePerson(ctx.tx, String(args.person), ctx.message.mentions);
  if (to.role === 'sales') throw new UserInputError(`${to.name} 是业务员，请转交给具体负责人。`);
  const next = check(rules.requestTransfer(o, to.id));
  const reason = String(args.reason);
  await update(ctx, o.id, { ...next, transferReason: reason, transferRequestedById: ctx.actor.person?.id ?? null });
  await recordOrderEvent(ctx, o.id, 'transfer_requested', reason, { to: to.userid });
  const heads = await headsOf(ctx.tx, o.departmentId);
  ctx.reply(
    `已提交 ${orderCode(o.id)} 的项目移交申请：${inv.handler?.name ?? '—'} → ${to.name}（原因：${reason}）。\n` +
      `请部门负责人${heads.length ? ' ' + heads.map(mention).join(' ') : ''} 审批：/批准 ${orderCode(o.id)} 或 /驳回 ${orderCode(o.id)} <原因>`,
    heads.map((h) => h.userid),
    [
      { label: '批准', command: `/批准 ${orderCode(o.id)}` },
      { label: '驳回', command: `/驳回 ${orderCode(o.id)} 部门负责人在卡片上驳回，请再沟通` },
    ],
  );
}

export async function groupBind(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order));
  const inv = await involvement(ctx, o);
  if (!inv.any) refuse(`抱歉，只有 ${orderCode(o.id)} 的相关同事可以绑定它。`);
  // 0b: a client group belongs to one client; another client's order is never bound into it.
  const groupClientId = ctx.group.clientId ?? (ctx.group.orderId ? (await loadOrder(ctx.tx, ctx.group.orderId)).clientId : null);
  if (ctx.group.kind === 'client' && groupClientId !== null && groupClientId !== o.clientId) {
    const names = new Map((await ctx.tx.select().from(clients).where(inArray(clients.id, [groupClientId, o.clientId]))).map((c) => [c.id, c.name]));
    throw new UserInputError(
      `抱歉，本群是「${names.get(groupClientId)}」的客户群，${orderCode(o.id)} 是「${names.get(o.clientId)}」的分配单，不能绑定到这里` +
        `（否则另一位客户的提醒和投诉会记到本群）。请在「${names.get(o.clientId)}」的客户群里发送 /绑定 ${orderCode(o.id)}。`,
    );
  }
  await ctx.tx
    .update(groups)
    .set({ orderId: o.id, clientId: o.clientId })
    .where(eq(groups.id, ctx.group.id));
  await recordOrderEvent(ctx, o.id, 'bound', ctx.group.title ?? ctx.group.conversationId, { group: ctx.group.conversationId });
  // Features following the order (e.g. the 讨论组 clocks) hear of the binding; in a client group the
  // reply names no clock (clients never see internal clock names).
  const boundChanges = await ctx.clocks.groupBound(ctx.tx, o.id, { ...ctx.group, orderId: o.id, clientId: o.clientId }, ctx.now, ctx.actor);
  // Says what the scheduler does (targetFor): a client group gets the client-facing steps, an
  // internal group the order's internal reminders (before the 部门群).
  if (ctx.group.kind === 'client') {
    const [dg] = o.departmentId
      ? await ctx.tx.select().from(groups).where(and(eq(groups.departmentId, o.departmentId), eq(groups.kind, 'internal')))
      : [];
    ctx.reply(
      `本群已绑定到 ${orderCode(o.id)}，之后它需要客户知道的提醒会发到这里；内部提醒发到${dg ? `部门群「${dg.title ?? dg.conversationId}」` : '部门群（尚未设置）'}。`,
    );
  } else {
    ctx.reply(`本群已绑定到 ${orderCode(o.id)}，之后它的内部提醒会发到这里。${await clockLines(ctx, boundChanges)}`);
  }
}
