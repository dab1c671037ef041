import { DWClient, EventAck, TOPIC_CARD, TOPIC_ROBOT, type DWClientDownStream } from 'dingtalk-stream';
import type { InboundMessage } from '../../core/types';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { PlatformConfig } from '../config-schema';
import { createOutageTracker, type OutageTracker } from '../../db/outage';
import { deliverInbound, errorSummary, type OnInbound } from '../http/deliver-inbound';
import { isPlatformId } from '../bounded-ids';
import { decodeRobotMessage } from './dingtalk-callback';
import { decodeGroupJoin } from './dingtalk-events';

/**
 * DingTalk Stream mode (DINGTALK_MODE=stream): an outbound WebSocket opened by npm `dingtalk-stream`,
 * no public address needed. Robot messages arrive on TOPIC_ROBOT; a push that is not acknowledged is
 * re-sent within about 60 s, so it is acknowledged only once the core has recorded it (PROTOCOLS.md).
 */

export interface StreamPushDeps {
  clock: Clock;
  onInbound: OnInbound;
  log: Logger;
  botName?: string;
  /** Tell DingTalk the push was handled (DWClient.socketCallBackResponse). */
  ack: (streamMessageId: string) => void;
  inboundTimeoutMs?: number;
  /** Shared with the HTTP server: one warning per database outage (src/db/outage.ts). Default: its own. */
  outage?: OutageTracker;
}

export type StreamPushOutcome = 'accepted' | 'duplicate' | 'ignored' | 'malformed' | 'failed' | 'timeout';

/**
 * Turn one Stream push into an InboundMessage, hand it to the core, and acknowledge it unless the
 * core failed (then DingTalk re-sends it and the database dedupes). Malformed pushes are acknowledged:
 * re-sending them cannot help. Never throws.
 */
export async function handleStreamPush(push: DWClientDownStream, deps: StreamPushDeps): Promise<StreamPushOutcome> {
  const streamId = push.headers?.messageId;
  const log = deps.log.child({ platform: 'dingtalk', transport: 'stream' });
  let json: unknown;
  try {
    json = JSON.parse(push.data);
  } catch {
    json = null;
  }
  const d = json && typeof json === 'object' ? decodeRobotMessage(json, deps.clock(), deps.botName) : null;
  if (!d || !d.ok) {
    log.warn({ reason: d ? d.reason : 'bad_json' }, 'stream push malformed; acknowledged and dropped');
    if (streamId) deps.ack(streamId);
    return 'malformed';
  }
  if (d.kind === 'ignored') {
    log.info({ messageId: d.id, reason: d.reason }, 'stream push acknowledged and ignored');
    if (streamId) deps.ack(streamId);
    return 'ignored';
  }
  const msgLog = log.child({ messageId: d.message.messageId });
  const outcome = await deliverInbound(deps.onInbound, d.message, msgLog, deps.inboundTimeoutMs ?? 30_000, deps.outage);
  if (outcome === 'accepted' || outcome === 'duplicate') {
    if (streamId) deps.ack(streamId);
  }
  return outcome;
}

/**
 * A Stream event push (type EVENT) that someone joined a group the robot is in: DingTalk's group event
 * `chat_add_member` (事件订阅 → 群会话事件), decoded by the same function as an HTTP event push.
 * An id out of bounds: 'bad_fields'. Anything else: null.
 */
export function decodeGroupJoinEvent(push: DWClientDownStream, now: Date): InboundMessage | null | 'bad_fields' {
  if (push.headers?.eventType !== 'chat_add_member') return null;
  let data: unknown;
  try {
    data = JSON.parse(push.data);
  } catch {
    return null;
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) return null;
  const eventId = push.headers.eventId ?? push.headers.messageId;
  return eventId ? decodeGroupJoin(data as Record<string, unknown>, eventId, now) : null;
}

/**
 * A click on one of our interactive card buttons (Stream topic /v1.0/card/instances/callback): data
 * `{outTrackId, userId, content: "{\"cardPrivateData\":{\"actionIds\":[…],\"params\":{…}}}", …}`.
 * The button's actionId is the token the core issued for it (card_actions), so the command and the
 * conversation are read there, not from the callback. Anything else: null.
 */
export function decodeCardCallback(push: DWClientDownStream, now: Date): InboundMessage | null {
  let data: Record<string, unknown>;
  let actionIds: unknown;
  try {
    data = JSON.parse(push.data) as Record<string, unknown>;
    const content = typeof data.content === 'string' ? (JSON.parse(data.content) as { cardPrivateData?: { actionIds?: unknown } }) : null;
    actionIds = content?.cardPrivateData?.actionIds;
  } catch {
    return null;
  }
  const token = Array.isArray(actionIds) ? actionIds.find((a): a is string => typeof a === 'string' && CARD_TOKEN.test(a)) : undefined;
  const userId = isPlatformId(data.userId) ? data.userId : '';
  const id = push.headers?.messageId;
  if (!token || !userId || !id || !isPlatformId(id)) return null;
  return { platform: 'dingtalk', conversationId: '', conversationType: 'group', senderId: userId, messageId: `card:${id}`, text: '', mentions: [], receivedAt: now, cardToken: token };
}

