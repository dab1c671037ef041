import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import { clients, complaintEvents, complaints, departments, orders, people, visits } from '../../../db/schema';
import { METHOD_NAMES, VISIT_STATUS_NAMES } from '../../visits';
import { complaintCode } from '../../../domain/complaints';
import { orderCode, STATUS_NAMES } from '../../../domain/orders';
import { orderScope, visitScope } from '../access';
import { complaintRows, complaintStatus, lastClientContact } from '../data';
import { kv, namesOf, notVisible, sortTime, when, type Page, type PageCtx } from './shared';

/** 客户: the client's orders, complaints and visits, as far as the viewer may see them. */
export async function clientPage(p: PageCtx, id: number): Promise<Page> {
  const [client] = await p.tx.select().from(clients).where(eq(clients.id, id));
  if (!client) throw notVisible('该客户');
  const os = await p.tx
    .select({ o: orders, handler: people.name, dept: departments.name })
    .from(orders)
    .leftJoin(people, eq(people.id, orders.handlerId))
    .leftJoin(departments, eq(departments.id, orders.departmentId))
    .where(and(eq(orders.clientId, id), orderScope(p.v)))
    .orderBy(asc(orders.id));
  const cs = await complaintRows(p.tx, p.v, {}, p.cal, eq(complaints.clientId, id));
  // The refusal does not name the client: its name is not the viewer's to see either.
  const vs = await p.tx
    .select({ v: visits, visitor: people.name })
    .from(visits)
    .leftJoin(people, eq(people.id, visits.visitorId))
    .where(and(eq(visits.clientId, id), visitScope(p.v)))
    .orderBy(desc(visits.id))
    .limit(200);
  if (!os.length && !cs.length && !vs.length) throw notVisible('该客户的记录');
  const contact = await lastClientContact(p.tx, os.map((r) => r.o.id));
  // The department head's visits after a complaint (4.3.4); return visits (回访) are their own table.
  const complaintVisits = cs.length
    ? await p.tx
        .select({ e: complaintEvents, actor: people.name })
        .from(complaintEvents)
        .leftJoin(people, eq(people.id, complaintEvents.actorId))
        .where(and(inArray(complaintEvents.complaintId, cs.map((c) => c.c.id)), eq(complaintEvents.kind, 'visited')))
        .orderBy(asc(complaintEvents.at))
    : [];
  const sales = (await namesOf(p.tx, [client.salespersonId])).get(client.salespersonId);
  return {
    title: `客户 ${client.name}`,
    nav: null,
    blocks: [
      kv([
        ['客户', client.name],
        ['业务员', sales ?? '—'],
      ]),
      {
        id: 'orders',
        title: `分配单（${os.length}）`,
        columns: ['单号', '类型', '部门', '负责人', '状态', '新建', '截止', '最近联系客户'],
        rows: os.map(({ o, handler, dept }) => [
          { text: orderCode(o.id), href: p.href(`/orders/${o.id}`), sort: o.id },
          o.serviceType,
          dept ?? '',
          handler ?? '未派单',
          STATUS_NAMES[o.status],
          { text: when(p, o.createdAt), sort: sortTime(o.createdAt) },
          o.deadline ?? '',
          contact.get(o.id) ? { text: when(p, contact.get(o.id)), sort: sortTime(contact.get(o.id)) } : '无记录',
        ]),
        empty: '没有您可以查看的分配单。',
      },
      {
        id: 'complaints',
        title: `投诉（${cs.length}）`,
        columns: ['编号', '级别', '状态', '接到', '部门', '内容'],
        rows: cs.map(({ c, dept }) => [
          { text: complaintCode(c.id), href: p.href(`/complaints/${c.id}`), sort: c.id },
          c.level ? `${c.level} 级` : `建议 ${c.proposedLevel ?? '—'}`,
          complaintStatus(c),
          { text: when(p, c.receivedAt), sort: sortTime(c.receivedAt) },
          dept ?? '',
          c.content.length > 60 ? c.content.slice(0, 60) + '…' : c.content,
        ]),
        empty: '没有您可以查看的投诉。',
      },
      {
        id: 'visits',
        title: `拜访（${complaintVisits.length}）`,
        columns: ['时间', '谁', '投诉', '情况'],
        rows: complaintVisits.map(({ e, actor }) => [
          { text: when(p, e.at), sort: sortTime(e.at) },
          actor ?? '',
          { text: complaintCode(e.complaintId), href: p.href(`/complaints/${e.complaintId}`) },
          e.note ?? '',
        ]),
        empty: '没有拜访记录。',
      },
      {
        id: 'return-visits',
        title: `回访（${vs.length}）`,
        columns: ['编号', '方式', '状态', '计划', '完成', '回访人', '满意度', '结果'],
        rows: vs.map(({ v, visitor }) => [
          { text: `V${v.id}`, sort: v.id },
          METHOD_NAMES[v.method],
          VISIT_STATUS_NAMES[v.status],
          v.plannedFor ?? '',
          v.doneAt ? { text: when(p, v.doneAt), sort: sortTime(v.doneAt) } : '',
          visitor ?? '',
          v.satisfaction ?? '',
          v.result ?? v.note ?? '',
        ]),
        empty: '没有回访记录。',
      },
    ],
  };
}
