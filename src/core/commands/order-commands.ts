import { and, arrayContains, asc, desc, eq, inArray, or } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, departments, groups, orderEvents, orders, people } from '../../db/schema';
import * as rules from '../../domain/orders';
import { orderCode, STATUS_NAMES } from '../../domain/orders';
import { normaliseServiceType, SERVICE_TYPES } from '../../domain/service-types';
import type { ParsedArgs } from '../command-parser';
import { findDepartment, mention, resolvePerson, type Person } from '../context';
import type { OrderContext } from './order-context';
import { normaliseDate } from '../command-parser';
import { PermissionError, UserInputError } from '../errors';
import { formatInstant } from './format';
import type { ClockChange } from '../clocks/order-clocks';
import { durationInChinese, eventsInNote, isAssignmentRule, type OrderEvent } from '../../domain/playbooks';
import { formatInstantInChinese } from '../../domain/calendar';

/** Buttons on a card (WeCom button_interaction allows up to 6). */
const CARD_MAX_BUTTONS = 6;
import { fromRow, ruleById } from '../clocks/clock-store';
import { isClientDropOut } from '../../domain/cancel-reason';
import { DEADLINE_FIELDS, refusePastDeadlines } from './past-dates';

export type Order = typeof orders.$inferSelect;

export async function loadOrder(tx: Db, id: number, lock = false): Promise<Order> {
  const q = tx.select().from(orders).where(eq(orders.id, id));
  const rows = lock ? await q.for('update') : await q;
  if (!rows[0]) throw new UserInputError(`没有找到分配单 ${orderCode(id)}，请核对单号（可发送 /单 列表 查看）。`);
  return rows[0];
}

async function personById(tx: Db, id: number | null): Promise<Person | null> {
  if (!id) return null;
  const rows = await tx.select().from(people).where(eq(people.id, id));
  return rows[0] ?? null;
}

/** Department heads of a department (those who approve and receive escalations). */
export async function headsOf(tx: Db, departmentId: number | null): Promise<Person[]> {
  if (!departmentId) return [];
  return tx
    .select()
    .from(people)
    .where(and(eq(people.departmentId, departmentId), eq(people.role, 'head'), eq(people.active, true)));
}

/**
 * Who is involved in an order: its handler, the handler's supervisor, the salesperson, the heads of its
 * department, management and admins. The handlers below ask this before changing an order.
 */
export async function involvement(ctx: OrderContext, o: Order) {
  const p = ctx.actor.person;
  const handler = await personById(ctx.tx, o.handlerId);
  const isHandler = !!p && p.id === o.handlerId;
  const isSupervisor = !!p && !!handler && handler.supervisorId === p.id;
  const isSales = !!p && p.id === o.salespersonId;
  const isHead = !!p && p.role === 'head' && p.departmentId === o.departmentId;
  const isSupervisorInDept = !!p && p.role === 'supervisor' && p.departmentId === o.departmentId;
  const isManagement = (!!p && p.role === 'management') || ctx.actor.isAdmin;
  return {
    handler,
    isHandler,
    isSupervisor: isSupervisor || isSupervisorInDept,
    isSales,
    isHead,
    isManagement,
    any: isHandler || isSupervisor || isSupervisorInDept || isSales || isHead || isManagement,
  };
}

function refuse(why: string): never {
  throw new PermissionError(why);
}

async function recordOrderEvent(ctx: OrderContext, orderId: number, kind: string, note: string | null, data: Record<string, unknown> = {}) {
  await ctx.tx.insert(orderEvents).values({ orderId, at: ctx.now, actorId: ctx.actor.person?.id ?? null, kind, note, data });
  await ctx.audit(`order.${kind}`, `order:${orderId}`, { note, ...data });
}

async function update(ctx: OrderContext, id: number, values: Partial<typeof orders.$inferInsert>) {
  await ctx.tx
    .update(orders)
    .set({ ...values, updatedAt: ctx.now })
    .where(eq(orders.id, id));
}

/** Lines telling what the change did to the order's clocks. */
async function clockLines(ctx: OrderContext, changes: ClockChange[]): Promise<string> {
  if (!changes.length) return '';
  const cal = await ctx.clocks.calendar(ctx.tx);
  return '\n' + changes.map((c) => ctx.clocks.describe(c, cal, ctx.now)).join('\n');
}

