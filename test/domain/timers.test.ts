import { describe, expect, it } from 'vitest';
import { createWorkCalendar, type WorkCalendar } from '../../src/domain/calendar';
import {
  LADDER_STEPS,
  dateRulesFor,
  loadPlaybooks,
  parsePlaybooks,
  DEFAULT_PLAYBOOKS_DOCUMENT,
  rulesCompletedBy,
  rulesStartedBy,
  scheduleRules,
  type OrderFacts,
  type PlaybookRule,
} from '../../src/domain/playbooks';
import {
  completeTimer,
  dueSteps,
  ladder,
  markStepsSent,
  nextCronOccurrence,
  nextOccurrence,
  nextWakeUp,
  pauseTimer,
  resumeTimer,
  startTimer,
  timerSchema,
  type Timer,
} from '../../src/domain/timers';

const bj = (s: string) => new Date(`${s}+08:00`);
const HOUR = 3_600_000;
const cal = createWorkCalendar();
const playbook = loadPlaybooks();
const rule = (id: string) => {
  const r = playbook.byId.get(id);
  if (!r) throw new Error(`no rule ${id}`);
  return r;
};

/** A moment well after everything in these tests, to ask "is anything still to send?". */
// A working moment far ahead (quiet-hours rules send nothing outside working time).
const FAR = bj('2030-01-02T12:00:00');
/** Start of every generic run: Tuesday 2026-03-10 10:00, an ordinary working moment. */
const T0 = bj('2026-03-10T10:00:00');
const ANCHOR = '2026-12-21';

/** An order on which `r` applies: its first service type, fields satisfying its conditions, paid. */
function orderFor(r: PlaybookRule): OrderFacts {
  const fields: Record<string, string> = {};
  for (const c of r.when) {
    if (c.op === 'in' && Array.isArray(c.value)) fields[c.field] = c.value[0]!;
    else if (c.op === 'gt') fields[c.field] = String(Number(c.value) + 1);
    else if (c.op === 'lt') fields[c.field] = String(Number(c.value) - 1);
    else if (c.op !== 'absent' && c.op !== 'ne') fields[c.field] = String(c.value ?? 'x');
  }
  if (r.trigger.kind === 'date') fields[r.trigger.field] = ANCHOR;
  if (r.trigger.kind === 'schedule' && r.trigger.every) fields[r.trigger.every.field] = ANCHOR;
  const occurred: OrderFacts['occurred'] = r.trigger.kind === 'schedule' && r.trigger.from ? [r.trigger.from] : [];
  return { serviceType: r.services === 'all' ? '审计' : r.services[0]!, paid: true, fields, occurred };
}

/** Starts `r` the way the scheduler would, checking that the rule's own trigger selects it. */
function startByTrigger(r: PlaybookRule): Timer {
  const order = orderFor(r);
  switch (r.trigger.kind) {
    case 'event':
      expect(rulesStartedBy(playbook, r.trigger.event, order).map((x) => x.id)).toContain(r.id);
      return startTimer(r, { order, at: T0 }, T0, cal)!;
    case 'date':
      expect(dateRulesFor(playbook, order).map((x) => x.id)).toContain(r.id);
      return startTimer(r, { order, at: T0 }, T0, cal)!;
    case 'schedule': {
      expect(scheduleRules(playbook, r.trigger.scope).map((x) => x.id)).toContain(r.id);
      const occurrence = nextOccurrence(r, T0, cal, orderFor(r).fields)!;
      expect(occurrence.getTime()).toBeGreaterThan(T0.getTime());
      return startTimer(r, { order: r.trigger.scope === 'order' ? order : undefined, occurrence }, occurrence, cal)!;
    }
    case 'complaint':
      throw new Error(`${r.id}: complaint rules live in the complaint playbook, not the order playbook`);
  }
}

const isEndOfDay = (t: Date, c: WorkCalendar) => c.endOfWorkingDay(c.dateOf(t)).getTime() === t.getTime();
const sendable = (t: Date, c: WorkCalendar) => c.isWorkingMoment(t) || (isEndOfDay(t, c) && c.isWorkingDay(c.dateOf(t)));

