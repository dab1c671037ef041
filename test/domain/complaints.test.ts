import { describe, expect, it } from 'vitest';
import { createWorkCalendar } from '../../src/domain/calendar';
import {
  buildComplaintReminder,
  closeBlockers,
  complaintRate,
  complaintRulesStartedBy,
  complaintRulesStoppedBy,
  DEFAULT_COMPLAINT_PLAYBOOK_DOCUMENT,
  formatFen,
  loadComplaintPlaybook,
  parseComplaintPlaybook,
  parseReceivedAt,
  parseYuan,
  proposeLevel,
  rateReviewAt,
  splitOfficialFee,
  ComplaintPlaybookError,
  type ComplaintFacts,
  type ComplaintState,
} from '../../src/domain/complaints';
import { LADDER_STEPS } from '../../src/domain/playbooks';
import { dueSteps, ladder, startTimer } from '../../src/domain/timers';

const bj = (s: string) => new Date(`${s}+08:00`);
const cal = createWorkCalendar();
const pb = loadComplaintPlaybook();
const rule = (id: string) => pb.byId.get(id)!;
const phone: ComplaintFacts = { channel: 'phone', level: null, unhappy: false, attitude: false };

describe('received time (时间=)', () => {
  const now = bj('2026-11-23T10:00:00');
  it('reads HH:MM as today, a full date, seconds, and full-width colons', () => {
    expect(parseReceivedAt('09:45', now, cal)).toEqual({ ok: true, at: bj('2026-11-23T09:45:00') });
    expect(parseReceivedAt('2026-11-22 23:50', now, cal)).toEqual({ ok: true, at: bj('2026-11-22T23:50:00') });
    expect(parseReceivedAt('09:30:06', now, cal)).toEqual({ ok: true, at: bj('2026-11-23T09:30:06') });
    expect(parseReceivedAt('9：45', now, cal)).toEqual({ ok: true, at: bj('2026-11-23T09:45:00') });
    expect(parseReceivedAt('10:00', now, cal)).toEqual({ ok: true, at: now });
  });
  it('refuses a time in the future, more than a day back, or nonsense — politely', () => {
    const future = parseReceivedAt('10:01', now, cal);
    expect(future.ok).toBe(false);
    expect(!future.ok && future.why).toContain('晚于现在');
    const old = parseReceivedAt('2026-11-22 09:59', now, cal);
    expect(!old.ok && old.why).toContain('超过一天');
    expect(parseReceivedAt('2026-11-22 10:00', now, cal).ok).toBe(true); // exactly one day is still accepted
    for (const bad of ['25:00', '10:60', 'soon', '2026-02-30 10:00']) expect(parseReceivedAt(bad, now, cal).ok).toBe(false);
  });
});

describe('the 30-minute callback clock (4.3.3)', () => {
  const r = rule('complaint.callback');
  const t0 = bj('2026-11-21T23:10:00'); // Saturday night
  const t = startTimer(r.timer, { at: t0 }, t0, cal)!;
  it('runs in wall-clock minutes day and night: heads-up at 20, head @-mentioned at 30', () => {
    expect(t.dueAt).toEqual(bj('2026-11-21T23:40:00'));
    const steps = ladder(t, r.timer, cal);
    expect(steps.map((s) => [s.step, s.at.toISOString()])).toEqual([
      ['headsup', bj('2026-11-21T23:30:00').toISOString()],
      ['due', bj('2026-11-21T23:40:00').toISOString()],
      ['overdue_head', bj('2026-11-21T23:40:00').toISOString()],
    ]);
    expect(steps.find((s) => s.step === 'overdue_head')!.mention).toContain('head');
    expect(dueSteps(t, r.timer, bj('2026-11-21T23:39:59'), cal).map((s) => s.step)).toEqual(['headsup']);
  });
  it('the heads-up minute is data: an override moves it', () => {
    const over = parseComplaintPlaybook(DEFAULT_COMPLAINT_PLAYBOOK_DOCUMENT, {
      rules: [{ id: 'complaint.callback', ladder: { headsUp: { before: { amount: 5, unit: 'minutes' } }, overdue: [] } }],
      rate: { threshold: 0.2 },
    });
    const t2 = startTimer(over.byId.get('complaint.callback')!.timer, { at: t0 }, t0, cal)!;
    expect(ladder(t2, over.byId.get('complaint.callback')!.timer, cal)[0]!.at).toEqual(bj('2026-11-21T23:35:00'));
    expect(over.rate.threshold).toBe(0.2);
    expect(over.rate.clause).toContain('4.4.3');
  });
  it('a broken override is refused with the reason', () => {
    expect(() => parseComplaintPlaybook(DEFAULT_COMPLAINT_PLAYBOOK_DOCUMENT, { rules: [{ id: 'complaint.callback', duration: { amount: -1, unit: 'minutes' } }] })).toThrow(
      ComplaintPlaybookError,
    );
  });
  it('the working-day clocks follow the calendar (4.3.1: 2 working days)', () => {
    const e = rule('complaint.explain');
    const te = startTimer(e.timer, { at: bj('2026-11-20T17:00:00') }, bj('2026-11-20T17:00:00'), cal)!; // Friday 17:00
    expect(te.dueAt).toEqual(bj('2026-11-24T17:00:00')); // Tuesday 17:00, the weekend skipped
  });
  it('every complaint rule cites a clause and states its events', () => {
    for (const r2 of pb.rules) {
      expect(r2.clause, r2.id).toMatch(/\d\.\d/);
      expect(r2.startsOn.length, r2.id).toBeGreaterThan(0);
      expect(r2.stopsOn.length, r2.id).toBeGreaterThan(0);
    }
    expect(rule('complaint.callback').timer.quietHours).toBe('ignore');
    expect(rule('complaint.head-act').timer.quietHours).toBe('ignore');
  });
});

