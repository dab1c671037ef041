import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { sandboxChat, appOnDriver } from '../helpers/app';
import { fakeClock } from '../helpers/bot';
import { drivers } from '../helpers/databases';


const sh = (local: string) => new Date(`${local}+08:00`).toISOString();

/**
 * Issue 12 end to end through the sandbox HTTP API: a running server, the real scheduler and outbox
 * (driven by hand with a fake clock). A client's question at 17:50 on a Friday is escalated to the
 * handler on Monday morning in the department group — not in the evening, not at the weekend — and the
 * client group sees nothing of it.
 */
describe.each(drivers)('a client question over the weekend, end to end ($name)', (driver) => {
  let app: App;
  const clock = fakeClock(sh('2025-11-28T09:00:00'));
  appOnDriver(driver, {}, { clock, loops: false }, (a) => (app = a));

  const { messages, say } = sandboxChat(() => app);
  /** The loops' work at a moment: scheduler tick, then deliver what is due. */
  const at = async (local: string) => {
    clock.set(sh(local));
    await app.scheduler.tick();
    await app.outbox.runOnce();
  };
  const escalations = async () => (await messages('demo-internal')).filter((m) => m.from === 'bot' && m.text.includes('回复客户在讨论组里的提问'));

  it('escalates a 17:50 Friday question on Monday morning, handler first, then the supervisor', async () => {
    expect(await say('demo-internal', 'wang', '/单 新建 客户=华星科技 类型=专利 业务员=@王业务')).toContain('D1');
    expect(await say('demo-internal', 'liu', '/派单 D1 @张工')).toContain('张工');
    expect(await say('demo-client', 'zhang', '/绑定 D1')).toContain('本群已绑定到 D1');
    clock.set(sh('2025-11-28T17:50:00'));
    expect(await say('demo-client', 'kehu-a', '请问下周一能把申请文件发给我们确认吗？', { name: '客户陈女士' })).toBe('');
    for (const t of ['2025-11-28T18:20:00', '2025-11-28T22:30:00', '2025-11-29T03:00:00', '2025-11-29T10:00:00', '2025-11-30T16:00:00', '2025-12-01T08:59:00']) {
      await at(t);
      expect(await escalations(), `nothing at ${t}`).toHaveLength(0);
    }
    await at('2025-12-01T09:20:00');
    const [first] = await escalations();
    expect(first, 'the handler is reminded at 09:20 on Monday').toBeDefined();
    expect(first!.mentions).toEqual(['zhang']);
    expect(first!.text).toContain('请问下周一能把申请文件发给我们确认吗');
    expect(first!.text).toContain('客户陈女士');
    await at('2025-12-01T09:50:00');
    const both = await escalations();
    expect(both).toHaveLength(2);
    expect(both[1]!.mentions).toEqual(['li']);
    // The client group saw only the people talking and the binding reply: nothing of the reminders.
    const clientSide = (await messages('demo-client')).filter((m) => m.from === 'bot');
    expect(clientSide.map((m) => m.text).join('\n')).not.toMatch(/超时|逾期|主管|提问|计时/);
    // Answering in the group ends it: no third message later.
    await say('demo-client', 'zhang', '您好，可以的，周一上午发给您。');
    await at('2025-12-01T15:00:00');
    expect(await escalations()).toHaveLength(2);
  });
});