function countWorkingDays(c: WorkCalendar, fromInclusive: string, toExclusive: string): number {
  let n = 0;
  for (let d = fromInclusive; d < toExclusive; d = c.shiftDate(d, 1, 'days')) if (c.isWorkingDay(d)) n++;
  return n;
}

describe.each(playbook.rules.map((r) => [r.id, r] as const))('rule %s through a fake clock', (_id, r) => {
  const timer = startByTrigger(r);

  it('starts on its trigger and is due at the right working moment', () => {
    expect(timer).not.toBeNull();
    expect(timer.state).toBe('running');
    const { amount, unit } = r.duration;
    if (r.trigger.kind === 'date') {
      expect(timer.clock).toBe('fixed');
      expect(isEndOfDay(timer.dueAt, cal)).toBe(true);
      const dueDate = cal.dateOf(timer.dueAt);
      expect(cal.isWorkingDay(dueDate)).toBe(true);
      if (unit === 'workingDays') {
        // The due day is the amount-th working day before the anchor.
        expect(countWorkingDays(cal, dueDate, ANCHOR)).toBe(amount);
      } else {
        const limit = cal.shiftDate(ANCHOR, -amount, unit === 'months' ? 'months' : 'days');
        expect(dueDate <= limit).toBe(true);
        expect(countWorkingDays(cal, cal.shiftDate(dueDate, 1, 'days'), cal.shiftDate(limit, 1, 'days'))).toBe(0);
      }
    } else if (r.dueAt === 'endOfWorkingDay') {
      expect(isEndOfDay(timer.dueAt, cal)).toBe(true);
      expect(cal.isWorkingDay(cal.dateOf(timer.dueAt))).toBe(true);
      expect(cal.workingTimeBetween(timer.startedAt, timer.dueAt)).toBeGreaterThanOrEqual(amount * cal.workingDayMs);
      expect(cal.workingTimeBetween(timer.startedAt, timer.dueAt)).toBeLessThanOrEqual((amount + 1) * cal.workingDayMs);
    } else if (unit === 'workingDays') {
      expect(timer.clock).toBe('working');
      expect(cal.workingTimeBetween(timer.startedAt, timer.dueAt)).toBe(amount * 9 * HOUR);
      expect(sendable(timer.dueAt, cal)).toBe(true);
    } else if (unit === 'months') {
      expect(cal.dateOf(timer.dueAt)).toBe(cal.shiftDate(cal.dateOf(timer.startedAt), amount, 'months'));
    } else {
      const perUnit = { calendarDays: 24 * HOUR, weeks: 7 * 24 * HOUR, minutes: 60_000 }[unit];
      expect(timer.dueAt.getTime() - timer.startedAt.getTime()).toBe(amount * perUnit);
    }
  });

  it('climbs its ladder in order, at sendable moments, each step once', () => {
    const steps = ladder(timer, r, cal);
    const names = steps.map((s) => s.step);
    expect(names).toContain('due');
    expect(names.filter((n) => n.startsWith('overdue')).length).toBe(r.ladder.overdue.length);
    const order = names.map((n) => LADDER_STEPS.indexOf(n));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.at.getTime()).toBeGreaterThanOrEqual(steps[i - 1]!.at.getTime());
    for (const s of steps) expect(sendable(s.at, cal)).toBe(true);
    const due = steps.find((s) => s.step === 'due')!;
    expect(due.at.getTime()).toBeGreaterThanOrEqual(timer.dueAt.getTime());
    expect(due.audience).toBe(r.audience);
    for (const s of steps.filter((x) => x.step.startsWith('overdue'))) {
      expect(s.audience).toBe('staff');
      expect(s.at.getTime()).toBeGreaterThan(timer.dueAt.getTime());
    }

    // Sending: everything up to the due step at its time, nothing twice, the rest later.
    const atDue = dueSteps(timer, r, due.at, cal).map((s) => s.step);
    expect(atDue[atDue.length - 1]).toBe('due');
    expect(atDue.some((n) => n.startsWith('overdue'))).toBe(false);
    const sent = markStepsSent(timer, atDue);
    expect(dueSteps(sent, r, due.at, cal)).toEqual([]);
    expect(dueSteps(sent, r, FAR, cal).map((s) => s.step)).toEqual(names.filter((n) => n.startsWith('overdue')));
  });

  it('is silent while paused and carries the remaining time over on resume', () => {
    const pauseAt = new Date(timer.startedAt.getTime() + HOUR);
    const paused = pauseTimer(timer, pauseAt, cal);
    expect(paused.state).toBe('paused');
    expect(dueSteps(paused, r, FAR, cal)).toEqual([]);
    expect(nextWakeUp(paused, r, cal)).toBeNull();

    const resumeAt = cal.addWorkingDays(pauseAt, 3);
    const resumed = resumeTimer(paused, resumeAt, cal);
    expect(resumed.state).toBe('running');
    expect(resumed.pausedAt).toBeUndefined();
    if (timer.clock === 'working') {
      expect(cal.workingTimeBetween(resumeAt, resumed.dueAt)).toBe(cal.workingTimeBetween(pauseAt, timer.dueAt));
      expect(resumed.dueAt.getTime()).toBeGreaterThan(timer.dueAt.getTime());
    } else if (timer.clock === 'wall') {
      expect(resumed.dueAt.getTime() - resumeAt.getTime()).toBe(timer.dueAt.getTime() - pauseAt.getTime());
    } else {
      expect(resumed.dueAt).toEqual(timer.dueAt);
    }
    const due = ladder(resumed, r, cal).find((s) => s.step === 'due')!;
    expect(dueSteps(resumed, r, due.at, cal).map((s) => s.step)).toContain('due');
  });

  it('is done when completed, and its completing events are known', () => {
    const done = completeTimer(timer, T0);
    expect(done.state).toBe('done');
    expect(dueSteps(done, r, FAR, cal)).toEqual([]);
    for (const e of r.completedBy) {
      expect(rulesCompletedBy(playbook, e, orderFor(r)).map((x) => x.id)).toContain(r.id);
    }
  });
});

