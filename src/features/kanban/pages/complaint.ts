import { and, asc, eq } from 'drizzle-orm';
import { clients, complaintEvents, complaints, departments, people } from '../../../db/schema';
import { CHANNEL_NAMES, complaintCode } from '../../../domain/complaints';
import { orderCode } from '../../../domain/orders';
import { nameLadderSteps } from '../../../domain/playbooks/ladder-step-names';
import { COMPLAINT_EVENT_NAMES } from '../../complaints';
import { complaintScope } from '../access';
import { complaintStatus } from '../data';
import { html } from '../html';
import { kv, namesOf, notVisible, when, type Page, type PageCtx } from './shared';
import { subjectTimeline, timelineTable, timerTable } from './timeline';

/** 投诉 detail: the same for a complaint. */
export async function complaintPage(p: PageCtx, id: number): Promise<Page> {
  const [row] = await p.tx
    .select({ c: complaints, client: clients.name, dept: departments.name })
    .from(complaints)
    .innerJoin(clients, eq(clients.id, complaints.clientId))
    .leftJoin(departments, eq(departments.id, complaints.departmentId))
    .where(and(eq(complaints.id, id), complaintScope(p.v)));
  if (!row) throw notVisible(`投诉 ${complaintCode(id)}`);
  const c = row.c;
  const pb = p.rules.complaintPlaybook;
  const names = await namesOf(p.tx, [c.handlerId, c.supervisorId, c.ownerId, c.firstResponderId, c.replacementId]);
  const history = await p.tx
    .select({ e: complaintEvents, actor: people.name })
    .from(complaintEvents)
    .leftJoin(people, eq(people.id, complaintEvents.actorId))
    .where(eq(complaintEvents.complaintId, c.id))
    .orderBy(asc(complaintEvents.id));
  const items = await subjectTimeline(
    p,
    `complaint:${c.id}`,
    'complaint',
    history.map(({ e, actor }) => ({
      kind: e.kind,
      at: e.kind === 'received' && typeof e.data.receivedAt === 'string' ? new Date(e.data.receivedAt) : e.at,
      who: actor ?? '系统',
      what: COMPLAINT_EVENT_NAMES[e.kind] ?? e.kind,
      note: e.note ? nameLadderSteps(e.note) : '',
      clause: typeof e.data.clause === 'string' ? e.data.clause : '',
    })),
  );
  return {
    title: `投诉 ${complaintCode(c.id)}`,
    nav: null,
    blocks: [
      kv([
        ['客户', html`<a href="${p.href(`/clients/${c.clientId}`)}">${row.client}</a>`],
        ['部门', row.dept ?? '—'],
        ['级别', c.level ? `${c.level} 级（${pb.levels[c.level].name}）` : `建议 ${c.proposedLevel ?? '—'} 级，待确认`],
        ['状态', complaintStatus(c) + (c.breachedAt ? '（回电超时）' : '')],
        ['渠道', CHANNEL_NAMES[c.channel]],
        ['接到', when(p, c.receivedAt)],
        ['被投诉负责人', names.get(c.handlerId) ?? '—'],
        ['主管', names.get(c.supervisorId) ?? '—'],
        ['首问负责人', names.get(c.firstResponderId) ?? '—'],
        ['现由', names.get(c.ownerId) ?? '—'],
        ['相关分配单', c.orderIds.length ? c.orderIds.map((oid, i) => html`${i ? '、' : ''}<a href="${p.href(`/orders/${oid}`)}">${orderCode(oid)}</a>`) : '无'],
        ['内容', c.content],
        ...(c.resolution ? [['处理结果', c.resolution] as [string, unknown]] : []),
      ]),
      await timerTable(p, 'clocks', `complaint:${c.id}`),
      timelineTable(p, 'timeline', items),
    ],
  };
}
