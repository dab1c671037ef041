/** `/单 新建`: a new order, its clocks started, its department's heads asked to assign it. */
import { and, arrayContains, asc, eq, inArray } from 'drizzle-orm';
import { clients, departments, orders, people } from '../../db/schema';
import { orderCode } from '../../domain/orders';
import { normaliseServiceType, SERVICE_TYPES } from '../../domain/service-types';
import type { ParsedArgs } from '../../core/command-parser';
import { findDepartment, mention, resolvePerson } from '../roster';
import type { OrderContext } from './order-context';
import { UserInputError } from '../../core/errors';
import { type OrderEvent } from '../../domain/playbooks';
import { refusePastDeadlines } from './past-dates';
import { CARD_MAX_BUTTONS, headsOf, recordOrderEvent, clockLines, assignmentDeadline } from './shared';

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
