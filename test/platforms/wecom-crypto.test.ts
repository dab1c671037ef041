import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeAppCallback, openEnvelope } from '../../src/platforms/wecom/wecom-callback';
import { computeSignature, decryptMessage, encryptMessage, parseEncodingAesKey, signatureMatches } from '../../src/platforms/wecom/wecom-crypto';
import { parseWecomXml } from '../../src/platforms/wecom/wecom-xml';
import { WECOM_VECTOR as V } from '../fixtures/wecom-official-vector';

const KEY = V.encodingAesKey;

/** AES-256-CBC over an arbitrary plaintext, without padding, so tests can forge any padding/length. */
function rawEncrypt(plain: Buffer): string {
  const { key, iv } = parseEncodingAesKey(KEY);
  const c = createCipheriv('aes-256-cbc', key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(plain), c.final()]).toString('base64');
}

function frame(message: string, receiveId: string, opts: { lengthField?: number; pad?: (n: number) => Buffer } = {}): Buffer {
  const msg = Buffer.from(message);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(opts.lengthField ?? msg.length);
  const body = Buffer.concat([randomBytes(16), len, msg, Buffer.from(receiveId)]);
  const n = 32 - (body.length % 32);
  return Buffer.concat([body, opts.pad ? opts.pad(n) : Buffer.alloc(n, n)]);
}

describe('WeCom crypto', () => {
  it('reproduces the official vector: signatures and plaintexts', () => {
    expect(computeSignature(V.token, V.urlCheck.timestamp, V.urlCheck.nonce, V.urlCheck.echostr)).toBe(V.urlCheck.msgSignature);
    expect(computeSignature(V.token, V.message.timestamp, V.message.nonce, V.message.encrypt)).toBe(V.message.msgSignature);
    expect(decryptMessage(KEY, V.message.encrypt, V.corpId)).toEqual({ ok: true, message: V.message.plaintext, receiveId: V.corpId });
    const r = openEnvelope(
      { token: V.token, encodingAesKey: KEY, receiveId: V.corpId },
      { msg_signature: V.message.msgSignature, timestamp: V.message.timestamp, nonce: V.message.nonce },
      V.message.encrypt,
      new Date(Number(V.message.timestamp) * 1000),
    );
    expect(r).toEqual({ ok: true, plaintext: V.message.plaintext });
  });

  it('round-trips: re-encrypting the vector plaintext decrypts to the same XML and fields', () => {
    const again = encryptMessage(KEY, V.message.plaintext, V.corpId);
    expect(again).not.toBe(V.message.encrypt); // fresh random prefix
    const d = decryptMessage(KEY, again, V.corpId);
    expect(d).toEqual({ ok: true, message: V.message.plaintext, receiveId: V.corpId });
    const fields = parseWecomXml(V.message.plaintext);
    expect(fields).toMatchObject({ FromUserName: 'ChenJiaShun', Content: '你好', MsgId: '1456453720', CreateTime: '1476422779' });

    const ts = V.message.timestamp;
    const sig = computeSignature(V.token, ts, 'n', again);
    const decoded = decodeAppCallback(
      { token: V.token, encodingAesKey: KEY, receiveId: V.corpId },
      { query: { msg_signature: sig, timestamp: ts, nonce: 'n' }, body: `<xml><Encrypt><![CDATA[${again}]]></Encrypt></xml>` },
      new Date(Number(ts) * 1000),
    );
    expect(decoded).toMatchObject({ ok: true, kind: 'message', message: { text: '你好', messageId: '1456453720' } });
  });

  it('accepts a correctly framed message of every padding length 1..32', () => {
    for (let extra = 0; extra < 32; extra++) {
      const msg = 'x'.repeat(extra);
      expect(decryptMessage(KEY, rawEncrypt(frame(msg, V.corpId)), V.corpId)).toMatchObject({ ok: true, message: msg });
    }
  });

  it('rejects padding bytes that are out of range or unequal (which @wecom/crypto would accept)', () => {
    const zeroPad = rawEncrypt(frame('hello', V.corpId, { pad: (n) => Buffer.alloc(n, 0) }));
    expect(decryptMessage(KEY, zeroPad, V.corpId)).toEqual({ ok: false, reason: 'bad_padding' });
    const big = rawEncrypt(frame('hello', V.corpId, { pad: (n) => Buffer.alloc(n, 33) }));
    expect(decryptMessage(KEY, big, V.corpId)).toEqual({ ok: false, reason: 'bad_padding' });
    const mixed = rawEncrypt(
      frame('hello!', V.corpId, {
        pad: (n) => {
          const b = Buffer.alloc(n, n);
          if (n > 1) b[0] = n - 1;
          return b;
        },
      }),
    );
    expect(decryptMessage(KEY, mixed, V.corpId)).toEqual({ ok: false, reason: 'bad_padding' });
  });

  it('rejects a length field pointing past the plaintext', () => {
    const enc = rawEncrypt(frame('hello', V.corpId, { lengthField: 10_000 }));
    expect(decryptMessage(KEY, enc, V.corpId)).toEqual({ ok: false, reason: 'bad_length' });
    const huge = rawEncrypt(frame('hello', V.corpId, { lengthField: 0xffffffff }));
    expect(decryptMessage(KEY, huge, V.corpId)).toEqual({ ok: false, reason: 'bad_length' });
  });

  it('rejects another receiveid, including "" for an app and a corp id for the AI bot', () => {
    expect(decryptMessage(KEY, V.message.encrypt, 'ww1436e0e65a779aef')).toEqual({ ok: false, reason: 'bad_receiveid' });
    expect(decryptMessage(KEY, V.message.encrypt, '')).toEqual({ ok: false, reason: 'bad_receiveid' });
    expect(decryptMessage(KEY, encryptMessage(KEY, '{}', ''), V.corpId)).toEqual({ ok: false, reason: 'bad_receiveid' });
  });

  it('rejects non-base64 and partial blocks before decrypting', () => {
    expect(decryptMessage(KEY, 'abc$', V.corpId)).toEqual({ ok: false, reason: 'bad_base64' });
    expect(decryptMessage(KEY, '', V.corpId)).toEqual({ ok: false, reason: 'bad_base64' });
    expect(decryptMessage(KEY, Buffer.alloc(16).toString('base64'), V.corpId)).toEqual({ ok: false, reason: 'bad_block_length' });
  });

  it('compares signatures by content and length', () => {
    expect(signatureMatches(V.message.msgSignature, V.message.msgSignature)).toBe(true);
    expect(signatureMatches(V.message.msgSignature, V.message.msgSignature.toUpperCase())).toBe(false);
    expect(signatureMatches(V.message.msgSignature, V.message.msgSignature.slice(1))).toBe(false);
  });
});
