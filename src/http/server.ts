import Koa from 'koa';
import Router from '@koa/router';
import type { DatabaseHealth } from '../db/client';
import { withinBudget } from '../db/errors';
import { createOutageTracker, RETRY_AFTER_SECONDS, type OutageTracker } from '../db/outage';
import { redactUrl, type Logger } from '../log';
import { HttpError } from './read-body';

export interface HttpDeps {
  log: Logger;
  health: () => Promise<DatabaseHealth>;
  routers: Router[];
  /** One warning per database outage, shared with the callback routes (src/db/outage.ts). Default: its own. */
  outage?: OutageTracker;
  /** A GET or HEAD not answered by then is answered 503 (REQUEST_TIMEOUT_MS; default 8 s, under a proxy's usual 10 s read timeout). */
  requestTimeoutMs?: number;
}

export const DATABASE_UNAVAILABLE = '抱歉，数据库暂时无法访问，请稍后再试。';

/** /healthz answers within a second: a database that does not answer by then counts as unreachable. */
const HEALTH_TIMEOUT_MS = 800;

/**
 * A refused oversized body is not read to its end (Node would, to keep the connection alive, for as
 * long as the client takes to send it): the answer says Connection: close, and once it is flushed the
 * socket is closed.
 */
function closeAfterResponse(ctx: Koa.Context): void {
  ctx.set('Connection', 'close');
  ctx.res.once('finish', () => ctx.req.socket.destroy());
}

/**
 * Koa only moves bytes to an adapter (STYLE.md #5); errors become JSON 4xx/5xx, never a crash. A
 * database that cannot take the request, on any route, is answered here: 503 with Retry-After, and
 * one warning per outage (not per request). Every 503 of the app (callbacks asking for a retry, the
 * sandbox's budget, /healthz) carries the same Retry-After.
 */
export function createHttpApp(deps: HttpDeps): Koa {
  const app = new Koa();
  app.proxy = true;
  app.silent = true;
  const outage = deps.outage ?? createOutageTracker(deps.log);
  // While an outage lasts, a request that did not fail asks the database once (not one probe per
  // request) whether it is back; /healthz and the callbacks report their own successes.
  let probing = false;
  const probe = () => {
    if (probing) return;
    probing = true;
    void deps
      .health()
      .then((h) => h === 'ok' && outage.succeeded())
      .catch(() => {})
      .finally(() => (probing = false));
  };

  app.use(async (ctx, next) => {
    const started = performance.now();
    try {
      // A read has no body to wait for: past the budget, the database is what it waits for. (POST routes
      // bound their own database work: the sandbox's 4 s, the callbacks' platform deadlines.)
      if (ctx.method === 'GET' || ctx.method === 'HEAD') await withinBudget(Date.now() + (deps.requestTimeoutMs ?? 8000), next());
      else await next();
    } catch (err) {
      if (err instanceof HttpError) {
        ctx.status = err.status;
        ctx.body = { error: err.message };
      } else if (outage.failed(err, { method: ctx.method, path: redactUrl(ctx.url) })) {
        ctx.status = 503;
        ctx.body = { error: DATABASE_UNAVAILABLE };
      } else {
        const status = (err as { status?: number }).status;
        if (status && status >= 400 && status < 500) {
          ctx.status = status;
          ctx.body = { error: (err as Error).message };
        } else {
          deps.log.error({ err, method: ctx.method, path: redactUrl(ctx.url) }, 'request failed');
          ctx.status = 500;
          ctx.body = { error: 'internal error' };
        }
      }
    } finally {
      if (ctx.status === 413 && !ctx.req.complete) closeAfterResponse(ctx);
      if (ctx.status === 503) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
      else if (outage.down && ctx.status < 500) probe();
      if (ctx.status >= 400 || deps.log.isLevelEnabled('debug')) {
        // Link tokens (the path of /exports/<token>, the 看板's ?k=) and query values never reach the line.
        deps.log.info({ method: ctx.method, path: redactUrl(ctx.url), status: ctx.status, ms: Math.round(performance.now() - started) }, 'http');
      }
    }
  });

  const base = new Router();
  base.get('/healthz', async (ctx) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<DatabaseHealth>((resolve) => {
      timer = setTimeout(() => resolve('unreachable'), HEALTH_TIMEOUT_MS);
    });
    const health = await Promise.race([deps.health(), timeout]).finally(() => clearTimeout(timer));
    const ok = health === 'ok';
    if (ok) outage.succeeded();
    ctx.status = ok ? 200 : 503;
    ctx.body = { ok, database: ok ? 'reachable' : health };
  });
  base.get('/', (ctx) => ctx.redirect('/sandbox/'));
  app.use(base.routes()).use(base.allowedMethods());
  for (const r of deps.routers) app.use(r.routes()).use(r.allowedMethods());
  return app;
}
