import { PlatformApiError } from '../core/errors';
import { PlatformRateLimitError } from './errors';
import type { JsonResponse } from './http/fetch-json';

/** Classify a `{errcode, errmsg}` answer (WeCom APIs, DingTalk oapi webhooks). Returns on success. */
export function checkErrcode(
  platform: 'wecom' | 'dingtalk',
  method: string,
  res: JsonResponse,
  rules: { rateLimited: number[]; retryable: number[]; rateLimitRetryAfterMs: number },
): void {
  const body = res.body as { errcode?: unknown; errmsg?: unknown } | null;
  const errcode = body && typeof body.errcode === 'number' ? body.errcode : undefined;
  const errmsg = shortMessage(body?.errmsg);
  if (res.status === 429) {
    throw new PlatformRateLimitError(platform, method, errcode ?? 'http_429', errmsg, rules.rateLimitRetryAfterMs);
  }
  if (errcode === undefined || errcode === 0) {
    if (res.status >= 200 && res.status < 300) return;
    throw new PlatformApiError(platform, method, `http_${res.status}`, errmsg, false);
  }
  if (rules.rateLimited.includes(errcode)) {
    throw new PlatformRateLimitError(platform, method, errcode, errmsg, rules.rateLimitRetryAfterMs);
  }
  throw new PlatformApiError(platform, method, errcode, errmsg, rules.retryable.includes(errcode));
}

/** Platform error texts are not secret, but keep them short: they end up in the outbox's error column. */
export function shortMessage(v: unknown): string {
  return typeof v === 'string' ? v.slice(0, 200) : '';
}
