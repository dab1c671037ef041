import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { timers } from '../../src/db/schema';
import type { App } from '../../src/app';
import { sandboxChat, appOnDriver, type SandboxMsg } from '../helpers/app';
import { fakeClock } from '../helpers/bot';
import { drivers } from '../helpers/databases';

/**
 * Issue 25, findings 1 and 2, end to end through the sandbox API with no model and a fake clock:
 * an unconfirmed 疑似投诉 climbs the complaint ladder from the client's message (supervisor at 10,
 * department head at 30, 总经办 at 60 minutes, each once); confirming continues the same clock (no
 * restart, no rung posted twice), dismissing stops it; messages are grouped by client person and
 * order, a more severe one is told as an update, and a follow-up about an open complaint is put on
 * that complaint's record and told to its handler.
 */
describe.each(drivers)('the suggestion ladder and grouping through the sandbox API ($name)', (driver) => {
  let app: App;
  const clock = fakeClock('2025-11-24T01:00:00Z');
  const at = (day: string, time: string) => clock.set(new Date(`${day}T${time}+08:00`).toISOString());

  appOnDriver(driver, {}, { clock, loops: false }, (a) => (app = a));

  const { messages, say } = sandboxChat(() => app);
  const tick = async (day: string, time: string) => {
    at(day, time);
    await app.scheduler.tick();
    await app.outbox.drain(20);
  };
  const bot = async () => (await messages('demo-internal')).filter((m) => m.from === 'bot');
  const since = async (before: SandboxMsg[]) => {
    const seen = new Set(before.map((m) => m.id));
    return (await bot()).filter((m) => !seen.has(m.id));
  };
  const codeOf = (m: SandboxMsg | undefined) => /^疑似投诉 (X\d+)：/.exec(m?.text ?? '')?.[1];
  const notices = async () => (await bot()).filter((m) => /^疑似投诉 X\d+：/.test(m.text));

  it('setup: an order of 华星科技 handled by 张工', async () => {
    at('2025-11-24', '09:00:00');
    expect(await say('demo-internal', 'wang', '/单 新建 客户=华星科技 类型=专利 业务员=@王业务 已付款')).toContain('D1');
    expect(await say('demo-internal', 'li', '/派单 D1 @张工')).toContain('张工');
  });

  it('an unconfirmed suggestion: the supervisor at once and at minute 10, the department head at minute 30, 总经办 at minute 60, exactly once each', async () => {
    const D = '2025-11-24';
    at(D, '10:00:00');
    expect(await say('demo-client', 'client-zhao', '你们再这样我就找律师了', { name: '赵总' })).toBe('');
    const notice = (await notices()).at(-1)!;
    const code = codeOf(notice)!;
    expect(code).toBe('X1');
    expect(notice.mentions).toEqual(['zhang', 'li']);
    // The notice names the ladder from the same rule that drives it.
    expect(notice.text).toContain('10:10 提醒主管，');
    expect(notice.text).toContain('10:30 通报部门负责人，');
    expect(notice.text).toContain('11:00 报总经办');

    const rung = async (prefix: string) => (await bot()).filter((m) => m.text.startsWith(prefix) && m.text.includes(code));
    const REMIND = '提醒：疑似投诉';
    const HEAD = '【疑似投诉超时·请部门负责人处理】';
    const MGMT = '【疑似投诉超时·报总经办】';

    await tick(D, '10:09:59');
    expect(await rung(REMIND)).toHaveLength(0);
    await tick(D, '10:10:00');
    expect(await rung(REMIND)).toHaveLength(1);
    expect((await rung(REMIND))[0]!.mentions).toEqual(['li']);

    await tick(D, '10:29:59');
    expect(await rung(HEAD)).toHaveLength(0);
    await tick(D, '10:30:00');
    const head = await rung(HEAD);
    expect(head).toHaveLength(1);
    expect(head[0]!.mentions).toEqual(['liu', 'li']);
    expect(head[0]!.text).toContain('@刘经理 @李主管');
    expect(head[0]!.text).toContain('30 分钟');

    await tick(D, '10:59:59');
    expect(await rung(MGMT)).toHaveLength(0);
    await tick(D, '11:00:00');
    const mgmt = await rung(MGMT);
    expect(mgmt).toHaveLength(1);
    expect(mgmt[0]!.mentions).toEqual(['liu', 'boss']);
    expect(mgmt[0]!.text).toContain('@陈总');

    // Later ticks post nothing again.
    for (const t of ['11:01:00', '12:00:00', '18:30:00']) await tick(D, t);
    expect(await rung(REMIND)).toHaveLength(1);
    expect(await rung(HEAD)).toHaveLength(1);
    expect(await rung(MGMT)).toHaveLength(1);
    expect(await say('demo-internal', 'li', `/投诉 忽略 ${code} 已电话联系，客户情绪已平复`)).toContain('已忽略疑似投诉 X1');
  });

  it('confirmed at minute 20: the callback deadline is the message time + 30 min, and no second supervisor post', async () => {
    const D = '2025-11-24';
    at(D, '14:00:00');
    await say('demo-client', 'client-qian', '我要投诉，电话一直没人接', { name: '钱总' });
    const code = codeOf((await notices()).at(-1))!;
    expect(code).toBe('X2');
    await tick(D, '14:10:00');
    expect((await bot()).filter((m) => m.text.startsWith(`提醒：疑似投诉 ${code}`))).toHaveLength(1);

    at(D, '14:20:00');
    const reply = await say('demo-internal', 'li', `/投诉 确认 ${code}`);
    expect(reply).toContain(`${code} 已确认为投诉 T1`);
    const filed = (await bot()).find((m) => m.text.startsWith('【客户投诉】T1'))!;
    expect(filed.text).toContain('接到投诉：11月24日(周一) 14:00');
    expect(filed.text).toContain('回电期限：11月24日(周一) 14:30');

    const afterConfirm = await bot();
    await tick(D, '14:20:30');
    await tick(D, '14:29:59');
    // The complaint's heads-up (minute 20) was the suggestion's to give: nothing new reaches the supervisor.
    expect(await since(afterConfirm)).toEqual([]);

    await tick(D, '14:30:00');
    const at30 = await since(afterConfirm);
    expect(at30.map((m) => m.text.slice(0, 12))).toEqual(['【投诉超时·请部门负责人'.slice(0, 12)]);
    expect(at30[0]!.text).toContain('T1');
    expect(at30[0]!.mentions).toContain('liu');
    // The suggestion's own ladder stopped at the confirmation: no head or 总经办 rung of X2.
    for (const t of ['14:31:00', '15:00:00', '16:00:00']) await tick(D, t);
    expect((await bot()).filter((m) => m.text.startsWith('【疑似投诉超时') && m.text.includes(code))).toEqual([]);
    expect((await bot()).filter((m) => m.text.startsWith('【投诉超时') && m.text.includes('T1'))).toHaveLength(1);
  });

  it('confirmed after the head heard at minute 30: the complaint does not tell the head again, and the breach is on its record', async () => {
    const D = '2025-11-25';
    at(D, '09:00:00');
    await say('demo-client', 'client-zhou', '材料交了两周了一直没进展，太慢了', { name: '周总' });
    const code = codeOf((await notices()).at(-1))!;
    expect(code).toBe('X3');
    await tick(D, '09:10:00');
    await tick(D, '09:30:00');
    expect((await bot()).filter((m) => m.text.startsWith('【疑似投诉超时·请部门负责人处理】') && m.text.includes(code))).toHaveLength(1);
    at(D, '09:40:00');
    expect(await say('demo-internal', 'li', `/投诉 确认 ${code}`)).toContain('已确认为投诉 T2');
    const before = await bot();
    for (const t of ['09:40:30', '09:45:00', '10:30:00']) await tick(D, t);
    expect((await since(before)).filter((m) => m.text.includes('T2'))).toEqual([]);
    const show = await say('demo-internal', 'liu', '/查 T2');
    expect(show).toContain('超过期限 11月25日(周二) 09:30');
    expect(show).toContain(`疑似投诉 ${code} 阶段已发出`);
  });

  it('a dismissed suggestion stops its ladder; the reply says how many messages it dismisses', async () => {
    const D = '2025-11-25';
    at(D, '11:00:00');
    await say('demo-client', 'client-sun', '回复太慢了，有点不满意', { name: '孙总' });
    const code = codeOf((await notices()).at(-1))!;
    expect(code).toBe('X4');
    at(D, '11:05:00');
    expect(await say('demo-internal', 'li', `/投诉 忽略 ${code} 已电话说明进度`)).toContain(`已忽略疑似投诉 ${code}：共 1 条客户消息`);
    for (const t of ['11:10:00', '11:30:00', '12:00:00', '13:00:00']) await tick(D, t);
    expect((await bot()).filter((m) => m.text.includes(code) && /^(提醒：|【疑似投诉超时)/.test(m.text))).toEqual([]);
    // Stopped, not merely unheard: no running clock is left for it.
    const clocks = await app.database.db.select().from(timers).where(eq(timers.subject, `triage:${code.slice(1)}`));
    expect(clocks.map((t) => t.state)).toEqual(['done']);
  });

  it('two client persons → two suggestions, each with its own notice; a more severe message of the same person is told as an update and kept in the record', async () => {
    const D = '2025-11-26';
    at(D, '10:00:00');
    await say('demo-client', 'client-a', '回复太慢了，有点不满意', { name: '甲经理' });
    at(D, '10:02:00');
    await say('demo-client', 'client-b', '我要投诉你们的负责人，态度太差了', { name: '乙主任' });
    const two = (await notices()).slice(-2);
    expect(two.map(codeOf)).toEqual(['X5', 'X6']);
    expect(two[0]!.text).toContain('甲经理');
    expect(two[1]!.text).toContain('乙主任');
    expect(two[1]!.text).toContain('「我要投诉你们的负责人');
    expect(two[1]!.mentions).toEqual(['zhang', 'li']);

    // The same person, more severe, within the window: the same suggestion, raised, with an update.
    at(D, '10:05:00');
    await say('demo-client', 'client-a', '再这样我们就不再合作了，我要退款', { name: '甲经理' });
    expect((await notices()).slice(-2).map(codeOf)).toEqual(['X5', 'X6']);
    const update = (await bot()).filter((m) => m.text.startsWith('疑似投诉 X5 升级为 B 级：「'));
    expect(update).toHaveLength(1);
    expect(update[0]!.text).toContain('不再合作');
    expect(update[0]!.mentions).toEqual(['zhang', 'li']);
    expect(update[0]!.text).toContain('@张工 @李主管');
    // Not more severe, same person: joined silently.
    at(D, '10:07:00');
    const quiet = await bot();
    await say('demo-client', 'client-a', '电话也没人接，太慢了', { name: '甲经理' });
    expect(await since(quiet)).toEqual([]);

    const show = await say('demo-internal', 'li', '/查 X5');
    expect(show).toContain('建议 B 级');
    for (const quote of ['回复太慢了，有点不满意', '再这样我们就不再合作了，我要退款', '电话也没人接，太慢了']) expect(show).toContain(quote);
    expect(await say('demo-internal', 'li', '/查 X6')).not.toContain('不再合作');

    expect(await say('demo-internal', 'li', '/投诉 忽略 X5 已电话沟通，客户接受新的时间安排')).toContain('已忽略疑似投诉 X5：共 3 条客户消息');
    // B's complaint is not dismissed with A's.
    expect(await say('demo-internal', 'li', '/查 X6')).toContain('待确认');
    expect(await say('demo-internal', 'li', '/投诉 忽略 X6 负责人已道歉')).toContain('共 1 条客户消息');
  });

  it("a follow-up about the person's open complaint is put on that complaint's record and told to its handler, not made a new suggestion", async () => {
    const D = '2025-11-26';
    at(D, '15:00:00');
    const before = await bot();
    const n = (await notices()).length;
    await say('demo-client', 'client-qian', '到现在还是没人给我回电话，太不负责了', { name: '钱总' });
    expect(await notices()).toHaveLength(n);
    const told = await since(before);
    expect(told).toHaveLength(1);
    expect(told[0]!.text).toContain('投诉 T1（华星科技）客户追加消息：「到现在还是没人给我回电话');
    expect(told[0]!.mentions).toContain('zhang');
    expect(told[0]!.text).toContain('@张工');
    const show = await say('demo-internal', 'liu', '/查 T1');
    expect(show).toContain('客户追加消息');
    expect(show).toContain('到现在还是没人给我回电话');
    // Another person of the same client complaining is their own suggestion.
    await say('demo-client', 'client-wu', '我要投诉，电话一直没人接', { name: '吴总' });
    expect(await notices()).toHaveLength(n + 1);
  });
});
