import { asc, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { clients, departments, orders, outbox, timers, visits } from '../../src/db/schema';
import { demoBot, fakeClock, REFUSED } from '../helpers/bot';
import { drivers } from '../helpers/databases';

describe.each(drivers)('clients and return visits on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  const clock = fakeClock('2026-11-23T02:00:00Z'); // Monday 10:00 in Shanghai
  const db = () => database.db;
  const at = (local: string) => clock.set(new Date(`${local}+08:00`).toISOString());
  const local = (s: string) => new Date(`${s}+08:00`);
  const tickAt = async (s: string) => {
    at(s);
    await bot.scheduler.tick();
  };
  const clientId = async (name: string) => (await db().select().from(clients).where(eq(clients.name, name)))[0]!.id;
  const dueTimers = async (name: string, state?: 'running' | 'done' | 'cancelled') =>
    (await db().select().from(timers).where(eq(timers.subject, `visit-due:${await clientId(name)}`)).orderBy(asc(timers.id))).filter((t) => !state || t.state === state);
  const rows = async (prefix: string) => db().select().from(outbox).where(like(outbox.dedupeKey, `${prefix}%`)).orderBy(asc(outbox.id));
  async function newOrder(client: string, handler = 'zhang') {
    const o = await bot.say('wang', `/单 新建 客户=${client} 类型=专利 业务员=wang 已付款`);
    const code = /D\d+/.exec(o)![0];
    expect(await bot.say('liu', `/派单 ${code} ${handler}`)).not.toMatch(REFUSED);
    return code;
  }

  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { clock, admins: ['root'] });
    at('2026-11-23T10:00:00');
    await newOrder('华星科技');
  });
  afterAll(async () => database?.close());

  it('/客户 设置 makes a client 代账 with contact and phone, and starts its visit clocks; a bad kind is refused and nothing stored', async () => {
    at('2026-11-23T10:05:00');
    expect(await bot.say('wang', '/客户 设置 华星科技 大客户')).toMatch(/^抱歉，客户类别（优质\|代账\|普通）只能是 优质、代账、普通。/);
    expect((await db().select().from(clients).where(eq(clients.name, '华星科技')))[0]!.kind).toBe('normal');
    expect(await bot.say('zhang', '/客户 设置 华星科技 优质')).toMatch(/^抱歉，客户类别需由业务员、主管或部门负责人设置/);
    const r = await bot.say('wang', '/客户 设置 华星科技 代账 联系人=刘女士 电话=13800000000');
    expect(r).toContain('已登记客户「华星科技」：代账客户，联系人 刘女士，电话 13800000000');
    expect(r).toContain('代账客户每月邮件回访｜期限 11月30日(周一) 18:00（7.1.3 (财税)）');
    expect(r).toContain('项目第一年每月回访（一般采用电话）｜期限 11月30日(周一) 18:00');
    expect(r).toContain('每年一次现场回访｜期限 12月31日(周四) 18:00');
    const ts = await dueTimers('华星科技', 'running');
    expect(ts.map((t) => [t.ruleId, t.dueAt.toISOString()]).sort()).toEqual(
      [
        ['visit.bookkeeping-email', local('2026-11-30T18:00:00').toISOString()],
        ['visit.first-year-monthly', local('2026-11-30T18:00:00').toISOString()],
        ['visit.onsite-yearly', local('2026-12-31T18:00:00').toISOString()],
      ].sort(),
    );
    expect(ts.every((t) => t.departmentId !== null)).toBe(true);
  });

  it('a due visit is reminded to the handler in the department group (heads-up 5 working days before), once', async () => {
    const email = (await dueTimers('华星科技', 'running')).find((t) => t.ruleId === 'visit.bookkeeping-email')!;
    await tickAt('2026-11-23T18:05:00');
    expect(await rows(`timer:${email.id}:`)).toHaveLength(0);
    await tickAt('2026-11-24T09:00:00');
    await tickAt('2026-11-24T09:01:00');
    const sent = await rows(`timer:${email.id}:`);
    expect(sent.map((r) => r.dedupeKey)).toEqual([`timer:${email.id}:headsup`]);
    expect(sent[0]!.conversationId).toBe('demo-internal');
    expect(sent[0]!.payload.mentions).toEqual(['zhang']);
    expect(sent[0]!.payload.text).toContain('【回访提醒】华星科技：代账客户每月邮件回访');
    expect(sent[0]!.payload.text).toContain('期限 11月30日(周一) 18:00');
    expect(sent[0]!.payload.text).toContain('@张工');
  });

  it('/回访 记录 starts the next-day report clock and the supervisor review clock; the email visit moves the monthly email clock to December', async () => {
    at('2026-11-24T10:00:00');
    expect(await bot.say('zhang', '/回访 记录 华星科技 意见=无')).toMatch(/^抱歉，缺少「结果=回访结果」/);
    expect(await bot.say('zhang', '/回访 记录 华星科技 结果=好 满意度=9')).toMatch(/^抱歉，满意度只能是 1、2、3、4、5/);
    expect(await db().select().from(visits)).toHaveLength(0);
    const r = await bot.say('zhang', '/回访 记录 华星科技 结果=客户对进度满意 意见=希望每月发进度表 满意度=5 方式=邮件');
    const [v] = await db().select().from(visits);
    expect(v).toMatchObject({ status: 'done', method: 'email', satisfaction: 5, result: '客户对进度满意', opinion: '希望每月发进度表' });
    const code = `V${v!.id}`;
    expect(r).toContain(`已登记回访 ${code}：华星科技，邮件回访`);
    expect(r).toContain(`请于 11月25日(周三) 18:00 前填写回访情况表：/回访 报告 ${code}`);
    expect(r).toContain('请 @李主管 于 11月27日(周五) 18:00 前审阅');
    const clocks = await db().select().from(timers).where(eq(timers.subject, `visit:${v!.id}`)).orderBy(asc(timers.id));
    expect(clocks.map((t) => [t.ruleId, t.dueAt.toISOString()])).toEqual([
      ['visit.report', local('2026-11-25T18:00:00').toISOString()],
      ['visit.review', local('2026-11-27T18:00:00').toISOString()],
    ]);
    const email = await dueTimers('华星科技');
    const byRule = (state: string) => email.filter((t) => t.ruleId === 'visit.bookkeeping-email' && t.state === state);
    expect(byRule('done')).toHaveLength(1);
    expect(byRule('running').map((t) => t.dueAt.toISOString())).toEqual([local('2026-12-31T18:00:00').toISOString()]);
    // The email visit does not satisfy the phone visit of the first year.
    expect(email.find((t) => t.ruleId === 'visit.first-year-monthly' && t.state === 'running')!.dueAt.toISOString()).toBe(local('2026-11-30T18:00:00').toISOString());

    // The report clock reminds the visitor at its due time; filing the report stops it (no escalation).
    const [report, review] = clocks;
    await tickAt('2026-11-25T18:00:00');
    const due = await rows(`timer:${report!.id}:`);
    expect(due.map((x) => x.dedupeKey)).toEqual([`timer:${report!.id}:due`]);
    expect(due[0]!.payload.mentions).toEqual(['zhang']);
    expect(due[0]!.payload.text).toContain(`${code} 华星科技（邮件回访，张工）：回访后第二天填写《客户回访情况表》`);
    at('2026-11-26T09:30:00');
    expect(await bot.say('zhang', `/回访 报告 ${code} 客户希望每月收到进度表`)).toContain(`已收到 ${code} 的回访情况表`);
    await tickAt('2026-11-26T18:00:00');
    expect((await rows(`timer:${report!.id}:`)).map((x) => x.dedupeKey)).toEqual([`timer:${report!.id}:due`]);
    expect((await db().select().from(timers).where(eq(timers.id, report!.id)))[0]!.state).toBe('done');

    // Review: the visitor may not review their own visit; the supervisor does, which stops the clock.
    at('2026-11-27T10:00:00');
    expect(await bot.say('zhang', `/回访 审阅 ${code}`)).toMatch(REFUSED);
    expect(await bot.say('li', `/回访 审阅 ${code} 下季度跟进新项目`)).toContain(`已审阅 ${code}，指导意见：下季度跟进新项目。@张工 请知悉`);
    expect((await db().select().from(timers).where(eq(timers.id, review!.id)))[0]!.state).toBe('done');
    const shown = await bot.say('liu', `/查 ${code}`);
    expect(shown).toContain('回访情况表');
    expect(shown).toContain('审阅（李主管');
  });

  it('the third refusal in a row records the visit as done, with the note, and moves the monthly clock on', async () => {
    at('2026-11-27T10:30:00');
    const p = await bot.say('zhang', '/回访 计划 华星科技 方式=电话 日期=2026-11-30');
    expect(p).toMatch(/已登记回访计划 V\d+：华星科技，电话回访，11月30日\(周一\)，联系人 刘女士 13800000000/);
    expect(await bot.say('zhang', '/回访 失约 华星科技 客户说本周太忙')).toContain('拒约第 1 次');
    expect(await bot.say('zhang', '/回访 失约 华星科技')).toContain('拒约第 2 次');
    const before = (await dueTimers('华星科技', 'running')).find((t) => t.ruleId === 'visit.first-year-monthly')!;
    expect(before.dueAt.toISOString()).toBe(local('2026-11-30T18:00:00').toISOString());
    const third = await bot.say('zhang', '/回访 失约 华星科技 仍然拒绝');
    expect(third).toContain('连续第 3 次拒约');
    expect(third).toContain('客户三次拒约，视为已回访');
    const vs = await db().select().from(visits).where(eq(visits.clientId, await clientId('华星科技'))).orderBy(asc(visits.id));
    expect(vs.slice(-4).map((v) => v.status)).toEqual(['refused', 'refused', 'refused', 'done']);
    expect(vs[vs.length - 1]).toMatchObject({ method: 'phone', note: '客户三次拒约，视为已回访' });
    expect((await db().select().from(timers).where(eq(timers.id, before.id)))[0]!.state).toBe('done');
    expect((await dueTimers('华星科技', 'running')).find((t) => t.ruleId === 'visit.first-year-monthly')!.dueAt.toISOString()).toBe(local('2026-12-31T18:00:00').toISOString());
    // A new refusal starts counting again.
    expect(await bot.say('zhang', '/回访 失约 华星科技')).toContain('拒约第 1 次');
  });

  it('优质客户: reminded to the department head, and only a manager or above may record the visit', async () => {
    at('2026-11-27T11:00:00');
    expect(await bot.say('wang', '/客户 设置 星河集团 优质 联系人=周总')).toContain('优质客户由经理及以上负责人回访（7.2 (财税)）');
    await newOrder('星河集团');
    await tickAt('2026-11-27T11:30:00'); // housekeeping picks up the new order
    const monthly = (await dueTimers('星河集团', 'running')).find((t) => t.ruleId === 'visit.first-year-monthly')!;
    expect(monthly.dueAt.toISOString()).toBe(local('2026-11-30T18:00:00').toISOString());
    const sent = await rows(`timer:${monthly.id}:`);
    expect(sent).toHaveLength(1); // the heads-up was already due
    expect(sent[0]!.payload.mentions).toEqual(['liu']);
    expect(sent[0]!.payload.text).toContain('优质客户，由经理及以上负责人回访');
    expect(await bot.say('zhang', '/回访 记录 星河集团 结果=已沟通')).toMatch(/^抱歉，「星河集团」是优质客户，须由经理及以上负责人回访（7.2 \(财税\)）/);
    expect(await bot.say('liu', '/回访 记录 星河集团 结果=与周总深度沟通 方式=现场')).toContain('现场回访');
    const left = await dueTimers('星河集团', 'running');
    expect(left.find((t) => t.ruleId === 'visit.onsite-yearly')!.dueAt.toISOString()).toBe(local('2027-12-31T18:00:00').toISOString());
    expect(left.find((t) => t.ruleId === 'visit.first-year-monthly')!.dueAt.toISOString()).toBe(local('2026-12-31T18:00:00').toISOString());
  });

  it('the next-day report over a holiday is due on the next working day', async () => {
    at('2026-09-30T15:00:00'); // Wednesday before 国庆
    await bot.say('wang', '/客户 设置 远航贸易 普通');
    expect(await bot.say('zhang', '/回访 记录 远航贸易 结果=一切正常')).toContain('请于 10月8日(周四) 18:00 前填写回访情况表');
  });

  it('代账 is a service type of the 财税 playbook: its order starts the 财税 clocks in 审计部 and brings monthly email visits', async () => {
    at('2026-11-27T15:00:00');
    const o = await bot.say('wang', '/单 新建 客户=新代账客户 类型=代账 业务员=wang 已付款');
    const id = Number(/D(\d+)/.exec(o)![1]);
    const [order] = await db().select().from(orders).where(eq(orders.id, id));
    expect(order!.departmentId).toBe((await db().select().from(departments).where(eq(departments.name, '审计部')))[0]!.id);
    const clocks = await db().select().from(timers).where(eq(timers.orderId, id));
    expect(clocks.map((t) => t.ruleId)).toContain('tax.learn-client');
    await tickAt('2026-11-27T15:30:00'); // housekeeping: the new client's visit clocks
    const due = await dueTimers('新代账客户', 'running');
    expect(due.map((t) => t.ruleId).sort()).toEqual(['visit.bookkeeping-email', 'visit.first-year-monthly', 'visit.onsite-yearly']);
    expect(due.every((t) => t.departmentId === order!.departmentId)).toBe(true);
  });

  it('/客户 查 shows orders, visits, due visits and the last contact by staff in the client group; /回访 列表', async () => {
    at('2026-11-27T14:00:00');
    await bot.say('zhang', '您好，进度表已发到邮箱，请查收', { group: 'demo-client' });
    at('2026-11-27T14:05:00');
    await bot.say('client-contact', '收到，谢谢', { group: 'demo-client' });
    const r = await bot.say('liu', '/客户 查 华星科技');
    expect(r).toContain('客户「华星科技」｜代账客户｜联系人：刘女士｜电话：13800000000｜业务员：王业务');
    expect(r).toMatch(/· D\d+ 专利｜/);
    expect(r).toContain('客户拒约');
    expect(r).toContain('待回访：');
    expect(r).toContain('最近联系：11月27日(周五) 14:00 张工：您好，进度表已发到邮箱，请查收');
    expect(await bot.say('liu', '/客户 查 不存在的公司')).toMatch(/^抱歉，没有找到客户「不存在的公司」/);
    const list = await bot.say('liu', '/回访 列表');
    expect(list).toContain('专利部本月待回访');
    expect(list).toContain('本月已回访');
    expect(list).toContain('客户三次拒约，视为已回访');
    expect(await bot.say('liu', '/回访 列表 逾期')).toContain('逾期未回访（0）');
    expect(await bot.say('zhang', '/回访 列表', { group: 'demo-client' })).toMatch(/不能在客户群里使用/);
  });
});
