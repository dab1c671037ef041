/** Outcome types shared by the adapters' pure verification/decoding functions (STYLE.md #2, #3). */

export interface Rejection {
  ok: false;
  /** 400 malformed, 401 forged/expired/not for us. */
  status: 400 | 401;
  /** Short machine-readable reason, safe to log and to answer (never contains request data). */
  reason: string;
}

export const reject = (status: 400 | 401, reason: string): Rejection => ({ ok: false, status, reason });

/** A query string parsed without turning "+" into a space (base64 values use "+"). Duplicates are refused. */
export function parseQuery(querystring: string): Record<string, string> | null {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (!querystring) return out;
  for (const pair of querystring.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(rawKey);
      value = decodeURIComponent(rawValue);
    } catch {
      return null;
    }
    if (Object.prototype.hasOwnProperty.call(out, key)) return null;
    out[key] = value;
  }
  return out;
}

/**
 * Remove the bot's own @mention. With a configured name: the first "@name" anywhere. Without one:
 * a leading "@word" (both platforms put the bot's mention first when a user @-s it to start a message).
 * Mentions end with a space or U+2005 (the space WeCom and DingTalk put after a mention).
 */
export function stripBotMention(text: string, botName?: string): string {
  let t = text.trim();
  if (botName) {
    const at = `@${botName}`;
    const i = t.indexOf(at);
    const after = t.charAt(i + at.length);
    if (i >= 0 && (after === '' || /\s/.test(after))) t = (t.slice(0, i) + t.slice(i + at.length)).trim();
  } else if (t.startsWith('@')) {
    const m = /^@\S+(\s+|$)/.exec(t);
    if (m) t = t.slice(m[0].length).trim();
  }
  return t;
}
