import { and, asc, eq, like } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { departments, orderEvents, orders, timers } from '../../src/db/schema';
import { clockFigures, clocksDue } from '../../src/features/reports/figures';
import { onTimeByMonth } from '../../src/features/kanban/data';
import { viewerOf } from '../../src/features/kanban/access';
import { demoBot, fakeClock } from '../helpers/bot';
import { drivers } from '../helpers/databases';

/**
 * Issue 26, findings 5 and 6, through the chat with a fake clock: every kind of clock on working time
 * across a weekend, 国庆 2026 (10月1日–7日) and its make-up Saturday 10月10日; `/日历 调整` moving every
 * kind and counting them; `/完成` on an unpaid order asking first, and ending open clocks as 随单结束,
 * never counted on time.
 */
const CLIENT = 'kehu-a';
const sh = (local: string) => new Date(`${local}+08:00`).toISOString();

describe.each(drivers)('clocks on working time on $name', (driver) => {
  const opened: Database[] = [];
  afterAll(async () => {
    for (const d of opened) await d.close();
  });

  /** D1 (专利, unpaid, 张工) bound to the demo client group at `start`. */
  async function setup(start: string) {
    const database = await driver.open();
    opened.push(database);
    const clock = fakeClock(sh(start));
    const bot = await demoBot(database.db, { clock });
    const db = database.db;
    expect(await bot.say('wang', '/单 新建 客户=华星科技 类型=专利 业务员=@王业务')).toContain('D1');
    expect(await bot.say('liu', '/派单 D1 @张工')).toContain('派给');
    expect(await bot.say('zhang', '/绑定 D1', { group: 'demo-client' })).toContain('本群已绑定到 D1');
    const due = async (ruleId: string) =>
      (await db.select().from(timers).where(and(eq(timers.ruleId, ruleId), eq(timers.state, 'running'))).orderBy(asc(timers.id))).map((t) => t.dueAt.toISOString());
    return { bot, db, clock, due };
  }

  it('weekly contact, progress report, question and visit report count working time across a weekend, 国庆 and its make-up Saturday', async () => {
    // Assigned on Monday 04:54, the week before 国庆.
    const s = await setup('2026-09-28T04:54:00');
    // 5 working days from Monday 09:00: Mon–Wed, then 10月8日–9日 after the holiday (not 10月5日 04:54).
    expect(await s.due('client-group.weekly-contact')).toEqual([sh('2026-10-09T18:00:00')]);
    // 10 working days: the make-up Saturday 10月10日 counts, so it ends Thursday 10月15日 (not Friday the 16th).
    expect(await s.due('client-group.materials-report')).toEqual([sh('2026-10-15T18:00:00')]);

    // A visit at 07:00 on the eve of the holiday: the report is due on the next working day, 10月8日.
    s.clock.set(sh('2026-09-30T07:00:00'));
    const visit = await s.bot.say('zhang', '/回访 记录 华星科技 结果=客户对进度满意');
    expect(visit).toContain('请于 10月8日(周四) 18:00 前填写回访情况表');
    expect(await s.due('visit.report')).toEqual([sh('2026-10-08T18:00:00')]);
    // The review: third working day after the visit — 8th, 9th and the make-up Saturday.
    expect(await s.due('visit.review')).toEqual([sh('2026-10-10T18:00:00')]);

    // A contact on Friday 14:00 before the make-up Saturday and a Sunday: 4 h Fri + Sat + Mon–Wed + 5 h Thu.
    s.clock.set(sh('2026-10-09T14:00:00'));
    expect(await s.bot.say('zhang', '/联系 D1 电话 约了下周辅导')).toContain('重新计时：主动联系客户（每周至少一次）');
    expect(await s.due('client-group.weekly-contact')).toEqual([sh('2026-10-15T14:00:00')]);

    // A client's question at 17:50 on Friday waits for the make-up Saturday's first 20 working minutes.
    s.clock.set(sh('2026-10-09T17:50:00'));
    expect(await s.bot.say(CLIENT, '请问什么时候能提交？', { group: 'demo-client' })).toBe('');
    expect(await s.due('client-group.answer')).toEqual([sh('2026-10-10T09:20:00')]);
    // …and one on Sunday waits for Monday 09:00.
    s.clock.set(sh('2026-10-10T09:10:00'));
    await s.bot.say('zhang', '您好，预计下周提交。', { group: 'demo-client' });
    s.clock.set(sh('2026-10-11T15:00:00'));
    await s.bot.say(CLIENT, '能不能再快一点？', { group: 'demo-client' });
    expect(await s.due('client-group.answer')).toEqual([sh('2026-10-12T09:30:00')]);
  });

  it('/日历 调整 moves every kind of running clock across the day, return visits too, and counts them per kind', async () => {
    const s = await setup('2026-12-28T10:00:00');
    await s.bot.scheduler.tick();
    const visitsDue = (await s.db.select().from(timers).where(and(like(timers.subject, 'visit-due:%'), eq(timers.state, 'running')))).filter(
      (t) => t.dueAt.toISOString() === sh('2026-12-31T18:00:00'),
    );
    expect(visitsDue.length).toBeGreaterThan(0);
    const weeklyBefore = (await s.due('client-group.weekly-contact'))[0]!;
    const reportBefore = (await s.due('client-group.materials-report'))[0]!;

    const r = await s.bot.say('boss', '/日历 调整 2026-12-31 休息 公司年会');
    expect(r).toContain('休息日');
    expect(r).toMatch(/已按新日历重算 \d+ 项进行中的计时：/);
    expect(r).toContain('讨论组（提问、每周联系、材料进度） 2 项');
    expect(r).toContain(`回访 ${visitsDue.length} 项`);
    expect(r).toMatch(/分配单 \d+ 项/);
    const total = Number(/重算 (\d+) 项/.exec(r)![1]);
    const parts = [...r.matchAll(/ (\d+) 项[、。]/g)].map((m) => Number(m[1]));
    expect(parts.reduce((a, b) => a + b, 0)).toBe(total);

    // The return visits are due at the end of the month's last working day now, 12月30日.
    const visitsAfter = await s.db.select().from(timers).where(and(like(timers.subject, 'visit-due:%'), eq(timers.state, 'running')));
    expect(visitsAfter.filter((t) => t.dueAt.toISOString() === sh('2026-12-31T18:00:00'))).toHaveLength(0);
    expect(visitsAfter.filter((t) => t.dueAt.toISOString() === sh('2026-12-30T18:00:00'))).toHaveLength(visitsDue.length);
    // The 讨论组 clocks keep their remaining working time: one working day later each.
    const cal = await s.bot.calendar(s.db);
    const weeklyAfter = (await s.due('client-group.weekly-contact'))[0]!;
    expect(new Date(weeklyAfter).getTime()).toBeGreaterThan(new Date(weeklyBefore).getTime());
    expect(cal.workingTimeBetween(s.clock(), new Date(weeklyAfter))).toBe(5 * cal.workingDayMs - 0);
    expect(new Date((await s.due('client-group.materials-report'))[0]!).getTime()).toBeGreaterThan(new Date(reportBefore).getTime());
  });

  it('/完成 on an unpaid order asks for 确认; open clocks end as 随单结束 and the monthly report counts none of them on time', async () => {
    const s = await setup('2026-11-23T10:00:00');
    expect(await s.bot.say(CLIENT, '请问专利申请什么时候能提交？', { group: 'demo-client' })).toBe('');
    s.clock.set(sh('2026-11-23T11:00:00'));
    const asked = await s.bot.say('zhang', '/完成 D1 材料已交');
    expect(asked).toContain('D1 还没有确认收款');
    expect(asked).toContain('/完成 D1 确认 材料已交');
    const [still] = await s.db.select().from(orders).where(eq(orders.id, 1));
    expect(still!.status).toBe('assigned');
    expect(await s.due('client-group.answer')).toHaveLength(1);

    const done = await s.bot.say('zhang', '/完成 D1 确认 材料已交');
    expect(done).toContain('D1 已标记完成（材料已交）');
    expect(done).toContain('未收款即完成');
    expect(done).toContain('随单结束：回复客户在讨论组里的提问');
    expect(done).not.toContain('已完成：');
    const [ev] = await s.db.select().from(orderEvents).where(and(eq(orderEvents.orderId, 1), eq(orderEvents.kind, 'done')));
    expect(ev!.note).toBe('未收款完成：材料已交');
    expect(ev!.data).toMatchObject({ unpaid: true });
    const all = await s.db.select().from(timers).where(eq(timers.orderId, 1));
    expect(all.filter((t) => t.state === 'running' || t.state === 'paused')).toHaveLength(0);
    // Only the assignment clock, met by /派单 earlier, is done; nothing ended at completion is.
    const endedNow = all.filter((t) => t.data.endedAt === s.clock().toISOString());
    expect(endedNow.length).toBeGreaterThan(1);
    expect(endedNow.filter((t) => t.state !== 'cancelled' || t.data.endedWithOrder !== true)).toEqual([]);
    expect(all.filter((t) => t.state === 'done').map((t) => t.ruleId)).toEqual(['patent.assign']);
    const question = all.find((t) => t.ruleId === 'client-group.answer')!;
    expect(question.state).toBe('cancelled');
    expect(question.data.endedWithOrder).toBe(true);

    // November's figures: on time only the assignment, really met by /派单; the unanswered question (due
    // 10:30, ended 11:00) is late; the contact steps (due 11月24日, 11月30日) ended with the order, not kept.
    s.clock.set(sh('2026-12-01T10:00:00'));
    const [dept] = await s.db.select().from(departments).where(eq(departments.id, (await s.db.select().from(orders).where(eq(orders.id, 1)))[0]!.departmentId!));
    const figures = clockFigures(await clocksDue(s.db, dept!.id, new Date(sh('2026-11-01T00:00:00')), new Date(sh('2026-12-01T00:00:00'))), s.clock());
    expect(figures.onTime).toBe(1);
    expect(figures.late).toBe(1);
    const monthly = await s.bot.say('boss', '/月报 2026-11');
    expect(monthly).toContain('按时 1，超时 1，');
    // The 看板's on-time chart counts the same: 2 judged (the assignment, the question), 1 on time.
    const viewer = (await viewerOf(s.db, 'boss', []))!;
    const tally = await onTimeByMonth(s.db, viewer, {}, await s.bot.calendar(s.db), [new Date(sh('2026-11-01T00:00:00'))], s.clock());
    expect(tally.reduce((n, t) => n + t.judged, 0)).toBe(2);
    expect(tally.reduce((n, t) => n + t.onTime, 0)).toBe(1);
  });
});
