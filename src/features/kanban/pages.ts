import { and, asc, desc, eq, gte, inArray, like, lt, or } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, complaintEvents, complaints, departments, events, orderEvents, orders, people, timers, visits } from '../../db/schema';
import { METHOD_NAMES, VISIT_STATUS_NAMES } from '../visits/schedule';
import { formatInstantInChinese, MAKEUP_MARK, WEEKDAY_NAMES, type WorkCalendar } from '../../domain/calendar';
import { CHANNEL_NAMES, complaintCode, formatRate } from '../../domain/complaints';
import { orderCode, STATUS_NAMES } from '../../domain/orders';
import { LADDER_STEP_NAMES, nameLadderSteps } from '../../domain/playbooks/ladder-step-names';
import { ladder } from '../../domain/timers';
import { fromRow } from '../../core/clocks/clock-store';
import { EVENT_NAMES } from '../../core/commands/order-commands';
import { wallTimeText } from '../../core/commands/clock-commands';
import { COMPLAINT_EVENT_NAMES } from '../../core/complaints/complaint-reports';
import { rateOf, rateSpan } from '../../core/complaints/complaint-rate-review';
import { complaintScope, orderScope, visitScope, visibleDepartments, visiblePeople, type Viewer } from './access';
import { barChart, columnChart, LEVEL_COLORS, PALETTE } from './charts';
import {
  clockRows,
  complaintRows,
  complaintStatus,
  dueBetweenWhere,
  endOfWeek,
  lastClientContact,
  onTimeByMonth,
  openOrders,
  overdueWhere,
  ruleOf,
  type ClockRow,
  type Filters,
  type Rules,
} from './data';
import { html, raw, type Raw, type Table } from './html';

export class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly text: string,
  ) {
    super(text);
  }
}

export interface PageCtx {
  tx: Db;
  v: Viewer;
  now: Date;
  cal: WorkCalendar;
  f: Filters;
  rules: Rules;
  /** The signed key from the link (kept in every link and form of the page). */
  key: string;
  /** A link to a 看板 path with the viewer's key (and, with `keepFilters`, the current filters). */
  href(path: string, params?: Record<string, string | number | undefined>, keepFilters?: boolean): string;
}

export interface Page {
  title: string;
  nav: 'overview' | 'people' | 'calendar' | null;
  blocks: (Raw | Table)[];
}

const when = (p: PageCtx, t: Date | null | undefined) => (t ? formatInstantInChinese(t, p.cal, { now: p.now }) : '—');
const sortTime = (t: Date | null | undefined) => (t ? t.toISOString() : '');

const STATE_NAMES: Record<string, string> = { running: '进行中', paused: '暂停中', done: '已完成', cancelled: '已停止' };
const TIMER_EVENT_NAMES: Record<string, string> = {
  'timer.started': '开始计时',
  'timer.completed': '计时完成',
  'timer.cancelled': '停止计时',
  'timer.paused': '计时暂停',
  'timer.resumed': '计时恢复',
  'timer.restarted': '重新计时',
};

/** How late a running clock is, in its own measure (working days, or wall time). */
function lateBy(p: PageCtx, t: typeof timers.$inferSelect): string {
  if (t.data.clock === 'wall') return wallTimeText(p.now.getTime() - t.dueAt.getTime());
  const days = Math.max(0.1, Math.round((p.cal.workingTimeBetween(t.dueAt, p.now) / p.cal.workingDayMs) * 10) / 10);
  return `${days} 个工作日`;
}

function subjectCell(p: PageCtx, r: ClockRow) {
  if (r.orderId) return { text: orderCode(r.orderId), href: p.href(`/orders/${r.orderId}`), sort: r.orderId };
  if (r.complaintId) return { text: complaintCode(r.complaintId), href: p.href(`/complaints/${r.complaintId}`), sort: 100000 + r.complaintId };
  return { text: '部门事项', sort: 200000 };
}

function clockTable(p: PageCtx, id: string, title: string, rows: ClockRow[], late: boolean, empty: string): Table {
  return {
    id,
    title,
    columns: late ? ['单号', '客户', '步骤', '期限', '已超', '负责人', '部门', '条款'] : ['单号', '客户', '步骤', '期限', '负责人', '部门', '条款'],
    rows: rows.map((r) => {
      const rule = ruleOf(p.rules, r.t.ruleId, r.t.subject);
      const due = { text: when(p, r.t.dueAt), sort: sortTime(r.t.dueAt), ...(late ? { cls: 'late' as const } : {}) };
      return [
        subjectCell(p, r),
        r.clientId ? { text: r.client ?? '', href: p.href(`/clients/${r.clientId}`) } : '',
        rule?.step ?? r.t.ruleId,
        due,
        ...(late ? [{ text: lateBy(p, r.t), cls: 'late' as const, sort: r.t.dueAt.getTime() }] : []),
        r.handler ?? (r.orderId ? '未派单' : ''),
        r.dept ?? '',
        rule?.clause ?? '',
      ];
    }),
    empty,
  };
}

