import { createHash, randomInt } from 'node:crypto';
import type { InboundMessage } from '../../core/types';
import { computeSignature, decryptMessage, encryptMessage, signatureMatches } from '../callback-crypto';
import { isPlatformId, isPlatformKind } from '../bounded-ids';
import { reject, type Rejection } from '../verification';
import { DINGTALK_MAX_SKEW_MS } from './dingtalk-callback';

/**
 * DingTalk event subscription (事件订阅), both transports:
 * - HTTP push (推送方式 HTTP): DingTalk POSTs `{"encrypt": "…"}` to our URL with the query
 *   `signature` (or `msg_signature`), `timestamp` (or `timeStamp`) and `nonce`; the scheme is
 *   DingCallbackCrypto (github.com/open-dingtalk/DingTalk-Callback-Crypto), the same AES and SHA-1
 *   signature as WeCom's, with the app's AppKey as the receive id. The decrypted JSON carries
 *   `EventType`; `check_url` tests the URL. Every push must be answered within 1500 ms with the
 *   encrypted string "success": `{msg_signature, timeStamp, nonce, encrypt}`, else DingTalk counts
 *   it as failed and pushes it again.
 * - Stream push (dingtalk-stream.ts): the same event data, eventType and eventId in the headers.
 * Pure functions: the raw request and the time in, a decision out. No I/O, no logging.
 */

export interface DingtalkEventKeys {
  token: string;
  aesKey: string;
  /** Internal app: its AppKey. */
  receiveId: string;
}

/**
 * Someone joined a group the robot is in (群会话事件 `chat_add_member`). The group is named by
 * OpenConversationId (the id robot messages carry as conversationId) and the people added by UserId;
 * the exact spelling is unconfirmed, so both casings are read. The first person added is the welcome's
 * sender, else the operator. `eventId` identifies the delivery (re-deliveries repeat it). Incomplete: null.
 * An id out of bounds (bounded-ids.ts): 'bad_fields', never a message.
 */
export function decodeGroupJoin(data: Record<string, unknown>, eventId: string, now: Date): InboundMessage | null | 'bad_fields' {
  const pick = (...keys: string[]) => keys.map((k) => data[k]).find((v) => typeof v === 'string' && v) as string | undefined;
  const conversationId = pick('OpenConversationId', 'openConversationId');
  const users = [data.UserId, data.userId].find(Array.isArray) as unknown[] | undefined;
  const joined = users?.find((u): u is string => typeof u === 'string' && u.length > 0) ?? pick('Operator', 'operator');
  if (!conversationId || !joined || !eventId) return null;
  if (![conversationId, joined, eventId].every(isPlatformId)) return 'bad_fields';
  return {
    platform: 'dingtalk',
    conversationId,
    conversationType: 'group',
    senderId: joined,
    messageId: `join:${eventId}`,
    text: '',
    mentions: [],
    receivedAt: now,
    event: 'welcome',
  };
}

export type DingtalkEventDecoded =
  | { ok: true; kind: 'check_url' }
  | { ok: true; kind: 'welcome'; message: InboundMessage }
  /** Authentic, but nothing for the bot: answered "success" and dropped. */
  | { ok: true; kind: 'ignored'; eventType: string; id: string }
  | Rejection;

const SIGNATURE = /^[0-9a-f]{40}$/;
const TIMESTAMP = /^\d{1,13}$/;

/**
 * DingTalk's own pushes and samples carry milliseconds (1608001896814); some of its documents show
 * seconds (1783610513). Read both: below 10^11 it can only be seconds.
 */
function timestampMs(ts: string): number {
  const n = Number(ts);
  return n < 1e11 ? n * 1000 : n;
}

/**
 * The event's id for deduplication: EventId / bizId when the payload has one, else a hash of the
 * decrypted event itself (a re-push carries the same event JSON, a new event differs in its time).
 */
function eventIdOf(json: Record<string, unknown>, plaintext: string): string {
  const given = ['EventId', 'eventId', 'BizId', 'bizId'].map((k) => json[k]).find((v) => (typeof v === 'string' && v) || typeof v === 'number');
  if (given !== undefined) return String(given);
  return `h${createHash('sha256').update(plaintext).digest('hex').slice(0, 32)}`;
}

/** Verify, decrypt and decode one HTTP event push: query (percent-decoded) and raw body text. */
export function decodeEventCallback(
  keys: DingtalkEventKeys,
  req: { query: Record<string, string | undefined>; body: string },
  now: Date,
): DingtalkEventDecoded {
  let envelope: unknown;
  try {
    envelope = JSON.parse(req.body);
  } catch {
    return reject(400, 'bad_json');
  }
  const encrypted = (envelope as { encrypt?: unknown } | null)?.encrypt;
  if (typeof encrypted !== 'string' || !encrypted) return reject(400, 'missing_encrypt');

  const sig = req.query.msg_signature ?? req.query.signature;
  const timestamp = req.query.timestamp ?? req.query.timeStamp;
  const nonce = req.query.nonce;
  if (!sig || !timestamp || !nonce) return reject(400, 'missing_query_params');
  if (!SIGNATURE.test(sig)) return reject(401, 'bad_signature');
  if (!TIMESTAMP.test(timestamp)) return reject(401, 'bad_timestamp');
  if (Math.abs(now.getTime() - timestampMs(timestamp)) > DINGTALK_MAX_SKEW_MS) return reject(401, 'stale_timestamp');
  if (!signatureMatches(computeSignature(keys.token, timestamp, nonce, encrypted), sig)) return reject(401, 'bad_signature');
  const d = decryptMessage(keys.aesKey, encrypted, keys.receiveId);
  if (!d.ok) return reject(d.reason === 'bad_receiveid' ? 401 : 400, d.reason);

  let json: unknown;
  try {
    json = JSON.parse(d.message);
  } catch {
    return reject(400, 'bad_inner_json');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) return reject(400, 'bad_inner_json');
  const event = json as Record<string, unknown>;
  const eventType = event.EventType ?? event.eventType;
  if (typeof eventType !== 'string' || !eventType) return reject(400, 'missing_event_type');
  if (!isPlatformKind(eventType)) return reject(400, 'bad_fields');
  if (eventType === 'check_url') return { ok: true, kind: 'check_url' };
  const id = eventIdOf(event, d.message);
  if (!isPlatformId(id)) return reject(400, 'bad_fields');
  if (eventType === 'chat_add_member') {
    const message = decodeGroupJoin(event, id, now);
    if (message === 'bad_fields') return reject(400, 'bad_fields');
    if (message) return { ok: true, kind: 'welcome', message };
  }
  return { ok: true, kind: 'ignored', eventType, id };
}

export interface EncryptedSuccess {
  msg_signature: string;
  timeStamp: string;
  nonce: string;
  encrypt: string;
}

const NONCE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The answer DingTalk expects to every push: "success" encrypted and signed (DingCallbackCrypto.getEncryptedMap). */
export function sealSuccess(keys: DingtalkEventKeys, now: Date, nonce?: string): EncryptedSuccess {
  // The official class sends a millisecond timestamp and a 16-character nonce.
  const timeStamp = String(now.getTime());
  const n = nonce ?? Array.from({ length: 16 }, () => NONCE_CHARS[randomInt(NONCE_CHARS.length)]).join('');
  const encrypt = encryptMessage(keys.aesKey, 'success', keys.receiveId);
  return { msg_signature: computeSignature(keys.token, timeStamp, n, encrypt), timeStamp, nonce: n, encrypt };
}
