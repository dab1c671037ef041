import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { PlatformApiError, UpstreamHttpError } from '../../core/errors';
import type { Clock } from '../clock';
import { createOutageTracker, type OutageTracker } from '../../db/outage';
import { deliverInbound, errorSummary, type OnInbound } from '../http/deliver-inbound';
import { isPlatformId } from '../bounded-ids';
import { decodeAibotJson } from './wecom-callback';

/**
 * WeCom AI bot long connection (智能机器人长连接, docs path/101463; frames as in the official
 * @wecom/aibot-node-sdk): the bot opens a WebSocket to wss://openws.work.weixin.qq.com, so no public URL
 * is needed, and nothing is encrypted.
 *   → {cmd:"aibot_subscribe", headers:{req_id}, body:{bot_id, secret}}   ← {headers:{req_id}, errcode:0}
 *   ← {cmd:"aibot_msg_callback", headers:{req_id}, body:<same JSON as the HTTP callback, decrypted>}
 *   ← {cmd:"aibot_event_callback", headers:{req_id}, body:{msgtype:"event", event:{eventtype}}}
 *   → {cmd:"aibot_respond_msg", headers:{req_id of the callback}, body:{msgtype:"stream", stream:{…}}}
 *   → {cmd:"aibot_respond_welcome_msg", headers:{req_id of enter_chat}, body:{msgtype:"text", text:{content}}}
 *   → {cmd:"aibot_send_msg", headers:{req_id}, body:{chatid, msgtype:"markdown", markdown:{content}}} (proactive)
 *   → {cmd:"ping", headers:{req_id}} every 30 s                          ← {headers:{req_id}, errcode:0}
 * Every command is answered by a frame with the same req_id and an errcode. Only one connection per
 * bot: a newer one makes WeCom send `disconnected_event` and close the older, which then stays down
 * (reconnecting would take the bot back and forth between instances). Any other close reconnects with
 * exponential backoff (1 s doubling to 30 s), and two unanswered pings count as a dead connection.
 */

export const AIBOT_WS_CMD = {
  subscribe: 'aibot_subscribe',
  ping: 'ping',
  respond: 'aibot_respond_msg',
  respondWelcome: 'aibot_respond_welcome_msg',
  send: 'aibot_send_msg',
  callback: 'aibot_msg_callback',
  eventCallback: 'aibot_event_callback',
} as const;

/** How long a callback's req_id can be answered (unconfirmed; the SDKs use about 5 minutes). */
export const AIBOT_WS_REQ_ID_TTL_MS = 5 * 60 * 1000;

export interface AibotWsOptions {
  url: string;
  botId: string;
  secret: string;
  clock: Clock;
  onInbound: OnInbound;
  log: Logger;
  botName?: string;
  heartbeatMs?: number;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** How long to wait for the answer frame of a command. */
  ackTimeoutMs?: number;
  inboundTimeoutMs?: number;
  /** Shared with the HTTP server: one warning per database outage (src/db/outage.ts). Default: its own. */
  outage?: OutageTracker;
}

interface Frame {
  cmd?: string;
  headers?: { req_id?: string };
  body?: unknown;
  errcode?: number;
  errmsg?: string;
}

export interface WecomAibotWs {
  start(): void;
  stop(): void;
  /** True once subscribed (authenticated) on an open socket. */
  readonly ready: boolean;
  /** Answer a callback (`aibot_respond_msg` or, for enter_chat, `aibot_respond_welcome_msg`). */
  respond(reqId: string, body: Record<string, unknown>, cmd?: string): Promise<void>;
  /** A proactive message to a chat (group chatid or a user's userid). */
  push(chatid: string, body: Record<string, unknown>): Promise<void>;
  /** Resolves when the next subscription succeeds (tests, startup log). */
  whenReady(): Promise<void>;
}

const reqId = (prefix: string) => `${prefix}_${Date.now()}_${randomBytes(4).toString('hex')}`;

