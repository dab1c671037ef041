import { describe, expect, it } from 'vitest';
import { createWorkCalendar } from '../../src/domain/calendar';
import { nextOccurrence } from '../../src/domain/timers';
import { byteLength } from '../../src/platforms/split-by-bytes';
import { dueVisits, nextDueVisit, periodOf, refusalsMakeVisit, type ClientFacts } from '../../src/features/visits/schedule';
import { loadVisitPlaybook } from '../../src/features/visits/visit-playbook';
import { byLevel, clockFigures, groupByHandler, type MonthFigures } from '../../src/features/reports/figures';
import { renderMonthly } from '../../src/features/reports/monthly';
import { renderWeekly, type WeeklySummary } from '../../src/features/reports/weekly';
import { previousMonth, reportSubject } from '../../src/features/reports/report-subject';
import { complaintPlaybook, testClocks } from '../helpers/bot';

const cal = createWorkCalendar({ timeZone: 'Asia/Shanghai' });
const pb = loadVisitPlaybook();
const at = (local: string) => new Date(`${local}+08:00`);
const sched = (id: string) => pb.scheduleById.get(id)!;
const client = (o: Partial<ClientFacts> = {}): ClientFacts => ({ kind: 'normal', createdAt: at('2025-01-01T09:00:00'), orders: [], ...o });
const due = (id: string, c: ClientFacts, now: Date, visits: { method: 'phone' | 'onsite' | 'email'; doneAt: Date }[] = []) => nextDueVisit(sched(id), c, visits, now, cal);

