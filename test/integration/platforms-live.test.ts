import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Database } from '../../src/db/client';
import { DINGTALK_PATHS } from '../fakes/fake-dingtalk-api';
import { WECOM_PATHS } from '../fakes/fake-wecom-api';
import type { fakeClock } from '../helpers/bot';
import { drivers } from '../helpers/databases';
import { startPlatformApp, type PlatformApp } from '../helpers/platform-app';

/**
 * The app with its real background loops and real time: a callback is acknowledged at once and the
 * reply follows without waiting for a poll, because accepting a message wakes the inbound loop and
 * handling it wakes the outbox loop (the outbox poll is set to a minute here, so only that wake-up
 * can deliver in time). Waits are bounded polls of a few seconds at most.
 */

const realClock = Object.assign(() => new Date(), {
  set() {
    throw new Error('real time cannot be set');
  },
  advance() {
    throw new Error('real time cannot be moved');
  },
}) as unknown as ReturnType<typeof fakeClock>;

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<number> {
  const started = Date.now();
  while (!cond()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
}

describe.each(drivers)('live loops on $name', (driver) => {
  let database: Database;
  let p: PlatformApp;
  beforeAll(async () => {
    database = await driver.open();
    p = await startPlatformApp({ database, clock: realClock, loops: true, env: { OUTBOX_POLL_MS: '60000' } });
  });
  afterAll(async () => {
    await p?.close();
    await database?.close();
  });

  it('WeCom: acknowledges at once, then the reply reaches the platform without waiting for a poll', async () => {
    const started = Date.now();
    const r = await p.wecomMessage({ from: 'wang', chatid: 'live-wx', text: '/单 新建 客户=实时客户 类型=专利 业务员=wang' });
    expect(r.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(4_000); // inside WeCom's 5-second window, with room to spare
    await waitFor('the WeCom reply', () => p.wecom.delivered(WECOM_PATHS.aibotResponse).length === 1);
    expect((p.wecom.delivered(WECOM_PATHS.aibotResponse)[0]!.body as any).markdown.content).toContain('已新建分配单');
  });

  it('DingTalk: the same through the HTTP callback', async () => {
    const r = await p.dingtalkMessage({ from: 'wang', conversationId: 'live-dt', text: '/单 新建 客户=实时客户乙 类型=专利 业务员=wang' });
    expect(r.status).toBe(200);
    await waitFor('the DingTalk reply', () => p.dingtalk.delivered(DINGTALK_PATHS.sessionSend).length === 1);
    expect((p.dingtalk.delivered(DINGTALK_PATHS.sessionSend)[0]!.body as any).at.atUserIds).toEqual(['liu']);
  });
});

describe.each(drivers)('DingTalk Stream mode in the app on $name', (driver) => {
  let database: Database;
  let p: PlatformApp;
  const sockets: WebSocket[] = [];
  const gateway = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const { port } = gateway.address() as AddressInfo;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ endpoint: `ws://127.0.0.1:${port}/connect`, ticket: 't-1' }));
    });
  });
  const wss = new WebSocketServer({ server: gateway });
  wss.on('connection', (ws) => sockets.push(ws));

  beforeAll(async () => {
    database = await driver.open();
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    p = await startPlatformApp({ database, clock: realClock, loops: true, env: { DINGTALK_MODE: 'stream', DINGTALK_API_BASE: base } });
  });
  afterAll(async () => {
    await p?.close();
    await database?.close();
    wss.close();
    gateway.closeAllConnections();
    await new Promise<void>((r) => gateway.close(() => r()));
  });

  it('connects out, records and acknowledges a push, replies, and disconnects on close', async () => {
    await waitFor('the stream connection', () => sockets.length === 1);
    const ws = sockets[0]!;
    // No public callback route in Stream mode.
    expect(p.app.callbackPaths).not.toContain('/dingtalk/callback');
    const ack = new Promise<{ code: number; headers: { messageId: string } }>((r) => ws.once('message', (d) => r(JSON.parse(String(d)))));
    const now = Date.now();
    ws.send(
      JSON.stringify({
        specVersion: '1.0',
        type: 'CALLBACK',
        headers: { appId: 'a', connectionId: 'c', contentType: 'application/json', messageId: 'push-1', time: String(now), topic: '/v1.0/im/bot/messages/get' },
        data: JSON.stringify({
          msgtype: 'text',
          msgId: 'stream-msg-1',
          conversationId: 'cid-stream',
          conversationType: '2',
          senderStaffId: 'wang',
          text: { content: ' /单 新建 客户=流式客户 类型=专利 业务员=wang' },
          sessionWebhook: p.dingtalk.sessionWebhook('stream-session'),
          sessionWebhookExpiredTime: now + 90 * 60_000,
          robotCode: p.secrets.dingAppKey,
        }),
      }),
    );
    expect((await ack).headers.messageId).toBe('push-1');
    await waitFor('the reply to the push', () => p.dingtalk.delivered(DINGTALK_PATHS.sessionSend).length === 1);
    expect(JSON.stringify(p.dingtalk.delivered(DINGTALK_PATHS.sessionSend)[0]!.body)).toContain('已新建分配单');

    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    await p.app.close();
    await closed;
  });
});
