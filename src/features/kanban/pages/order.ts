import { and, asc, eq } from 'drizzle-orm';
import { clients, departments, orderEvents, orders, people } from '../../../db/schema';
import { orderCode, STATUS_NAMES } from '../../../domain/orders';
import { EVENT_NAMES } from '../../orders';
import { orderScope } from '../access';
import { lastClientContact } from '../data';
import { html } from '../html';
import { kv, namesOf, notVisible, when, type Page, type PageCtx } from './shared';
import { subjectTimeline, timelineTable, timerTable } from './timeline';

/** 分配单 detail: the full timeline (every event, who, when, which clause) and the clocks with their ladders. */
export async function orderPage(p: PageCtx, id: number): Promise<Page> {
  const [row] = await p.tx
    .select({ o: orders, client: clients.name, dept: departments.name })
    .from(orders)
    .innerJoin(clients, eq(clients.id, orders.clientId))
    .leftJoin(departments, eq(departments.id, orders.departmentId))
    .where(and(eq(orders.id, id), orderScope(p.v)));
  if (!row) throw notVisible(`分配单 ${orderCode(id)}`);
  const o = row.o;
  const names = await namesOf(p.tx, [o.handlerId, o.salespersonId]);
  const contact = (await lastClientContact(p.tx, [o.id])).get(o.id);
  const history = await p.tx
    .select({ e: orderEvents, actor: people.name })
    .from(orderEvents)
    .leftJoin(people, eq(people.id, orderEvents.actorId))
    .where(eq(orderEvents.orderId, o.id))
    .orderBy(asc(orderEvents.id));
  const items = await subjectTimeline(
    p,
    `order:${o.id}`,
    'order',
    history.map(({ e, actor }) => ({ kind: e.kind, at: e.at, who: actor ?? '系统', what: EVENT_NAMES[e.kind] ?? e.kind, note: e.note ?? '', clause: typeof e.data.clause === 'string' ? e.data.clause : '' })),
  );
  const fields = Object.entries(o.fields).map(([k, v]) => `${k}=${v}`).join('　');
  return {
    title: `分配单 ${orderCode(o.id)}`,
    nav: null,
    blocks: [
      kv([
        ['客户', html`<a href="${p.href(`/clients/${o.clientId}`)}">${row.client}</a>`],
        ['类型', o.serviceType],
        ['部门', row.dept ?? '—'],
        ['状态', `${STATUS_NAMES[o.status]}${o.status === 'paused' && o.pauseReason ? `（${o.pauseReason}）` : ''}`],
        ['负责人', names.get(o.handlerId) ?? '未派单'],
        ['业务员', names.get(o.salespersonId) ?? '—'],
        ['付款', o.paid ? '已付款' : '未付款'],
        ['截止', o.deadline ?? '—'],
        ['最近联系客户', contact ? when(p, contact) : '无记录'],
        ...(fields ? [['资料', fields] as [string, unknown]] : []),
      ]),
      await timerTable(p, 'clocks', `order:${o.id}`),
      timelineTable(p, 'timeline', items),
    ],
  };
}
