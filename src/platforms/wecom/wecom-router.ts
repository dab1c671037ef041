import Router from '@koa/router';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { configuredPlatforms, type PlatformConfig } from '../config-schema';
import { createOutageTracker, type OutageTracker } from '../../db/outage';
import { answeredRetryLater, deliverInbound, type OnInbound } from '../http/deliver-inbound';
import { contentTypeAllowed, readRawBody } from '../http/read-raw-body';
import { countingRejects } from '../http/reject-with';
import { parseQuery } from '../verification';
import type { InboundMessage } from '../../core/types';
import { expectsReply, type PassiveReplies } from '../../core/passive-replies';
import { decodeAibotCallback, decodeAppCallback, verifyUrlCheck, type WecomDecoded, type WecomKeys } from './wecom-callback';
import { fitsStream, messageIdOfStream, passiveReplyBody, sealPassiveReply, streamIdOf } from './wecom-passive-reply';
import type { Metrics } from '../../core/metrics';

export interface WecomRouterOptions {
  config: PlatformConfig & { BODY_LIMIT_BYTES: number };
  clock: Clock;
  onInbound: OnInbound;
  log: Logger;
  /** Budget for onInbound; WeCom re-delivers after 5 s without an answer. Default 4000 ms. */
  inboundTimeoutMs?: number;
  /** Shared with the HTTP server: one warning per database outage (src/db/outage.ts). Default: its own. */
  outage?: OutageTracker;
  /**
   * AI bot: answer in the HTTP response (encrypted passive reply) when the message is handled within
   * `windowMs` of its arrival; otherwise the replies go out later through response_url. Absent or
   * windowMs 0: never passive.
   */
  passive?: { replies: PassiveReplies; windowMs: number; streamAfterMs?: number };
  /** Refusals, 503 answers and passive replies counted on /metrics. */
  metrics?: Metrics;
}

/**
 * A stream stays open for 6 minutes from the user's message (docs path/100719): replies are held for a
 * little less, then go out through response_url should WeCom have stopped asking.
 */
const STREAM_HOLD_MS = 5 * 60_000 + 30_000;
const STREAM_WAITING = '正在处理，请稍候…';
const STREAM_DONE = '已处理完毕。';
const STREAM_RELEASED = '回复较长，已另行发送，请查看下一条消息。';

/** How long past the passive window the replies stay held, so the route's claim never races the worker. */
const HOLD_MARGIN_MS = 1000;

const XML_TYPES = ['text/xml', 'application/xml', 'text/plain'];
const JSON_TYPES = ['application/json', 'text/plain'];

/**
 * Koa routes for WeCom callbacks: the self-built app at WECOM_CALLBACK_PATH and the AI bot at
 * WECOM_AIBOT_PATH, each mounted only when its credentials are configured. Koa only moves bytes;
 * verification and decoding are the pure functions in wecom-callback.ts.
 */
