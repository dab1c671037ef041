import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { InboundMessage } from '../../src/core/types';
import { createDingtalkStream } from '../../src/platforms/dingtalk/dingtalk-stream';
import { robotPayload } from '../fixtures/dingtalk-robot-message';
import { capturingLogger, fixedClock, testConfig } from '../helpers/platform-test-kit';

/**
 * The Stream client end to end against a fake gateway and WebSocket server on loopback: the client
 * asks DINGTALK_API_BASE for an endpoint, connects, receives a robot push, and acknowledges it.
 */
describe('DingTalk Stream client (fake gateway on 127.0.0.1)', () => {
  const gatewayBodies: unknown[] = [];
  let socket: WebSocket | undefined;
  let wssReady!: (ws: WebSocket) => void;
  const connected = new Promise<WebSocket>((resolve) => {
    wssReady = resolve;
  });
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      gatewayBodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      const { port } = http.address() as AddressInfo;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ endpoint: `ws://127.0.0.1:${port}/connect`, ticket: 'ticket-123' }));
    });
  });
  const wss = new WebSocketServer({ server: http });
  const seenTickets: string[] = [];
  wss.on('connection', (ws, req) => {
    seenTickets.push(new URL(req.url ?? '/', 'http://x').searchParams.get('ticket') ?? '');
    socket = ws;
    wssReady(ws);
  });
  let base = '';

  beforeAll(async () => {
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    wss.close();
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
  });

  it('connects through DINGTALK_API_BASE, hands the push to onInbound and acknowledges it', async () => {
    let gotMessage!: (m: InboundMessage) => void;
    const received = new Promise<InboundMessage>((r) => (gotMessage = r));
    const stream = createDingtalkStream({
      config: testConfig({ DINGTALK_APP_KEY: 'dingclientid', DINGTALK_APP_SECRET: 'client-secret', DINGTALK_MODE: 'stream', DINGTALK_API_BASE: base }),
      clock: fixedClock(1_750_000_000_000),
      log: capturingLogger().log,
      onInbound: async (m) => {
        gotMessage(m);
        return 'accepted';
      },
    });
    try {
      await stream.start();
      const ws = await connected;
      expect(gatewayBodies[0]).toMatchObject({ clientId: 'dingclientid', clientSecret: 'client-secret' });
      expect(seenTickets).toEqual(['ticket-123']);

      const ack = new Promise<{ code: number; headers: { messageId: string } }>((r) => ws.once('message', (d) => r(JSON.parse(String(d)))));
      ws.send(
        JSON.stringify({
          specVersion: '1.0',
          type: 'CALLBACK',
          headers: { appId: 'a', connectionId: 'c', contentType: 'application/json', messageId: 'push-42', time: '1', topic: '/v1.0/im/bot/messages/get' },
          data: JSON.stringify(robotPayload),
        }),
      );
      const m = await received;
      expect(m).toMatchObject({ platform: 'dingtalk', messageId: robotPayload.msgId, senderId: 'zhangsan01', mentions: ['lisi01'] });
      const a = await ack;
      expect(a.code).toBe(200);
      expect(a.headers.messageId).toBe('push-42');
    } finally {
      stream.stop();
      socket?.terminate();
    }
  });
});
