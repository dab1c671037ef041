import Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from '../log';
import { HttpError } from './read-body';

export interface HttpDeps {
  log: Logger;
  ping: () => Promise<boolean>;
  routers: Router[];
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
      if (ctx.status >= 400 || deps.log.isLevelEnabled('debug')) {
        // Only the path: query strings can carry signatures and keys.
        deps.log.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) }, 'http');
      }
    }
  });

  const base = new Router();
  base.get('/healthz', async (ctx) => {
    const ok = await deps.ping();
    ctx.status = ok ? 200 : 503;
    ctx.body = { ok, database: ok ? 'reachable' : 'unreachable' };
  });
  base.get('/', (ctx) => ctx.redirect('/sandbox/'));
  app.use(base.routes()).use(base.allowedMethods());
  for (const r of deps.routers) app.use(r.routes()).use(r.allowedMethods());
  return app;
}
