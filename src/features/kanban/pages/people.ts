import { orderCode, STATUS_NAMES } from '../../../domain/orders';
import { barChart } from '../charts';
import { endOfWeek, openOrders } from '../data';
import type { Table } from '../html';
import { filterChoices, filtersForm, sortTime, when, type Page, type PageCtx } from './shared';

/** 人员: per handler their open orders with step, next due date and last client contact; workload. */
export async function peoplePage(p: PageCtx): Promise<Page> {
  const choices = await filterChoices(p);
  const open = await openOrders(p.tx, p.v, p.f, p.cal, p.rules, p.now);
  const weekEnd = endOfWeek(p.now, p.cal);
  const load = new Map<string, { id: number | null; name: string; dept: string; n: number; lateOrders: number; week: number }>();
  for (const o of open) {
    const key = String(o.o.handlerId ?? 'none');
    const e = load.get(key) ?? { id: o.o.handlerId, name: o.handler ?? '未派单', dept: o.dept ?? '', n: 0, lateOrders: 0, week: 0 };
    e.n++;
    if (o.overdue) e.lateOrders++;
    if (o.nextDue && o.nextDue.getTime() >= p.now.getTime() && o.nextDue.getTime() < weekEnd.getTime()) e.week++;
    load.set(key, e);
  }
  const loads = [...load.values()].sort((a, b) => b.n - a.n);
  const workload: Table = {
    id: 'workload',
    title: '人员负荷',
    columns: ['负责人', '部门', '未完成分配单', '有逾期计时的单', '本周到期'],
    rows: loads.map((e) => [
      e.id ? { text: e.name, href: p.href('/people', { person: e.id }, true) } : e.name,
      e.dept,
      e.n,
      e.lateOrders ? { text: String(e.lateOrders), sort: e.lateOrders, cls: 'late' } : 0,
      e.week,
    ]),
    empty: '没有未完成的分配单。',
  };
  const chart = barChart({
    title: '每位负责人的未完成分配单（红色：其中有逾期计时的单）',
    rows: loads.slice(0, 30).map((e) => ({ label: e.name, value: e.n, red: e.lateOrders })),
    empty: '没有未完成的分配单。',
  });
  const list: Table = {
    id: 'open-orders',
    title: '各负责人的未完成分配单',
    columns: ['负责人', '单号', '客户', '类型', '步骤', '下一期限', '最近联系客户', '状态'],
    rows: [...open]
      .sort((a, b) => (a.handler ?? '').localeCompare(b.handler ?? '', 'zh') || (a.nextDue?.getTime() ?? Infinity) - (b.nextDue?.getTime() ?? Infinity))
      .map((o) => [
        o.handler ?? '未派单',
        { text: orderCode(o.o.id), href: p.href(`/orders/${o.o.id}`), sort: o.o.id },
        { text: o.client, href: p.href(`/clients/${o.o.clientId}`) },
        o.o.serviceType,
        o.step,
        o.nextDue ? { text: when(p, o.nextDue), sort: sortTime(o.nextDue), ...(o.overdue ? { cls: 'late' as const } : {}) } : '—',
        o.lastContact ? { text: when(p, o.lastContact), sort: sortTime(o.lastContact) } : { text: '无记录', cls: 'muted', sort: '' },
        STATUS_NAMES[o.o.status],
      ]),
    empty: '没有未完成的分配单。',
    note: '最近联系客户：负责人、业务员等同事最近一次在该单绑定的客户群里发言的时间（/绑定）。',
  };
  return { title: '人员', nav: 'people', blocks: [filtersForm(p, '/kanban/people', choices.depts, choices.staff, choices.types), workload, chart, list] };
}