describe('which clocks each route starts', () => {
  const started = (f: ComplaintFacts, e: Parameters<typeof complaintRulesStartedBy>[1]) => complaintRulesStartedBy(pb, e, f).map((r) => r.id);
  it('phone and chat: the supervisor callback; 业务部 and boss: the head callback', () => {
    expect(started(phone, 'received')).toEqual(['complaint.callback', 'complaint.weekly-review']);
    expect(started({ ...phone, channel: 'chat' }, 'received')).toContain('complaint.callback');
    expect(started({ ...phone, channel: 'sales' }, 'received')).toContain('complaint.callback-head');
    expect(started({ ...phone, channel: 'boss' }, 'received')).toContain('complaint.callback-head');
    expect(started({ ...phone, channel: 'sales' }, 'received')).not.toContain('complaint.callback');
  });
  it('unhappy → explanation; 业务部 callback → tell the salesperson; boss closure → report; attitude closure → 检讨书', () => {
    expect(started({ ...phone, unhappy: true }, 'received')).toContain('complaint.explain');
    expect(started({ ...phone, channel: 'sales' }, 'callback')).toEqual(['complaint.tell-sales']);
    expect(started(phone, 'callback')).toEqual([]);
    expect(started({ ...phone, channel: 'boss' }, 'closed')).toEqual(['complaint.boss-report']);
    expect(started({ ...phone, attitude: true }, 'closed')).toEqual(['complaint.self-review']);
    expect(started({ ...phone, level: 'C' }, 'level-confirmed')).toEqual(['complaint.same-day']);
    expect(started({ ...phone, level: 'D' }, 'level-confirmed')).toEqual(['complaint.same-day']);
    expect(started({ ...phone, level: 'B' }, 'level-confirmed')).toEqual([]);
  });
  it('escalation ends the callback clock and starts the head’s own 30 minutes', () => {
    expect(complaintRulesStoppedBy(pb, 'escalated').map((r) => r.id)).toEqual(['complaint.callback', 'complaint.callback-head']);
    expect(started(phone, 'escalated')).toEqual(['complaint.head-act']);
    expect(rule('complaint.head-act').timer.duration).toEqual({ amount: 30, unit: 'minutes' });
  });
});

describe('closing', () => {
  const s: ComplaintState = { ...phone, id: 7, status: 'open', callbackAt: null, escalatedAt: null, ownerNoteAt: null, explainedAt: null, level: null };
  it('needs the callback (or the escalation owner’s note), a confirmed level, and 4.3.1’s explanation', () => {
    expect(closeBlockers(s)).toHaveLength(2);
    expect(closeBlockers({ ...s, level: 'A' })).toEqual([expect.stringContaining('/回电 T7')]);
    expect(closeBlockers({ ...s, level: 'A', callbackAt: new Date() })).toEqual([]);
    expect(closeBlockers({ ...s, level: 'A', escalatedAt: new Date() })).toEqual([expect.stringContaining('/处理 T7')]);
    expect(closeBlockers({ ...s, level: 'A', escalatedAt: new Date(), ownerNoteAt: new Date() })).toEqual([]);
    expect(closeBlockers({ ...s, level: 'A', callbackAt: new Date(), unhappy: true })).toEqual([expect.stringContaining('4.3.1')]);
    expect(closeBlockers({ ...s, status: 'closed' })).toEqual(['T7 已经结案了。']);
    // The head's handling (/处理) suffices without an escalation, as /帮助 says; a voided complaint never closes.
    expect(closeBlockers({ ...s, level: 'A', ownerNoteAt: new Date() })).toEqual([]);
    expect(closeBlockers({ ...s, level: 'A', callbackAt: new Date(), status: 'voided' })).toEqual(['T7 已撤销，不再办理。']);
  });
});

describe('level proposals (4.2; 审计 3.2)', () => {
  const p = (content: string, channel: ComplaintFacts['channel'] = 'phone', n = 1) => proposeLevel(pb, { content, channel, complaintsThisYear: n });
  it('A by default, B for refunds or repeats, C for reputation or the boss, D for losses and claims', () => {
    expect(p('电话没人接').level).toBe('A');
    expect(p('要求退款').level).toBe('B');
    expect(p('又是没人回复', 'phone', 2)).toEqual({ level: 'B', reasons: [expect.stringContaining('第 2 次')] });
    expect(p('在朋友圈公开说我们不专业').level).toBe('C');
    expect(p('电话没人接', 'boss').level).toBe('C');
    expect(p('造成重大损失，要求赔偿').level).toBe('D');
    expect(p('要求退款并赔偿').reasons).toHaveLength(2);
  });
});

