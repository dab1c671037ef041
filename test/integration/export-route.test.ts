import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from '../helpers/app';

/** The export link handed out in chat opens on the running bot (the feature's route, mounted by startApp). */
describe('export links on the running bot', () => {
  let app: Awaited<ReturnType<typeof startTestApp>>;
  beforeAll(async () => {
    app = await startTestApp({ LINK_SECRET: 'k'.repeat(40) }, { loops: false });
  }, 180_000); // a fresh embedded database and its migrations: slow on a loaded machine
  afterAll(async () => app?.close());

  it('/导出 gives a link on the bot’s own address that downloads the CSV once', async () => {
    const r = await app.chat.handleNow({
      platform: 'sandbox',
      conversationId: 'demo-internal',
      senderId: 'boss',
      messageId: 'export-1',
      text: '/导出 分配单',
      mentions: [],
      receivedAt: new Date(),
    });
    const text = r.replies.map((x) => x.text).join('\n');
    const url = new RegExp(`${app.url.replace(/[.:/]/g, '\\$&')}/exports/[A-Za-z0-9_.-]+`).exec(text)?.[0];
    expect(url, text).toBeDefined();
    const res = await fetch(url!);
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString('utf8').split('\r\n')[0]).toBe('编号,部门,客户,业务类型,状态,负责人,业务员,创建时间,截止日期,当前步骤');
    expect((await fetch(url!)).status).toBe(410);
    expect((await fetch(`${app.url}/exports/not-a-token`)).status).toBe(403);
  });
});