function check<T>(t: rules.Transition<T>): T {
  if (!t.ok) throw new UserInputError(t.why);
  return t.next;
}

export async function orderNew(ctx: OrderContext, args: ParsedArgs) {
  const type = normaliseServiceType(String(args.type));
  if (!type) throw new UserInputError(`「${args.type}」不是已知的业务类型。可选：${SERVICE_TYPES.join('、')}。`);
  const sales = await resolvePerson(ctx.tx, String(args.sales), ctx.message.mentions);
  if (sales.role !== 'sales' && sales.role !== 'management')
    throw new UserInputError(`${sales.name} 在名册中不是业务员，请核对「业务员=」。`);
  let dept = args.dept ? await findDepartment(ctx.tx, String(args.dept)) : null;
  if (args.dept && !dept) throw new UserInputError(`没有找到部门「${args.dept}」。可发送 /部门 列表 查看。`);
  if (!dept) {
    const rows = await ctx.tx.select().from(departments).where(arrayContains(departments.services, [type])).orderBy(asc(departments.id));
    dept = rows[0] ?? null;
  }
  if (!dept)
    throw new UserInputError(`还没有部门承接「${type}」业务。请加上「部门=…」，或请总经办用 /部门 添加 <部门> 业务=${type} 设置。`);
  const clientName = String(args.client).trim();
  if (args.deadline) await refusePastDeadlines(ctx, [{ label: '截止日期', date: String(args.deadline) }], args.confirm === true, ctx.message.text.trim());
  await ctx.tx.insert(clients).values({ name: clientName, salespersonId: sales.id, createdAt: ctx.now }).onConflictDoNothing({ target: clients.name });
  const client = (await ctx.tx.select().from(clients).where(eq(clients.name, clientName)))[0]!;
  const [row] = await ctx.tx
    .insert(orders)
    .values({
      clientId: client.id,
      serviceType: type,
      departmentId: dept.id,
      salespersonId: sales.id,
      paid: args.paid === true,
      deadline: (args.deadline as string | undefined) ?? null,
      createdById: ctx.actor.person?.id ?? null,
      createdAt: ctx.now,
      updatedAt: ctx.now,
    })
    .returning();
  const o = row!;
  await recordOrderEvent(ctx, o.id, 'created', null, { client: clientName, type, department: dept.name, paid: o.paid, deadline: o.deadline });
  const created: OrderEvent[] = o.paid ? ['order.created', 'payment.confirmed'] : ['order.created'];
  const clocks = await clockLines(ctx, await ctx.clocks.events(ctx.tx, o.id, created, ctx.now, ctx.actor));
  const heads = await headsOf(ctx.tx, dept.id);
  const lines = [
    `已新建分配单 ${orderCode(o.id)}，谢谢！`,
    `客户：${clientName}　类型：${type}　部门：${dept.name}`,
    `业务员：${sales.name}　${o.paid ? '已付款' : '未付款（收款后请发送 /收款 ' + orderCode(o.id) + '）'}${o.deadline ? '　截止：' + o.deadline : ''}`,
    `请${heads.length ? ' ' + heads.map(mention).join(' ') + ' ' : '部门负责人'}${await assignmentDeadline(ctx, o.id)}派单：/派单 ${orderCode(o.id)} @负责人`,
  ];
  // A card (where the platform shows one) with the department's people to pick from: a click runs /派单.
  const pickable = await ctx.tx
    .select()
    .from(people)
    .where(and(eq(people.departmentId, dept.id), inArray(people.role, ['handler', 'supervisor']), eq(people.active, true)))
    .orderBy(asc(people.id))
    .limit(CARD_MAX_BUTTONS);
  const buttons = pickable.map((p) => ({ label: `派给 ${p.name}`, command: `/派单 ${orderCode(o.id)} ${p.userid}` }));
  ctx.reply(lines.join('\n') + clocks, heads.map((h) => h.userid), buttons);
}

/**
 * "在 1 个工作日内（3.3.2，期限 …）" from the assignment timer the order just got (its rule's number and
 * clause, the timer's due time), or nothing when no assignment rule applies to the service type.
 */