describe('visit schedules (pure)', () => {
  it('every rule cites a clause', () => {
    for (const r of pb.byId.values()) expect(r.clause).toMatch(/\d/);
    expect(pb.premium.clause).toBe('7.2 (财税)');
    expect(pb.refusals).toMatchObject({ count: 3, note: '客户三次拒约，视为已回访' });
  });

  it('periods are calendar months, quarters and years', () => {
    expect(periodOf('2026-02-10', 'month')).toEqual({ start: '2026-02-01', end: '2026-02-28' });
    expect(periodOf('2028-02-10', 'month')).toEqual({ start: '2028-02-01', end: '2028-02-29' });
    expect(periodOf('2026-08-10', 'quarter')).toEqual({ start: '2026-07-01', end: '2026-09-30' });
    expect(periodOf('2026-08-10', 'year')).toEqual({ start: '2026-01-01', end: '2026-12-31' });
  });

  it('代账 clients: an email visit every month, due on the last working day (a make-up Saturday counts, a weekend does not)', () => {
    const c = client({ kind: 'bookkeeping' });
    // February 2026 ends on Saturday the 28th, a make-up working day (春节).
    expect(due('visit.bookkeeping-email', c, at('2026-02-05T10:00:00'), [{ method: 'email', doneAt: at('2026-01-20T10:00:00') }])!.dueAt).toEqual(at('2026-02-28T18:00:00'));
    // January 2026 ends on a Saturday that is off: Friday the 30th.
    expect(due('visit.bookkeeping-email', c, at('2026-01-05T10:00:00'), [{ method: 'email', doneAt: at('2025-12-20T10:00:00') }])!.dueAt).toEqual(at('2026-01-30T18:00:00'));
    // October 2026 ends on a Saturday: Friday the 30th. A phone visit does not satisfy the email rule.
    const oct = due('visit.bookkeeping-email', c, at('2026-10-12T10:00:00'), [
      { method: 'email', doneAt: at('2026-09-10T10:00:00') },
      { method: 'phone', doneAt: at('2026-10-09T10:00:00') },
    ])!;
    expect(oct.period.start).toBe('2026-10-01');
    expect(oct.dueAt).toEqual(at('2026-10-30T18:00:00'));
    // Done this month → next month.
    expect(due('visit.bookkeeping-email', c, at('2026-10-12T10:00:00'), [{ method: 'email', doneAt: at('2026-10-09T10:00:00') }])!.dueAt).toEqual(at('2026-11-30T18:00:00'));
    // A client with a 代账 order counts too; a plain client does not.
    expect(due('visit.bookkeeping-email', client({ orders: [{ createdAt: at('2026-03-02T10:00:00'), serviceType: '代账' }] }), at('2026-03-05T10:00:00'))!.dueAt).toEqual(at('2026-03-31T18:00:00'));
    expect(due('visit.bookkeeping-email', client(), at('2026-03-05T10:00:00'))).toBeNull();
  });

  it("monthly in a project's first year, quarterly after; one on-site visit a year", () => {
    const c = client({ orders: [{ createdAt: at('2025-11-10T10:00:00'), serviceType: '专利' }] });
    const first = due('visit.first-year-monthly', c, at('2026-09-02T10:00:00'), [{ method: 'phone', doneAt: at('2026-08-20T10:00:00') }])!;
    expect(first.dueAt).toEqual(at('2026-09-30T18:00:00'));
    expect(due('visit.quarterly', c, at('2026-09-02T10:00:00'))).toBeNull();
    // A year on (from 2026-11-10): quarterly, from the quarter the first year ended in.
    expect(due('visit.first-year-monthly', c, at('2026-11-12T10:00:00'))).toBeNull();
    const q = due('visit.quarterly', c, at('2026-11-12T10:00:00'), [{ method: 'phone', doneAt: at('2026-10-15T10:00:00') }])!;
    expect(q.period).toEqual({ start: '2027-01-01', end: '2027-03-31' });
    const q2 = due('visit.quarterly', c, at('2026-11-12T10:00:00'), [{ method: 'phone', doneAt: at('2026-09-15T10:00:00') }])!;
    expect(q2.dueAt).toEqual(at('2026-12-31T18:00:00'));
    // On-site once a year: a phone visit does not count, an on-site one does.
    expect(due('visit.onsite-yearly', c, at('2026-05-02T10:00:00'), [{ method: 'phone', doneAt: at('2026-04-01T10:00:00') }])!.period.start).toBe('2025-01-01');
    expect(due('visit.onsite-yearly', c, at('2026-05-02T10:00:00'), [{ method: 'onsite', doneAt: at('2026-04-01T10:00:00') }])!.period).toEqual({ start: '2027-01-01', end: '2027-12-31' });
    // A client with no orders and no kind has no schedule at all.
    expect(dueVisits(pb, client(), [], at('2026-05-02T10:00:00'), cal)).toEqual([]);
  });

  it('a quarter or year ending in a holiday or on a weekend is due on the working day before', () => {
    const c = client({ orders: [{ createdAt: at('2021-03-01T10:00:00'), serviceType: '专利' }] });
    // Q3 2023 ends on 30 September, inside 中秋国庆 (29 Sep – 6 Oct): due Thursday 28 September.
    expect(due('visit.quarterly', c, at('2023-08-01T10:00:00'), [{ method: 'phone', doneAt: at('2023-06-01T10:00:00') }])!.dueAt).toEqual(at('2023-09-28T18:00:00'));
    // 2023 ends on a Sunday: the year's on-site visit is due Friday 29 December.
    expect(due('visit.onsite-yearly', c, at('2023-08-01T10:00:00'), [{ method: 'onsite', doneAt: at('2022-06-01T10:00:00') }])!.dueAt).toEqual(at('2023-12-29T18:00:00'));
  });

  it('the third refusal in a row counts as a visit', () => {
    expect(refusalsMakeVisit(['refused'], 3)).toBe(false);
    expect(refusalsMakeVisit(['refused', 'planned', 'refused'], 3)).toBe(false);
    expect(refusalsMakeVisit(['refused', 'refused', 'refused'], 3)).toBe(true);
  });
});

