import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/core/context';
import type { Database } from '../../src/db/client';
import { groups } from '../../src/db/schema';
import { createLogger } from '../../src/log';
import { sealMessage } from '../../src/platforms/wecom/wecom-crypto';
import { DINGTALK_PATHS } from '../fakes/fake-dingtalk-api';
import { WECOM_PATHS } from '../fakes/fake-wecom-api';
import { drivers } from '../helpers/databases';
import { startPlatformApp, type PlatformApp } from '../helpers/platform-app';

/**
 * The production logger (src/log.ts) at trace level, captured through a destination stream during
 * full WeCom and DingTalk flows, including failures and token refreshes: no credential may appear.
 */
describe.each(drivers)('no secret in any log line ($name)', (driver) => {
  let database: Database;
  let p: PlatformApp;
  const lines: string[] = [];
  beforeAll(async () => {
    database = await driver.open();
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    p = await startPlatformApp({ database, log: createLogger('trace', destination) });
  });
  afterAll(async () => {
    await p?.close();
    await database?.close();
  });

  it('runs both platforms end to end and logs nothing secret', async () => {
    const { secrets, wecom, dingtalk } = p;
    const now = () => p.clock().getTime();

    // WeCom: URL check, robot setting with the whole webhook URL, a command, a post through a flaky webhook.
    const ts = String(Math.floor(now() / 1000));
    const echo = sealMessage({ token: secrets.aibotToken, encodingAesKey: secrets.aibotAesKey, receiveId: '' }, 'echo-123', ts, 'n1');
    const check = await fetch(`${p.app.url}/wecom/aibot?${new URLSearchParams({ msg_signature: echo.msgsignature, timestamp: ts, nonce: 'n1', echostr: echo.encrypt })}`);
    expect(await check.text()).toBe('echo-123');
    await p.wecomMessage({ from: 'liu', chatid: 'log-wx', text: `/群 机器人=${wecom.baseUrl}/cgi-bin/webhook/send?key=${secrets.webhookKey}`, responseCode: 'rc-secret-1' });
    await p.wecomMessage({ from: 'wang', chatid: 'log-wx', text: '/单 新建 客户=日志客户 类型=专利 业务员=wang', responseCode: 'rc-secret-2' });
    await p.settle();
    wecom.fail(WECOM_PATHS.webhook, 1, 'http500');
    await enqueue(database.db, { platform: 'wecom', conversationId: 'log-wx', payload: { text: '提醒', mentions: ['zhang'] }, now: p.clock() });
    await p.app.outbox.drain();
    p.clock.advance(2_000);
    await p.app.outbox.drain();
    // A robot key the platform does not know: refused for good (93000).
    await database.db.insert(groups).values({ platform: 'wecom', conversationId: 'log-wx-bad', route: { kind: 'wecom', webhookKey: `${secrets.webhookKey}-gone` }, createdAt: p.clock() });
    await enqueue(database.db, { platform: 'wecom', conversationId: 'log-wx-bad', payload: { text: '无效机器人', mentions: [] }, now: p.clock() });
    await p.app.outbox.drain();

    // DingTalk: robot with its signing secret, a command, a session that expires, a flaky custom robot.
    const hook = `${dingtalk.baseUrl}/robot/send?access_token=${secrets.robotToken}`;
    await p.dingtalkMessage({ from: 'liu', conversationId: 'log-dt', text: `/群 机器人=${hook} 密钥=${secrets.robotSecret}`, session: 'sess-secret-1' });
    await p.dingtalkMessage({ from: 'wang', conversationId: 'log-dt', text: '/单 新建 客户=日志客户乙 类型=专利 业务员=wang', session: 'sess-secret-1' });
    await p.settle();
    p.clock.advance(2 * 60 * 60_000);
    dingtalk.fail(DINGTALK_PATHS.robotSend, 1, 'http500');
    await enqueue(database.db, { platform: 'dingtalk', conversationId: 'log-dt', payload: { text: '钉钉提醒', mentions: ['zhang'] }, now: p.clock() });
    await p.app.outbox.drain();
    p.clock.advance(2_000);
    await p.app.outbox.drain();
    // A group with no route of its own: the OpenAPI group send, with a token that expires once.
    await enqueue(database.db, { platform: 'dingtalk', conversationId: 'log-dt-open', payload: { text: '开放接口', mentions: [] }, now: p.clock() });
    await p.app.outbox.drain();
    dingtalk.expireAllTokens();
    await enqueue(database.db, { platform: 'dingtalk', conversationId: 'log-dt-open', payload: { text: '换令牌', mentions: [] }, now: p.clock() });
    await p.app.outbox.drain();

    // Forged requests on both routes.
    await fetch(`${p.app.url}/wecom/aibot?msg_signature=${'f'.repeat(40)}&timestamp=${ts}&nonce=x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"encrypt":"QUJD"}' });
    await fetch(`${p.app.url}/dingtalk/callback`, { method: 'POST', headers: { 'content-type': 'application/json', timestamp: String(now()), sign: 'forged' }, body: '{}' });

    // The flows really ran and were logged.
    expect(dingtalk.issuedTokens.length).toBe(2);
    // The order's reply @-s the head, so it takes the group robot (the AI bot's markdown has no @).
    expect(wecom.delivered(WECOM_PATHS.webhook).length).toBe(2);
    expect(wecom.delivered(WECOM_PATHS.aibotResponse).length).toBe(1);
    expect(dingtalk.delivered(DINGTALK_PATHS.robotSend).length).toBe(1);
    expect(dingtalk.delivered(DINGTALK_PATHS.sessionSend).length).toBe(2);
    expect(dingtalk.delivered(DINGTALK_PATHS.groupSend).length).toBe(2);
    const log = lines.join('');
    for (const expected of ['URL verification answered', 'inbound message recorded', 'outbox delivery failed', 'callback rejected', 'sending to DingTalk']) {
      expect(log).toContain(expected);
    }

    const forbidden = {
      aibotToken: secrets.aibotToken,
      aibotAesKey: secrets.aibotAesKey,
      corpSecret: secrets.corpSecret,
      webhookKey: secrets.webhookKey,
      dingAppSecret: secrets.dingAppSecret,
      robotToken: secrets.robotToken,
      robotSecret: secrets.robotSecret,
      responseCode: 'rc-secret-',
      session: 'sess-secret-',
      ...Object.fromEntries(dingtalk.issuedTokens.map((t, i) => [`dingtalkToken${i}`, t])),
    };
    for (const [name, value] of Object.entries(forbidden)) {
      const hit = lines.find((l) => l.includes(value));
      expect(hit, `${name} appears in a log line`).toBeUndefined();
    }
  });
});