async function assignmentDeadline(ctx: OrderContext, orderId: number): Promise<string> {
  const row = (await ctx.clocks.active(ctx.tx, orderId)).find((r) => {
    const rule = ctx.clocks.ruleOf(r);
    return !!rule && isAssignmentRule(rule);
  });
  const rule = row && ctx.clocks.ruleOf(row);
  if (!row || !rule) return '';
  const cal = await ctx.clocks.calendar(ctx.tx);
  return `在 ${durationInChinese(rule.duration)}内（${rule.clause}，期限 ${formatInstantInChinese(fromRow(row).dueAt, cal, { now: ctx.now })}）`;
}

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

export async function orderStep(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!inv.any) refuse(`抱歉，只有 ${orderCode(o.id)} 的负责人、主管、业务员或部门负责人可以记录进度。`);
  check(rules.ensureOpen(o));
  const note = String(args.note);
  await update(ctx, o.id, { lastStep: note });
  const events = eventsInNote(note);
  await recordOrderEvent(ctx, o.id, 'step', note, events.length ? { events } : {});
  if (events.includes('payment.confirmed') && !o.paid) await update(ctx, o.id, { paid: true });
  const clocks = await clockLines(ctx, await ctx.clocks.events(ctx.tx, o.id, events, ctx.now, ctx.actor));
  ctx.reply(`已记录 ${orderCode(o.id)} 的进度：${note}\n谢谢！${clocks}`);
}

export async function orderPaid(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!(inv.isSales || inv.isHead || inv.isManagement)) refuse(`抱歉，${orderCode(o.id)} 的收款需由所属业务员或部门负责人确认。`);
  if (o.paid) throw new UserInputError(`${orderCode(o.id)} 已经确认过收款了。`);
  check(rules.ensureOpen(o));
  await update(ctx, o.id, { paid: true });
  await recordOrderEvent(ctx, o.id, 'paid', null);
  // 3.5.2: the payment lifts a pause for non-payment; its clocks go on with the working time they had left.
  const pausedKind = o.status === 'paused' ? (o.pauseKind ?? rules.classifyPause(o.pauseReason)) : null;
  let lifted = '';
  const changes: ClockChange[] = [];
  if (pausedKind === 'unpaid') {
    const next = check(rules.resume(o));
    await update(ctx, o.id, { ...next, pauseReason: null, pauseKind: null });
    await recordOrderEvent(ctx, o.id, 'resumed', '收款后自动恢复（3.5.2）');
    changes.push(...(await ctx.clocks.resume(ctx.tx, o.id, ctx.now, ctx.actor)));
    lifted = `\n${orderCode(o.id)} 因未付款暂停（${o.pauseReason ?? '未付款'}），现已自动恢复（3.5.2），状态：${STATUS_NAMES[next.status]}，计时按暂停时剩余的工作时间继续。`;
  } else if (pausedKind) {
    lifted = `\n${orderCode(o.id)} 仍处于暂停（${rules.PAUSE_KIND_NAMES[pausedKind]}：${o.pauseReason ?? ''}），不是因为付款，所以没有自动恢复；可以继续时请发送 /恢复 ${orderCode(o.id)}。`;
  }
  changes.push(...(await ctx.clocks.events(ctx.tx, o.id, ['payment.confirmed'], ctx.now, ctx.actor)));
  const clocks = await clockLines(ctx, changes);
  const goOn = inv.handler && pausedKind !== 'client' && pausedKind !== 'other' ? `\n${mention(inv.handler)} 可以继续办理了。` : '';
  ctx.reply(`已确认 ${orderCode(o.id)} 客户付款，谢谢！${lifted}${goOn}${clocks}`, goOn && inv.handler ? [inv.handler.userid] : []);
}

export async function orderPause(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!inv.any) refuse(`抱歉，只有 ${orderCode(o.id)} 的相关同事可以暂停它。`);
  const next = check(rules.pause(o));
  const reason = String(args.reason);
  const kind = rules.classifyPause(reason, args.kind as string | undefined);
  await update(ctx, o.id, { ...next, pauseReason: reason, pauseKind: kind });
  await recordOrderEvent(ctx, o.id, 'paused', reason, { kind });
  const paused = await ctx.clocks.pause(ctx.tx, o.id, ctx.now, ctx.actor);
  const how =
    kind === 'unpaid' && !o.paid
      ? `业务员确认收款（/收款 ${orderCode(o.id)}）后会自动恢复；也可以发送 /恢复 ${orderCode(o.id)}`
      : `恢复时请发送 /恢复 ${orderCode(o.id)}`;
  ctx.reply(
    `已暂停 ${orderCode(o.id)}（${rules.PAUSE_KIND_NAMES[kind]}：${reason}）${paused.length ? `，${paused.length} 项计时同时停止` : ''}。${how}。`,
  );
}

