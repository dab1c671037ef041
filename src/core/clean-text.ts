import type { InboundMessage } from './types';

/**
 * Characters no database column can hold: NUL (PostgreSQL text and jsonb refuse U+0000) and UTF-16
 * surrogates without their pair (not valid Unicode; refused by jsonb, unprintable everywhere).
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The text without the characters it could never be stored with; the rest is kept as sent. */
export function cleanText(text: string): string {
  return text.replace(UNSTORABLE, '');
}

function cleanValue(v: unknown): unknown {
  if (typeof v === 'string') return cleanText(v);
  if (Array.isArray(v)) return v.map(cleanValue);
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [cleanText(k), cleanValue(x)]));
  }
  return v;
}

/**
 * Normalise an inbound message at the edge: every text field (text, names, ids, mentions, quoted text,
 * route facts) loses NUL and lone surrogates, so a message with one bad character is kept and stored
 * instead of failing its insert forever (the platform would re-deliver it without end).
 */
export function cleanInbound(msg: InboundMessage): InboundMessage {
  return cleanValue(msg) as InboundMessage;
}
