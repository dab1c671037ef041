import Router from '@koa/router';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { configuredPlatforms, type PlatformConfig } from '../config-schema';
import { createOutageTracker, type OutageTracker } from '../../db/outage';
import { answeredRetryLater, deliverInbound, type OnInbound } from '../http/deliver-inbound';
import { contentTypeAllowed, readRawBody } from '../http/read-raw-body';
import { rejectWith } from '../http/reject-with';
import { decodeHttpCallback } from './dingtalk-callback';

export interface DingtalkRouterOptions {
  config: PlatformConfig & { BODY_LIMIT_BYTES: number };
  clock: Clock;
  onInbound: OnInbound;
  log: Logger;
  /** Budget for onInbound before answering 503 so DingTalk re-delivers. Default 4000 ms. */
  inboundTimeoutMs?: number;
  /** Shared with the HTTP server: one warning per database outage (src/db/outage.ts). Default: its own. */
  outage?: OutageTracker;
}

/**
 * POST DINGTALK_CALLBACK_PATH for the enterprise robot's HTTP callback; mounted only when the app
 * is configured and DINGTALK_MODE=http (Stream mode needs no public route).
 */
export function createDingtalkRouter(opts: DingtalkRouterOptions): Router {
  const { config, clock, onInbound } = opts;
  const log = opts.log.child({ platform: 'dingtalk', callback: 'robot' });
  const timeoutMs = opts.inboundTimeoutMs ?? 4000;
  const outage = opts.outage ?? createOutageTracker(log);
  const router = new Router();
  if (!configuredPlatforms(config).dingtalk || config.DINGTALK_MODE !== 'http') return router;
  const appSecret = config.DINGTALK_APP_SECRET!;

  router.post(config.DINGTALK_CALLBACK_PATH, async (ctx) => {
    if (!contentTypeAllowed(ctx.get('content-type') || undefined, ['application/json'])) {
      return rejectWith(ctx, log, 415, 'unsupported_media_type');
    }
    const body = await readRawBody(ctx.req, config.BODY_LIMIT_BYTES);
    if (!body.ok) return rejectWith(ctx, log, body.status, body.reason);

    const headers = { timestamp: ctx.get('timestamp') || undefined, sign: ctx.get('sign') || undefined };
    const d = decodeHttpCallback(appSecret, { headers, body: body.text }, clock(), config.DINGTALK_BOT_NAME);
    if (!d.ok) return rejectWith(ctx, log, d.status, d.reason);
    ctx.type = 'application/json';
    if (d.kind === 'ignored') {
      log.info({ messageId: d.id, reason: d.reason }, 'callback acknowledged and ignored');
      ctx.body = {};
      return;
    }
    if (answeredRetryLater(ctx, await deliverInbound(onInbound, d.message, log, timeoutMs, outage))) return;
    // An empty JSON object: no synchronous reply; answers go out through the outbox.
    ctx.status = 200;
    ctx.body = {};
  });
  return router;
}