export async function orderResume(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!inv.any) refuse(`抱歉，只有 ${orderCode(o.id)} 的相关同事可以恢复它。`);
  const next = check(rules.resume(o));
  await update(ctx, o.id, { ...next, pauseReason: null, pauseKind: null });
  await recordOrderEvent(ctx, o.id, 'resumed', null);
  const clocks = await clockLines(ctx, await ctx.clocks.resume(ctx.tx, o.id, ctx.now, ctx.actor));
  const mentions = inv.handler ? [inv.handler.userid] : [];
  ctx.reply(
    `已恢复 ${orderCode(o.id)}，状态：${STATUS_NAMES[next.status]}。${inv.handler ? mention(inv.handler) + ' 请继续跟进，辛苦了！' : ''}${clocks}`,
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

export async function orderApprove(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!(inv.isHead || inv.isManagement)) refuse(`抱歉，${orderCode(o.id)} 的转交需由所属部门负责人批准。`);
  const next = check(rules.approveTransfer(o));
  const to = (await personById(ctx.tx, next.handlerId))!;
  await update(ctx, o.id, { ...next, transferReason: null, transferRequestedById: null, status: o.status === 'new' ? 'assigned' : o.status });
  await recordOrderEvent(ctx, o.id, 'transfer_approved', null, { from: inv.handler?.userid ?? null, to: to.userid });
  const mentions = [to.userid, ...(inv.handler ? [inv.handler.userid] : [])];
  ctx.reply(
    `已批准 ${orderCode(o.id)} 转交：现由 ${mention(to)} 负责。\n` +
      `${inv.handler ? mention(inv.handler) + ' 请把资料和进展全部交接给新负责人，' : ''}谢谢配合！`,
    mentions,
  );
}

export async function orderReject(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!(inv.isHead || inv.isManagement)) refuse(`抱歉，${orderCode(o.id)} 的转交需由所属部门负责人审批。`);
  const next = check(rules.rejectTransfer(o));
  const requester = await personById(ctx.tx, o.transferRequestedById);
  await update(ctx, o.id, { ...next, transferReason: null, transferRequestedById: null });
  await recordOrderEvent(ctx, o.id, 'transfer_rejected', String(args.reason));
  ctx.reply(
    `已驳回 ${orderCode(o.id)} 的转交申请（原因：${args.reason}）。${requester ? mention(requester) + ' 请知悉。' : ''}`,
    requester ? [requester.userid] : [],
  );
}

export async function orderFinish(ctx: OrderContext, args: ParsedArgs, to: 'done' | 'cancelled') {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (to === 'done' && !(inv.isHandler || inv.isSupervisor || inv.isHead || inv.isManagement))
    refuse(`抱歉，只有 ${orderCode(o.id)} 的负责人、主管或部门负责人可以标记完成。`);
  if (to === 'cancelled' && !(inv.isSales || inv.isHead || inv.isManagement))
    refuse(`抱歉，${orderCode(o.id)} 需由所属业务员或部门负责人取消。`);
  const next = check(rules.finish(o, to));
  const note = (args.note ?? args.reason ?? null) as string | null;
  await update(ctx, o.id, { ...next, transferToId: null });
  await recordOrderEvent(ctx, o.id, to, note);
  const stopped = await clockLines(ctx, await ctx.clocks.close(ctx.tx, o.id, to, ctx.now, ctx.actor));
  const sales = await personById(ctx.tx, o.salespersonId);
  if (to === 'done') {
    ctx.reply(`${orderCode(o.id)} 已标记完成${note ? '（' + note + '）' : ''}，大家辛苦了！${stopped}`);
    return;
  }
  // 3.5.1 / 3.5.3: the salesperson is told; keeping the evidence is the handler's duty.
  const tellSales = sales && sales.id !== ctx.actor.person?.id ? sales : null;
  const handler = inv.handler;
  ctx.reply(
    `${orderCode(o.id)} 已取消（原因：${note}）。` +
      (tellSales ? `${mention(tellSales)} 请知悉。` : '') +
      (handler && isClientDropOut(note) ? `\n${mention(handler)} 请保留相关证据（沟通记录、客户的书面说明等，3.5.1、3.5.3）。` : '') +
      stopped,
    [...(tellSales ? [tellSales.userid] : []), ...(handler && isClientDropOut(note) ? [handler.userid] : [])],
  );
}

