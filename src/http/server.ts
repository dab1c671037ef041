import Koa from 'koa';
import Router from '@koa/router';
import type { DatabaseHealth } from '../db/client';
import { isDatabaseUnavailable } from '../db/errors';
import type { Logger } from '../log';
import { HttpError } from './read-body';

export interface HttpDeps {
  log: Logger;
  health: () => Promise<DatabaseHealth>;
  routers: Router[];
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

/** Koa only moves bytes to an adapter (STYLE.md #5); errors become JSON 4xx/5xx, never a crash. */
export function createHttpApp(deps: HttpDeps): Koa {
  const app = new Koa();
  app.proxy = true;
  app.silent = true;

  app.use(async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } catch (err) {
      if (err instanceof HttpError) {
        ctx.status = err.status;
        ctx.body = { error: err.message };
      } else if (isDatabaseUnavailable(err)) {
        deps.log.warn({ err, path: ctx.path }, 'database unavailable');
        ctx.status = 503;
        ctx.body = { error: DATABASE_UNAVAILABLE };
      } else {
        const status = (err as { status?: number }).status;
        if (status && status >= 400 && status < 500) {
          ctx.status = status;
          ctx.body = { error: (err as Error).message };
        } else {
          deps.log.error({ err, path: ctx.path }, 'request failed');
          ctx.status = 500;
          ctx.body = { error: 'internal error' };
        }
      }
    } finally {
      if (ctx.status === 413 && !ctx.req.complete) closeAfterResponse(ctx);
      if (ctx.status >= 400 || deps.log.isLevelEnabled('debug')) {
        // Only the path: query strings can carry signatures and keys.
        deps.log.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) }, 'http');
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
    ctx.status = ok ? 200 : 503;
    ctx.body = { ok, database: ok ? 'reachable' : health };
  });
  base.get('/', (ctx) => ctx.redirect('/sandbox/'));
  app.use(base.routes()).use(base.allowedMethods());
  for (const r of deps.routers) app.use(r.routes()).use(r.allowedMethods());
  return app;
}
