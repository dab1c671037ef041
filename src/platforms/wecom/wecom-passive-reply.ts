import { randomBytes } from 'node:crypto';
import type { OutboundMessage } from '../../core/types';
import { buttonCard } from './wecom-card';
import { computeSignature, encryptMessage } from './wecom-crypto';

/**
 * The AI bot's passive reply (智能机器人 被动回复消息, docs path/101031): the answer to a message is a
 * stream message `{msgtype:"stream", stream:{id, finish, content}}` (content markdown, at most 20480
 * UTF-8 bytes); the answer to the enter_chat event may be plain text `{msgtype:"text", text:{content}}`.
 * The HTTP body is the encrypted envelope `{encrypt, msgsignature, timestamp, nonce}` (same AES scheme,
 * receiveid "", msgsignature = sha1 of token, timestamp, nonce and encrypt sorted).
 */
export const AIBOT_STREAM_MAX_BYTES = 20480;

/** Markdown of one reply with `<@userid>` for each mention not already written in it. */
export function aibotMarkdown(message: OutboundMessage): string {
  const md = message.markdown ?? message.text;
  const missing = message.mentions.filter((id) => !md.includes(`<@${id}>`));
  return missing.length > 0 ? `${missing.map((id) => `<@${id}>`).join(' ')}\n${md}` : md;
}

/** The replies of one message as one stream body's content (parts separated by a blank line). */
export function streamContent(replies: OutboundMessage[]): string {
  return replies.map(aibotMarkdown).join('\n\n');
}

export function fitsStream(replies: OutboundMessage[]): boolean {
  return Buffer.byteLength(streamContent(replies), 'utf8') <= AIBOT_STREAM_MAX_BYTES;
}

/** Our stream ids name the message they answer. */
export const streamIdOf = (messageId: string) => `reply-${messageId}`;
export const messageIdOfStream = (streamId: string): string | null => (streamId.startsWith('reply-') && streamId.length > 6 ? streamId.slice(6) : null);

/**
 * Plaintext of the passive reply: text for a welcome (enter_chat), a finished stream otherwise. When a
 * reply has buttons, the stream carries them as a button_interaction card in the one answer the
 * protocol allows: `{msgtype:"stream_with_template_card", stream, template_card}` (docs path/101031,
 * 回复用户消息 → 流式消息+模板卡片回复). Only the first reply with buttons gets its card.
 */
export function passiveReplyBody(kind: 'welcome' | 'message', messageId: string, replies: OutboundMessage[]): Record<string, unknown> {
  if (kind === 'welcome') return { msgtype: 'text', text: { content: replies.map((r) => r.text).join('\n') } };
  const stream = { id: streamIdOf(messageId), finish: true, content: streamContent(replies) };
  const withButtons = replies.find((r) => r.buttons?.length);
  if (!withButtons) return { msgtype: 'stream', stream };
  return { msgtype: 'stream_with_template_card', stream, template_card: buttonCard(withButtons.text, withButtons.buttons!).template_card };
}

export interface PassiveEnvelope {
  encrypt: string;
  msgsignature: string;
  timestamp: number;
  nonce: string;
}

/** Encrypt and sign a passive reply for the AI bot (receiveid ""). */
export function sealPassiveReply(
  keys: { token: string; encodingAesKey: string },
  body: Record<string, unknown>,
  now: Date,
  nonce: string = randomBytes(8).toString('hex'),
): PassiveEnvelope {
  const timestamp = Math.floor(now.getTime() / 1000);
  const encrypt = encryptMessage(keys.encodingAesKey, JSON.stringify(body), '');
  return { encrypt, msgsignature: computeSignature(keys.token, String(timestamp), nonce, encrypt), timestamp, nonce };
}
