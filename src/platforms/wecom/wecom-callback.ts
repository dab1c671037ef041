import { z } from 'zod';
import type { InboundMessage } from '../../core/types';
import { PLATFORM_ID_MAX, isPlatformId, isPlatformKind, optionalPlatformId, platformId, platformKind, platformUrl, schemaFailureReason } from '../bounded-ids';
import { reject, stripBotMention, type Rejection } from '../verification';
import { computeSignature, decryptMessage, signatureMatches } from './wecom-crypto';
import { parseWecomXml } from './wecom-xml';

/**
 * Pure verification and decoding of WeCom callbacks (STYLE.md #2): the raw request and the current
 * time in, a normalised InboundMessage or a typed rejection out. No I/O, no logging.
 */

export interface WecomKeys {
  token: string;
  encodingAesKey: string;
  /** Self-built app: the corp id. AI bot: "". */
  receiveId: string;
}

export interface WecomRawRequest {
  /** Query parameters, percent-decoded ("+" kept as "+"). */
  query: Record<string, string | undefined>;
  /** Raw body text (POST only). */
  body?: string;
}

export type WecomDecoded =
  | { ok: true; kind: 'message'; message: InboundMessage }
  /** Valid and authentic, but nothing for the bot: acknowledge and drop (other events). */
  | { ok: true; kind: 'ignored'; reason: string; id?: string }
  /** WeCom asks for a stream's current content (docs path/100719 流式消息刷新): `streamId` is ours (`reply-<msgid>`). */
  | { ok: true; kind: 'stream-refresh'; streamId: string; id?: string }
  | Rejection;

/** WeCom does not document a freshness window; one hour bounds replays and tolerates its 3 retries. */
export const WECOM_MAX_SKEW_MS = 60 * 60 * 1000;
/** AI bot response_url is valid for one hour (docs path/101138). */
export const RESPONSE_URL_TTL_MS = 60 * 60 * 1000;

const SIGNATURE = /^[0-9a-f]{40}$/;
const TIMESTAMP = /^\d{1,12}$/;

/** Check msg_signature/timestamp/nonce over `encrypted`, then decrypt strictly. */
export function openEnvelope(
  keys: WecomKeys,
  query: WecomRawRequest['query'],
  encrypted: string,
  now: Date,
): { ok: true; plaintext: string } | Rejection {
  const { msg_signature: sig, timestamp, nonce } = query;
  if (!sig || !timestamp || !nonce) return reject(400, 'missing_query_params');
  if (!SIGNATURE.test(sig)) return reject(401, 'bad_signature');
  if (!TIMESTAMP.test(timestamp)) return reject(401, 'bad_timestamp');
  if (Math.abs(now.getTime() - Number(timestamp) * 1000) > WECOM_MAX_SKEW_MS) return reject(401, 'stale_timestamp');
  if (!signatureMatches(computeSignature(keys.token, timestamp, nonce, encrypted), sig)) {
    return reject(401, 'bad_signature');
  }
  const d = decryptMessage(keys.encodingAesKey, encrypted, keys.receiveId);
  if (!d.ok) return reject(d.reason === 'bad_receiveid' ? 401 : 400, d.reason);
  return { ok: true, plaintext: d.message };
}

/** GET URL verification (both callback kinds): the decrypted echostr, to be answered verbatim. */
export function verifyUrlCheck(keys: WecomKeys, req: WecomRawRequest, now: Date): { ok: true; echo: string } | Rejection {
  const echostr = req.query.echostr;
  if (!echostr) return reject(400, 'missing_echostr');
  const r = openEnvelope(keys, req.query, echostr, now);
  return r.ok ? { ok: true, echo: r.plaintext } : r;
}

