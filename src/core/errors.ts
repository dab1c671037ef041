/** Errors typed by where they come from, each with a code (STYLE.md #8). */
import { redactUrl } from '../log';

/** A mistake in what a person typed: the message is shown to them, politely, in Chinese. */
export class UserInputError extends Error {
  readonly code = 'user_input';
  constructor(message: string) {
    super(message);
    this.name = 'UserInputError';
  }
}

/** The sender may not do this: the message says why, politely. */
export class PermissionError extends Error {
  readonly code = 'permission';
  constructor(message: string) {
    super(message);
    this.name = 'PermissionError';
  }
}

/** A platform API answered with an error code. `retryable` tells the outbox whether to try again. */
export class PlatformApiError extends Error {
  readonly code = 'platform_api';
  constructor(
    readonly platform: string,
    readonly method: string,
    readonly errcode: number | string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(`${platform} ${method} errcode ${errcode}: ${message}`);
    this.name = 'PlatformApiError';
  }
}

/** The network or an upstream HTTP server failed (connection refused, timeout, 5xx). Always retryable. */
export class UpstreamHttpError extends Error {
  readonly code = 'upstream_http';
  readonly retryable = true;
  constructor(
    readonly url: string,
    readonly status: number | null,
    options?: { cause?: unknown },
  ) {
    super(`upstream ${status ?? 'network error'} from ${redactUrl(url)}`, options);
    this.name = 'UpstreamHttpError';
  }
}

/**
 * A message went out in parts and only the first `delivered` parts arrived: `remaining` are the
 * labelled parts still to send. The outbox keeps them (pending when `retryable`, else failed, visible
 * in `/发送失败`), so a long reply is never cut and never repeated from its start.
 */
export class PartialDeliveryError extends Error {
  readonly code = 'partial_delivery';
  /** The remaining parts are markdown (e.g. cut for the AI bot's markdown answer). */
  readonly partsMarkdown: boolean | undefined;
  constructor(
    readonly delivered: number,
    readonly remaining: string[],
    readonly retryable: boolean,
    reason: string,
    options?: { cause?: unknown; partsMarkdown?: boolean },
  ) {
    super(`${delivered} part(s) sent, ${remaining.length} kept: ${reason}`, options);
    this.name = 'PartialDeliveryError';
    this.partsMarkdown = options?.partsMarkdown;
  }
}

export class LlmError extends Error {
  readonly code = 'llm';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LlmError';
  }
}

/** Query strings carry keys and tokens: never let one reach a log line (one function for every URL, src/log.ts). */
export { redactUrl };
