import type { Logger } from 'pino';
import { cleanInbound } from '../../core/clean-text';
import type { InboundMessage } from '../../core/types';
import { DatabaseTimeoutError } from '../../db/errors';
import { createOutageTracker, type OutageTracker } from '../../db/outage';
import { safeErrorMessage } from '../../log';
import { withPrivateRoute } from '../group-route';

/** Provided by the core: durably record the message (unique key in the database) and return fast. */
export type OnInbound = (msg: InboundMessage) => Promise<'accepted' | 'duplicate'>;

export type DeliveryOutcome = 'accepted' | 'duplicate' | 'failed' | 'timeout';

/**
 * After deliverInbound: a failed or late hand-over is answered 503 (no acknowledgement), so the platform
 * delivers again and the database dedupes it. True when it answered so.
 */
export function answeredRetryLater(ctx: { status: number; body: unknown }, outcome: DeliveryOutcome, body: unknown = { error: 'retry later' }): boolean {
  if (outcome !== 'failed' && outcome !== 'timeout') return false;
  ctx.status = 503;
  ctx.body = body;
  return true;
}

/**
 * Hand one verified message to the core within the platform's deadline. A failure or a timeout is
 * reported (the route then answers 503 so the platform re-delivers; the database dedupes the retry),
 * never thrown. A database that is unavailable goes to `outage` (one warning per outage, as the HTTP
 * routes' errors do), not to a line per message; any other failure is logged here.
 */
export async function deliverInbound(
  onInbound: OnInbound,
  message: InboundMessage,
  routeLog: Logger,
  timeoutMs: number,
  outage: OutageTracker = createOutageTracker(routeLog),
): Promise<DeliveryOutcome> {
  // The message itself is on record in the database (inbound_messages, chat_log); the success line is
  // debug, and the per-message child logger is only made when there is something to say.
  const log = () => routeLog.child({ messageId: message.messageId });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    // NUL and lone surrogates are dropped here, once for every platform: such a message is kept
    // (answered 200) instead of failing its insert on every re-delivery.
    const outcome = await Promise.race([onInbound(withPrivateRoute(cleanInbound(message))), timeout]);
    // Not finished in time: the database did not answer (its outage is logged once, not per message).
    if (outcome === 'timeout') outage.failed(new DatabaseTimeoutError(timeoutMs), { platform: message.platform });
    else {
      outage.succeeded();
      if (routeLog.isLevelEnabled('debug')) log().debug({ outcome }, 'inbound message recorded');
    }
    return outcome;
  } catch (err) {
    if (!outage.failed(err, { platform: message.platform })) log().error({ err: errorSummary(err) }, 'onInbound failed; asking the platform to retry');
    return 'failed';
  } finally {
    clearTimeout(timer);
  }
}

/** Name and message only (without a failed query's parameters): a stack or a cause can drag request data into the log. */
export function errorSummary(err: unknown): { name: string; message: string } {
  return { name: err instanceof Error ? err.name : 'unknown', message: safeErrorMessage(err) };
}
