import { randomBytes } from 'node:crypto';
import { computeSignature, encryptMessage } from '../callback-crypto';

/**
 * WeCom callback crypto (WXBizMsgCrypt; docs path/90968, PROTOCOLS.md). The scheme itself is shared
 * with DingTalk and lives in ../callback-crypto.ts; this module adds WeCom's envelope.
 */
export * from '../callback-crypto';

export interface EncryptedEnvelope {
  encrypt: string;
  msgsignature: string;
  timestamp: string;
  nonce: string;
}

/** A signed, encrypted envelope: the body of a passive reply, or a fake callback in tests. */
export function sealMessage(
  opts: { token: string; encodingAesKey: string; receiveId: string },
  message: string,
  timestamp: string,
  nonce: string = randomBytes(8).toString('hex'),
): EncryptedEnvelope {
  const encrypt = encryptMessage(opts.encodingAesKey, message, opts.receiveId);
  return { encrypt, msgsignature: computeSignature(opts.token, timestamp, nonce, encrypt), timestamp, nonce };
}