/**
 * 3.5.1 / 3.5.3: the handler records that the client cannot go on or has dropped out. The salesperson
 * is told at once (a real @); the order pauses (等客户) so its clocks stop while they find the cause;
 * the handler is asked to keep the evidence. If it truly cannot go on, /取消 closes it.
 */
export async function orderDropOut(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!(inv.isHandler || inv.isSupervisor || inv.isHead || inv.isManagement))
    refuse(`抱歉，${orderCode(o.id)} 的客户无法继续或退出，需由具体负责人（或其主管、部门负责人）登记。`);
  check(rules.ensureOpen(o));
  const reason = String(args.reason);
  await recordOrderEvent(ctx, o.id, 'dropout', reason);
  let paused: ClockChange[] = [];
  if (o.status !== 'paused') {
    const next = check(rules.pause(o));
    await update(ctx, o.id, { ...next, pauseReason: `客户无法继续或退出：${reason}`, pauseKind: 'client' });
    await recordOrderEvent(ctx, o.id, 'paused', `客户无法继续或退出：${reason}`, { kind: 'client' });
    paused = await ctx.clocks.pause(ctx.tx, o.id, ctx.now, ctx.actor);
  }
  const sales = await personById(ctx.tx, o.salespersonId);
  const handler = inv.handler;
  const lines = [
    `已记录 ${orderCode(o.id)}：客户无法继续或退出（原因：${reason}）。${o.status === 'paused' ? '' : `本单已暂停${paused.length ? `，${paused.length} 项计时同时停止` : ''}。`}`,
    sales
      ? `${mention(sales)} 请知悉（3.5.1、3.5.3），并与负责人一起了解原因、商量解决办法；确实做不了的，请发送 /取消 ${orderCode(o.id)} <原因>，可以继续时发送 /恢复 ${orderCode(o.id)}。`
      : `本单没有登记业务员，请部门负责人通知所属业务员（3.5.1、3.5.3）。`,
    handler
      ? `${mention(handler)} 请保留相关证据（沟通记录、客户的书面说明等），可用 /进度 ${orderCode(o.id)} 证据：… 登记。`
      : `本单还没有具体负责人，请部门负责人安排留存相关证据。`,
  ];
  ctx.reply(lines.join('\n'), [...(sales ? [sales.userid] : []), ...(handler ? [handler.userid] : [])]);
}

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
  const rows = await ctx.tx
    .select({ o: orders, client: clients.name, handler: people.name })
    .from(orders)
    .innerJoin(clients, eq(clients.id, orders.clientId))
    .leftJoin(people, eq(people.id, orders.handlerId))
    .where(where)
    .orderBy(desc(orders.id))
    .limit(50);
  const title = scope === 'mine' ? '您的分配单' : scope === 'dept' ? '本部门的分配单' : '全部分配单';
  if (rows.length === 0) {
    ctx.reply(`${title}：目前没有未完成的分配单。`);
    return;
  }
  const lines = [`${title}（未完成，最近 ${rows.length} 张）：`];
  for (const { o, client, handler } of rows) {
    lines.push(`· ${orderCode(o.id)} ${client}｜${o.serviceType}｜${STATUS_NAMES[o.status]}｜${handler ?? '未派单'}${o.paid ? '' : '｜未付款'}`);
  }
  ctx.reply(lines.join('\n'));
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

/** Date fields and facts the playbooks read (SERVICE-RULES.md); 截止 is the order's own deadline. */
export const ORDER_FIELDS: Record<string, 'date' | 'number' | 'text'> = {
  申报截止: 'date',
  提交时间: 'date',
  年费到期: 'date',
  合同开始: 'date',
  合同结束: 'date',
  资助申报截止: 'date',
  执行期月数: 'number',
  事务: 'text',
  需要答辩: 'text',
};

