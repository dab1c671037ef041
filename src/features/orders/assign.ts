/** Who works on an order: `/派单`, `/转派` and `/绑定` (a group bound to the order). */
import { and, eq, inArray } from 'drizzle-orm';
import { clients, departments, groups } from '../../db/schema';
import * as rules from '../../domain/orders';
import { orderCode } from '../../domain/orders';
import { ASSIGN_RULE, mayAssign } from '../../domain/assignment';
import type { ParsedArgs } from '../../core/command-parser';
import { mention, resolvePerson } from '../roster';
import type { OrderContext } from './order-context';
import { UserInputError } from '../../core/errors';
import { loadOrder, personById, headsOf, involvement, refuse, recordOrderEvent, update, clockLines, check } from './shared';

export async function orderAssign(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const code = orderCode(o.id);
  const p = ctx.actor.person;
  const assigner = { role: p?.role ?? null, departmentId: p?.departmentId ?? null, isAdmin: ctx.actor.isAdmin };
  // Who may assign at all, before the person is looked up (a stranger learns nothing about the roster).
  if (mayAssign(assigner, o.departmentId, { role: 'handler', departmentId: o.departmentId }).ok === false)
    refuse(`抱歉，${code} 需由所属部门的部门负责人或主管派单（${ASSIGN_RULE.clause}），其他部门的同事请联系该部门或总经办。`);
  const handler = await resolvePerson(ctx.tx, String(args.person), ctx.message.mentions);
  const verdict = mayAssign(assigner, o.departmentId, handler);
  if (!verdict.ok && verdict.why === 'handler_is_sales') throw new UserInputError(`${handler.name} 是业务员，请派给具体负责人。`);
  if (!verdict.ok) {
    const names = await departmentNames(ctx, [o.departmentId, handler.departmentId]);
    refuse(
      `抱歉，${handler.name} 属于${names.get(handler.departmentId) ?? '其他部门'}，${code} 是${names.get(o.departmentId) ?? '本部门'}的分配单：` +
        `部门负责人和主管派给本部门的具体负责人（${ASSIGN_RULE.clause}）；需要其他部门的同事承接时，请总经办派单。`,
    );
  }
  const next = check(rules.assign(o, handler.id));
  const current = await personById(ctx.tx, o.handlerId);
  if (current && current.id !== handler.id) {
    // Another handler is 项目移交 (3.5.5): an application the department head approves, and the
    // current handler hands everything over. A stale 「派给 …」 card button lands here too.
    throw new UserInputError(
      `抱歉，${code} 已派给 ${current.name}，不能再用 /派单 改派（之前卡片上的「派给」按钮也已不再适用）。\n` +
        `更换负责人属于项目移交（3.5.5），需经部门负责人同意：请发送 /转交 ${code} @${handler.name} <原因>，批准后由 ${current.name} 交接给 ${handler.name}。`,
    );
  }
  await update(ctx, o.id, next);
  await recordOrderEvent(ctx, o.id, 'assigned', null, { handler: handler.userid, previous: null, ...(verdict.crossDepartment ? { crossDepartment: true } : {}) });
  const clocks = await clockLines(ctx, await ctx.clocks.events(ctx.tx, o.id, ['order.assigned'], ctx.now, ctx.actor));
  const sales = await personById(ctx.tx, o.salespersonId);
  const mentions = [handler.userid, ...(sales ? [sales.userid] : [])];
  ctx.reply(
    `${code} 已派给 ${mention(handler)}，辛苦了！\n` +
      `请尽快联系业务员${sales ? ' ' + mention(sales) : ''} 了解情况，并按标准时限联系客户。` +
      clocks,
    mentions,
  );
}

async function departmentNames(ctx: OrderContext, ids: (number | null)[]): Promise<Map<number | null, string>> {
  const known = ids.filter((x): x is number => x !== null);
  const rows = known.length ? await ctx.tx.select().from(departments).where(inArray(departments.id, known)) : [];
  return new Map(rows.map((d) => [d.id, d.name]));
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
  // The current handler hears of it now when someone else applied (he hands over once it is approved).
  const told = inv.handler && !inv.isHandler && !heads.some((h) => h.id === inv.handler!.id) ? inv.handler : null;
  ctx.reply(
    `已提交 ${orderCode(o.id)} 的项目移交申请：${inv.handler?.name ?? '—'} → ${to.name}（原因：${reason}）。\n` +
      `请部门负责人${heads.length ? ' ' + heads.map(mention).join(' ') : ''} 审批：/批准 ${orderCode(o.id)} 或 /驳回 ${orderCode(o.id)} <原因>` +
      (told ? `\n${mention(told)} 请知悉：批准后请把资料和进展交接给 ${to.name}。` : ''),
    [...heads.map((h) => h.userid), ...(told ? [told.userid] : [])],
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
  // Only a client group or a group of its own takes one order: a department's group (总经办's among
  // them) carries every order of the department, and a binding would make each /投诉 there this order's.
  if (ctx.group.departmentId) {
    const [d] = await ctx.tx.select({ name: departments.name }).from(departments).where(eq(departments.id, ctx.group.departmentId));
    throw new UserInputError(
      `抱歉，本群是「${d?.name ?? '本部门'}」的部门群，接收本部门所有分配单的提醒，不能绑定到一张分配单` +
        `（否则本群登记的投诉都会算到 ${orderCode(o.id)} 上）。请在 ${orderCode(o.id)} 的客户群，或专为这张单建的工作群里发送 /绑定 ${orderCode(o.id)}。`,
    );
  }
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
