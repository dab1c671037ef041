import Router from '@koa/router';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { configuredPlatforms, type PlatformConfig } from '../config-schema';
import { answeredRetryLater, deliverInbound, type OnInbound } from '../http/deliver-inbound';
import { contentTypeAllowed, readRawBody } from '../http/read-raw-body';
import { countingRejects } from '../http/reject-with';
import { decodeHttpCallback } from './dingtalk-callback';
import type { Metrics } from '../../core/metrics';

export interface DingtalkRouterOptions {
  config: PlatformConfig & { BODY_LIMIT_BYTES: number };
  clock: Clock;
  onInbound: OnInbound;
  log: Logger;
  /** Budget for onInbound before answering 503 so DingTalk re-delivers. Default 4000 ms. */
  inboundTimeoutMs?: number;
  /** Refusals and 503 answers counted on /metrics. */
  metrics?: Metrics;
}

/**
 * POST DINGTALK_CALLBACK_PATH for the enterprise robot's HTTP callback; mounted only when the app
 * is configured and DINGTALK_MODE=http (Stream mode needs no public route).
 */
export function createDingtalkRouter(opts: DingtalkRouterOptions): Router {
  const { config, clock, onInbound } = opts;
  const log = opts.log.child({ platform: 'dingtalk', callback: 'robot' });
  const timeoutMs = opts.inboundTimeoutMs ?? 4000;
  const router = new Router();
  const { reject, retryLater } = countingRejects(opts.metrics, 'dingtalk');
  if (!configuredPlatforms(config).dingtalk || config.DINGTALK_MODE !== 'http') return router;
  const appSecret = config.DINGTALK_APP_SECRET!;

  router.post(config.DINGTALK_CALLBACK_PATH, async (ctx) => {
    if (!contentTypeAllowed(ctx.get('content-type') || undefined, ['application/json'])) {
      return reject(ctx, log, 415, 'unsupported_media_type');
    }
    const body = await readRawBody(ctx.req, config.BODY_LIMIT_BYTES);
    if (!body.ok) return reject(ctx, log, body.status, body.reason);

    const headers = { timestamp: ctx.get('timestamp') || undefined, sign: ctx.get('sign') || undefined };
    const d = decodeHttpCallback(appSecret, { headers, body: body.text }, clock(), config.DINGTALK_BOT_NAME);
    if (!d.ok) return reject(ctx, log, d.status, d.reason);
    ctx.type = 'application/json';
    if (d.kind === 'ignored') {
      log.info({ messageId: d.id, reason: d.reason }, 'callback acknowledged and ignored');
      ctx.body = {};
      return;
    }
    const outcome = await deliverInbound(onInbound, d.message, log, timeoutMs);
    retryLater(outcome);
    if (answeredRetryLater(ctx, outcome)) return;
    // An empty JSON object: no synchronous reply; answers go out through the outbox.
    ctx.status = 200;
    ctx.body = {};
  });
  return router;
}
