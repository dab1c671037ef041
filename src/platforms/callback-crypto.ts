import { createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { encrypt as wxEncrypt } from '@wecom/crypto';

/**
 * The callback crypto WeCom and DingTalk share (WeCom's WXBizMsgCrypt, docs path/90968; DingTalk's
 * DingCallbackCrypto, github.com/open-dingtalk/DingTalk-Callback-Crypto; PROTOCOLS.md):
 * key = base64(EncodingAESKey + "="), AES-256-CBC, IV = key[0..16], PKCS#7 padded to 32-byte blocks,
 * plaintext = random(16) | length (uint32 BE) | message | receiveid, signature =
 * sha1hex([token, timestamp, nonce, encrypted].sort().join('')). The receive id is WeCom's corp id
 * ("" for its AI bot) or DingTalk's AppKey (事件订阅 of an internal app).
 *
 * Encryption uses @wecom/crypto as is. Decryption does NOT: @wecom/crypto exposes only `decrypt`,
 * which already strips padding leniently (a pad byte outside 1..32 is kept as data, pad bytes are
 * never compared), reads the length field without bounds and never checks receiveid, and there is
 * no raw-decrypt export to build on. So we run AES-256-CBC with node:crypto and
 * `setAutoPadding(false)` ourselves, then check padding, length and receiveid strictly.
 */

export type DecryptFailure = 'bad_base64' | 'bad_block_length' | 'bad_padding' | 'bad_length' | 'bad_receiveid' | 'bad_utf8';

export type DecryptResult = { ok: true; message: string; receiveId: string } | { ok: false; reason: DecryptFailure };

export function parseEncodingAesKey(encodingAesKey: string): { key: Buffer; iv: Buffer } {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  if (encodingAesKey.length !== 43 || key.length !== 32) throw new Error('invalid EncodingAESKey');
  return { key, iv: key.subarray(0, 16) };
}

/** msg_signature = sha1hex of the four values sorted and joined. */
export function computeSignature(token: string, timestamp: string, nonce: string, encrypted: string): string {
  return createHash('sha1').update([token, timestamp, nonce, encrypted].sort().join('')).digest('hex');
}

/** Constant-time comparison; lengths are public (always 40 hex chars), so a length mismatch may return early. */
export function signatureMatches(expectedHex: string, givenHex: string): boolean {
  const a = Buffer.from(expectedHex, 'utf8');
  const b = Buffer.from(givenHex, 'utf8');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BLOCK = 32;

export function decryptMessage(encodingAesKey: string, encrypted: string, expectedReceiveId: string): DecryptResult {
  // Buffer.from(…, 'base64') silently skips invalid characters: check the alphabet first.
  if (encrypted.length === 0 || !BASE64.test(encrypted)) return { ok: false, reason: 'bad_base64' };
  const data = Buffer.from(encrypted, 'base64');
  if (data.length === 0 || data.length % BLOCK !== 0) return { ok: false, reason: 'bad_block_length' };

  const { key, iv } = parseEncodingAesKey(encodingAesKey);
  const decipher = createDecipheriv('aes-256-cbc', key, iv);
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(data), decipher.final()]);

  const pad = plain[plain.length - 1]!;
  if (pad < 1 || pad > BLOCK) return { ok: false, reason: 'bad_padding' };
  for (let i = plain.length - pad; i < plain.length; i++) {
    if (plain[i] !== pad) return { ok: false, reason: 'bad_padding' };
  }
  const content = plain.subarray(0, plain.length - pad);
  if (content.length < 20) return { ok: false, reason: 'bad_length' };
  const msgLength = content.readUInt32BE(16);
  if (msgLength > content.length - 20) return { ok: false, reason: 'bad_length' };

  const receiveId = content.subarray(20 + msgLength).toString('latin1');
  if (receiveId !== expectedReceiveId) return { ok: false, reason: 'bad_receiveid' };
  try {
    const message = new TextDecoder('utf-8', { fatal: true }).decode(content.subarray(20, 20 + msgLength));
    return { ok: true, message, receiveId };
  } catch {
    return { ok: false, reason: 'bad_utf8' };
  }
}

/** Encrypt for an answer to the platform (passive reply, encrypted "success") and for tests. */
export function encryptMessage(encodingAesKey: string, message: string, receiveId: string, random?: Buffer): string {
  parseEncodingAesKey(encodingAesKey);
  return wxEncrypt(encodingAesKey, message, receiveId, random ?? randomBytes(16));
}