export async function orderSet(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!inv.any) refuse(`抱歉，只有 ${orderCode(o.id)} 的相关同事可以修改它。`);
  check(rules.ensureOpen(o));
  const fields: Record<string, string> = { ...o.fields };
  let deadline = o.deadline;
  const changed: string[] = [];
  const words = String(args.pairs).split(/[\s\u3000]+/).filter(Boolean);
  const confirmed = words.some((w) => w === '确认' || w === 'confirm');
  const dates: { label: string; date: string }[] = [];
  for (const pair of words.filter((w) => w !== '确认' && w !== 'confirm')) {
    const m = /^([^=＝:：]+)[=＝:：](.*)$/.exec(pair);
    if (!m) throw new UserInputError(`「${pair}」不是「字段=值」的形式。例如：/单 设置 ${orderCode(o.id)} 申报截止=2026-12-20`);
    const key = m[1]!.trim();
    const raw = m[2]!.trim();
    if (key === '截止') {
      const d = normaliseDate(raw);
      if (!d) throw new UserInputError(`「${raw}」不是有效日期（应为 YYYY-MM-DD）。`);
      deadline = d;
      dates.push({ label: key, date: d });
      changed.push('申报截止');
      continue;
    }
    const kind = ORDER_FIELDS[key];
    if (!kind) throw new UserInputError(`不认识字段「${key}」。可设置：截止、${Object.keys(ORDER_FIELDS).join('、')}。`);
    if (raw === '' || raw === '无' || raw === '清除') {
      delete fields[key];
    } else if (kind === 'date') {
      const d = normaliseDate(raw);
      if (!d) throw new UserInputError(`「${key}」应为日期（YYYY-MM-DD），「${raw}」无效。`);
      fields[key] = d;
      if (DEADLINE_FIELDS.has(key)) dates.push({ label: key, date: d });
    } else if (kind === 'number') {
      if (!/^\d{1,4}$/.test(raw)) throw new UserInputError(`「${key}」应为整数，「${raw}」无效。`);
      fields[key] = raw;
    } else {
      fields[key] = raw.slice(0, 100);
    }
    changed.push(key);
  }
  if (!changed.length) throw new UserInputError(`请写出要设置的字段，例如：/单 设置 ${orderCode(o.id)} 申报截止=2026-12-20`);
  await refusePastDeadlines(ctx, dates, confirmed, `/单 设置 ${orderCode(o.id)} ${words.filter((w) => w !== '确认' && w !== 'confirm').join(' ')}`);
  await update(ctx, o.id, { fields, deadline });
  await recordOrderEvent(ctx, o.id, 'fields', changed.map((k) => `${k}=${k === '申报截止' && !fields[k] ? deadline : (fields[k] ?? '（已清除）')}`).join(' '));
  const clocks = await clockLines(ctx, await ctx.clocks.fieldsChanged(ctx.tx, o.id, changed, ctx.now, ctx.actor));
  ctx.reply(`已更新 ${orderCode(o.id)}：${changed.join('、')}。谢谢！${clocks}`);
}

export async function orderCheckoff(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!inv.any) refuse(`抱歉，只有 ${orderCode(o.id)} 的相关同事可以登记它的计时。`);
  const active = await ctx.clocks.active(ctx.tx, o.id);
  if (!active.length) throw new UserInputError(`${orderCode(o.id)} 目前没有进行中的计时。`);
  const which = String(args.which).trim();
  const byNumber = /^\d{1,3}$/.test(which) ? active[Number(which) - 1] : undefined;
  const matches = byNumber
    ? [byNumber]
    : active.filter((r) => r.ruleId === which || (ctx.clocks.ruleOf(r)?.step ?? '').includes(which));
  if (matches.length !== 1) {
    const list = active.map((r, i) => `${i + 1}. ${ctx.clocks.ruleOf(r)?.step ?? r.ruleId}`).join('\n');
    throw new UserInputError(`${matches.length ? '有多项计时符合' : '没有找到计时'}「${which}」，请用编号：\n${list}`);
  }
  const changes = await ctx.clocks.completeOne(ctx.tx, o.id, matches[0]!, ctx.now, ctx.actor);
  await recordOrderEvent(ctx, o.id, 'step', `已办：${changes[0]?.rule.step ?? which}`);
  const done = changes.map((c) => `「${c.rule.step}」（${c.rule.clause}）`).join('、') || `「${which}」`;
  ctx.reply(`好的，已登记 ${orderCode(o.id)} 的计时 ${done} 已办，这一项停止计时。分配单其余事项照常进行；全部办完请发送 /完成 ${orderCode(o.id)}。`);
}
