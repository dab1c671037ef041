import type { InboundMessage } from './types';

/**
 * The longest message text the bot reads, on every platform (WeCom, DingTalk HTTP and Stream, the
 * sandbox). Commands are a line or two; a longer text is answered politely and never parsed.
 */
export const MAX_MESSAGE_CHARS = 4000;

export const TOO_LONG_REPLY = `抱歉，这条消息太长了（超过 ${MAX_MESSAGE_CHARS} 字），我没有处理。请精简后重新发送，或分成几条发送，谢谢！`;

export function isTooLong(text: string): boolean {
  return text.length > MAX_MESSAGE_CHARS;
}

/**
 * What is stored of an inbound message: text beyond the cap is cut (a character or two past it is kept,
 * so the message is still recognisably over the cap when it is handled), and a quoted text is cut to the cap.
 */
export function capInbound(msg: InboundMessage): InboundMessage {
  const tooLong = msg.text.length > MAX_MESSAGE_CHARS + 2;
  const quoteTooLong = msg.quotedText !== undefined && msg.quotedText.length > MAX_MESSAGE_CHARS;
  if (!tooLong && !quoteTooLong) return msg;
  return {
    ...msg,
    ...(tooLong ? { text: cut(msg.text, MAX_MESSAGE_CHARS + 2) } : {}),
    ...(quoteTooLong ? { quotedText: cut(msg.quotedText!, MAX_MESSAGE_CHARS) } : {}),
  };
}

/** The first `n` UTF-16 units, never ending in half a surrogate pair (a lone surrogate cannot be stored). */
function cut(s: string, n: number): string {
  const head = s.slice(0, n);
  const last = head.charCodeAt(head.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? head.slice(0, -1) : head;
}