/** POST of a self-built app: <xml><ToUserName/><AgentID/><Encrypt/></xml>. */
export function decodeAppCallback(keys: WecomKeys, req: WecomRawRequest, now: Date): WecomDecoded {
  const outer = parseWecomXml(req.body ?? '');
  if (!outer) return reject(400, 'bad_xml');
  const encrypted = outer.Encrypt;
  if (!encrypted) return reject(400, 'missing_encrypt');
  const opened = openEnvelope(keys, req.query, encrypted, now);
  if (!opened.ok) return opened;

  const m = parseWecomXml(opened.plaintext);
  if (!m) return reject(400, 'bad_inner_xml');
  const from = m.FromUserName;
  const createTime = m.CreateTime;
  const msgType = m.MsgType;
  if (!from || !createTime || !msgType) return reject(400, 'missing_fields');
  // Bounded before anything is acknowledged or stored (bounded-ids.ts): userid, time, type, MsgId, event.
  if (!isPlatformId(from) || !/^\d{1,12}$/.test(createTime) || !isPlatformKind(msgType)) return reject(400, 'bad_fields');
  if ((m.MsgId !== undefined && !isPlatformId(m.MsgId)) || (m.Event !== undefined && !isPlatformKind(m.Event))) return reject(400, 'bad_fields');

  if (msgType === 'event') {
    // Events carry no MsgId: FromUserName + CreateTime identifies a delivery (PROTOCOLS.md).
    return { ok: true, kind: 'ignored', reason: `event:${m.Event ?? 'unknown'}`, id: `${from}:${createTime}` };
  }
  if (!m.MsgId) return reject(400, 'missing_msgid');
  // Voice carries <Recognition> when the app has speech recognition on (docs path/90239); without it
  // the voice is, for the bot, an attachment it cannot read.
  const text = msgType === 'text' ? (m.Content ?? '') : msgType === 'voice' ? (m.Recognition ?? '') : '';
  const attachment: InboundMessage['attachment'] =
    msgType === 'image' ? 'image' : msgType === 'file' ? 'file' : msgType === 'video' ? 'video' : msgType === 'voice' && !text.trim() ? 'other' : undefined;
  if (msgType !== 'text' && msgType !== 'voice' && !attachment) return { ok: true, kind: 'ignored', reason: `msgtype:${msgType}`, id: m.MsgId };

  // A self-built app only ever talks one-to-one (it cannot be in ordinary groups): the sender is the conversation.
  const message: InboundMessage = {
    platform: 'wecom',
    conversationId: from,
    conversationType: 'single',
    senderId: from,
    messageId: m.MsgId,
    text: text.trim(),
    mentions: [],
    receivedAt: now,
  };
  if (attachment) message.attachment = attachment;
  return { ok: true, kind: 'message', message };
}

const aibotEnvelope = z.object({ encrypt: z.string().min(1) });

const aibotMessage = z.object({
  msgid: platformId,
  aibotid: optionalPlatformId,
  chatid: optionalPlatformId,
  chattype: z.enum(['single', 'group']).optional(),
  from: z.object({ userid: platformId, corpid: optionalPlatformId }),
  response_url: platformUrl.optional(),
  msgtype: platformKind,
  text: z.object({ content: z.string() }).optional(),
  /** Voice: WeCom's own speech recognition result (docs path/100719 语音消息). */
  voice: z.object({ content: z.string() }).optional(),
  mixed: z
    .object({
      msg_item: z.array(z.object({ msgtype: z.string(), text: z.object({ content: z.string() }).optional() })),
    })
    .optional(),
  quote: z
    .object({
      msgtype: z.string().optional(),
      text: z.object({ content: z.string() }).optional(),
      voice: z.object({ content: z.string() }).optional(),
      mixed: z
        .object({ msg_item: z.array(z.object({ msgtype: z.string(), text: z.object({ content: z.string() }).optional() })) })
        .optional(),
    })
    .optional(),
  event: z
    .object({
      eventtype: platformKind,
      template_card_event: z
        .object({ card_type: z.string().max(64).optional(), event_key: z.string().max(4096).optional(), task_id: z.string().max(PLATFORM_ID_MAX).optional() })
        .optional(),
    })
    .optional(),
});
type AibotMessage = z.infer<typeof aibotMessage>;

const ATTACHMENTS: Record<string, NonNullable<InboundMessage['attachment']>> = { image: 'image', file: 'file', video: 'video' };

/** Card button keys are "cmd:" + the command (wecom-card.ts); anything else is not ours. */
export const CARD_KEY_PREFIX = 'cmd:';
export function commandOfCardKey(key: string | undefined): string | null {
  if (!key?.startsWith(CARD_KEY_PREFIX)) return null;
  const command = key.slice(CARD_KEY_PREFIX.length).trim();
  return /^[/／]/.test(command) ? command : null;
}

function mixedText(mixed: AibotMessage['mixed']): string {
  return (mixed?.msg_item ?? [])
    .filter((i) => i.msgtype === 'text' && i.text)
    .map((i) => i.text!.content)
    .join('\n');
}