export function createWecomRouter(opts: WecomRouterOptions): Router {
  const { config, clock, onInbound } = opts;
  const log = opts.log.child({ platform: 'wecom' });
  const timeoutMs = opts.inboundTimeoutMs ?? 4000;
  const outage = opts.outage ?? createOutageTracker(log);
  const router = new Router();
  const { reject, retryLater } = countingRejects(opts.metrics, 'wecom');
  const which = configuredPlatforms(config);

  const mount = (
    path: string,
    kind: 'app' | 'aibot',
    keys: WecomKeys,
    decode: (raw: { query: Record<string, string>; body: string }, now: Date) => WecomDecoded,
    contentTypes: string[],
    okBody: string,
    answer?: (message: InboundMessage, startedAt: number) => Promise<Record<string, unknown> | null>,
    refresh?: (streamId: string) => Promise<Record<string, unknown>>,
  ) => {
    const routeLog = log.child({ callback: kind });

    router.get(path, (ctx) => {
      const query = parseQuery(ctx.querystring);
      if (!query) return reject(ctx, routeLog, 400, 'bad_query');
      const r = verifyUrlCheck(keys, { query }, clock());
      if (!r.ok) return reject(ctx, routeLog, r.status, r.reason);
      routeLog.info('URL verification answered');
      ctx.status = 200;
      ctx.type = 'text/plain';
      ctx.body = r.echo; // exactly the decrypted echostr: no quotes, no newline
    });

    router.post(path, async (ctx) => {
      if (!contentTypeAllowed(ctx.get('content-type') || undefined, contentTypes)) {
        return reject(ctx, routeLog, 415, 'unsupported_media_type');
      }
      const query = parseQuery(ctx.querystring);
      if (!query) return reject(ctx, routeLog, 400, 'bad_query');
      const startedAt = Date.now();
      const body = await readRawBody(ctx.req, config.BODY_LIMIT_BYTES);
      if (!body.ok) return reject(ctx, routeLog, body.status, body.reason);

      const d = decode({ query, body: body.text }, clock());
      if (!d.ok) return reject(ctx, routeLog, d.status, d.reason);
      if (d.kind === 'stream-refresh') {
        ctx.status = 200;
        if (!refresh) {
          ctx.body = okBody;
          return;
        }
        ctx.type = 'application/json';
        ctx.body = await refresh(d.streamId);
        return;
      }
      if (d.kind === 'ignored') {
        routeLog.info({ messageId: d.id, reason: d.reason }, 'callback acknowledged and ignored');
        ctx.status = 200;
        ctx.body = okBody;
        return;
      }
      const outcome = await deliverInbound(onInbound, d.message, routeLog, timeoutMs, outage);
      retryLater(outcome);
      if (answeredRetryLater(ctx, outcome, 'retry later')) return;
      const passive = outcome === 'accepted' && answer && d.message.replyHoldUntil !== undefined ? await answer(d.message, startedAt).catch(() => null) : null;
      ctx.status = 200;
      if (passive) {
        ctx.type = 'application/json';
        ctx.body = passive;
        return;
      }
      ctx.body = okBody;
    });
  };

  if (which.wecomApp) {
    const keys = { token: config.WECOM_TOKEN!, encodingAesKey: config.WECOM_ENCODING_AES_KEY!, receiveId: config.WECOM_CORP_ID! };
    // WeCom accepts an empty answer or "success" when there is no passive reply.
    mount(config.WECOM_CALLBACK_PATH, 'app', keys, (raw, now) => decodeAppCallback(keys, raw, now), XML_TYPES, 'success');
  }
  if (which.wecomAibot) {
    const keys = { token: config.WECOM_AIBOT_TOKEN!, encodingAesKey: config.WECOM_AIBOT_ENCODING_AES_KEY!, receiveId: '' };
    const botName = config.WECOM_BOT_NAME;
    const passive = opts.passive && opts.passive.windowMs > 0 ? opts.passive : null;
    // Slow work is answered at once with an open stream, finished on WeCom's refresh callbacks.
    const streamAfter = passive?.streamAfterMs ?? 0;
    const decode = (raw: { query: Record<string, string>; body: string }, now: Date): WecomDecoded => {
      const d = decodeAibotCallback(keys, raw, now, botName);
      // Only what can be answered in place waits (expectsReply); plain group text is acknowledged at once.
      // Held for the passive answer (or the stream): the chat core queues the replies due only after it.
      if (passive && d.ok && d.kind === 'message' && expectsReply(d.message)) {
        const streams = streamAfter > 0 && d.message.event !== 'welcome';
        d.message.replyHoldUntil = now.getTime() + (streams ? STREAM_HOLD_MS : passive.windowMs + HOLD_MARGIN_MS);
      }
      return d;
    };
    const sealed = (body: Record<string, unknown>) => ({ ...sealPassiveReply(keys, body, clock()) });
    const sentPassive = (messageId: string, n: number, how: string) => {
      log.info({ messageId, parts: n }, how);
      opts.metrics?.sends.inc({ platform: 'wecom', channel: 'passive', result: 'sent' }, n);
    };
    // Passive reply when the message is handled within the window (or the stream budget: then an open
    // stream); otherwise an empty 200 and the answer goes later through response_url or the webhook.
    const answer = passive
      ? async (message: InboundMessage, startedAt: number) => {
          const kind = message.event === 'welcome' ? 'welcome' : 'message';
          const streams = streamAfter > 0 && kind === 'message';
          const r = await passive.replies.collect(
            { platform: 'wecom', messageId: message.messageId, holdUntil: message.replyHoldUntil!, deadline: startedAt + (streams ? Math.min(streamAfter, passive.windowMs) : passive.windowMs) },
            kind === 'welcome' ? () => true : fitsStream,
          );
          if (r.state === 'claimed' && r.replies.length) {
            sentPassive(message.messageId, r.replies.length, 'answered in the passive reply');
            return sealed(passiveReplyBody(kind, message.messageId, r.replies));
          }
          if (r.state === 'pending' && streams) {
            log.info({ messageId: message.messageId }, 'answered with an open stream; finished on refresh');
            return sealed({ msgtype: 'stream', stream: { id: streamIdOf(message.messageId), finish: false, content: STREAM_WAITING } });
          }
          return null;
        }
      : undefined;
    // A refresh of one of our streams: its content now (finished once the message is handled).
    const refresh =
      passive && streamAfter > 0
        ? async (streamId: string) => {
            const messageId = messageIdOfStream(streamId);
            const r = messageId
              ? await passive.replies.collect({ platform: 'wecom', messageId, deadline: 0 }, fitsStream)
              : ({ state: 'none' } as const);
            if (r.state === 'pending') return sealed({ msgtype: 'stream', stream: { id: streamId, finish: false, content: STREAM_WAITING } });
            if (r.state === 'claimed' && r.replies.length) {
              sentPassive(messageId!, r.replies.length, 'stream finished on refresh');
              return sealed(passiveReplyBody('message', messageId!, r.replies));
            }
            return sealed({ msgtype: 'stream', stream: { id: streamId, finish: true, content: r.state === 'released' ? STREAM_RELEASED : STREAM_DONE } });
          }
        : undefined;
    mount(config.WECOM_AIBOT_PATH, 'aibot', keys, decode, JSON_TYPES, '', answer, refresh);
  }
  return router;
}
