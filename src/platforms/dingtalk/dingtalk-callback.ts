import { z } from 'zod';
import type { InboundMessage } from '../../core/types';
import { isPlatformId, isPlatformKind, optionalPlatformId, platformId, platformKind, platformName, platformUrl, schemaFailureReason } from '../bounded-ids';
import { reject, stripBotMention, type Rejection } from '../verification';
import { dingtalkSign, dingtalkSignMatches } from './dingtalk-sign';

/** Pure verification and decoding of DingTalk robot messages (HTTP callback and Stream push alike). */

/**
 * DingTalk rejects its own signatures outside one hour (PROTOCOLS.md). Event subscription pushes, whose
 * signature covers the encrypted body, keep that window; robot callbacks use DINGTALK_SIGN_WINDOW_SECONDS.
 */
export const DINGTALK_MAX_SKEW_MS = 60 * 60 * 1000;

export type DingtalkDecoded =
  | { ok: true; kind: 'message'; message: InboundMessage }
  | { ok: true; kind: 'ignored'; reason: string; id?: string }
  | Rejection;

/** Headers `timestamp` (ms) and `sign` of an enterprise robot HTTP callback. */
export function verifyCallbackHeaders(
  appSecret: string,
  headers: { timestamp?: string; sign?: string },
  now: Date,
  windowMs: number,
): { ok: true } | Rejection {
  const { timestamp, sign } = headers;
  if (!timestamp || !sign) return reject(401, 'missing_signature');
  if (!/^\d{1,15}$/.test(timestamp)) return reject(401, 'bad_timestamp');
  if (Math.abs(now.getTime() - Number(timestamp)) > windowMs) return reject(401, 'stale_timestamp');
  if (!dingtalkSignMatches(dingtalkSign(timestamp, appSecret), sign)) return reject(401, 'bad_signature');
  return { ok: true };
}

const robotMessage = z.object({
  msgtype: platformKind,
  msgId: platformId,
  conversationId: platformId,
  conversationType: z.string().max(8).optional(),
  conversationTitle: platformName.optional(),
  senderId: optionalPlatformId,
  senderStaffId: optionalPlatformId,
  senderNick: platformName.optional(),
  senderCorpId: optionalPlatformId,
  chatbotCorpId: optionalPlatformId,
  chatbotUserId: optionalPlatformId,
  atUsers: z.array(z.object({ dingtalkId: optionalPlatformId, staffId: optionalPlatformId })).max(1000).optional(),
  text: z
    .object({
      content: z.string(),
      isReplyMsg: z.boolean().optional(),
      repliedMsg: z.object({ msgType: z.string().optional(), content: z.unknown().optional() }).optional(),
    })
    .optional(),
  /** audio: recognition; richText: richText parts; picture/file/video: download codes (ignored). */
  content: z
    .object({
      recognition: z.string().optional(),
      richText: z.array(z.object({ text: z.string().optional(), type: z.string().optional() }).passthrough()).optional(),
    })
    .passthrough()
    .optional(),
  sessionWebhook: platformUrl.optional(),
  sessionWebhookExpiredTime: z.number().optional(),
  robotCode: optionalPlatformId,
});

/** Message types whose text the bot reads: audio by DingTalk's speech recognition, richText by its text parts. */
const READABLE = new Set(['text', 'audio', 'richText']);
const ATTACHMENTS: Record<string, NonNullable<InboundMessage['attachment']>> = { picture: 'image', file: 'file', video: 'video' };

/** The text parts of a richText message, in order (pictures are skipped). */
function richTextOf(parts: { text?: string; type?: string }[] | undefined): string {
  return (parts ?? [])
    .filter((p) => typeof p.text === 'string' && (p.type === undefined || p.type === 'text'))
    .map((p) => p.text!.trim())
    .filter(Boolean)
    .join('\n');
}

/** A quoted message (text.repliedMsg.content): its text, or the text parts of a quoted richText. */
function repliedText(content: unknown): string | undefined {
  if (!content || typeof content !== 'object') return undefined;
  const c = content as { text?: unknown; richText?: unknown };
  if (typeof c.text === 'string' && c.text.trim()) return c.text.trim();
  if (Array.isArray(c.richText)) return richTextOf(c.richText as { text?: string; type?: string }[]) || undefined;
  return undefined;
}

