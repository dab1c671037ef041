import { UpstreamHttpError } from '../../core/errors';
import type { OutboundMessage, OutboundTarget, PlatformSender } from '../../core/types';
import type { Clock } from '../clock';
import { AIBOT_WS_CMD, type WecomAibotWs } from './wecom-aibot-ws';
import { buttonCard } from './wecom-card';
import { aibotMarkdown } from './wecom-passive-reply';

interface WsReplyRoute {
  wsReqId?: string;
  wsReqIdExpiresAt?: number;
  wsWelcome?: boolean;
}

/**
 * WeCom sends in long-connection mode: a reply answers its callback's req_id on the connection
 * (a finished stream; a welcome for enter_chat); a group with its own robot or appchat keeps using it
 * through the HTTP sender; anything else is pushed proactively on the connection (aibot_send_msg),
 * which needs no group webhook. Without a connection the HTTP sender (if any) is tried.
 */
export class WecomWsSender implements PlatformSender {
  readonly platform = 'wecom' as const;

  constructor(
    private readonly ws: WecomAibotWs,
    private readonly clock: Clock,
    private readonly http?: PlatformSender,
  ) {}

  rateKey(target: OutboundTarget): string | null {
    return this.http?.rateKey ? this.http.rateKey(target) : `wecom:${target.conversationId}`;
  }

  /** The channel send() would take now (metrics): stream (the callback's req_id), push, or the HTTP sender's. */
  channelOf(target: OutboundTarget, message: OutboundMessage): string | null {
    const own = (target.replyRoute ?? {}) as WsReplyRoute;
    if (this.ws.ready && own.wsReqId && own.wsReqIdExpiresAt && this.clock().getTime() < own.wsReqIdExpiresAt) return 'stream';
    const route = (target.route ?? {}) as { webhookKey?: string; appChatId?: string };
    if (this.http && (route.webhookKey || route.appChatId)) return this.http.channelOf?.(target, message) ?? null;
    if (this.ws.ready) return 'push';
    return this.http?.channelOf?.(target, message) ?? null;
  }

  async send(target: OutboundTarget, message: OutboundMessage): Promise<void> {
    const own = (target.replyRoute ?? {}) as WsReplyRoute;
    const now = this.clock().getTime();
    if (this.ws.ready && own.wsReqId && own.wsReqIdExpiresAt && now < own.wsReqIdExpiresAt) {
      if (own.wsWelcome) {
        await this.ws.respond(own.wsReqId, { msgtype: 'text', text: { content: message.text } }, AIBOT_WS_CMD.respondWelcome);
      } else {
        const id = `reply-${target.messageKey ?? own.wsReqId}`;
        await this.ws.respond(own.wsReqId, { msgtype: 'stream', stream: { id, finish: true, content: aibotMarkdown(message) } });
        // The buttons follow the text as a card on the same req_id (replies to one req_id are sent in order).
        // Best effort: the text already names the commands, and a retry would repeat the text.
        if (message.buttons?.length) await this.ws.respond(own.wsReqId, buttonCard(message.text, message.buttons)).catch(() => undefined);
      }
      return;
    }
    const route = (target.route ?? {}) as { webhookKey?: string; appChatId?: string };
    if (this.http && (route.webhookKey || route.appChatId)) return this.http.send(target, message);
    if (this.ws.ready) {
      await this.ws.push(target.conversationId, { msgtype: 'markdown', markdown: { content: aibotMarkdown(message) } });
      if (message.buttons?.length) await this.ws.push(target.conversationId, buttonCard(message.text, message.buttons)).catch(() => undefined);
      return;
    }
    if (this.http) return this.http.send(target, message);
    throw new UpstreamHttpError('wecom-aibot-ws', null, { cause: new Error('long connection not open') });
  }
}