function filtersForm(p: PageCtx, action: string, depts: { id: number; name: string }[], staff: { id: number; name: string }[], types: string[]): Raw {
  const opt = (value: string | number, label: string, on: boolean) => html`<option value="${value}"${on ? raw(' selected') : ''}>${label}</option>`;
  return html`<form class="filters card" method="get" action="${action}">
  <input type="hidden" name="k" value="${p.key}">
  <select name="dept" aria-label="部门">${opt('', '全部部门', !p.f.dept)}${depts.map((d) => opt(d.id, d.name, p.f.dept === d.id))}</select>
  <select name="person" aria-label="人员">${opt('', '全部人员', !p.f.person)}${staff.map((s) => opt(s.id, s.name, p.f.person === s.id))}</select>
  <select name="type" aria-label="业务类型">${opt('', '全部类型', !p.f.type)}${types.map((t) => opt(t, t, p.f.type === t))}</select>
  <input type="date" name="from" value="${p.f.from ?? ''}" aria-label="从"> – <input type="date" name="to" value="${p.f.to ?? ''}" aria-label="到">
  <button type="submit">筛选</button>
</form>`;
}

async function filterChoices(p: PageCtx) {
  const depts = await visibleDepartments(p.tx, p.v);
  const staff = (await visiblePeople(p.tx, p.v)).filter((x) => x.role === 'handler' || x.role === 'supervisor' || x.role === 'head');
  const types = [...new Set(depts.flatMap((d) => d.services))];
  return { depts, staff, types };
}

const monthsBack = (p: PageCtx, n: number): string[] => {
  const thisMonth = p.cal.dateOf(p.now).slice(0, 7) + '-01';
  return Array.from({ length: n }, (_, i) => p.cal.shiftDate(thisMonth, i - n + 1, 'months').slice(0, 7));
};
const monthLabel = (m: string) => `${Number(m.slice(5, 7))}月`;

