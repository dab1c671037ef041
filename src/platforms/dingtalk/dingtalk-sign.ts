import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * DingTalk's one signing formula, used both ways (PROTOCOLS.md):
 * sign = base64(HmacSHA256(key = secret, timestamp + "\n" + secret)), timestamp in milliseconds.
 * Inbound callbacks sign with the app secret; custom robot webhooks with the robot's SEC… secret.
 */
export function dingtalkSign(timestampMs: string, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** Constant-time comparison of two base64 signatures (their length is public). */
export function dingtalkSignMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
