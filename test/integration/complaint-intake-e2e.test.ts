import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { sandboxChat, appOnDriver, type SandboxMsg } from '../helpers/app';
import { fakeClock } from '../helpers/bot';
import { drivers } from '../helpers/databases';

/**
 * Issue 25, findings 3–5, end to end through the sandbox API with a fake clock: a client group bound
 * to a client but no order, or to nothing; a client's own `/投诉`; a duplicate named instead of filed;
 * `/投诉 撤销` leaving the rate as it was and the clocks stopped; `/结案` after the head's `/处理`.
 */
describe.each(drivers)('complaint intake: unbound groups, a client’s /投诉, duplicates and voiding ($name)', (driver) => {
  let app: App;
  const DAY = '2025-11-24'; // a Monday well behind the real date
  const clock = fakeClock(`${DAY}T01:00:00Z`);
  const at = (time: string) => clock.set(new Date(`${DAY}T${time}+08:00`).toISOString());

  appOnDriver(driver, {}, { clock, loops: false }, (a) => (app = a));
  const { messages, say } = sandboxChat(() => app);
  const bot = async (group: string) => (await messages(group)).filter((m) => m.from === 'bot');
  const last = async (group: string, prefix: string): Promise<SandboxMsg | undefined> => (await bot(group)).filter((m) => m.text.startsWith(prefix)).at(-1);
  const codeOf = (m: SandboxMsg | undefined) => /疑似投诉 (X\d+)/.exec(m?.text ?? '')?.[1];
  const tick = async (local: string) => {
    at(local);
    await app.scheduler.tick();
    await app.outbox.drain(20);
  };
  const patentRate = async () => (await say('demo-internal', 'liu', '/投诉率')).split('\n').find((l) => l.includes('专利部'));
  const FIRST_WORDS = '你们上周说好周三给结果，到现在没人回电话，太不负责了';

  it('a client group bound to a client with no open order: the salesperson and the latest order’s department hear it; confirmed without 客户=', async () => {
    at('09:00:00');
    expect(await say('demo-internal', 'wang', '/单 新建 客户=华星科技 类型=专利 业务员=@王业务 已付款')).toContain('D1');
    await say('demo-internal', 'li', '/派单 D1 @张工');
    expect(await say('demo-internal', 'zhang', '/完成 D1 已提交')).toContain('已标记完成');

    at('10:00:00');
    expect(await say('demo-client', 'client-zhao', FIRST_WORDS, { name: '赵总' })).toBe('');
    const s = await last('demo-internal', '疑似投诉 X');
    expect(s, 'no suggestion in 专利部’s group').toBeDefined();
    expect(s!.text).toContain('华星科技');
    expect(s!.mentions).toEqual(['li', 'wang']);
    expect(s!.text).toContain('@李主管 @王业务');

    at('10:05:00');
    expect(await say('demo-internal', 'li', `/投诉 确认 ${codeOf(s)}`)).toContain('已确认为投诉 T1');
    const notice = await last('demo-internal', '【客户投诉】T1');
    expect(notice!.text).toContain('部门：专利部');
    expect(notice!.text).toContain('业务员：王业务');
  });

  it('a client group bound to nothing: 总经办 hears it with real @ and which group it came from; /投诉 确认 客户= 部门= files it and binds the client', async () => {
    at('10:30:00');
    expect(await say('mgmt-home', 'boss', '/部门群 总经办')).toContain('总经办');
    expect(await say('new-client', 'li', '/群 类型=客户')).toContain('客户');

    at('11:00:00');
    await say('new-client', 'client-sun', '我要投诉，电话一直没人接', { name: '孙总' });
    const s = await last('mgmt-home', '疑似投诉 X');
    expect(s, 'no suggestion in 总经办’s group').toBeDefined();
    expect(s!.mentions).toEqual(['boss']);
    expect(s!.text).toContain('@陈总');
    expect(s!.text).toMatch(/来自客户群「[^」]*new-client[^」]*」：该群还没有绑定客户/);
    const code = codeOf(s)!;

    at('11:03:00');
    expect(await say('demo-internal', 'li', `/投诉 确认 ${code}`)).toContain(`/投诉 确认 ${code} 客户=<客户名称>`);
    const confirmed = await say('demo-internal', 'li', `/投诉 确认 ${code} 客户=星河科技 部门=专利部`);
    expect(confirmed).toContain('已确认为投诉 T2');
    expect(confirmed).toContain('已绑定客户「星河科技」');
    expect((await last('demo-internal', '【客户投诉】T2'))!.text).toContain('星河科技');

    // The group is the client's now: another contact's complaint names the client (孙总's own follow-up
    // would join his open complaint T2 instead: the triage's grouping rule).
    at('11:30:00');
    await say('new-client', 'client-qian', '材料又寄错地址了，太不负责了', { name: '钱总' });
    expect((await last('mgmt-home', '疑似投诉 X'))!.text).toMatch(/^疑似投诉 X\d+：星河科技/);
  });

  it('a client’s own /投诉 in a client group: a suggestion in the internal group, the polite acknowledgement to the client', async () => {
    at('13:00:00');
    const before = (await bot('demo-internal')).length;
    // Another contact of 华星科技 than 赵总 (whose words would join his open complaint T1).
    const ack = await say('demo-client', 'client-qian', '/投诉 客户=华星科技 张工太慢', { name: '钱总' });
    expect(ack).toContain('非常抱歉给您带来了不好的体验');
    expect(ack).not.toContain('仅供');
    expect(ack).not.toMatch(/[TX]\d/);
    const s = (await bot('demo-internal')).slice(before).find((m) => m.text.startsWith('疑似投诉 X'));
    expect(s, 'no suggestion for the client’s /投诉').toBeDefined();
    expect(s!.text).toContain('张工太慢');
    expect(s!.text).toContain('客户在群里发送了 /投诉');
    expect(s!.mentions).toContain('wang');
    expect(await say('demo-internal', 'liu', '/投诉 列表')).not.toContain('T3');
  });

  it('a message already behind an open complaint is answered with its number; 新 files a second one; /投诉 确认 of such a message too', async () => {
    at('14:00:00');
    // In the internal group: the number, nothing filed.
    const dup = await say('demo-internal', 'li', '/投诉 客户=华星科技', { quote: FIRST_WORDS });
    expect(dup).toContain('该消息已登记为投诉 T1');
    expect(dup).toContain('「新」');
    // In the client group: the client hears the acknowledgement only; the number goes to the internal group with @ of the one who typed it.
    const ack = await say('demo-client', 'zhang', '/投诉', { quote: FIRST_WORDS });
    expect(ack).toContain('非常抱歉');
    expect(ack).not.toContain('T1');
    const told = await last('demo-internal', '张工 在客户群');
    expect(told!.text).toContain('该消息已登记为投诉 T1');
    expect(told!.mentions).toEqual(['zhang']);
    expect(await say('demo-internal', 'liu', '/投诉 列表')).not.toContain('T3');

    // The client's 「张工太慢」 filed by hand first; then confirming its suggestion names that complaint.
    const filed = await say('demo-internal', 'li', '/投诉 客户=华星科技', { quote: '张工太慢' });
    expect(filed).toContain('T3');
    const x = codeOf((await bot('demo-internal')).filter((m) => m.text.startsWith('疑似投诉 X') && m.text.includes('张工太慢')).at(-1));
    expect(await say('demo-internal', 'li', `/投诉 确认 ${x}`)).toContain('该消息已登记为投诉 T3');
  });

  it('/投诉 撤销 (supervisor or above) leaves the rate as it was, stops the clocks and keeps the record', async () => {
    at('15:00:00');
    const rateBefore = await patentRate();
    expect(rateBefore).toMatch(/专利部 \d+\/\d+/);
    const second = await say('demo-internal', 'li', '/投诉 客户=华星科技 新', { quote: FIRST_WORDS });
    expect(second).toContain('T4');
    expect(await patentRate()).not.toBe(rateBefore);

    expect(await say('demo-internal', 'zhang', '/投诉 撤销 T4 重复登记')).not.toContain('已撤销投诉');
    const voided = await say('demo-internal', 'li', '/投诉 撤销 T4 与 T1 是同一条客户消息，重复登记');
    expect(voided).toContain('已撤销投诉 T4');
    expect(await patentRate()).toBe(rateBefore);

    const show = await say('demo-internal', 'liu', '/查 T4');
    expect(show).toContain('已撤销（原因：与 T1 是同一条客户消息，重复登记）');
    expect(show).not.toContain('计时：');
    expect(show).toContain('撤销：与 T1');
    expect(await say('demo-internal', 'liu', '/投诉 列表')).not.toContain('T4');
    // The export leaves it out too (one row per counted complaint of 专利部 this month).
    const token = /\/exports\/([A-Za-z0-9_.-]+)/.exec(await say('demo-internal', 'liu', '/导出 投诉 2025-11'))![1]!;
    const csv = await (await fetch(`${app.url}/exports/${token}`)).text();
    expect(csv).toMatch(/^\uFEFF?编号,/);
    expect(csv).toContain('T1,');
    expect(csv).not.toContain('T4,');
    expect(await say('demo-internal', 'li', '/回电 T4 已回电')).toContain('T4 已撤销');

    // Past the 30 minutes: T3 (filed at 14:00, no callback) was escalated long ago; T4 never is.
    await tick('15:31:00');
    const escalations = (await bot('demo-internal')).filter((m) => m.text.startsWith('【投诉超时'));
    expect(escalations.some((m) => m.text.includes('T3'))).toBe(true);
    expect(escalations.some((m) => /T4(?!\d)/.test(m.text))).toBe(false);
  });

  it('/结案 accepts a complaint the head handled (/处理) without a callback, as /帮助 says', async () => {
    at('16:00:00');
    expect(await say('demo-internal', 'li', '/定级 T3 A 客户只是着急催进度')).toContain('定为 A 级');
    expect(await say('demo-internal', 'liu', '/结案 T3 客户已满意')).toContain('暂时不能结案');
    expect(await say('demo-internal', 'liu', '/处理 T3 已与客户沟通，由赵工跟进')).toContain('已登记 T3 的处理意见');
    const closed = await say('demo-internal', 'liu', '/结案 T3 客户已满意');
    expect(closed).toContain('T3（华星科技）已结案');
    expect(await say('demo-internal', 'liu', '/帮助 结案')).toContain('需已回电（/回电）或部门负责人已登记处理意见（/处理）');
  });
});
