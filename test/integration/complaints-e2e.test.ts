import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { post, sandboxChat, appOnDriver, type SandboxMsg as Msg } from '../helpers/app';
import { drivers } from '../helpers/databases';


/** "YYYY-MM-DD HH:MM:SS" in Shanghai (a fixed +08:00 offset, no daylight saving). */
const shanghai = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');

/**
 * The one real-clock test of the 30-minute rule: a running server, node-cron ticking every second,
 * the outbox loop delivering into the sandbox transcript. Bounded: it waits at most 15 seconds.
 */
describe.each(drivers)('complaint escalation on a running server with a real clock ($name)', (driver) => {
  let app: App;
  appOnDriver(driver, { SCHEDULER_CRON: '*/1 * * * * *', OUTBOX_POLL_MS: '100' }, {}, (a) => (app = a));

  const { messages, say } = sandboxChat(() => app);

  it('a complaint received 29.9 minutes ago gets the department head @-mentioned in the department group within 15 seconds, once', async () => {
    const received = shanghai(Date.now() - 29.9 * 60_000);
    const reply = await say('demo-internal', 'li', `/投诉 客户=华星科技 负责人=@张工 时间="${received}" 客户来电：一周没人回复`);
    const code = /【客户投诉】(T\d+)/.exec(reply)?.[1];
    expect(code, reply).toBeDefined();
    const started = Date.now();
    let escalation: Msg | undefined;
    while (!escalation && Date.now() - started < 15_000) {
      await new Promise((r) => setTimeout(r, 250));
      escalation = (await messages('demo-internal')).find((m) => m.from === 'bot' && m.text.startsWith('【投诉超时') && m.text.includes(code!));
    }
    expect(escalation, 'no escalation within 15 s').toBeDefined();
    expect(escalation!.mentions).toContain('liu');
    expect(escalation!.text).toContain('@刘经理');
    // Give the scheduler a few more ticks: still exactly one escalation, none in the client group.
    await new Promise((r) => setTimeout(r, 2_500));
    const toHead = (await messages('demo-internal')).filter((m) => m.from === 'bot' && m.text.includes(code!) && m.text.startsWith('【投诉超时'));
    expect(toHead).toHaveLength(1);
    expect((await messages('demo-client')).filter((m) => m.text.includes('投诉'))).toHaveLength(0);
    expect(await say('demo-internal', 'liu', `/查 ${code}`)).toContain('超时：「主管判断并电话回访');
  }, 30_000);

  it('accepts a quoted client message (quote) as the content of a relayed complaint', async () => {
    const ack = await say('demo-client', 'zhang', '/投诉', { quote: '你们的材料又寄错地址了' });
    expect(ack).toContain('非常抱歉');
    const notice = (await messages('demo-internal')).filter((m) => m.from === 'bot' && m.text.startsWith('【客户投诉】')).at(-1)!;
    expect(notice.text).toContain('你们的材料又寄错地址了');
    expect(notice.text).toContain('渠道：群聊');
    expect(notice.text).toContain('被投诉负责人：未指定'); // the group is bound to the client, not to an order
    expect(notice.mentions).toEqual(['li']); // so the supervisor hears it
  });

  it('refuses a malformed quote with 400', async () => {
    const r = await post(`${app.url}/sandbox/api/messages`, { group: 'demo-client', from: 'zhang', text: '/投诉', quote: 42 });
    expect(r.status).toBe(400);
    expect(r.text).toContain('quote');
  });
});