/** The shape of the tokens src/core/card-actions.ts issues. */
const CARD_TOKEN = /^b[A-Za-z0-9_-]{16}$/;

export interface DingtalkStream {
  start(): Promise<void>;
  stop(): void;
}

export interface DingtalkStreamOptions {
  config: PlatformConfig;
  clock: Clock;
  onInbound: OnInbound;
  log: Logger;
  /** Shared with the HTTP server: one warning per database outage (src/db/outage.ts). Default: its own. */
  outage?: OutageTracker;
}

/**
 * dingtalk-stream hard-codes the gateway (https://api.dingtalk.com/v1.0/gateway/connections/open).
 * Override getEndpoint so DINGTALK_API_BASE is honoured, like every other base URL.
 */
class ConfigurableDWClient extends DWClient {
  constructor(
    opts: { clientId: string; clientSecret: string },
    private readonly gatewayUrl: string,
  ) {
    super({ ...opts, keepAlive: true });
  }

  override async getEndpoint(): Promise<this> {
    const res = await fetch(this.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        clientId: this.config.clientId,
        clientSecret: this.config.clientSecret,
        ua: this.config.ua ?? '',
        subscriptions: this.config.subscriptions,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json().catch(() => null)) as { endpoint?: string; ticket?: string } | null;
    if (!res.ok || !body?.endpoint || !body.ticket) throw new Error(`stream gateway answered ${res.status}`);
    // dw_url is private in the typings; the base class connects to it.
    (this as unknown as { dw_url: string }).dw_url = `${body.endpoint}?ticket=${encodeURIComponent(body.ticket)}`;
    return this;
  }
}

/** A startable/stoppable Stream client bound to handleStreamPush. */
export function createDingtalkStream(opts: DingtalkStreamOptions): DingtalkStream {
  const { config } = opts;
  if (!config.DINGTALK_APP_KEY || !config.DINGTALK_APP_SECRET) throw new Error('DingTalk Stream mode needs DINGTALK_APP_KEY and DINGTALK_APP_SECRET');
  const client = new ConfigurableDWClient(
    { clientId: config.DINGTALK_APP_KEY, clientSecret: config.DINGTALK_APP_SECRET },
    `${config.DINGTALK_API_BASE}/v1.0/gateway/connections/open`,
  );
  const log = opts.log.child({ platform: 'dingtalk', transport: 'stream' });
  const outage = opts.outage ?? createOutageTracker(log);
  client.registerCallbackListener(TOPIC_ROBOT, (push: DWClientDownStream) => {
    void handleStreamPush(push, {
      clock: opts.clock,
      onInbound: opts.onInbound,
      log: opts.log,
      botName: config.DINGTALK_BOT_NAME,
      ack: (id) => client.socketCallBackResponse(id, {}),
      outage,
    }).catch((err: unknown) => log.error({ err: errorSummary(err) }, 'stream push handler failed'));
  });
  client.registerCallbackListener(TOPIC_CARD, (push: DWClientDownStream) => {
    const click = decodeCardCallback(push, opts.clock());
    const id = push.headers?.messageId;
    if (!click) {
      log.warn({ reason: 'not_our_click' }, 'card callback not usable; acknowledged and dropped');
      if (id) client.socketCallBackResponse(id, {});
      return;
    }
    void deliverInbound(opts.onInbound, click, log, 30_000, outage)
      .then((outcome) => {
        if (id && (outcome === 'accepted' || outcome === 'duplicate')) client.socketCallBackResponse(id, {});
      })
      .catch((err: unknown) => log.error({ err: errorSummary(err) }, 'card callback failed'));
  });
  // Group joins arrive as events: welcomed with one line. Acknowledged at once (a lost welcome is harmless).
  client.registerAllEventListener((push: DWClientDownStream) => {
    const join = decodeGroupJoinEvent(push, opts.clock());
    if (join === 'bad_fields') log.warn({ reason: join }, 'stream event malformed; acknowledged and dropped');
    else if (join) {
      void deliverInbound(opts.onInbound, join, log, 30_000, outage).catch((err: unknown) => log.error({ err: errorSummary(err) }, 'group join event failed'));
    }
    return { status: EventAck.SUCCESS };
  });
  return {
    async start() {
      // connect() retries on its own (autoReconnect) and never rejects.
      await client.connect();
      log.info({ connected: client.connected }, 'DingTalk stream client started');
    },
    stop() {
      client.disconnect();
      log.info('DingTalk stream client stopped');
    },
  };
}
