import Router from '@koa/router';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { configuredPlatforms, type PlatformConfig } from '../config-schema';
import { deliverInbound, type OnInbound } from '../http/deliver-inbound';
import { contentTypeAllowed, readRawBody } from '../http/read-raw-body';
import { rejectWith } from '../http/reject-with';
import { parseQuery } from '../verification';
import { decodeAibotCallback, decodeAppCallback, verifyUrlCheck, type WecomDecoded, type WecomKeys } from './wecom-callback';

export interface WecomRouterOptions {
  config: PlatformConfig & { BODY_LIMIT_BYTES: number };
  clock: Clock;
  onInbound: OnInbound;
  log: Logger;
  /** Budget for onInbound; WeCom re-delivers after 5 s without an answer. Default 4000 ms. */
  inboundTimeoutMs?: number;
}

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
  const router = new Router();
  const which = configuredPlatforms(config);

  const mount = (
    path: string,
    kind: 'app' | 'aibot',
    keys: WecomKeys,
    decode: (raw: { query: Record<string, string>; body: string }, now: Date) => WecomDecoded,
    contentTypes: string[],
    okBody: string,
  ) => {
    const routeLog = log.child({ callback: kind });

    router.get(path, (ctx) => {
      const query = parseQuery(ctx.querystring);
      if (!query) return rejectWith(ctx, routeLog, 400, 'bad_query');
      const r = verifyUrlCheck(keys, { query }, clock());
      if (!r.ok) return rejectWith(ctx, routeLog, r.status, r.reason);
      routeLog.info('URL verification answered');
      ctx.status = 200;
      ctx.type = 'text/plain';
      ctx.body = r.echo; // exactly the decrypted echostr: no quotes, no newline
    });

    router.post(path, async (ctx) => {
      if (!contentTypeAllowed(ctx.get('content-type') || undefined, contentTypes)) {
        return rejectWith(ctx, routeLog, 415, 'unsupported_media_type');
      }
      const query = parseQuery(ctx.querystring);
      if (!query) return rejectWith(ctx, routeLog, 400, 'bad_query');
      const body = await readRawBody(ctx.req, config.BODY_LIMIT_BYTES);
      if (!body.ok) return rejectWith(ctx, routeLog, body.status, body.reason);

      const d = decode({ query, body: body.text }, clock());
      if (!d.ok) return rejectWith(ctx, routeLog, d.status, d.reason);
      if (d.kind === 'ignored') {
        routeLog.info({ messageId: d.id, reason: d.reason }, 'callback acknowledged and ignored');
        ctx.status = 200;
        ctx.body = okBody;
        return;
      }
      const outcome = await deliverInbound(onInbound, d.message, routeLog, timeoutMs);
      if (outcome === 'failed' || outcome === 'timeout') {
        ctx.status = 503;
        ctx.body = 'retry later';
        return;
      }
      ctx.status = 200;
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
    // No passive reply: an empty 200; the answer goes later through response_url or the webhook.
    mount(config.WECOM_AIBOT_PATH, 'aibot', keys, (raw, now) => decodeAibotCallback(keys, raw, now, botName), JSON_TYPES, '');
  }
  return router;
}