/** 总览: per department what is open, due this week, overdue (red), open complaints by level, this year's complaint rate. */
export async function overviewPage(p: PageCtx): Promise<Page> {
  const choices = await filterChoices(p);
  const depts = choices.depts.filter((d) => !p.f.dept || d.id === p.f.dept);
  const open = await openOrders(p.tx, p.v, p.f, p.cal, p.rules, p.now);
  const overdue = await clockRows(p.tx, p.v, p.f, p.cal, overdueWhere(p.now));
  const week = await clockRows(p.tx, p.v, p.f, p.cal, dueBetweenWhere(p.now, endOfWeek(p.now, p.cal)));
  const openComplaints = await complaintRows(p.tx, p.v, p.f, p.cal, eq(complaints.status, 'open'));
  const year = Number(p.cal.dateOf(p.now).slice(0, 4));
  const span = rateSpan(year, p.now, p.cal);
  const pb = p.rules.complaintPlaybook;
  const pct = Math.round(pb.rate.threshold * 100);
  const rates = await Promise.all(depts.map(async (d) => ({ d, rate: await rateOf(p.tx, d.id, span.from, span.to, pb.rate.threshold) })));

  const summary: Table = {
    id: 'summary',
    title: '各部门一览',
    columns: ['部门', '未完成分配单', '待派单', '本周到期计时', '逾期计时', '未结投诉', `${year} 年投诉率`],
    rows: rates.map(({ d, rate }) => {
      const late = overdue.filter((r) => r.deptId === d.id).length;
      return [
        { text: d.name, href: p.href('', { dept: d.id }) },
        open.filter((o) => o.o.departmentId === d.id).length,
        open.filter((o) => o.o.departmentId === d.id && o.o.status === 'new').length,
        week.filter((r) => r.deptId === d.id).length,
        late ? { text: String(late), sort: late, cls: 'late' } : 0,
        openComplaints.filter((c) => c.c.departmentId === d.id).length,
        { text: `${formatRate(rate)}（${rate.complaints}/${rate.clientsServed}）`, sort: rate.rate ?? -1, ...(rate.over ? { cls: 'late' as const } : {}) },
      ];
    }),
    empty: '没有可以显示的部门。',
  };

  const stepCounts = new Map<string, { dept: string; step: string; n: number; late: number }>();
  for (const o of open) {
    const key = `${o.dept ?? '—'}|${o.step}`;
    const e = stepCounts.get(key) ?? { dept: o.dept ?? '—', step: o.step, n: 0, late: 0 };
    e.n++;
    if (o.overdue) e.late++;
    stepCounts.set(key, e);
  }
  const steps: Table = {
    id: 'steps',
    title: '未完成的分配单（按步骤）',
    columns: ['部门', '步骤', '单数', '其中逾期'],
    rows: [...stepCounts.values()]
      .sort((a, b) => a.dept.localeCompare(b.dept, 'zh') || b.n - a.n)
      .map((e) => [e.dept, e.step, e.n, e.late ? { text: String(e.late), sort: e.late, cls: 'late' } : 0]),
    empty: '没有未完成的分配单。',
  };

  const levels = ['A', 'B', 'C', 'D', '未定级'] as const;
  const levelTable: Table = {
    id: 'complaint-levels',
    title: '未结投诉（按级别）',
    columns: ['部门', ...levels.map((l) => (l === '未定级' ? l : `${l} 级`)), '合计'],
    rows: depts.map((d) => {
      const mine = openComplaints.filter((c) => c.c.departmentId === d.id);
      return [d.name, ...levels.map((l) => mine.filter((c) => (c.c.level ?? '未定级') === l).length), mine.length];
    }),
  };
  const complaintList: Table = {
    id: 'complaints',
    title: '未结投诉',
    columns: ['编号', '客户', '级别', '状态', '接到', '部门', '现由'],
    rows: openComplaints.map(({ c, client, owner, dept }) => [
      { text: complaintCode(c.id), href: p.href(`/complaints/${c.id}`), sort: c.id },
      { text: client, href: p.href(`/clients/${c.clientId}`) },
      c.level ? `${c.level} 级` : `建议 ${c.proposedLevel ?? '—'}`,
      c.breachedAt ? { text: `${complaintStatus(c)}（回电超时）`, cls: 'late' } : complaintStatus(c),
      { text: when(p, c.receivedAt), sort: sortTime(c.receivedAt) },
      dept ?? '',
      owner ?? '',
    ]),
    empty: '没有未结的投诉。',
  };

  // Charts: complaint rate against the threshold; on-time rate per month; complaints per month by level.
  const rateChart = barChart({
    title: `${year} 年投诉率（投诉数 ÷ 服务客户数，${pb.rate.clause}）`,
    rows: rates.map(({ d, rate }) => ({ label: d.name, value: (rate.rate ?? 0) * 100, text: `${formatRate(rate)}（${rate.complaints}/${rate.clientsServed}）`, red: rate.over ? (rate.rate ?? 0) * 100 : 0 })),
    threshold: { value: pct, label: `${pct}%` },
    max: pct * 1.5,
  });
  const months = monthsBack(p, 6);
  // Running clocks past due count as late; finished ones by their end time (data.ts onTimeByMonth).
  const tally = await onTimeByMonth(p.tx, p.v, p.f, p.cal, months.map((m) => p.cal.at(`${m}-01`, '00:00')), p.now);
  const onTimeSeries = depts
    .map((d, k) => ({
      name: d.name,
      color: PALETTE[k % PALETTE.length]!,
      values: months.map((_, i) => {
        const e = tally.find((x) => x.deptId === d.id && x.month === i);
        return e && e.judged ? Math.round((e.onTime / e.judged) * 100) : null;
      }),
    }))
    .filter((s) => s.values.some((v) => v !== null));
  const onTimeChart = columnChart({ title: '计时按时完成率（按到期月份）', categories: months.map(monthLabel), series: onTimeSeries, percent: true });
  const yearComplaints = await complaintRows(p.tx, p.v, p.f, p.cal, and(gte(complaints.receivedAt, span.from), lt(complaints.receivedAt, span.to))!, 5000);
  const complaintMonths = yearComplaints.map(({ c }) => ({ level: c.level ?? '未定级', month: p.cal.dateOf(c.receivedAt).slice(0, 7) }));
  const yearMonths = Array.from({ length: 12 }, (_, i) => `${year}-${String(i + 1).padStart(2, '0')}`);
  const perMonth = columnChart({
    title: `${year} 年每月投诉（按级别）`,
    categories: yearMonths.map(monthLabel),
    stacked: true,
    series: levels.map((l) => ({
      name: l === '未定级' ? l : `${l} 级`,
      color: LEVEL_COLORS[l]!,
      values: yearMonths.map((m) => complaintMonths.filter((c) => c.level === l && c.month === m).length),
    })),
  });

  return {
    title: '总览',
    nav: 'overview',
    blocks: [
      filtersForm(p, '/kanban', choices.depts, choices.staff, choices.types),
      summary,
      clockTable(p, 'overdue', `逾期计时（${overdue.length}）`, overdue, true, '目前没有逾期的计时，辛苦了！'),
      clockTable(p, 'week', `本周到期的计时（${week.length}）`, week, false, '本周没有到期的计时。'),
      steps,
      levelTable,
      complaintList,
      raw(`<div class="charts">${rateChart.value}${onTimeChart.value}${perMonth.value}</div>`),
    ],
  };
}

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

