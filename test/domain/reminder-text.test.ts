import { describe, expect, it } from 'vitest';
import { createWorkCalendar } from '../../src/domain/calendar';
import { buildReminderText, isClientStep, LADDER_STEPS, loadPlaybooks, type PlaybookRule } from '../../src/domain/playbooks';
import { ladder, startTimer } from '../../src/domain/timers';

const bj = (s: string) => new Date(`${s}+08:00`);
const cal = createWorkCalendar();
const playbook = loadPlaybooks();
const rule = (id: string) => playbook.byId.get(id)!;
const order = { code: 'D12', clientName: '深圳市星河科技有限公司', handlerName: '王小明' };

describe('staff reminders', () => {
  const r = rule('project.application-complete');
  const dueAt = bj('2026-12-17T18:00:00');

  it.each(LADDER_STEPS)('step %s names the order, client, step, due time with weekday and clause', (step) => {
    const text = buildReminderText({ rule: r, step, dueAt, calendar: cal, order });
    expect(text).toContain('D12');
    expect(text).toContain('深圳市星河科技有限公司');
    expect(text).toContain('完成所有项目申报');
    expect(text).toContain('12月17日(周四) 18:00');
    expect(text).toContain('3.1.6 (项目)');
    expect(text).toContain('王小明');
  });

  it('each ladder step has its own wording', () => {
    const texts = LADDER_STEPS.map((step) => buildReminderText({ rule: r, step, dueAt, calendar: cal, order }));
    expect(new Set(texts).size).toBe(LADDER_STEPS.length);
    expect(texts[0]).toMatch(/^【即将到期】/);
    expect(texts[1]).toMatch(/^【到期提醒】/);
    expect(texts[2]).toContain('请主管督促跟进');
    expect(texts[3]).toContain('请部门负责人关注');
    expect(texts[4]).toContain('特报总经办知悉');
  });

  it('marks a make-up working day and an unassigned order', () => {
    const text = buildReminderText({
      rule: rule('patent.assign'),
      step: 'due',
      dueAt: bj('2026-02-14T15:00:00'),
      calendar: cal,
      order: { code: 'D7', clientName: '某某公司' },
    });
    expect(text).toContain('2月14日(周六) 15:00(补班日)');
    expect(text).toContain('尚未指定负责人');
  });

  it('writes the year when the due time is in another year than now', () => {
    const text = buildReminderText({ rule: r, step: 'headsup', dueAt: bj('2027-01-05T18:00:00'), calendar: cal, order, now: bj('2026-12-30T10:00:00') });
    expect(text).toContain('2027年1月5日(周二) 18:00');
  });

  it('department-wide recurring reminders need no order', () => {
    const text = buildReminderText({ rule: rule('patent.weekly-list'), step: 'headsup', dueAt: bj('2026-03-16T18:00:00'), calendar: cal });
    expect(text).toContain('本部门');
    expect(text).toContain('汇总目前在跟进的专利项目单');
    expect(text).toContain('3月16日(周一) 18:00');
    expect(text).toContain('3.1.1');
  });
});

describe('client reminders', () => {
  const clientRules = playbook.rules.filter((r) => r.audience === 'client');
  const internal = ['王小明', '超时', '逾期', '主管', '总经办', '负责人：', '依据'];

  it.each(clientRules.map((r) => [r.id, r] as const))('%s speaks politely to the client without internal detail', (_id, r: PlaybookRule) => {
    const fields = { 提交时间: '2026-12-21', 需要答辩: '是' };
    for (const step of ['headsup', 'due'] as const) {
      expect(isClientStep(r, step)).toBe(true);
      const text = buildReminderText({ rule: r, step, dueAt: bj('2026-12-17T18:00:00'), calendar: cal, order: { ...order, fields } });
      expect(text).toMatch(/^尊敬的深圳市星河科技有限公司：您好！/);
      expect(text).toContain('D12');
      expect(text).not.toContain(r.clause);
      expect(text).not.toMatch(/\{[^}]*\}/);
      for (const word of internal) expect(text).not.toContain(word);
    }
  });

  it('writes an order date field with its weekday', () => {
    const text = buildReminderText({
      rule: rule('project.tell-client-originals'),
      step: 'due',
      dueAt: bj('2026-12-17T18:00:00'),
      calendar: cal,
      order: { ...order, fields: { 提交时间: '2026-12-21' } },
    });
    expect(text).toContain('计划于12月21日(周一)提交申报材料');
  });

  it('escalations of a client rule go to staff in staff wording', () => {
    const r = rule('project.tell-client-originals');
    const t = startTimer(r, { order: { serviceType: '高新', paid: true, fields: { 提交时间: '2026-12-21' } } }, bj('2026-12-01T10:00:00'), cal)!;
    const steps = ladder(t, r, cal);
    expect(steps.map((s) => [s.step, s.audience])).toEqual([
      ['due', 'client'],
      ['overdue_supervisor', 'staff'],
      ['overdue_head', 'staff'],
      ['overdue_management', 'staff'],
    ]);
    expect(steps[0]!.mention).toEqual([]);
    const text = buildReminderText({ rule: r, step: 'overdue_supervisor', dueAt: t.dueAt, calendar: cal, order });
    expect(isClientStep(r, 'overdue_supervisor')).toBe(false);
    expect(text).toContain('王小明');
    expect(text).toContain('3.1.7 (项目)');
    expect(text).toContain('12月17日(周四) 18:00');
  });
});
