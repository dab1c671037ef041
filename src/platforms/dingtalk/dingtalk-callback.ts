import { z } from 'zod';
import type { InboundMessage } from '../../core/types';
import { reject, stripBotMention, type Rejection } from '../verification';
import { dingtalkSign, dingtalkSignMatches } from './dingtalk-sign';

/** Pure verification and decoding of DingTalk robot messages (HTTP callback and Stream push alike). */

/** DingTalk rejects its own signatures outside one hour; we accept the same window both ways. */
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
): { ok: true } | Rejection {
  const { timestamp, sign } = headers;
  if (!timestamp || !sign) return reject(401, 'missing_signature');
  if (!/^\d{1,15}$/.test(timestamp)) return reject(401, 'bad_timestamp');
  if (Math.abs(now.getTime() - Number(timestamp)) > DINGTALK_MAX_SKEW_MS) return reject(401, 'stale_timestamp');
  if (!dingtalkSignMatches(dingtalkSign(timestamp, appSecret), sign)) return reject(401, 'bad_signature');
  return { ok: true };
}

const robotMessage = z.object({
  msgtype: z.string(),
  msgId: z.string().min(1),
  conversationId: z.string().min(1),
  conversationType: z.string().optional(),
  conversationTitle: z.string().optional(),
  senderId: z.string().optional(),
  senderStaffId: z.string().optional(),
  senderNick: z.string().optional(),
  chatbotUserId: z.string().optional(),
  atUsers: z.array(z.object({ dingtalkId: z.string().optional(), staffId: z.string().optional() })).optional(),
  text: z.object({ content: z.string() }).optional(),
  sessionWebhook: z.string().optional(),
  sessionWebhookExpiredTime: z.number().optional(),
  robotCode: z.string().optional(),
});

/** The JSON of one robot message (the HTTP callback body, or `data` of a Stream push). */
export function decodeRobotMessage(json: unknown, now: Date, botName?: string): DingtalkDecoded {
  const kind = (json as { msgtype?: unknown } | null)?.msgtype;
  if (typeof kind !== 'string') return reject(400, 'missing_fields');
  if (kind !== 'text') {
    const id = (json as { msgId?: unknown }).msgId;
    return { ok: true, kind: 'ignored', reason: `msgtype:${kind}`, id: typeof id === 'string' ? id : undefined };
  }
  const p = robotMessage.safeParse(json);
  if (!p.success || !p.data.text) return reject(400, 'missing_fields');
  const m = p.data;
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
    text: stripDingtalkMention(m.text!.content, botName),
    mentions: [...new Set(mentions)],
    receivedAt: now,
  };
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
  botName?: string,
): DingtalkDecoded {
  const v = verifyCallbackHeaders(appSecret, req.headers, now);
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