async function timerTable(p: PageCtx, id: string, subject: string): Promise<Table> {
  const rows = await p.tx.select().from(timers).where(eq(timers.subject, subject)).orderBy(asc(timers.id));
  return {
    id,
    title: '计时与提醒阶梯',
    columns: ['步骤', '条款', '状态', '开始', '期限', '提醒阶梯'],
    rows: rows.map((row) => {
      const rule = ruleOf(p.rules, row.ruleId, row.subject);
      const t = fromRow(row);
      const late = row.state === 'running' && row.dueAt.getTime() < p.now.getTime();
      const live = row.state === 'running' || row.state === 'paused';
      const steps = rule
        ? ladder(t, rule, p.cal)
            .filter((s) => live || t.stepsSent.includes(s.step))
            .map((s) => `${LADDER_STEP_NAMES[s.step]} ${when(p, s.at)}${t.stepsSent.includes(s.step) ? ' ✓已发' : ''}`)
            .join('\n')
        : '';
      return [
        rule?.step ?? row.ruleId,
        rule?.clause ?? '',
        late ? { text: '已超时', cls: 'late' } : STATE_NAMES[row.state] ?? row.state,
        { text: when(p, t.startedAt), sort: sortTime(t.startedAt) },
        { text: when(p, row.dueAt), sort: sortTime(row.dueAt), ...(late ? { cls: 'late' as const } : {}) },
        { text: steps, cls: 'wrap' },
      ];
    }),
    empty: '没有计时。',
  };
}

type TimelineItem = { at: Date; who: string; what: string; note: string; clause: string };

/**
 * A subject's full timeline in the order things happened: its own events (order_events or
 * complaint_events: who, what, the note) interleaved with the clock changes of the audit trail (which
 * rule, its clause, the due time). Both are written in the same transaction, each own event with an
 * audit row `<prefix>.<kind>`; walking the audit trail in id order places every clock change right after
 * the command that caused it. Own events without an audit row keep their time order at the end.
 */
async function subjectTimeline(p: PageCtx, subject: string, prefix: string, own: (TimelineItem & { kind: string })[]): Promise<TimelineItem[]> {
  const audit = await p.tx
    .select({ e: events, actor: people.name })
    .from(events)
    .leftJoin(people, eq(people.id, events.actorId))
    .where(and(eq(events.subject, subject), or(like(events.action, 'timer.%'), like(events.action, `${prefix}.%`))))
    .orderBy(asc(events.id));
  const pending = [...own];
  const out: TimelineItem[] = [];
  for (const { e, actor } of audit) {
    if (e.action.startsWith('timer.')) {
      const rule = typeof e.data.rule === 'string' ? ruleOf(p.rules, e.data.rule) : undefined;
      const due = typeof e.data.dueAt === 'string' ? new Date(e.data.dueAt) : null;
      out.push({
        at: e.at,
        who: actor ?? '系统',
        what: TIMER_EVENT_NAMES[e.action] ?? e.action,
        note: `${rule?.step ?? String(e.data.rule ?? '')}${due ? `，期限 ${when(p, due)}` : ''}`,
        clause: typeof e.data.clause === 'string' ? e.data.clause : (rule?.clause ?? ''),
      });
      continue;
    }
    const kind = e.action.slice(prefix.length + 1);
    const i = pending.findIndex((x) => x.kind === kind);
    if (i >= 0) out.push(pending.splice(i, 1)[0]!);
  }
  return [...out, ...pending];
}

function timelineTable(p: PageCtx, id: string, items: TimelineItem[]): Table {
  return {
    id,
    title: `全部记录（${items.length}）`,
    columns: ['时间', '谁', '事件', '内容', '条款'],
    rows: items.map((x) => [{ text: when(p, x.at), sort: sortTime(x.at) }, x.who, x.what, { text: x.note, cls: 'wrap' }, x.clause]),
    empty: '没有记录。',
  };
}

const kv = (pairs: [string, unknown][]) => html`<section class="card"><div class="kv">${pairs.map(([k, v]) => html`<b>${k}</b><span>${v}</span>`)}</div></section>`;

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