/** The JSON of one robot message (the HTTP callback body, or `data` of a Stream push). */
export function decodeRobotMessage(json: unknown, now: Date, botName?: string): DingtalkDecoded {
  const kind = (json as { msgtype?: unknown } | null)?.msgtype;
  if (typeof kind !== 'string') return reject(400, 'missing_fields');
  if (!isPlatformKind(kind)) return reject(400, 'bad_fields');
  if (!READABLE.has(kind) && !(kind in ATTACHMENTS)) {
    // Not read, but its id binds the callback's signature (dingtalk-sign-pairs.ts) and is logged: bounded too.
    const id = (json as { msgId?: unknown }).msgId;
    if (id !== undefined && !isPlatformId(id)) return reject(400, 'bad_fields');
    return { ok: true, kind: 'ignored', reason: `msgtype:${kind}`, id: typeof id === 'string' ? id : undefined };
  }
  const p = robotMessage.safeParse(json);
  if (!p.success) return reject(400, schemaFailureReason(p.error));
  if (kind === 'text' && !p.data.text) return reject(400, 'missing_fields');
  const m = p.data;
  const raw = kind === 'text' ? m.text!.content : kind === 'audio' ? (m.content?.recognition ?? '') : kind === 'richText' ? richTextOf(m.content?.richText) : '';
  const senderId = m.senderStaffId || m.senderId;
  if (!senderId) return reject(400, 'missing_sender');

  const mentions = (m.atUsers ?? [])
    .filter((u) => u.staffId && u.dingtalkId !== m.chatbotUserId)
    .map((u) => u.staffId!);

  const message: InboundMessage = {
    platform: 'dingtalk',
    conversationId: m.conversationId,
    conversationType: m.conversationType === '1' ? 'single' : 'group',
    senderId,
    messageId: m.msgId,
    text: stripDingtalkMention(raw, botName),
    mentions: [...new Set(mentions)],
    receivedAt: now,
  };
  if (kind in ATTACHMENTS) message.attachment = ATTACHMENTS[kind];
  else if (!message.text) message.attachment = kind === 'richText' ? 'image' : 'other';
  const quoted = m.text?.repliedMsg ? repliedText(m.text.repliedMsg.content) : undefined;
  if (quoted) message.quotedText = quoted;
  if (m.conversationTitle) message.conversationTitle = m.conversationTitle;
  if (m.senderNick) message.senderName = m.senderNick;
  if (m.sessionWebhook || m.robotCode) {
    message.route = {
      kind: 'dingtalk',
      ...(m.sessionWebhook ? { sessionWebhook: m.sessionWebhook } : {}),
      ...(m.sessionWebhook && m.sessionWebhookExpiredTime ? { sessionWebhookExpiresAt: m.sessionWebhookExpiredTime } : {}),
      ...(m.robotCode ? { robotCode: m.robotCode } : {}),
    };
  }
  return { ok: true, kind: 'message', message };
}

/**
 * DingTalk usually removes the robot's own @ from text.content (leaving a leading space), but other
 * people's "@name" stay. So only a configured robot name is stripped; without one, just trim.
 */
function stripDingtalkMention(content: string, botName?: string): string {
  return botName ? stripBotMention(content, botName) : content.trim();
}

/** Verify and decode an HTTP callback: headers + raw body text. */
export function decodeHttpCallback(
  appSecret: string,
  req: { headers: { timestamp?: string; sign?: string }; body: string },
  now: Date,
  windowMs: number,
  botName?: string,
): DingtalkDecoded {
  const v = verifyCallbackHeaders(appSecret, req.headers, now, windowMs);
  if (!v.ok) return v;
  let json: unknown;
  try {
    json = JSON.parse(req.body);
  } catch {
    return reject(400, 'bad_json');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) return reject(400, 'bad_json');
  return decodeRobotMessage(json, now, botName);
}