export function createWecomAibotWs(opts: AibotWsOptions): WecomAibotWs {
  const log = opts.log.child({ platform: 'wecom', transport: 'aibot-ws' });
  const heartbeatMs = opts.heartbeatMs ?? 30_000;
  const baseMs = opts.reconnectBaseMs ?? 1_000;
  const maxMs = opts.reconnectMaxMs ?? 30_000;
  const ackTimeoutMs = opts.ackTimeoutMs ?? 5_000;
  const outage = opts.outage ?? createOutageTracker(log);
  let ws: WebSocket | null = null;
  let ready = false;
  let stopped = true;
  let attempts = 0;
  let missedPongs = 0;
  let heartbeat: NodeJS.Timeout | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  const pending = new Map<string, { resolve: (f: Frame) => void; timer: NodeJS.Timeout }>();
  let readyWaiters: (() => void)[] = [];

  const send = (frame: Frame) => {
    if (!ws || ws.readyState !== WebSocket.OPEN) throw new UpstreamHttpError(opts.url, null, { cause: new Error('long connection not open') });
    ws.send(JSON.stringify(frame));
  };

  /** Send a command and wait for the frame with its req_id. */
  const call = (frame: Frame & { headers: { req_id: string } }): Promise<Frame> =>
    new Promise<Frame>((resolve, reject) => {
      const id = frame.headers.req_id;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new UpstreamHttpError(opts.url, null, { cause: new Error(`no answer to ${frame.cmd}`) }));
      }, ackTimeoutMs);
      pending.set(id, { resolve, timer });
      try {
        send(frame);
      } catch (err) {
        clearTimeout(timer);
        pending.delete(id);
        reject(err);
      }
    });

  const stopHeartbeat = () => {
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = null;
  };

  const scheduleReconnect = () => {
    if (stopped || reconnectTimer) return;
    attempts++;
    const delay = Math.min(baseMs * 2 ** (attempts - 1), maxMs);
    log.info({ attempt: attempts, delayMs: delay }, 'long connection lost; reconnecting');
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      connect();
    }, delay);
  };

  const onFrame = (frame: Frame) => {
    const id = frame.headers?.req_id ?? '';
    if (frame.cmd === AIBOT_WS_CMD.callback || frame.cmd === AIBOT_WS_CMD.eventCallback) {
      const body = frame.body as { event?: { eventtype?: string } } | undefined;
      if (body?.event?.eventtype === 'disconnected_event') {
        log.warn('another connection took over this bot (disconnected_event); this one stays closed');
        stopped = true;
        ws?.terminate();
        return;
      }
      void handleCallback(id, frame.body).catch((err: unknown) => log.error({ err: errorSummary(err) }, 'long-connection callback failed'));
      return;
    }
    if (id.startsWith(AIBOT_WS_CMD.subscribe)) {
      if (frame.errcode !== 0) {
        log.error({ errcode: frame.errcode }, 'long connection: subscription refused (check WECOM_AIBOT_BOT_ID / WECOM_AIBOT_SECRET)');
        ws?.terminate();
        return;
      }
      ready = true;
      attempts = 0;
      missedPongs = 0;
      stopHeartbeat();
      heartbeat = setInterval(ping, heartbeatMs);
      log.info('WeCom AI bot long connection subscribed');
      const waiters = readyWaiters;
      readyWaiters = [];
      for (const w of waiters) w();
      return;
    }
    if (id.startsWith(AIBOT_WS_CMD.ping)) {
      missedPongs = 0;
      return;
    }
    const p = pending.get(id);
    if (p) {
      clearTimeout(p.timer);
      pending.delete(id);
      p.resolve(frame);
    }
  };

  const ping = () => {
    if (missedPongs >= 2) {
      log.warn('two pings unanswered; closing the long connection to reconnect');
      stopHeartbeat();
      ws?.terminate();
      return;
    }
    missedPongs++;
    try {
      send({ cmd: AIBOT_WS_CMD.ping, headers: { req_id: reqId(AIBOT_WS_CMD.ping) } });
    } catch {
      /* the close handler reconnects */
    }
  };

  async function handleCallback(callbackReqId: string, body: unknown) {
    const now = opts.clock();
    // Out of bounds (bounded-ids.ts) or malformed: dropped with the reason only, nothing stored. The
    // frame needs no answer, so WeCom has nothing to re-send.
    if (!isPlatformId(callbackReqId)) {
      log.warn({ reason: 'bad_req_id' }, 'long-connection callback malformed; dropped');
      return;
    }
    const d = decodeAibotJson(body, now, opts.botName);
    if (!d.ok) {
      log.warn({ reason: d.reason }, 'long-connection callback malformed; dropped');
      return;
    }
    // A long connection answers with its own stream frames: nothing to refresh here.
    if (d.kind === 'ignored' || d.kind === 'stream-refresh') {
      log.info({ reason: d.kind === 'ignored' ? d.reason : 'stream-refresh' }, 'long-connection callback ignored');
      return;
    }
    const message = d.message;
    // The reply goes back on this connection with the callback's req_id while it is valid.
    message.route = {
      ...(message.route ?? { kind: 'wecom' }),
      kind: 'wecom',
      wsReqId: callbackReqId,
      wsReqIdExpiresAt: now.getTime() + AIBOT_WS_REQ_ID_TTL_MS,
      ...(message.event === 'welcome' ? { wsWelcome: true } : {}),
    };
    await deliverInbound(opts.onInbound, message, log, opts.inboundTimeoutMs ?? 30_000, outage);
  }

  function connect() {
    if (stopped) return;
    ready = false;
    const socket = new WebSocket(opts.url);
    ws = socket;
    socket.on('open', () => {
      try {
        send({ cmd: AIBOT_WS_CMD.subscribe, headers: { req_id: reqId(AIBOT_WS_CMD.subscribe) }, body: { bot_id: opts.botId, secret: opts.secret } });
      } catch {
        /* closed already */
      }
    });
    socket.on('message', (data) => {
      let frame: Frame;
      try {
        frame = JSON.parse(data.toString()) as Frame;
      } catch {
        log.warn('long connection: a frame that is not JSON; ignored');
        return;
      }
      onFrame(frame);
    });
    socket.on('error', (err) => log.warn({ err: errorSummary(err) }, 'long connection error'));
    socket.on('close', () => {
      if (ws === socket) ws = null;
      ready = false;
      stopHeartbeat();
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        pending.delete(id);
        p.resolve({ errcode: -1, errmsg: 'connection closed' });
      }
      scheduleReconnect();
    });
  }

  const checked = async (frame: Frame & { headers: { req_id: string } }, method: string) => {
    const answer = await call(frame);
    if (answer.errcode === -1) throw new UpstreamHttpError(opts.url, null, { cause: new Error('long connection closed') });
    if (answer.errcode !== 0) throw new PlatformApiError('wecom', method, answer.errcode ?? 'none', answer.errmsg ?? '', true);
  };

  return {
    get ready() {
      return ready;
    },
    start() {
      if (!stopped) return;
      stopped = false;
      connect();
    },
    stop() {
      stopped = true;
      stopHeartbeat();
      if (reconnectTimer) clearTimeout(reconnectTimer);
      reconnectTimer = null;
      ws?.close();
      ws = null;
      ready = false;
    },
    respond(id, body, cmd = AIBOT_WS_CMD.respond) {
      return checked({ cmd, headers: { req_id: id }, body }, cmd);
    },
    push(chatid, body) {
      return checked({ cmd: AIBOT_WS_CMD.send, headers: { req_id: reqId(AIBOT_WS_CMD.send) }, body: { chatid, ...body } }, AIBOT_WS_CMD.send);
    },
    whenReady() {
      return ready ? Promise.resolve() : new Promise<void>((r) => readyWaiters.push(r));
    },
  };
}