describe('report schedules (pure)', () => {
  const subject = reportSubject({ calendar: testClocks().calendar, complaintPlaybook, visitPlaybook: pb });
  const weekly = subject.rule('report.weekly')!;
  const monthly = subject.rule('report.monthly')!;

  it('weekly: Friday 12:00; a Friday holiday moves to the working day before (a make-up Saturday counts)', () => {
    expect(nextOccurrence(weekly, at('2026-11-23T09:00:00'), cal)).toEqual(at('2026-11-27T12:00:00'));
    // 中秋 2026: Friday 25 September is off → Thursday the 24th.
    expect(nextOccurrence(weekly, at('2026-09-21T09:00:00'), cal)).toEqual(at('2026-09-24T12:00:00'));
    // 国庆: Friday 2 October is off, so are 1 October → Wednesday 30 September.
    expect(nextOccurrence(weekly, at('2026-09-24T12:00:01'), cal)).toEqual(at('2026-09-30T12:00:00'));
    // 春节 2026: Friday 20 February is off and so is the week before it → the make-up Saturday 14 February.
    expect(nextOccurrence(weekly, at('2026-02-13T12:00:01'), cal)).toEqual(at('2026-02-14T12:00:00'));
    expect(nextOccurrence(weekly, at('2026-02-14T12:00:01'), cal)).toEqual(at('2026-02-27T12:00:00'));
  });

  it('monthly: the first working day of the month at 10:00, for the month before', () => {
    expect(nextOccurrence(monthly, at('2026-10-15T09:00:00'), cal)).toEqual(at('2026-11-02T10:00:00'));
    // 1 October is 国庆: the first working day after the holiday.
    expect(nextOccurrence(monthly, at('2026-09-15T09:00:00'), cal)).toEqual(at(`${cal.workingDayOnOrAfter('2026-10-01')}T10:00:00`));
    expect(cal.workingDayOnOrAfter('2026-10-01')).toBe('2026-10-08');
    // 元旦 2026: 1 January is off; the first working day after it.
    expect(nextOccurrence(monthly, at('2025-12-15T09:00:00'), cal)).toEqual(at(`${cal.workingDayOnOrAfter('2026-01-01')}T10:00:00`));
    expect(previousMonth(at('2026-11-02T10:00:00'), cal)).toMatchObject({ month: '2026-10', from: at('2026-10-01T00:00:00'), to: at('2026-11-01T00:00:00') });
  });
});

