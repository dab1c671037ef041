import { PlatformApiError } from '../core/errors';

/**
 * A platform said "too fast" (WeCom 45009, DingTalk 130101, HTTP 429). Retryable; `rateLimited`
 * lets the outbox back off for the whole robot instead of retrying this one message at once.
 */
export class PlatformRateLimitError extends PlatformApiError {
  readonly rateLimited = true;
  constructor(
    platform: string,
    method: string,
    errcode: number | string,
    message: string,
    /** How long the platform is known to block, when it says so (DingTalk: 10 minutes). */
    readonly retryAfterMs: number,
  ) {
    super(platform, method, errcode, message, true);
    this.name = 'PlatformRateLimitError';
  }
}

/** Duck-typed so the core can test it without importing a platform module. */
export function isRateLimited(err: unknown): err is PlatformRateLimitError {
  return err instanceof PlatformApiError && (err as { rateLimited?: unknown }).rateLimited === true;
}
