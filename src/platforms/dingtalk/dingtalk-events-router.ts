import Router from '@koa/router';
import { configuredPlatforms } from '../config-schema';
import { createOutageTracker } from '../../db/outage';
import { answeredRetryLater, deliverInbound } from '../http/deliver-inbound';
import { contentTypeAllowed, readRawBody } from '../http/read-raw-body';
import { countingRejects } from '../http/reject-with';
import { parseQuery } from '../verification';
import { decodeEventCallback, sealSuccess, type DingtalkEventKeys } from './dingtalk-events';
import type { DingtalkRouterOptions } from './dingtalk-router';

/** As the robot callback's; inboundTimeoutMs defaults to 1200 ms (DingTalk wants the encrypted "success" within 1500 ms). */
export type DingtalkEventsRouterOptions = Omit<DingtalkRouterOptions, 'db'>;

/**
 * POST DINGTALK_EVENT_PATH: DingTalk's event subscription pushed over HTTP (dingtalk-events.ts).
 * Mounted only when the app and the event Token + aes_key are configured, whatever DINGTALK_MODE is
 * (robot messages and events are subscribed separately in the developer console).
 */
export function createDingtalkEventsRouter(opts: DingtalkEventsRouterOptions): Router {
  const { config, clock, onInbound } = opts;
  const log = opts.log.child({ platform: 'dingtalk', callback: 'events' });
  const timeoutMs = opts.inboundTimeoutMs ?? 1200;
  const outage = opts.outage ?? createOutageTracker(log);
  const router = new Router();
  const { reject, retryLater } = countingRejects(opts.metrics, 'dingtalk');
  if (!configuredPlatforms(config).dingtalkEvents) return router;
  const keys: DingtalkEventKeys = { token: config.DINGTALK_EVENT_TOKEN!, aesKey: config.DINGTALK_EVENT_AES_KEY!, receiveId: config.DINGTALK_APP_KEY! };

  router.post(config.DINGTALK_EVENT_PATH, async (ctx) => {
    if (!contentTypeAllowed(ctx.get('content-type') || undefined, ['application/json'])) {
      return reject(ctx, log, 415, 'unsupported_media_type');
    }
    const query = parseQuery(ctx.querystring);
    if (!query) return reject(ctx, log, 400, 'bad_query');
    const body = await readRawBody(ctx.req, config.BODY_LIMIT_BYTES);
    if (!body.ok) return reject(ctx, log, body.status, body.reason);

    const d = decodeEventCallback(keys, { query, body: body.text }, clock());
    if (!d.ok) return reject(ctx, log, d.status, d.reason);
    if (d.kind === 'check_url') {
      log.info('event subscription URL check answered');
    } else if (d.kind === 'ignored') {
      log.info({ eventType: d.eventType, eventId: d.id }, 'event acknowledged and ignored');
    } else {
      // No "success": DingTalk pushes the event again and the database dedupes it.
      const outcome = await deliverInbound(onInbound, d.message, log, timeoutMs, outage);
      retryLater(outcome);
      if (answeredRetryLater(ctx, outcome)) return;
    }
    ctx.status = 200;
    ctx.type = 'application/json';
    ctx.body = sealSuccess(keys, clock());
  });
  return router;
}