/**
 * One decrypted AI-bot callback (HTTP API mode) or the `body` of a long-connection frame: the same
 * JSON either way (docs path/100719, 101463). text, voice (recognised text) and mixed (its text parts)
 * are messages; image/file/video are attachments; the enter_chat event is a welcome; a stream refresh
 * asks for a stream's content; other events are acknowledged and ignored.
 */
export function decodeAibotJson(inner: unknown, now: Date, botName?: string): WecomDecoded {
  const kind = (inner as { msgtype?: unknown } | null)?.msgtype;
  const rawId = (inner as { msgid?: unknown } | null)?.msgid;
  const id = typeof rawId === 'string' ? rawId : undefined;
  if (id !== undefined && !isPlatformId(id)) return reject(400, 'bad_fields');
  if (typeof kind === 'string' && !isPlatformKind(kind)) return reject(400, 'bad_fields');
  const known = kind === 'text' || kind === 'mixed' || kind === 'voice' || kind === 'event' || (typeof kind === 'string' && kind in ATTACHMENTS);
  if (kind === 'stream') {
    const streamId = (inner as { stream?: { id?: unknown } }).stream?.id;
    if (!isPlatformId(streamId)) return reject(400, 'bad_fields');
    return { ok: true, kind: 'stream-refresh', streamId, id };
  }
  if (!known) return { ok: true, kind: 'ignored', reason: `msgtype:${String(kind)}`, id };
  const p = aibotMessage.safeParse(inner);
  if (!p.success) return reject(400, schemaFailureReason(p.error));
  const m = p.data;
  // A click on one of our card buttons: its key carries the command, run as if the clicker typed it.
  const clicked = m.event?.eventtype === 'template_card_event' ? commandOfCardKey(m.event.template_card_event?.event_key) : null;
  if (m.msgtype === 'event' && m.event?.eventtype !== 'enter_chat' && !clicked) {
    return { ok: true, kind: 'ignored', reason: `event:${m.event?.eventtype ?? 'unknown'}`, id };
  }

  const raw = clicked ?? (m.msgtype === 'text' ? (m.text?.content ?? '') : m.msgtype === 'voice' ? (m.voice?.content ?? '') : m.msgtype === 'mixed' ? mixedText(m.mixed) : '');
  const isGroup = m.chattype === 'group' || (m.chattype === undefined && Boolean(m.chatid));
  const conversationId = isGroup ? m.chatid : m.from.userid;
  if (!conversationId) return reject(400, 'missing_chatid');

  const message: InboundMessage = {
    platform: 'wecom',
    conversationId,
    conversationType: isGroup ? 'group' : 'single',
    senderId: m.from.userid,
    messageId: m.msgid,
    text: stripBotMention(raw, botName),
    // The AI bot payload names no mentioned userids; "@name" in the text are display names.
    mentions: [],
    receivedAt: now,
  };
  if (m.msgtype === 'event' && !clicked) message.event = 'welcome';
  else if (m.msgtype in ATTACHMENTS) message.attachment = ATTACHMENTS[m.msgtype];
  // A mixed message of pictures only has no text to read.
  else if (m.msgtype === 'mixed' && !message.text) message.attachment = 'image';
  const quoted = m.quote?.text?.content ?? m.quote?.voice?.content ?? (m.quote?.mixed ? mixedText(m.quote.mixed) : undefined);
  if (quoted) message.quotedText = quoted;
  if (m.response_url) {
    message.route = {
      kind: 'wecom',
      responseUrl: m.response_url,
      responseUrlExpiresAt: now.getTime() + RESPONSE_URL_TTL_MS,
    };
  }
  return { ok: true, kind: 'message', message };
}

/** POST of the AI bot (智能机器人, API mode): JSON {"encrypt": "…"}, receiveid "". */
export function decodeAibotCallback(
  keys: WecomKeys,
  req: WecomRawRequest,
  now: Date,
  botName?: string,
): WecomDecoded {
  let json: unknown;
  try {
    json = JSON.parse(req.body ?? '');
  } catch {
    return reject(400, 'bad_json');
  }
  const env = aibotEnvelope.safeParse(json);
  if (!env.success) return reject(400, 'missing_encrypt');
  const opened = openEnvelope(keys, req.query, env.data.encrypt, now);
  if (!opened.ok) return opened;

  let inner: unknown;
  try {
    inner = JSON.parse(opened.plaintext);
  } catch {
    return reject(400, 'bad_inner_json');
  }
  return decodeAibotJson(inner, now, botName);
}