describe('worked examples', () => {
  it('3.1.2: a patent order reaching the centre Thursday 15:00 must be assigned by Monday 15:00', () => {
    const t = startTimer(rule('patent.assign'), { order: { serviceType: '专利', paid: false } }, bj('2026-12-17T15:00:00'), cal)!;
    expect(t.dueAt).toEqual(bj('2026-12-21T15:00:00'));
    expect(ladder(t, rule('patent.assign'), cal).map((s) => [s.step, s.at, s.mention])).toEqual([
      ['headsup', bj('2026-12-21T10:30:00'), ['head']],
      ['due', bj('2026-12-21T15:00:00'), ['head']],
      ['overdue_head', bj('2026-12-22T10:30:00'), ['head']],
      ['overdue_management', bj('2026-12-23T15:00:00'), ['head', 'management']],
    ]);
  });

  it('default ladder: heads-up half a day before, then supervisor +0.5 wd, head +1 wd, 总经办 +2 wd', () => {
    const r = rule('patent.contact-client');
    const t = startTimer(r, { order: { serviceType: '专利', paid: true } }, bj('2026-03-13T17:00:00'), cal)!;
    expect(ladder(t, r, cal).map((s) => [s.step, s.at, s.mention])).toEqual([
      ['headsup', bj('2026-03-16T12:30:00'), ['handler']],
      ['due', bj('2026-03-16T17:00:00'), ['handler']],
      ['overdue_supervisor', bj('2026-03-17T12:30:00'), ['handler', 'supervisor']],
      ['overdue_head', bj('2026-03-17T17:00:00'), ['supervisor', 'head']],
      ['overdue_management', bj('2026-03-18T17:00:00'), ['head', 'management']],
    ]);
    expect(nextWakeUp(t, r, cal)).toEqual(bj('2026-03-16T12:30:00'));
    expect(nextWakeUp(markStepsSent(t, ['headsup']), r, cal)).toEqual(bj('2026-03-16T17:00:00'));
  });

  it('3.1.6 (项目): deadline Monday 2026-12-21 → all applications done by Thursday 12-17 18:00', () => {
    const r = rule('project.application-complete');
    const t = startTimer(r, { order: { serviceType: '高新', paid: true, fields: { 申报截止: '2026-12-21' } } }, T0, cal)!;
    expect(t.dueAt).toEqual(bj('2026-12-17T18:00:00'));
  });

  it('3.2.3: 45 days before an annuity due on 10-20 is Saturday 9-5 → Friday 9-4; 30 days before is make-up Sunday 9-20', () => {
    const r = rule('patent-process.annuity-notice');
    const order = { serviceType: '专利流程事务', paid: true, fields: { 事务: '年费', 年费到期: '2026-10-20' } };
    expect(startTimer(r, { order }, T0, cal)!.dueAt).toEqual(bj('2026-09-04T18:00:00'));
    expect(startTimer(rule('patent-process.annuity-email'), { order }, T0, cal)!.dueAt).toEqual(bj('2026-09-20T18:00:00'));
    expect(startTimer(r, { order: { ...order, fields: { 事务: '年费' } } }, T0, cal)).toBeNull();
  });

  it('3.3.9.1: acceptance starts 6 months before a short contract ends, 12 months before a long one', () => {
    const order = (months: string) => ({ serviceType: '资助', paid: true, fields: { 合同结束: '2027-06-30', 执行期月数: months } });
    expect(startTimer(rule('grant.acceptance-short'), { order: order('12') }, T0, cal)!.dueAt).toEqual(bj('2026-12-30T18:00:00'));
    expect(startTimer(rule('grant.acceptance-long'), { order: order('36') }, T0, cal)!.dueAt).toEqual(bj('2026-06-30T18:00:00'));
    expect(startTimer(rule('grant.acceptance-long'), { order: order('12') }, T0, cal)).toBeNull();
  });

  it('项目 3.1.2: an unpaid order gets no clock; payment starts it from the payment time', () => {
    const r = rule('project.research');
    expect(startTimer(r, { order: { serviceType: '资助', paid: false } }, T0, cal)).toBeNull();
    const paidAt = bj('2026-03-12T16:00:00');
    const t = startTimer(r, { order: { serviceType: '资助', paid: true }, at: paidAt }, paidAt, cal)!;
    expect(t.dueAt).toEqual(bj('2026-03-16T16:00:00'));
  });

  it('3.5.2: paused over 春节, the search clock keeps its remaining 2 working days', () => {
    const r = rule('patent.search');
    const t = startTimer(r, { order: { serviceType: '专利', paid: false } }, bj('2026-02-10T10:00:00'), cal)!;
    expect(t.dueAt).toEqual(bj('2026-02-13T10:00:00'));
    const paused = pauseTimer(t, bj('2026-02-11T10:00:00'), cal);
    expect(paused.remainingWorkingMs).toBe(2 * 9 * HOUR);
    expect(dueSteps(paused, r, bj('2026-02-14T10:00:00'), cal)).toEqual([]);
    const resumed = resumeTimer(paused, bj('2026-02-25T10:00:00'), cal);
    expect(resumed.dueAt).toEqual(bj('2026-02-27T10:00:00'));
    expect(dueSteps(resumed, r, bj('2026-02-27T10:00:00'), cal).map((s) => s.step)).toEqual(['headsup', 'due']);
    // Resuming again, or pausing a finished clock, changes nothing.
    expect(resumeTimer(resumed, bj('2026-03-01T10:00:00'), cal)).toBe(resumed);
    expect(pauseTimer(completeTimer(resumed, T0), T0, cal).state).toBe('done');
  });

  it('a clock already overdue when paused is still overdue by as much after resume', () => {
    const r = rule('patent.contact-client');
    const t = startTimer(r, { order: { serviceType: '专利', paid: true } }, bj('2026-03-10T10:00:00'), cal)!;
    const paused = pauseTimer(t, bj('2026-03-11T13:00:00'), cal);
    expect(paused.remainingWorkingMs).toBe(-3 * HOUR);
    const resumed = resumeTimer(paused, bj('2026-03-16T09:00:00'), cal);
    expect(resumed.dueAt).toEqual(bj('2026-03-13T15:00:00'));
  });

  it('an order paused at the start gets a paused clock with the whole duration left', () => {
    const r = rule('software.review');
    const t = startTimer(r, { order: { serviceType: '软件', paid: false, paused: true } }, T0, cal)!;
    expect(t.state).toBe('paused');
    expect(t.remainingWorkingMs).toBe(5 * 9 * HOUR);
  });

  it('a wall-clock rule (2.2.6.3, two days) keeps its wall time over a pause', () => {
    const r = rule('audit.manager-review');
    const t = startTimer(r, { order: { serviceType: '审计', paid: true } }, bj('2026-03-10T10:00:00'), cal)!;
    expect(t.dueAt).toEqual(bj('2026-03-12T10:00:00'));
    const resumed = resumeTimer(pauseTimer(t, bj('2026-03-11T10:00:00'), cal), bj('2026-03-20T15:00:00'), cal);
    expect(resumed.dueAt).toEqual(bj('2026-03-21T15:00:00'));
  });

  it('quiet hours move a staff step to the next working moment unless the rule ignores them', () => {
    const r = rule('audit.discussion-group');
    const t = startTimer(r, { order: { serviceType: '审计', paid: true } }, bj('2026-03-13T20:00:00'), cal)!;
    expect(t.dueAt).toEqual(bj('2026-03-14T20:00:00'));
    const due = (x: PlaybookRule) => ladder(t, x, cal).find((s) => s.step === 'due')!.at;
    expect(due(r)).toEqual(bj('2026-03-16T09:00:00'));
    const loud = parsePlaybooks(DEFAULT_PLAYBOOKS_DOCUMENT, { rules: [{ id: 'audit.discussion-group', quietHours: 'ignore' }] });
    expect(due(loud.byId.get('audit.discussion-group')!)).toEqual(bj('2026-03-14T20:00:00'));
  });

  it('heads-up at a fraction of the clock, dropped when it would come before the start', () => {
    const doc = (headsUp: unknown) =>
      parsePlaybooks(DEFAULT_PLAYBOOKS_DOCUMENT, {
        rules: [{ id: 'patent.draft', ladder: { headsUp, overdue: [] } }],
      }).byId.get('patent.draft')!;
    const start = bj('2026-03-02T09:00:00');
    const t = startTimer(doc(null), { order: { serviceType: '专利', paid: true } }, start, cal)!;
    expect(t.dueAt).toEqual(bj('2026-03-13T18:00:00'));
    const at = (r: PlaybookRule) => ladder(t, r, cal).find((s) => s.step === 'headsup')?.at;
    expect(at(doc({ fraction: 0.75 }))).toEqual(bj('2026-03-11T13:30:00'));
    expect(at(doc({ before: { amount: 20, unit: 'workingDays' } }))).toBeUndefined();
    expect(at(doc(null))).toBeUndefined();
  });

  it('a timer survives a JSON round trip (how the scheduler stores it)', () => {
    const t = markStepsSent(startTimer(rule('patent.assign'), {}, T0, cal)!, ['headsup']);
    expect(timerSchema.parse(JSON.parse(JSON.stringify(t)))).toEqual(t);
  });
});

