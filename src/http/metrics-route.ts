import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Metrics } from '../core/metrics';

export interface MetricsAccess {
  /** METRICS_TOKEN: `Authorization: Bearer <token>` reads the metrics. */
  token?: string;
  /** METRICS_LOOPBACK: a request from this machine that no proxy relayed reads them without a token. */
  loopback: boolean;
}

/** Served at all: a token is set or loopback access is on (otherwise /metrics is not mounted: 404). */
export const metricsEnabled = (a: MetricsAccess): boolean => !!a.token || a.loopback;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time comparison of the presented bearer token (hashing first evens out the lengths). */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  const ok = timingSafeEqual(digest(m?.[1] ?? ''), digest(token));
  return ok && !!m;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
/** Headers a reverse proxy adds: a relayed request is not "from this machine", whatever its socket says. */
const RELAYED = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

/**
 * The socket's own address (never X-Forwarded-For: the app trusts the proxy's headers for links, and a
 * client could write them), and no proxy header: behind nginx on the same host every request comes
 * from 127.0.0.1.
 */
export function fromLoopback(ctx: Context): boolean {
  return LOOPBACK.test(ctx.req.socket.remoteAddress ?? '') && RELAYED.every((h) => ctx.get(h) === '');
}

/** GET /metrics in the Prometheus text format, from the app's own registry. */
export function createMetricsRouter(metrics: Metrics, access: MetricsAccess): Router {
  const router = new Router();
  if (!metricsEnabled(access)) return router;
  router.get('/metrics', async (ctx) => {
    const allowed = (access.token !== undefined && tokenMatches(ctx.get('authorization') || undefined, access.token)) || (access.loopback && fromLoopback(ctx));
    if (!allowed) {
      if (!access.token) {
        // Loopback only: to anyone else the endpoint does not exist.
        ctx.status = 404;
        return;
      }
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.body = { error: 'unauthorized' };
      return;
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}
