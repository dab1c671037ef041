import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { sandboxChat, appOnDriver } from '../helpers/app';
import { fakeClock } from '../helpers/bot';
import { drivers } from '../helpers/databases';


/**
 * End to end through the sandbox API with no model configured: a client's words in a client group →
 * 疑似投诉 in the internal group with real @ → `/投诉 确认` → a complaint whose clock started when the
 * client wrote, escalated at minute 30; nothing of it in the client group; `/投诉 忽略` files nothing.
 */
describe.each(drivers)('complaint triage through the sandbox API ($name)', (driver) => {
  let app: App;
  // A Monday well behind the real date: every row the app writes is stamped and made due by the fake clock.
  const DAY = '2025-11-24';
  const DAY_ZH = '11月24日(周一)';
  const clock = fakeClock(`${DAY}T02:00:00Z`);
  const at = (time: string) => clock.set(new Date(`${DAY}T${time}+08:00`).toISOString());

  appOnDriver(driver, {}, { clock, loops: false }, (a) => (app = a));

  const { messages, say } = sandboxChat(() => app);
  const tick = async (local: string) => {
    at(local);
    await app.scheduler.tick();
    await app.outbox.drain(20);
  };

  it('suggestion with real @ → confirm → complaint from the client time → escalation at minute 30; silence in the client group', async () => {
    at('09:00:00');
    expect(await say('demo-internal', 'wang', '/单 新建 客户=华星科技 类型=专利 业务员=@王业务 已付款')).toContain('D1');
    await say('demo-internal', 'li', '/派单 D1 @张工');

    at('10:00:00');
    const clientBefore = (await messages('demo-client')).filter((m) => m.from === 'bot').length;
    expect(await say('demo-client', 'client-zhao', '你们上周说好周三给结果，到现在没人回电话，太不负责了', { name: '赵总' })).toBe('');
    const suggestion = (await messages('demo-internal')).find((m) => m.from === 'bot' && m.text.startsWith('疑似投诉 X'));
    expect(suggestion, 'no suggestion in the internal group').toBeDefined();
    const code = /疑似投诉 (X\d+)/.exec(suggestion!.text)![1]!;
    expect(suggestion!.mentions).toEqual(['zhang', 'li']);
    expect(suggestion!.text).toContain('@张工 @李主管');
    expect(suggestion!.text).toContain('「你们上周说好周三给结果');

    at('10:06:00');
    const confirmed = await say('demo-internal', 'li', `/投诉 确认 ${code}`);
    expect(confirmed).toContain('已确认为投诉 T1');
    const notice = (await messages('demo-internal')).find((m) => m.from === 'bot' && m.text.startsWith('【客户投诉】T1'))!;
    expect(notice.text).toContain('渠道：群聊');
    expect(notice.text).toContain(`接到投诉：${DAY_ZH} 10:00`);
    expect(notice.text).toContain(`回电期限：${DAY_ZH} 10:30`);

    await tick('10:29:00');

    expect((await messages('demo-internal')).filter((m) => m.text.startsWith('【投诉超时'))).toHaveLength(0);
    await tick('10:30:00');
    const esc = (await messages('demo-internal')).filter((m) => m.from === 'bot' && m.text.startsWith('【投诉超时') && m.text.includes('T1'));
    expect(esc, JSON.stringify((await messages('demo-internal')).map((m) => m.text.slice(0, 40)))).toHaveLength(1);
    expect(esc[0]!.mentions).toContain('liu');

    // The client group saw nothing of the triage, the level or the complaint.
    const clientBot = (await messages('demo-client')).filter((m) => m.from === 'bot');
    expect(clientBot.length).toBe(clientBefore);
  });

  it('/投诉 忽略 leaves no complaint', async () => {
    at('14:00:00');
    await say('demo-client', 'client-qian', '我要投诉，电话一直没人接');
    const s = (await messages('demo-internal')).filter((m) => m.from === 'bot' && m.text.startsWith('疑似投诉 X')).at(-1)!;
    const code = /疑似投诉 (X\d+)/.exec(s.text)![1]!;
    expect(code).toBe('X2');
    expect(await say('demo-internal', 'li', `/投诉 忽略 ${code} 已电话联系，客户只是着急`)).toContain('已忽略');
    const list = await say('demo-internal', 'liu', '/投诉 列表');
    expect(list).toContain('T1');
    expect(list).not.toContain('T2');
    await tick('14:20:00');
    expect((await messages('demo-internal')).filter((m) => m.text.startsWith('提醒：疑似投诉 X2'))).toHaveLength(0);
  });
});
