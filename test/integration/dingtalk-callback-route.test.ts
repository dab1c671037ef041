import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { createDingtalkRouter } from '../../src/platforms/dingtalk/dingtalk-router';
import { robotPayload } from '../fixtures/dingtalk-robot-message';
import { pgliteDriver } from '../helpers/databases';
import { capturingLogger, fixedClock, recordingInbound, serve, testConfig } from '../helpers/platform-test-kit';

const APP_SECRET = 'gTzk8fQ2r-appsecret-for-tests';
/** The documented formula, written out here independently of the code under test. */
const sign = (ts: string, secret = APP_SECRET) => createHmac('sha256', secret).update(`${ts}\n${secret}`).digest('base64');

describe('DingTalk enterprise robot HTTP callback', () => {
  const now = 1_750_000_000_000;
  const clock = fixedClock(now);
  const inbound = recordingInbound();
  const logs = capturingLogger();
  let calls = 0;
  let server: Awaited<ReturnType<typeof serve>>;
  let database: Database;

  beforeAll(async () => {
    // Each (timestamp, sign) pair is bound to its first msgId in the database: every test below signs
    // its own timestamp.
    database = await pgliteDriver.open();
    const router = createDingtalkRouter({
      db: database.db,
      config: testConfig({ DINGTALK_APP_KEY: 'dingkey', DINGTALK_APP_SECRET: APP_SECRET, DINGTALK_BOT_NAME: '交付助手' }),
      clock,
      log: logs.log,
      onInbound: (m) => {
        calls++;
        return inbound.onInbound(m);
      },
    });
    server = await serve(router);
  });
  afterAll(async () => {
    await server.close();
    await database.close();
  });

  const post = (ts: string, s: string, body: unknown = robotPayload) =>
    fetch(`${server.baseUrl}/dingtalk/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', timestamp: ts, sign: s },
      body: JSON.stringify(body),
    });

  it('accepts a correctly signed message and normalises it', async () => {
    const ts = String(now - 1234);
    const res = await post(ts, sign(ts));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect(inbound.messages.at(-1)).toEqual({
      platform: 'dingtalk',
      conversationId: 'cidGRP3kd9+abc==',
      conversationTitle: '项目A交付群',
      conversationType: 'group',
      senderId: 'zhangsan01',
      senderName: '张三',
      messageId: 'msgAbC123==',
      text: '@李四 周五前提交测试报告',
      mentions: ['lisi01'],
      receivedAt: new Date(now),
      route: {
        kind: 'dingtalk',
        sessionWebhook: robotPayload.sessionWebhook,
        sessionWebhookExpiresAt: robotPayload.sessionWebhookExpiredTime,
        robotCode: 'dingrobotcode',
      },
    });
  });

  it('falls back to senderId when senderStaffId is missing; single chats are "single"', async () => {
    const ts = String(now);
    const { senderStaffId: _omit, ...rest } = robotPayload;
    const res = await post(ts, sign(ts), { ...rest, msgId: 'm-single', conversationType: '1' });
    expect(res.status).toBe(200);
    expect(inbound.messages.at(-1)).toMatchObject({ senderId: '$:LWCP_v1:$zhangsan', conversationType: 'single' });
  });

  it('accepts the edges of the window (DINGTALK_SIGN_WINDOW_SECONDS, default 300 s) and rejects just outside, both directions', async () => {
    const before = calls;
    for (const ts of [String(now - 300_000), String(now + 300_000)]) {
      expect((await post(ts, sign(ts), { ...robotPayload, msgId: `edge-${ts}` })).status).toBe(200);
    }
    expect(calls).toBe(before + 2);
    for (const ts of [String(now - 300_001), String(now + 300_001), String(now - 3_600_000)]) {
      const res = await post(ts, sign(ts));
      expect(res.status).toBe(401);
      expect(await res.text()).toBe('stale_timestamp');
    }
    expect(calls).toBe(before + 2);
  });

  it('rejects a wrong sign with 401: other secret, other timestamp, one character changed, URL-encoded', async () => {
    const before = calls;
    const ts = String(now);
    const good = sign(ts);
    const wrong = [
      sign(ts, 'another-secret'),
      sign(String(now - 1)),
      (good[0] === 'A' ? 'B' : 'A') + good.slice(1),
      encodeURIComponent(good) === good ? `${good}x` : encodeURIComponent(good),
      '',
    ];
    for (const s of wrong) {
      const res = await post(ts, s);
      expect(res.status, s).toBe(401);
    }
    expect(calls).toBe(before);
  });

  it('acknowledges message types it has no use for without calling onInbound', async () => {
    const before = calls;
    const ts = String(now - 1);
    const res = await post(ts, sign(ts), { ...robotPayload, msgtype: 'unknownType', text: undefined, content: { x: 1 } });
    expect(res.status).toBe(200);
    expect(calls).toBe(before);
  });

  it('hands a picture on as an attachment (issue 14: answered, not ignored)', async () => {
    const before = calls;
    const ts = String(now - 2);
    const res = await post(ts, sign(ts), { ...robotPayload, msgId: 'pic-1', msgtype: 'picture', text: undefined, content: { downloadCode: 'x' } });
    expect(res.status).toBe(200);
    expect(calls).toBe(before + 1);
  });

  it('never logs the app secret or a signature', () => {
    const all = logs.lines.join('\n');
    expect(all).not.toContain(APP_SECRET);
    expect(all).not.toContain(sign(String(now)));
  });
});