describe('gifted service fees (4.4.2)', () => {
  const r343 = { fault: 3, supervisor: 4, head: 3 };
  it('splits 3:4:3 exactly, to the fen, always adding up to the total', () => {
    expect(splitOfficialFee(100_000, r343)).toEqual({ fault: 30_000, supervisor: 40_000, head: 30_000 });
    expect(splitOfficialFee(1, r343)).toEqual({ fault: 0, supervisor: 1, head: 0 });
    expect(splitOfficialFee(5, r343)).toEqual({ fault: 2, supervisor: 2, head: 1 }); // 1.5 / 2 / 1.5: the tie goes to the person at fault
    expect(splitOfficialFee(85_001, r343)).toEqual({ fault: 25_500, supervisor: 34_001, head: 25_500 });
    expect(splitOfficialFee(123_457, r343)).toEqual({ fault: 37_037, supervisor: 49_383, head: 37_037 });
    for (let fen = 0; fen < 2000; fen += 7) {
      const s = splitOfficialFee(fen, r343);
      expect(s.fault + s.supervisor + s.head).toBe(fen);
      expect(Math.abs(s.supervisor - (fen * 4) / 10)).toBeLessThan(1);
    }
  });
  it('项目中心 (5.4.2): the department manager bears it all', () => {
    const r = pb.giftSplit.byService.find((s) => s.services.includes('高新'))!;
    expect(splitOfficialFee(85_050, r)).toEqual({ fault: 0, supervisor: 0, head: 85_050 });
  });
  it('reads yuan to fen and writes it back', () => {
    expect(parseYuan('850')).toBe(85_000);
    expect(parseYuan('1,234.5元')).toBe(123_450);
    expect(parseYuan('0.05')).toBe(5);
    expect(parseYuan('1.234')).toBeNull();
    expect(parseYuan('-3')).toBeNull();
    expect(formatFen(123_405)).toBe('1234.05 元');
  });
});

describe('complaint rate (4.4.3)', () => {
  it('is complaints ÷ clients served, over the threshold only when strictly above', () => {
    expect(complaintRate(1, 10, 0.1)).toEqual({ complaints: 1, clientsServed: 10, rate: 0.1, over: false });
    expect(complaintRate(2, 10, 0.1).over).toBe(true);
    expect(complaintRate(0, 0, 0.1)).toEqual({ complaints: 0, clientsServed: 0, rate: null, over: false });
  });
  it('4.4.3 year-end review: the first working day of December by default; a day off moves it on; -1 is the last working day', () => {
    const review = loadComplaintPlaybook().rate.review;
    expect(review).toEqual({ month: 12, workingDay: 1, time: '10:00' });
    expect(rateReviewAt(2026, review, cal).toISOString()).toBe(bj('2026-12-01T10:00:00').toISOString()); // Tuesday
    expect(rateReviewAt(2029, review, cal).toISOString()).toBe(bj('2029-12-03T10:00:00').toISOString()); // 1 Dec 2029 is a Saturday
    expect(rateReviewAt(2027, { month: 12, workingDay: -1, time: '16:00' }, cal).toISOString()).toBe(bj('2027-12-31T16:00:00').toISOString()); // Friday
    expect(rateReviewAt(2026, { month: 12, workingDay: 2, time: '09:30' }, cal).toISOString()).toBe(bj('2026-12-02T09:30:00').toISOString());
    expect(() => parseComplaintPlaybook(DEFAULT_COMPLAINT_PLAYBOOK_DOCUMENT, { rate: { review: { month: 12, workingDay: 0, time: '10:00' } } })).toThrow(ComplaintPlaybookError);
  });
});

describe('complaint reminder wording', () => {
  const c = { id: 7, clientName: '华星科技', channel: 'phone' as const, level: 'B' as const, content: '一周没人回复', handlerName: '张工', ownerName: '刘经理' };
  it.each(LADDER_STEPS)('step %s names the complaint, client, deadline and clause', (step) => {
    const text = buildComplaintReminder({ rule: rule('complaint.callback'), step, dueAt: bj('2026-11-23T10:30:00'), calendar: cal, complaint: c });
    expect(text).toContain('T7');
    expect(text).toContain('华星科技');
    expect(text).toContain('4.3.3');
    if (step !== 'due') expect(text).toMatch(/10:30/);
  });
  it('the escalation asks the department head to act; the weekly review asks for the meeting', () => {
    expect(buildComplaintReminder({ rule: rule('complaint.callback'), step: 'overdue_head', dueAt: bj('2026-11-23T10:30:00'), calendar: cal, complaint: c })).toContain('请部门负责人');
    expect(buildComplaintReminder({ rule: rule('complaint.weekly-review'), step: 'due', dueAt: bj('2026-11-30T09:00:00'), calendar: cal, complaint: c })).toContain('部门会议');
  });
});