/** 日历: the working-day calendar of a year with holidays, make-up days and the company's overrides. */
export async function calendarPage(p: PageCtx, yearParam: unknown): Promise<Page> {
  const thisYear = Number(p.cal.dateOf(p.now).slice(0, 4));
  const year = typeof yearParam === 'string' && /^\d{4}$/.test(yearParam) && Number(yearParam) >= 2000 && Number(yearParam) <= 2100 ? Number(yearParam) : thisYear;
  const months: Raw[] = [];
  const special: Table['rows'] = [];
  let workingDays = 0;
  for (let m = 1; m <= 12; m++) {
    const first = `${year}-${String(m).padStart(2, '0')}-01`;
    const lead = (p.cal.explainDay(first).weekday + 6) % 7; // Monday first
    const cells: Raw[] = Array.from({ length: lead }, () => html`<td></td>`);
    for (let d = first; d.startsWith(first.slice(0, 8)); d = p.cal.shiftDate(d, 1, 'days')) {
      const e = p.cal.explainDay(d);
      if (e.working) workingDays++;
      const override = e.reason === 'override-work' || e.reason === 'override-off';
      const cls = [
        !e.working && (e.reason === 'holiday' || e.reason === 'fallback-holiday' || e.reason === 'override-off') ? 'd-off' : '',
        e.makeup ? 'd-make' : '',
        override ? 'd-ovr' : '',
        !e.working && (e.reason === 'weekend' || e.reason === 'fallback-weekend') ? 'd-wk' : '',
      ]
        .filter(Boolean)
        .join(' ');
      const tip = e.holidayName ?? e.note ?? '';
      cells.push(html`<td${cls ? raw(` class="${cls}"`) : ''}${tip ? raw(` title="${tip.replace(/[&<>"']/g, '')}"`) : ''}>${Number(d.slice(8))}${e.makeup ? '班' : ''}</td>`);
      const reasons: Record<string, string> = {
        holiday: `法定节假日（${e.holidayName ?? ''}）`,
        makeup: `调休补班（${e.holidayName ?? ''}）`,
        'override-work': `公司安排上班${e.note ? `（${e.note}）` : ''}`,
        'override-off': `公司安排休息${e.note ? `（${e.note}）` : ''}`,
        'fallback-holiday': '固定日期节日（该年度安排尚未收录）',
      };
      if (reasons[e.reason]) {
        special.push([{ text: d, sort: d }, WEEKDAY_NAMES[e.weekday]!, e.working ? `上班${e.makeup ? MAKEUP_MARK : ''}` : '休息', reasons[e.reason]!]);
      }
    }
    const weeks: Raw[] = [];
    for (let i = 0; i < cells.length; i += 7) weeks.push(html`<tr>${cells.slice(i, i + 7)}</tr>`);
    months.push(html`<div class="month"><b>${m}月</b><table><thead><tr>${['一', '二', '三', '四', '五', '六', '日'].map((w) => html`<th>${w}</th>`)}</tr></thead><tbody>${weeks}</tbody></table></div>`);
  }
  const coverage = p.cal.coverage(year);
  return {
    title: `${year} 年工作日历`,
    nav: 'calendar',
    blocks: [
      html`<section class="card"><div class="head"><h2>${year} 年：${workingDays} 个工作日</h2><span><a href="${p.href('/calendar', { year: year - 1 })}">‹ ${year - 1}</a>　<a href="${p.href('/calendar', { year: year + 1 })}">${year + 1} ›</a></span></div>
<p class="legend"><span class="d-off">休</span>法定节假日、公司安排休息　<span class="d-make">班</span>调休补班　<span class="d-ovr">框</span>公司安排（/日历 调整）</p>
${coverage === 'fallback' ? html`<p class="late">该年度的法定节假日安排尚未收录，仅按周末和元旦、劳动节、国庆固定日期计算。</p>` : ''}
<div class="months">${months}</div></section>`,
      { id: 'special-days', title: '节假日、补班日和公司安排', columns: ['日期', '星期', '上班/休息', '原因'], rows: special, empty: '没有。' },
    ],
  };
}

function notVisible(what: string) {
  return new PageError(403, '无法查看', `抱歉，${what}不在您可以查看的范围内（或不存在）。`);
}

async function namesOf(tx: Db, ids: (number | null)[]): Promise<Map<number | null, string>> {
  const list = ids.filter((x): x is number => x !== null);
  if (!list.length) return new Map();
  const rows = await tx.select({ id: people.id, name: people.name }).from(people).where(inArray(people.id, list));
  return new Map(rows.map((r) => [r.id, r.name]));
}

