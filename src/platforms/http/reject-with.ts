import type { Context } from 'koa';
import type { Logger } from 'pino';

/** Answer a refused callback: status and a short reason code, logged without any request data. */
export function rejectWith(ctx: Context, log: Logger, status: number, reason: string): void {
  log.warn({ status, reason }, 'callback rejected');
  ctx.status = status;
  ctx.type = 'text/plain';
  ctx.body = reason;
}