describe('recurring rules', () => {
  const next = (id: string, after: string) => nextOccurrence(rule(id), bj(after), cal);

  it('every Monday 09:00, moved to the next working day when Monday is off (国庆)', () => {
    expect(next('patent.weekly-list', '2026-03-10T10:00:00')).toEqual(bj('2026-03-16T09:00:00'));
    expect(next('patent.weekly-list', '2026-09-30T10:00:00')).toEqual(bj('2026-10-08T09:00:00'));
    expect(next('patent.weekly-list', '2026-10-08T09:00:00')).toEqual(bj('2026-10-12T09:00:00'));
  });

  it('"before the 10th" moves to the working day before; a make-up Saturday counts as working', () => {
    expect(next('patent-process.oa-monthly', '2026-01-01T00:00:00')).toEqual(bj('2026-01-09T09:00:00'));
    expect(next('patent-process.oa-monthly', '2026-10-01T00:00:00')).toEqual(bj('2026-10-10T09:00:00'));
    expect(next('patent-process.oa-monthly', '2026-02-10T09:00:00')).toEqual(bj('2026-03-10T09:00:00'));
  });

  it('Wednesday afternoon fee payment skips 春节 to the next working day', () => {
    expect(next('patent-process.fee-pay', '2026-02-12T00:00:00')).toEqual(bj('2026-02-24T14:00:00'));
    expect(next('patent-process.fee-pay', '2026-02-24T14:00:00')).toEqual(bj('2026-02-25T14:00:00'));
  });

  it('3.3.9.1 (项目): grant check-ins every 4 months from the contract start, not on fixed months, also into a fallback year', () => {
    const r = rule('grant.checkins');
    const at = (after: string, start?: string) => nextOccurrence(r, bj(after), cal, start ? { 合同开始: start } : {});
    // No contract start: no check-in yet.
    expect(at('2026-03-10T00:00:00')).toBeNull();
    // Start 2026-03-18 → 07-18 (a Saturday → Monday 07-20), 11-18, then 2027-03-18.
    expect(at('2026-03-20T00:00:00', '2026-03-18')).toEqual(bj('2026-07-20T09:00:00'));
    expect(at('2026-07-20T09:00:00', '2026-03-18')).toEqual(bj('2026-11-18T09:00:00'));
    expect(at('2026-11-18T09:00:00', '2026-03-18')).toEqual(bj('2027-03-18T09:00:00'));
    // Another start, other months: nothing in January, May or September unless the contract says so.
    expect(at('2026-03-20T00:00:00', '2026-02-10')).toEqual(bj('2026-06-10T09:00:00'));
    expect(at('2026-06-10T09:00:00', '2026-02-10')).toEqual(bj('2026-10-10T09:00:00')); // a 补班 Saturday counts as working
    // An old contract: the next one after now, not a burst of missed ones.
    expect(at('2029-12-01T00:00:00', '2020-01-31')).toEqual(bj('2030-01-31T09:00:00'));
  });

  it('a schedule occurrence opens a clock due at the end of that working day, announced at once', () => {
    const r = rule('patent.weekly-list');
    const occurrence = next('patent.weekly-list', '2026-03-10T10:00:00')!;
    const t = startTimer(r, { occurrence }, occurrence, cal)!;
    expect(t.dueAt).toEqual(bj('2026-03-16T18:00:00'));
    expect(ladder(t, r, cal).slice(0, 2).map((s) => [s.step, s.at])).toEqual([
      ['headsup', bj('2026-03-16T09:00:00')],
      ['due', bj('2026-03-16T18:00:00')],
    ]);
    expect(startTimer(r, {}, occurrence, cal)).toBeNull();
  });

  it('follows node-cron field semantics: names, L, keep, and AND of day-of-month and weekday', () => {
    expect(nextCronOccurrence('0 9 L * *', bj('2026-02-03T00:00:00'), cal)).toEqual(bj('2026-02-28T09:00:00'));
    // Saturday 1-31 is off, so its occurrence moves to Monday 2-2, which is after 2-1.
    expect(nextCronOccurrence('0 9 L * *', bj('2026-02-01T00:00:00'), cal)).toEqual(bj('2026-02-02T09:00:00'));
    // Sunday 5-31 moves back to Friday 5-29 with 'previous'.
    expect(nextCronOccurrence('0 9 L * *', bj('2026-05-02T00:00:00'), cal, 'previous')).toEqual(bj('2026-05-29T09:00:00'));
    expect(nextCronOccurrence('30 8 * * SAT', bj('2026-03-10T00:00:00'), cal, 'keep')).toEqual(bj('2026-03-14T08:30:00'));
    // 13th that is a Friday (node-cron requires both): 2026-02-13 and then 2026-03-13.
    expect(nextCronOccurrence('0 9 13 * 5', bj('2026-02-14T00:00:00'), cal)).toEqual(bj('2026-03-13T09:00:00'));
    // Feb 29 on a Monday: next in 2044, beyond the five-year search.
    expect(nextCronOccurrence('0 9 29 2 1', bj('2026-01-01T00:00:00'), cal)).toBeNull();
    expect(() => nextCronOccurrence('0 9 30 2 *', bj('2026-01-01T00:00:00'), cal)).toThrow(/impossible/);
    expect(nextOccurrence(rule('patent.assign'), T0, cal)).toBeNull();
  });
});

describe('scheduler load', () => {
  it('answers dueSteps for 5,000 running timers well within a tick', () => {
    const r = rule('patent.contact-client');
    const timers = Array.from({ length: 5000 }, (_, i) =>
      startTimer(r, { order: { serviceType: '专利', paid: true } }, new Date(T0.getTime() + i * 37 * 60_000), cal)!,
    );
    const started = performance.now();
    const now = bj('2026-06-01T10:00:00');
    const due = timers.flatMap((t) => dueSteps(t, r, now, cal));
    expect(due.length).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
