import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { Metrics } from '../../core/metrics';

/** Answer a refused callback: status and a short reason code, logged without any request data. */
export function rejectWith(ctx: Context, log: Logger, status: number, reason: string): void {
  log.warn({ status, reason }, 'callback rejected');
  ctx.status = status;
  ctx.type = 'text/plain';
  ctx.body = reason;
}

/**
 * rejectWith that also counts the refusal on /metrics (bot_inbound_total{outcome="rejected", reason}),
 * and the count of a hand-over the route answered 503 (failed, timeout). Reasons are fixed codes.
 */
export function countingRejects(metrics: Metrics | undefined, platform: string) {
  return {
    reject(ctx: Context, log: Logger, status: number, reason: string): void {
      metrics?.inbound.inc({ platform, outcome: 'rejected', reason });
      rejectWith(ctx, log, status, reason);
    },
    retryLater(outcome: string): void {
      if (outcome === 'failed' || outcome === 'timeout') metrics?.inbound.inc({ platform, outcome: 'retry_later', reason: outcome });
    },
  };
}
