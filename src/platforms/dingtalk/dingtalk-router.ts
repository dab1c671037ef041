import { createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Logger } from 'pino';
import type { Db } from '../../db/client';
import { withinBudget } from '../../db/errors';
import type { Clock } from '../clock';
import { configuredPlatforms, type PlatformConfig } from '../config-schema';
import { createOutageTracker, type OutageTracker } from '../../db/outage';
import { answeredRetryLater, deliverInbound, errorSummary, type OnInbound } from '../http/deliver-inbound';
import { contentTypeAllowed, readRawBody } from '../http/read-raw-body';
import { countingRejects } from '../http/reject-with';
import { decodeHttpCallback } from './dingtalk-callback';
import { claimSignPair } from './dingtalk-sign-pairs';
import type { Metrics } from '../../core/metrics';

export interface DingtalkRouterOptions {
  config: PlatformConfig & { BODY_LIMIT_BYTES: number };
  clock: Clock;
  /** Where each (timestamp, sign) pair is bound to its first msgId (dingtalk-sign-pairs.ts). */
  db: Db;
  onInbound: OnInbound;
  log: Logger;
  /** Budget for onInbound before answering 503 so DingTalk re-delivers. Default 4000 ms. */
  inboundTimeoutMs?: number;
  /** Refusals and 503 answers counted on /metrics. */
  metrics?: Metrics;
  /** Shared with the HTTP server: one warning per database outage (src/db/outage.ts). Default: its own. */
  outage?: OutageTracker;
}

/**
 * POST DINGTALK_CALLBACK_PATH for the enterprise robot's HTTP callback; mounted only when the app
 * is configured and DINGTALK_MODE=http (Stream mode needs no public route).
 */
export function createDingtalkRouter(opts: DingtalkRouterOptions): Router {
  const { config, clock, onInbound, db } = opts;
  const log = opts.log.child({ platform: 'dingtalk', callback: 'robot' });
  const timeoutMs = opts.inboundTimeoutMs ?? 4000;
  const outage = opts.outage ?? createOutageTracker(log);
  const router = new Router();
  const { reject, retryLater } = countingRejects(opts.metrics, 'dingtalk');
  if (!configuredPlatforms(config).dingtalk || config.DINGTALK_MODE !== 'http') return router;
  const appSecret = config.DINGTALK_APP_SECRET!;
  const windowMs = config.DINGTALK_SIGN_WINDOW_SECONDS * 1000;

  router.post(config.DINGTALK_CALLBACK_PATH, async (ctx) => {
    if (!contentTypeAllowed(ctx.get('content-type') || undefined, ['application/json'])) {
      return reject(ctx, log, 415, 'unsupported_media_type');
    }
    const body = await readRawBody(ctx.req, config.BODY_LIMIT_BYTES);
    if (!body.ok) return reject(ctx, log, body.status, body.reason);

    const headers = { timestamp: ctx.get('timestamp') || undefined, sign: ctx.get('sign') || undefined };
    const now = clock();
    const d = decodeHttpCallback(appSecret, { headers, body: body.text }, now, windowMs, config.DINGTALK_BOT_NAME);
    if (!d.ok) return reject(ctx, log, d.status, d.reason);
    const deadline = Date.now() + timeoutMs;

    // The signature does not cover the body: the header pair is good for its first message only.
    const msgId = d.kind === 'message' ? d.message.messageId : (d.id ?? `body:${createHash('sha256').update(body.text).digest('hex')}`);
    // Kept past the window's far edge by one more window, so an instance whose clock runs behind still finds it.
    const expiresAt = new Date(Number(headers.timestamp) + 2 * windowMs);
    let claim: Awaited<ReturnType<typeof claimSignPair>>;
    try {
      claim = await withinBudget(deadline, claimSignPair(db, { timestamp: headers.timestamp!, sign: headers.sign! }, msgId, expiresAt, now));
    } catch (err) {
      // An unavailable database is the outage's one warning; anything else is logged here. DingTalk retries.
      if (!outage.failed(err, { platform: 'dingtalk' })) log.error({ err: errorSummary(err) }, 'could not record the signature; asking DingTalk to retry');
      retryLater('failed');
      answeredRetryLater(ctx, 'failed');
      return;
    }
    if (claim === 'other_message') return reject(ctx, log, 401, 'signature_used_for_another_message');

    ctx.type = 'application/json';
    if (d.kind === 'ignored') {
      log.info({ messageId: d.id, reason: d.reason }, 'callback acknowledged and ignored');
      ctx.body = {};
      return;
    }
    const outcome = await deliverInbound(onInbound, d.message, log, Math.max(1, deadline - Date.now()), outage);
    retryLater(outcome);
    if (answeredRetryLater(ctx, outcome)) return;
    // An empty JSON object: no synchronous reply; answers go out through the outbox.
    ctx.status = 200;
    ctx.body = {};
  });
  return router;
}
