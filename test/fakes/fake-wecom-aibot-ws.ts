import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A fake of WeCom's AI-bot long-connection server (wss://openws.work.weixin.qq.com, docs path/101463)
 * on 127.0.0.1. Like WeCom: the first frame must be `aibot_subscribe` with the right bot_id and
 * secret (else errcode 40001 (unconfirmed code) and the socket is closed); every command is answered by a frame
 * `{headers:{req_id}, errcode, errmsg}` with its req_id; `ping` is answered the same way; a reply
 * (`aibot_respond_msg`, `aibot_respond_welcome_msg`) must use the req_id of a callback this server
 * sent (else errcode 846605 "invalid req_id"); stream content over 20480 bytes answers 40058.
 * A newer subscription for the same bot sends the older socket `disconnected_event` and closes it.
 */
export interface WsFrame {
  cmd?: string;
  headers: { req_id: string };
  body?: any;
}

export class FakeWecomAibotWs {
  readonly frames: WsFrame[] = [];
  subscriptions = 0;
  private server!: Server;
  private wss!: WebSocketServer;
  private current: WebSocket | null = null;
  private readonly callbackReqIds = new Set<string>();
  /** Answer pings? Off simulates a connection that went silent. */
  answerPings = true;
  url = '';

  constructor(private readonly creds: { botId: string; secret: string }) {}

  async start(): Promise<this> {
    this.server = createServer();
    this.wss = new WebSocketServer({ server: this.server });
    this.wss.on('connection', (ws) => this.onConnection(ws));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  private onConnection(ws: WebSocket) {
    let subscribed = false;
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as WsFrame;
      this.frames.push(frame);
      const ack = (errcode: number, errmsg = 'ok') => ws.send(JSON.stringify({ headers: { req_id: frame.headers.req_id }, errcode, errmsg }));
      if (!subscribed) {
        if (frame.cmd !== 'aibot_subscribe' || frame.body?.bot_id !== this.creds.botId || frame.body?.secret !== this.creds.secret) {
          ack(40001, 'invalid credential');
          ws.close();
          return;
        }
        subscribed = true;
        this.subscriptions++;
        const older = this.current;
        this.current = ws;
        if (older && older !== ws) {
          older.send(JSON.stringify({ cmd: 'aibot_event_callback', headers: { req_id: `evt_${randomBytes(4).toString('hex')}` }, body: { msgtype: 'event', event: { eventtype: 'disconnected_event' } } }));
          older.close();
        }
        ack(0);
        return;
      }
      switch (frame.cmd) {
        case 'ping':
          if (this.answerPings) ack(0);
          return;
        case 'aibot_respond_msg':
        case 'aibot_respond_welcome_msg': {
          if (!this.callbackReqIds.has(frame.headers.req_id)) return ack(846605, 'invalid req_id');
          const content = frame.body?.stream?.content ?? frame.body?.text?.content ?? '';
          if (Buffer.byteLength(String(content), 'utf8') > 20480) return ack(40058, 'content too long');
          return ack(0);
        }
        case 'aibot_send_msg':
          if (!frame.body?.chatid) return ack(40001, 'missing chatid');
          return ack(0);
        default:
          return ack(40000, 'unknown cmd');
      }
    });
  }

  /** Push a message callback (the decrypted-callback JSON) on the current connection; returns its req_id. */
  callback(body: Record<string, unknown>, cmd: 'aibot_msg_callback' | 'aibot_event_callback' = 'aibot_msg_callback'): string {
    const reqId = `cb_${randomBytes(6).toString('hex')}`;
    this.callbackReqIds.add(reqId);
    if (!this.current) throw new Error('no connection');
    this.current.send(JSON.stringify({ cmd, headers: { req_id: reqId }, body }));
    return reqId;
  }

  /** Drop every connection without a close handshake, as a network failure would. */
  dropAll(): void {
    for (const c of this.wss.clients) c.terminate();
    this.current = null;
  }

  sent(cmd: string): WsFrame[] {
    return this.frames.filter((f) => f.cmd === cmd);
  }

  async waitFor<T>(probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v) return v;
      if (Date.now() > until) throw new Error('timed out waiting on the fake long-connection server');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
