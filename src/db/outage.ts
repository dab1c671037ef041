import type { Logger } from '../log';
import { isDatabaseUnavailable } from './errors';

/** What a 503 for an unavailable database says in Retry-After (seconds): a short pause, then try again. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * One database outage, one warning: every route that meets an unavailable database (isDatabaseUnavailable)
 * reports it here, and only the first failure of an outage is logged (`database unavailable …`); the
 * first success after it logs the recovery once (with how long it lasted and how many requests were
 * answered 503). A database that stays down does not fill the log with a line per request.
 */
export interface OutageTracker {
  /**
   * Reports an error: true when it is the database being unavailable (then counted, and logged when it
   * starts an outage); false for any other error, which the caller logs itself.
   */
  failed(err: unknown, where?: Record<string, unknown>): boolean;
  /** A database round trip succeeded: ends an outage (logged once). */
  succeeded(): void;
  /** True between the first failure and the next success. */
  readonly down: boolean;
}

export function createOutageTracker(log: Logger, clock: () => Date = () => new Date()): OutageTracker {
  let since: Date | null = null;
  let refused = 0;
  return {
    failed(err, where = {}) {
      if (!isDatabaseUnavailable(err)) return false;
      refused++;
      if (since === null) {
        since = clock();
        log.warn({ err, ...where, retryAfterSeconds: RETRY_AFTER_SECONDS }, 'database unavailable: answering 503 with Retry-After until it is back (logged once per outage)');
      }
      return true;
    },
    succeeded() {
      if (since === null) return;
      const downMs = clock().getTime() - since.getTime();
      log.info({ downMs, refused }, 'database available again');
      since = null;
      refused = 0;
    },
    get down() {
      return since !== null;
    },
  };
}
