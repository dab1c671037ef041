import { randomBytes } from 'node:crypto';
import { computeSignature, decryptMessage, sealMessage, signatureMatches } from '../../src/platforms/wecom/wecom-crypto';

/**
 * WeCom's side of the AI bot in API (HTTP) mode, for tests: posts a signed, encrypted callback to the
 * bot's URL as WeCom does (docs path/100719: `POST ?msg_signature&timestamp&nonce`, body `{"encrypt"}`),
 * and opens the bot's passive reply as WeCom does (docs path/101031): the body must be JSON
 * `{encrypt, msgsignature, timestamp, nonce}` whose msgsignature is sha1 over token, timestamp, nonce
 * and encrypt sorted, and whose encrypt decrypts (receiveid "") to the reply JSON.
 */
export interface AibotKeys {
  token: string;
  encodingAesKey: string;
}

export interface PassiveAnswer {
  status: number;
  /** The raw HTTP body ('' when the bot answered without a passive reply). */
  raw: string;
  /** The decrypted reply JSON, when there was one and it verified. */
  reply: {
    msgtype: string;
    stream?: { id: string; finish: boolean; content: string };
    text?: { content: string };
    template_card?: { card_type: string; main_title: { title: string }; task_id: string; button_list: { text: string; style: number; key: string }[] };
  } | null;
}

export async function postAibotCallback(url: string, keys: AibotKeys, inner: Record<string, unknown>, at: Date): Promise<PassiveAnswer> {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const env = sealMessage({ ...keys, receiveId: '' }, JSON.stringify(inner), timestamp, randomBytes(6).toString('hex'));
  const q = new URLSearchParams({ msg_signature: env.msgsignature, timestamp: env.timestamp, nonce: env.nonce });
  const res = await fetch(`${url}?${q}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ encrypt: env.encrypt }) });
  const raw = await res.text();
  return { status: res.status, raw, reply: raw ? openPassiveReply(keys, raw) : null };
}

/** Verify and decrypt a passive reply body; throws when WeCom would reject it. */
export function openPassiveReply(keys: AibotKeys, raw: string): PassiveAnswer['reply'] {
  const body = JSON.parse(raw) as { encrypt?: unknown; msgsignature?: unknown; timestamp?: unknown; nonce?: unknown };
  if (typeof body.encrypt !== 'string' || typeof body.msgsignature !== 'string' || typeof body.nonce !== 'string') {
    throw new Error(`passive reply is not an encrypted envelope: ${raw.slice(0, 200)}`);
  }
  if (typeof body.timestamp !== 'number' && typeof body.timestamp !== 'string') throw new Error('passive reply has no timestamp');
  const expected = computeSignature(keys.token, String(body.timestamp), body.nonce, body.encrypt);
  if (!signatureMatches(expected, body.msgsignature)) throw new Error('passive reply signature does not verify');
  const d = decryptMessage(keys.encodingAesKey, body.encrypt, '');
  if (!d.ok) throw new Error(`passive reply does not decrypt: ${d.reason}`);
  return JSON.parse(d.message) as PassiveAnswer['reply'];
}
