import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_CHARS } from '../../src/core/message-limits';
import type { Database } from '../../src/db/client';
import { chatLog } from '../../src/db/schema';
import { DINGTALK_PATHS } from '../fakes/fake-dingtalk-api';
import { WECOM_PATHS } from '../fakes/fake-wecom-api';
import { post } from '../helpers/app';
import { drivers } from '../helpers/databases';
import { startPlatformApp, type PlatformApp } from '../helpers/platform-app';

/**
 * Issue 9 #6: one cap on message text for every route (WeCom, DingTalk HTTP and Stream, the sandbox).
 * Over it, a command is answered politely and not parsed; what is stored is cut to the cap.
 */
describe.each(drivers)('message text over the cap ($name)', (driver) => {
  let database: Database;
  let p: PlatformApp;
  beforeAll(async () => {
    database = await driver.open();
    p = await startPlatformApp({ database, env: { SANDBOX: 'on' } });
  });
  afterAll(async () => {
    await p?.close();
    await database?.close();
  });

  // 100,000 unclosed “ (300 KB in UTF-8): the message that froze the process before the fix.
  const huge = '/单 新建 客户=巨长 类型=专利 业务员=wang ' + '“'.repeat(100_000);
  const storedText = async (conversationId: string) =>
    (await database.db.select({ text: chatLog.text, direction: chatLog.direction }).from(chatLog).where(eq(chatLog.conversationId, conversationId))).filter(
      (r) => r.direction === 'in',
    );

  it('WeCom: acknowledged, answered politely, nothing created, stored text cut to the cap', async () => {
    const orders = await p.count('orders');
    const sent = p.wecom.requestsTo(WECOM_PATHS.aibotResponse).length;
    const r = await p.wecomMessage({ from: 'wang', chatid: 'wx-cap', text: huge });
    expect(r.status).toBe(200);
    await p.settle();
    const replies = p.wecom.requestsTo(WECOM_PATHS.aibotResponse).slice(sent);
    expect(replies).toHaveLength(1);
    expect((replies[0]!.body as { markdown: { content: string } }).markdown.content).toMatch(/消息太长了（超过 4000 字）.*分成几条发送/);
    expect(await p.count('orders')).toBe(orders);
    const [row] = await storedText('wx-cap');
    expect(row!.text.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS + 2);
    expect(row!.text.length).toBeGreaterThan(MAX_MESSAGE_CHARS);
  });

  it('DingTalk HTTP: a signed 300 KB message is acknowledged at once and answered politely', async () => {
    const orders = await p.count('orders');
    const sent = p.dingtalk.requestsTo(DINGTALK_PATHS.sessionSend).length;
    const t0 = Date.now();
    const r = await p.dingtalkMessage({ from: 'wang', conversationId: 'cid-cap', text: huge, session: 'sess-cap' });
    expect(r.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(4_000);
    await p.settle();
    const replies = p.dingtalk.requestsTo(DINGTALK_PATHS.sessionSend).slice(sent);
    expect(replies).toHaveLength(1);
    expect((replies[0]!.body as { text: { content: string } }).text.content).toContain('消息太长了');
    expect(await p.count('orders')).toBe(orders);
  });

  it('DingTalk Stream (the same onInbound as HTTP): capped when recorded, answered politely', async () => {
    const outcome = await p.app.chat.accept({
      platform: 'dingtalk',
      conversationId: 'cid-cap-stream',
      senderId: 'wang',
      messageId: 'stream-cap-1',
      text: huge,
      mentions: [],
      receivedAt: p.clock(),
      route: { kind: 'dingtalk', sessionWebhook: p.dingtalk.sessionWebhook('sess-cap-2'), sessionWebhookExpiresAt: p.clock().getTime() + 3_600_000 },
    });
    expect(outcome).toBe('accepted');
    const pending = await p.count('inbound_messages', `message_id = 'stream-cap-1' and length(payload->>'text') <= ${MAX_MESSAGE_CHARS + 2}`);
    expect(pending).toBe(1);
    const sent = p.dingtalk.requestsTo(DINGTALK_PATHS.sessionSend).length;
    await p.settle();
    const replies = p.dingtalk.requestsTo(DINGTALK_PATHS.sessionSend).slice(sent);
    expect(replies.map((x) => (x.body as { text: { content: string } }).text.content).join('\n')).toContain('消息太长了');
  });

  it('the sandbox: over the cap gets the same polite answer, at the cap the command is parsed', async () => {
    const api = `${p.app.url}/sandbox/api/messages`;
    const over = await post(api, { group: 'sb-cap', from: 'wang', text: '/帮助 ' + 'x'.repeat(MAX_MESSAGE_CHARS) });
    expect(over.status).toBe(200);
    expect(over.json.replies[0].text).toContain('消息太长了');
    const at = await post(api, { group: 'sb-cap', from: 'wang', text: '/进度 D999 ' + '备'.repeat(MAX_MESSAGE_CHARS - 10) });
    expect(at.json.replies[0].text).not.toContain('消息太长了');
    // Long plain text (not a command) is recorded, not answered.
    const plain = await post(api, { group: 'sb-cap', from: 'wang', text: '客户来信：' + '长'.repeat(MAX_MESSAGE_CHARS) });
    expect(plain.json.replies).toEqual([]);
  });
});
