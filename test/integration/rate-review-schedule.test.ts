import { and, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { clients, departments, events, groups, orders, outbox, people } from '../../src/db/schema';
import { formatInstantInChinese } from '../../src/domain/calendar';
import { rateReviewAt } from '../../src/domain/complaints';
import { complaintPlaybook, demoBot, fakeClock } from '../helpers/bot';
import { drivers } from '../helpers/databases';

/**
 * Issue 26 #7: the year-end complaint-rate review (4.4.3) runs at its date over the year's data, and
 * only once the year's complaint data exist. A first start late in the year (after the review date,
 * here 12月7日 04:53) reviews nothing and marks nothing; the next review is next year's, at its date,
 * exactly once even when two instances tick at that moment.
 */
describe.each(drivers)('the year-end complaint-rate review on a first start late in the year on $name', (driver) => {
  let database: Database;
  const clock = fakeClock('2026-12-06T20:53:00Z'); // 2026-12-07 04:53 in Shanghai: the first start
  let one: Awaited<ReturnType<typeof demoBot>>;
  let two: Awaited<ReturnType<typeof demoBot>>;
  const db = () => database.db;
  const deptId: Record<string, number> = {};
  const at = (local: string) => clock.set(new Date(`${local}+08:00`).toISOString());
  const marks = (year: number) =>
    db().select().from(events).where(and(eq(events.subject, `complaint-rate:${year}`), eq(events.action, 'complaint.rate_review')));
  const rateNotices = (year: number) => db().select().from(outbox).where(like(outbox.dedupeKey, `notice:complaint-rate:%:${year}:%`));
  const say = (from: string, text: string, group: string) => one.say(from, text, { group });

  beforeAll(async () => {
    database = await driver.open();
    one = await demoBot(database.db, { clock });
    // A second instance on the same database: its own scheduler and its own in-memory state.
    two = await demoBot(database.db, { clock });
    for (const d of await db().select().from(departments)) deptId[d.name] = d.id;
    await db().insert(groups).values([
      { platform: 'sandbox', conversationId: 'rr-mgmt', title: '总经办群', kind: 'internal', departmentId: deptId['总经办'] },
      { platform: 'sandbox', conversationId: 'rr-software', title: '软件部群', kind: 'internal', departmentId: deptId['软件部'] },
    ]);
  });
  afterAll(async () => database?.close());

  /** A software client with an open order created now, and (optionally) a complaint received now. */
  async function client(name: string, complained: boolean) {
    const [sales] = await db().select().from(people).where(eq(people.userid, 'wang'));
    const [cl] = await db().insert(clients).values({ name, salespersonId: sales!.id }).returning();
    await db().insert(orders).values({ clientId: cl!.id, serviceType: '软件', departmentId: deptId['软件部'], status: 'assigned', createdAt: clock(), updatedAt: clock() });
    if (complained) expect(await say('sun', `/投诉 客户=${name} 负责人=@周工 回复慢`, 'rr-software')).toMatch(/T\d+/);
  }

  it('the first tick on 12-07 records no review for 2026; the reply names next year’s review instead', async () => {
    const cal = await one.calendar(db());
    const review2026 = rateReviewAt(2026, complaintPlaybook.rate.review, cal);
    expect(clock().getTime()).toBeGreaterThan(review2026.getTime()); // the review date has passed
    await one.scheduler.tick();
    await two.scheduler.tick();
    expect(await marks(2026)).toHaveLength(0);
    // Data entered after the review time are not the year's data up to it: still nothing marked.
    await client('年末客户甲', true);
    await client('年末客户乙', false);
    at('2026-12-07T12:00:00');
    await one.scheduler.tick();
    expect(await marks(2026)).toHaveLength(0);
    expect(await rateNotices(2026)).toHaveLength(0);

    const reply = await say('sun', '/投诉率', 'rr-software');
    expect(reply).not.toContain('年终检讨已于');
    expect(reply).toContain('2026 年没有进行年终检讨');
    const review2027 = rateReviewAt(2027, complaintPlaybook.rate.review, cal);
    expect(reply).toContain(`下一次年终检讨：${formatInstantInChinese(review2027, cal, { now: clock() })}`);
    // Still nothing days later, however often the scheduler ticks.
    at('2026-12-28T10:00:00');
    await one.scheduler.tick();
    expect(await marks(2026)).toHaveLength(0);
  });

  it('next year the review happens at its date over the year’s data — exactly once across two instances', async () => {
    at('2027-03-01T10:00:00');
    await client('新年客户丙', true); // 软件部 2027: 1 complaint among 3 clients served (33.3%)
    const cal = await one.calendar(db());
    const review2027 = rateReviewAt(2027, complaintPlaybook.rate.review, cal);
    expect(review2027.toISOString()).toBe(new Date('2027-12-01T10:00:00+08:00').toISOString());
    clock.set(new Date(review2027.getTime() - 60_000).toISOString());
    await Promise.all([one.scheduler.tick(), two.scheduler.tick()]);
    expect(await marks(2027)).toHaveLength(0);
    expect(await say('sun', '/投诉率', 'rr-software')).toContain(`年终检讨时间：${formatInstantInChinese(review2027, cal, { now: clock() })}`);

    clock.set(review2027.toISOString());
    await Promise.all([one.scheduler.tick(), two.scheduler.tick()]);
    const [mark, ...more] = await marks(2027);
    expect(more).toHaveLength(0);
    expect(mark!.at.toISOString()).toBe(review2027.toISOString());
    // Over 1 January → the review time: the complaint of 2026-12-07 is not 2027's.
    const figures = (mark!.data as { figures: { department: number; complaints: number; clientsServed: number }[] }).figures;
    expect(figures.find((f) => f.department === deptId['软件部'])).toMatchObject({ complaints: 1, clientsServed: 3 });
    const notices = await rateNotices(2027);
    expect(notices.map((n) => n.conversationId).sort()).toEqual(['rr-mgmt', 'rr-software']);
    expect(notices[0]!.payload.text).toContain('软件部 2027 年');
    expect(notices[0]!.payload.text).toContain('33.3%');

    clock.advance(60 * 60_000);
    await Promise.all([one.scheduler.tick(), two.scheduler.tick()]);
    expect(await marks(2027)).toHaveLength(1);
    expect(await rateNotices(2027)).toHaveLength(2);
    expect(await marks(2026)).toHaveLength(0);
    expect(await say('sun', '/投诉率', 'rr-software')).toContain(`2027 年的年终检讨已于 ${formatInstantInChinese(review2027, cal, { now: clock() })} 进行`);
  });
});

describe.each(drivers)('the year-end complaint-rate review after a start before the review date on $name', (driver) => {
  let database: Database;
  const clock = fakeClock('2026-11-20T02:00:00Z'); // 2026-11-20 10:00 in Shanghai
  let bot: Awaited<ReturnType<typeof demoBot>>;
  const db = () => database.db;
  const at = (local: string) => clock.set(new Date(`${local}+08:00`).toISOString());
  const marks = () => db().select().from(events).where(and(eq(events.subject, 'complaint-rate:2026'), eq(events.action, 'complaint.rate_review')));

  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { clock });
    const [sw] = await db().select().from(departments).where(eq(departments.name, '软件部'));
    await db().insert(groups).values({ platform: 'sandbox', conversationId: 'rr2-software', title: '软件部群', kind: 'internal', departmentId: sw!.id });
    const [sales] = await db().select().from(people).where(eq(people.userid, 'wang'));
    for (const name of ['十一月客户甲', '十一月客户乙']) {
      const [cl] = await db().insert(clients).values({ name, salespersonId: sales!.id }).returning();
      await db().insert(orders).values({ clientId: cl!.id, serviceType: '软件', departmentId: sw!.id, status: 'assigned', createdAt: clock(), updatedAt: clock() });
    }
  });
  afterAll(async () => database?.close());

  it('a tick before the date only waits; a bot stopped over the review time reviews at its first tick after, over the data up to the review time', async () => {
    expect(await bot.say('sun', '/投诉 客户=十一月客户甲 负责人=@周工 回复慢', { group: 'rr2-software' })).toMatch(/T\d+/);
    await bot.scheduler.tick();
    expect(await marks()).toHaveLength(0);
    const cal = await bot.calendar(db());
    const reviewAt = rateReviewAt(2026, complaintPlaybook.rate.review, cal);
    // The bot is down over the review time; a complaint comes in after it, before the bot ticks again.
    at('2026-12-02T09:00:00');
    expect(await bot.say('sun', '/投诉 客户=十一月客户乙 负责人=@周工 回复慢', { group: 'rr2-software' })).toMatch(/T\d+/);
    expect(await bot.say('sun', '/投诉率', { group: 'rr2-software' })).toContain('已到，稍后进行');
    at('2026-12-03T10:00:00');
    await bot.scheduler.tick();
    const [mark, ...more] = await marks();
    expect(more).toHaveLength(0);
    expect(mark!.at.toISOString()).toBe(clock().toISOString());
    expect((mark!.data as { span: { to: string } }).span.to).toBe(reviewAt.toISOString());
    const [sw] = await db().select().from(departments).where(eq(departments.name, '软件部'));
    const figures = (mark!.data as { figures: { department: number; complaints: number; clientsServed: number }[] }).figures;
    expect(figures.find((f) => f.department === sw!.id)).toMatchObject({ complaints: 1, clientsServed: 2 }); // not the one of 12-02
    const [notice] = await db().select().from(outbox).where(like(outbox.dedupeKey, `notice:complaint-rate:${sw!.id}:2026:%`));
    expect(notice!.payload.text).toContain(`截至 ${formatInstantInChinese(reviewAt, cal)}`);
    expect(notice!.payload.text).toContain('50.0%');
  });
});
