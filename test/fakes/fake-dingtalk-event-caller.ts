import { createCipheriv, createDecipheriv, createHash, randomInt } from 'node:crypto';

/**
 * DingTalk's side of the event subscription pushed over HTTP (事件订阅 → HTTP 推送), for tests. The
 * crypto is written out here from DingTalk's official DingCallbackCrypto (Java sample,
 * github.com/open-dingtalk/DingTalk-Callback-Crypto), independently of the code under test:
 * key = base64(aes_key + "="), AES-256-CBC with IV = key[0..16], plaintext = 16 random characters |
 * length (4 bytes big-endian) | message | AppKey, PKCS#7 padded to 32 bytes; signature = sha1 hex of
 * token, timestamp, nonce and encrypt sorted and joined. DingTalk POSTs `{"encrypt"}` with the query
 * `signature`, `timestamp` (ms), `nonce`, and expects `{msg_signature, timeStamp, nonce, encrypt}`
 * whose encrypt decrypts to "success".
 */
export interface DingEventKeys {
  token: string;
  aesKey: string;
  appKey: string;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randomStr = (n: number) => Array.from({ length: n }, () => ALNUM[randomInt(ALNUM.length)]).join('');
const keyOf = (aesKey: string) => Buffer.from(`${aesKey}=`, 'base64');

export function dingEncrypt(aesKey: string, message: string, ownerKey: string): string {
  const msg = Buffer.from(message, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  const body = Buffer.concat([Buffer.from(randomStr(16)), len, msg, Buffer.from(ownerKey, 'utf8')]);
  const pad = 32 - (body.length % 32);
  const key = keyOf(aesKey);
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(Buffer.concat([body, Buffer.alloc(pad, pad)])), c.final()]).toString('base64');
}

export function dingDecrypt(aesKey: string, encrypt: string): { message: string; ownerKey: string } {
  const key = keyOf(aesKey);
  const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(Buffer.from(encrypt, 'base64')), d.final()]);
  const body = plain.subarray(0, plain.length - plain[plain.length - 1]!);
  const n = body.readUInt32BE(16);
  return { message: body.subarray(20, 20 + n).toString('utf8'), ownerKey: body.subarray(20 + n).toString('utf8') };
}

export const dingSignature = (token: string, timestamp: string, nonce: string, encrypt: string) =>
  createHash('sha1').update([token, timestamp, nonce, encrypt].sort().join('')).digest('hex');

export interface EventPush {
  /** Query string (without "?"). */
  query: string;
  body: string;
}

/** One signed, encrypted push of `event` (an object, or raw plaintext) as DingTalk sends it. */
export function eventPush(
  keys: DingEventKeys,
  event: Record<string, unknown> | string,
  at: Date,
  opts: { ownerKey?: string; signatureParam?: 'signature' | 'msg_signature'; timestamp?: string; nonce?: string } = {},
): EventPush {
  const plaintext = typeof event === 'string' ? event : JSON.stringify(event);
  const encrypt = dingEncrypt(keys.aesKey, plaintext, opts.ownerKey ?? keys.appKey);
  const timestamp = opts.timestamp ?? String(at.getTime());
  const nonce = opts.nonce ?? randomStr(8);
  const q = new URLSearchParams({ [opts.signatureParam ?? 'signature']: dingSignature(keys.token, timestamp, nonce, encrypt), timestamp, nonce });
  return { query: q.toString(), body: JSON.stringify({ encrypt }) };
}

export interface EventAnswer {
  status: number;
  raw: string;
  /** The decrypted answer when it is a signed envelope that verifies, else null. */
  success: string | null;
  ownerKey: string | null;
}

export async function postEventPush(url: string, keys: DingEventKeys, push: EventPush, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<EventAnswer> {
  const res = await fetch(`${url}?${push.query}`, { method: 'POST', headers, body: push.body });
  const raw = await res.text();
  const opened = res.status === 200 ? openAnswer(keys, raw) : null;
  return { status: res.status, raw, success: opened?.message ?? null, ownerKey: opened?.ownerKey ?? null };
}

/** Verify and decrypt the bot's answer as DingTalk does; null when it would not count as success. */
export function openAnswer(keys: DingEventKeys, raw: string): { message: string; ownerKey: string } | null {
  let a: { msg_signature?: unknown; timeStamp?: unknown; nonce?: unknown; encrypt?: unknown };
  try {
    a = JSON.parse(raw) as typeof a;
  } catch {
    return null;
  }
  if (typeof a.msg_signature !== 'string' || typeof a.timeStamp !== 'string' || typeof a.nonce !== 'string' || typeof a.encrypt !== 'string') return null;
  if (dingSignature(keys.token, a.timeStamp, a.nonce, a.encrypt) !== a.msg_signature) return null;
  return dingDecrypt(keys.aesKey, a.encrypt);
}
