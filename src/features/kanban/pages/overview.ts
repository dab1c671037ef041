import { and, eq, gte, lt } from 'drizzle-orm';
import { complaints, timers } from '../../../db/schema';
import { complaintCode, formatRate } from '../../../domain/complaints';
import { orderCode } from '../../../domain/orders';
import { wallTimeText } from '../../clocks';
import { rateOf, rateSpan } from '../../complaints';
import { barChart, columnChart, LEVEL_COLORS, PALETTE } from '../charts';
import { clockRows, complaintRows, complaintStatus, dueBetweenWhere, endOfWeek, onTimeByMonth, openOrders, overdueWhere, ruleOf, type ClockRow } from '../data';
import { raw, type Table } from '../html';
import { filterChoices, filtersForm, sortTime, when, type Page, type PageCtx } from './shared';

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