describe('report figures and rendering (pure)', () => {
  const now = at('2026-11-27T12:00:00');

  it('clocks met on time vs late, hand-computed', () => {
    const rows = [
      { dueAt: at('2026-10-05T18:00:00'), state: 'done', endedAt: at('2026-10-05T17:00:00') }, // on time
      { dueAt: at('2026-10-06T18:00:00'), state: 'done', endedAt: at('2026-10-06T18:00:00') }, // on time (exactly)
      { dueAt: at('2026-10-07T18:00:00'), state: 'done', endedAt: at('2026-10-08T09:00:00') }, // late
      { dueAt: at('2026-10-09T18:00:00'), state: 'running', endedAt: null }, // still open past due: late
      { dueAt: at('2026-10-10T18:00:00'), state: 'cancelled', endedAt: at('2026-10-01T10:00:00') }, // not counted
      { dueAt: at('2026-12-10T18:00:00'), state: 'running', endedAt: null }, // not due yet
    ];
    expect(clockFigures(rows, now)).toEqual({ onTime: 2, late: 2, percentOnTime: 50 });
    expect(clockFigures([], now).percentOnTime).toBeNull();
    expect(byLevel(['A', 'B', null, 'A'])).toEqual({ A: 2, B: 1, 待定级: 1 });
  });

  const staff = [
    { id: 1, name: '张工', userid: 'zhang', role: 'handler' as const },
    { id: 2, name: '赵工', userid: 'zhao', role: 'handler' as const },
    { id: 3, name: '李主管', userid: 'li', role: 'supervisor' as const },
  ];
  const order = (id: number, handlerId: number | null, overdue = 0) => ({
    id,
    clientName: `客户${id}号科技有限公司`,
    serviceType: '专利',
    status: 'assigned',
    lastStep: '撰写申请文件',
    handlerId,
    nextDue: at('2026-12-01T18:00:00'),
    overdue,
  });

  it('groups by handler, unassigned work last', () => {
    const g = groupByHandler(staff, [order(1, 1, 2), order(2, null), order(3, 2)], [{ id: 7, clientName: '华星科技', level: 'B', handlerId: 1, ownerId: 3, receivedAt: now }], [
      { clientName: '华星科技', ruleId: 'visit.first-year-monthly', dueAt: at('2026-11-30T18:00:00'), assigneeIds: [2] },
    ]);
    expect(g.map((w) => w.person?.name ?? null)).toEqual(['张工', '赵工', null]);
    expect(g[0]!.orders.map((o) => o.id)).toEqual([1]);
    expect(g[0]!.complaints.map((c) => c.id)).toEqual([7]);
    expect(g[1]!.visits).toHaveLength(1);
  });

  it('a long weekly summary is split between handlers (and between lines of one long handler), never cut, each part within the byte limit', () => {
    const many = Array.from({ length: 60 }, (_, i) => order(100 + i, i < 45 ? 1 : 2, i % 3));
    const s: WeeklySummary = { departmentId: 1, departmentName: '专利部', handlers: groupByHandler(staff, many, [], []), supervisors: [] };
    const parts = renderWeekly(s, cal, now, pb, 1800);
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) {
      expect(byteLength(p.text)).toBeLessThanOrEqual(1800);
      expect(byteLength(p.markdown)).toBeLessThanOrEqual(1800);
    }
    const all = parts.map((p) => p.text).join('\n');
    for (const o of many) expect(all).toContain(`D${o.id} ${o.clientName}｜专利｜`);
    // Every order line is whole in one part.
    for (const o of many) expect(parts.filter((p) => p.text.includes(`D${o.id} `)).length).toBe(1);
    // 赵工 starts a new part (his block fits one message), the long 张工 block continues with its title.
    const zhao = parts.findIndex((p) => p.text.includes('【赵工：'));
    expect(parts[zhao]!.text.split('\n')[1]).toMatch(/^【赵工：在办 15 单/);
    expect(parts.some((p) => p.text.includes('【张工：在办 45 单，逾期计时 45 项】（续）'))).toBe(true);
    expect(parts[0]!.markdown).toMatch(/^### 每周汇总｜专利部｜/);
    expect(parts[parts.length - 1]!.text).toMatch(new RegExp(`（${parts.length}/${parts.length}）$`));
    // Short: one message, no numbering.
    const one = renderWeekly({ ...s, handlers: groupByHandler(staff, [order(1, 1)], [], []) }, cal, now, pb);
    expect(one).toHaveLength(1);
    expect(one[0]!.text).toContain('【张工：在办 1 单】');
    expect(one[0]!.text).toContain('【赵工：在办 0 单】\n- 本周没有在办事项');
  });

  it('the monthly report, split between departments', () => {
    const f = (i: number): MonthFigures => ({
      departmentId: i,
      departmentName: `部门${i}`,
      opened: 3,
      finished: 1,
      clocks: { onTime: 2, late: 2, percentOnTime: 50 },
      complaintsByLevel: { A: 1, B: 1 },
      rate: { complaints: 2, clientsServed: 5, rate: 0.4, over: true },
      rateYear: { complaints: 3, clientsServed: 60, rate: 0.05, over: false },
      visitsDue: 2,
      visitsDueDone: 1,
      visitsDone: 1,
    } as MonthFigures);
    const one = renderMonthly('2026-10', [f(1)], 0.1, '4.4.3', { complete: true });
    expect(one).toHaveLength(1);
    expect(one[0]!.text).toContain('服务督导月报｜2026年10月');
    expect(one[0]!.text).toContain('- 分配单：新开 3，完成 1');
    expect(one[0]!.text).toContain('- 计时：按时 2，超时 2，按时率 50%');
    expect(one[0]!.text).toContain('- 投诉：2 件（A 级 1，B 级 1）；投诉率 2/5 = 40.0%，超过 10% 警戒线；今年累计 3/60 = 5.0%\n');
    expect(one[0]!.text).toContain('- 回访：应回访 2，按期完成 1；本月共回访 1 次');
    const many = renderMonthly('2026-10', Array.from({ length: 20 }, (_, i) => f(i)), 0.1, '4.4.3', { complete: true, maxBytes: 1000 });
    expect(many.length).toBeGreaterThan(1);
    for (const p of many) expect(byteLength(p.text)).toBeLessThanOrEqual(1000);
    for (let i = 0; i < 20; i++) expect(many.filter((p) => p.text.includes(`【部门${i}】\n`)).length).toBe(1);
  });
});
