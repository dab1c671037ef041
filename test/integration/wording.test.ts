import { and, asc, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { complaints, outbox, timers } from '../../src/db/schema';
import { complaintPlaybook, demoBot, fakeClock, playbook, REFUSED } from '../helpers/bot';
import { drivers } from '../helpers/databases';
import { loadClientGroupRules } from '../../src/features/client-groups/client-group-rules';

/** Replies a daily user reads: each names exactly what happened, in Chinese, from the stored rows. */
const clientGroupRules = loadClientGroupRules();

describe.each(drivers)('reply wording on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  const clock = fakeClock('2026-11-23T02:00:00Z'); // Monday 10:00 in Shanghai
  const db = () => database.db;
  const at = (local: string) => clock.set(new Date(`${local}+08:00`).toISOString());
  const stepOf = (ruleId: string) =>
    playbook.rules.find((r) => r.id === ruleId)?.step ?? complaintPlaybook.byId.get(ruleId)?.step ?? clientGroupRules.byId.get(ruleId as never)?.timer.step;

  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { clock, admins: ['root'] });
  });
  afterAll(async () => database?.close());

  async function assignedOrder(client = '华星科技') {
    const r = await bot.say('wang', `/单 新建 客户=${client} 类型=专利 业务员=wang 已付款`);
    const code = /D\d+/.exec(r)![0];
    expect(await bot.say('liu', `/派单 ${code} zhang`)).toContain('已派给');
    return { code, id: Number(code.slice(1)) };
  }
  /** Every timer bound to the order: its playbook clocks and features' clocks (e.g. the 讨论组 clocks). */
  const orderTimers = (id: number) => db().select().from(timers).where(eq(timers.orderId, id)).orderBy(asc(timers.id));
  async function complaint(text: string) {
    const reply = await bot.say('li', text);
    expect(reply).not.toMatch(REFUSED);
    const [row] = await db().select().from(complaints).orderBy(asc(complaints.id));
    const all = await db().select().from(complaints).orderBy(asc(complaints.id));
    return { reply, id: all.at(-1)!.id, T: `T${all.at(-1)!.id}`, first: row };
  }

  it('no complaint-rate notice comes before (or with) the complaint’s own notice: the rate is a year-end review (4.4.3)', async () => {
    at('2026-11-23T09:30:00');
    // The first complaint of the year in a department that served one client: 100% > 10%, yet no alert now.
    const c = await complaint('/投诉 客户=华星科技 负责人=@张工 级别=A 材料交晚了');
    expect(c.reply).not.toContain('【投诉率提醒】');
    const rows = await db().select().from(outbox).where(eq(outbox.conversationId, 'demo-internal')).orderBy(asc(outbox.id));
    const texts = rows.map((r) => r.payload.text);
    expect(texts.findIndex((t) => t.startsWith('【客户投诉】'))).toBeGreaterThanOrEqual(0);
    expect(texts.some((t) => t.startsWith('【投诉率提醒】'))).toBe(false);
  });

  it('/已办 D 1 names the clock it checked off, from the stored timer row, and says the order goes on', async () => {
    const { code, id } = await assignedOrder();
    const before = (await orderTimers(id)).filter((t) => t.state === 'running');
    expect(before.length).toBeGreaterThan(1);
    const reply = await bot.say('zhang', `/已办 ${code} 1`);
    const done = (await orderTimers(id)).filter((t) => t.state === 'done' && before.some((b) => b.id === t.id));
    expect(done).toHaveLength(1);
    expect(done[0]!.id).toBe(before[0]!.id);
    expect(reply).toContain(`「${stepOf(done[0]!.ruleId)}」`);
    expect(reply).not.toMatch(new RegExp(`已登记 ${code} 完成`));
    expect(reply).toContain(`全部办完请发送 /完成 ${code}`);
    for (const other of before.slice(1)) expect(reply).not.toContain(`「${stepOf(other.ruleId)}」`);
  });

  it('/完成 says which clocks it ended with the order: exactly the timer rows it closed, none as met', async () => {
    const { code, id } = await assignedOrder();
    const running = (await orderTimers(id)).filter((t) => t.state === 'running');
    expect(running.length).toBeGreaterThan(0);
    const reply = await bot.say('zhang', `/完成 ${code} 已提交`);
    expect(reply).toContain('已标记完成');
    const closed = (await orderTimers(id)).filter((t) => running.some((r) => r.id === t.id));
    // Still open at completion: ended with the order (随单结束), not marked met.
    for (const t of closed) {
      expect(t.state).toBe('cancelled');
      expect(t.data.endedWithOrder).toBe(true);
      expect(reply).toContain(`随单结束：${stepOf(t.ruleId)}`);
    }
    expect(reply.match(/⏱ 随单结束/g)).toHaveLength(closed.length);
    expect(reply).not.toContain('已完成：');
  });

  it('/取消 asks to keep evidence only when the client drops out (3.5.1, 3.5.3)', async () => {
    const dup = await assignedOrder();
    const r1 = await bot.say('wang', `/取消 ${dup.code} 重复建单`);
    expect(r1).toContain('已取消（原因：重复建单）');
    expect(r1).not.toContain('证据');
    expect(r1).toMatch(/⏱ 已停止/);
    const gone = await assignedOrder();
    const r2 = await bot.say('wang', `/取消 ${gone.code} 客户决定不再申请`);
    // The evidence is the handler's to keep (3.5.1, 3.5.3), with a real @ of the handler.
    expect(r2).toMatch(/@张工 请保留相关证据（[^）]*3\.5\.1、3\.5\.3）/);
  });

  it('/逾期 on a 30-minute complaint clock says minutes, and complaint lines name no order handler', async () => {
    at('2026-11-24T10:00:00');
    const c = await complaint('/投诉 客户=华星科技 负责人=@张工 级别=A 客户说一直没人回复！');
    const [t] = await db().select().from(timers).where(and(eq(timers.subject, `complaint:${c.id}`), eq(timers.ruleId, 'complaint.callback')));
    expect(t!.dueAt.toISOString()).toBe(new Date('2026-11-24T10:30:00+08:00').toISOString());
    at('2026-11-24T10:42:00');
    const overdue = await bot.say('liu', '/逾期 部门');
    const line = overdue.split('\n').find((l) => l.includes(`投诉 ${c.T}`))!;
    expect(line).toContain(`｜${stepOf('complaint.callback')}｜`);
    expect(line).toContain('已超 12 分钟');
    expect(line).not.toContain('工作日');
    expect(line).not.toContain('未派单');
    at('2026-11-24T10:05:00');
    const due = await bot.say('liu', '/待办 部门');
    expect(due.split('\n').find((l) => l.includes(`投诉 ${c.T}`))).not.toContain('未派单');
  });

  it('/查 T shows reminder steps in Chinese, and reminders do not double the client’s punctuation', async () => {
    at('2026-11-25T10:00:00');
    const c = await complaint('/投诉 客户=华星科技 负责人=@张工 客户说一周没人回复！');
    for (const x of ['2026-11-25T10:20:00', '2026-11-25T10:30:00', '2026-11-25T10:31:00']) {
      at(x);
      await bot.scheduler.tick();
    }
    const [t] = await db().select().from(timers).where(and(eq(timers.subject, `complaint:${c.id}`), eq(timers.ruleId, 'complaint.callback')));
    const sent = await db().select().from(outbox).where(like(outbox.dedupeKey, `timer:${t!.id}:%`));
    expect(sent.length).toBeGreaterThan(1);
    for (const r of sent) expect(r.payload.text).not.toMatch(/[！？。]。/);
    expect(sent.some((r) => r.payload.text.includes('内容：客户说一周没人回复！依据'))).toBe(true);
    const shown = await bot.say('liu', `/查 ${c.T}`);
    expect(shown).not.toMatch(/（(headsup|due|overdue_\w+)）/);
    expect(shown).toContain('（到期前提醒）');
    expect(shown).toMatch(/（超时提醒(部门负责人|主管)）|（到期提醒）/);
  });

  it('/换人 on a complaint with no open order says so plainly', async () => {
    at('2026-11-26T10:00:00');
    const c = await complaint('/投诉 客户=无单客户 部门=专利部 负责人=@张工 级别=A 电话没人接');
    const reply = await bot.say('liu', `/换人 ${c.T} @赵工 客户要求`);
    expect(reply).not.toContain('（无进行中的分配单）');
    expect(reply).not.toContain('相关分配单');
    expect(reply).toContain(`${c.T} 现由 @赵工 负责（没有需要改派的进行中分配单）`);
  });

  it('/赠送 a second time on the same complaint shows the first record and needs 确认', async () => {
    const c = await complaint('/投诉 客户=华星科技 负责人=@张工 级别=B 材料丢失');
    const first = await bot.say('liu', `/赠送 ${c.T} 官费=850 过失人=@张工 免费代办一次专利变更`);
    expect(first).toContain(`已登记 ${c.T} 的赠送服务`);
    const second = await bot.say('liu', `/赠送 ${c.T} 官费=500 过失人=@张工 再送一次`);
    expect(second).toMatch(/^抱歉，.*已登记过赠送服务：免费代办一次专利变更；官费 850\.00 元/);
    expect(second).toContain('确认');
    let [row] = await db().select().from(complaints).where(eq(complaints.id, c.id));
    expect(row!.giftFeeFen).toBe(85000);
    const confirmed = await bot.say('liu', `/赠送 ${c.T} 官费=500 过失人=@张工 确认 改为代办一次著录项目变更`);
    expect(confirmed).toContain(`已更正 ${c.T} 的赠送服务（替换原记录：免费代办一次专利变更`);
    [row] = await db().select().from(complaints).where(eq(complaints.id, c.id));
    expect(row!.giftFeeFen).toBe(50000);
    expect(row!.giftNote).toBe('改为代办一次著录项目变更');
  });
});
