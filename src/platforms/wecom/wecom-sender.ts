import type { Logger } from 'pino';
import { PlatformApiError } from '../../core/errors';
import type { OutboundMessage, OutboundTarget, PlatformSender } from '../../core/types';
import type { Clock } from '../clock';
import type { PlatformConfig } from '../config-schema';
import { fetchJson, type JsonResponse } from '../http/fetch-json';
import { parseStoredRoute, rebaseLearnedUrl, type WecomRoute } from '../group-route';
import { checkErrcode, shortMessage } from '../outbound-errors';
import { secretDigest } from '../secret-digest';
import { fitParts, splitIntoNumberedParts } from '../split-by-bytes';
import { withoutTagLine } from '../../core/mention-line';
import { noChannelForRest, sendParts, type PartStep } from '../send-parts';
import { TokenCache } from '../token-cache';

/**
 * WeCom limits in UTF-8 bytes, labels "(i/n)" included:
 * - group robot webhook: text 2048, markdown 4096 (docs path/91770);
 * - appchat/send and message/send: text and markdown 2048 (docs path/90248, 90236; longer text is
 *   silently cut by WeCom, so it must never be sent);
 * - AI-bot response_url: markdown, kept within the webhook's 4096 (docs path/101138 name no limit).
 */
export const WECOM_TEXT_MAX_BYTES = 2048;
export const WECOM_MARKDOWN_MAX_BYTES = 4096;
export const WECOM_APP_MAX_BYTES = 2048;
export const WECOM_AIBOT_MAX_BYTES = 4096;

/** 40014 invalid access_token, 42001 expired: refresh once and retry. */
const TOKEN_INVALID = [40014, 42001];
/** 45009: API frequency limit. The webhook allows 20 messages a minute per robot. */
const RULES = { rateLimited: [45009], retryable: [-1], rateLimitRetryAfterMs: 60_000 };
/** Stop using a response_url a minute before WeCom does. */
const RESPONSE_URL_MARGIN_MS = 60_000;

/** response_url: AI bot; webhook: group robot; appchat: app-created group; message: the app's private message. */
type Channel = 'response_url' | 'webhook' | 'appchat' | 'message';

/** Which channels render a real @ (the others show the names as text). */
const CAN_MENTION: Record<Channel, boolean> = { webhook: true, response_url: false, appchat: false, message: false };

export interface SenderDeps {
  clock: Clock;
  log?: Logger;
}

interface Choice {
  route: WecomRoute;
  channel: Channel | null;
  responseUrl: string | null;
}

/**
 * Sends to a WeCom conversation through the best channel its route allows.
 * - Groups: the AI bot's response_url of the message answered while valid and unused, else the group
 *   robot webhook, else appchat/send (app-created groups), else the latest response_url seen. A message
 *   that @-s people prefers the webhook, the one group channel where an @ renders.
 * - One-to-one chats (route.privateUserId): the answered message's response_url, else message/send
 *   (the self-built app's message to that person).
 * A reply longer than one message goes out in labelled parts; when the single-use response_url takes
 * the first, the rest continue on the next channel that reaches the conversation, or are kept.
 */
export class WecomSender implements PlatformSender {
  readonly platform = 'wecom' as const;
  private readonly tokens: TokenCache | null;
  /** response_url takes one POST: remember the ones spent (until they expire anyway). */
  private readonly spentResponseUrls = new Map<string, number>();

  constructor(
    private readonly config: PlatformConfig,
    private readonly deps: SenderDeps,
  ) {
    this.tokens =
      config.WECOM_CORP_ID && config.WECOM_CORP_SECRET ? new TokenCache(() => this.fetchToken(), deps.clock) : null;
  }

  /**
   * The robot whose budget (20 a minute) a send spends, named without the secret itself:
   * - webhook: the group robot, by a hash of its key (one key may be pasted into several groups);
   * - response_url: the AI bot's answer into this conversation;
   * - appchat: the app's sends into this app-created chat; message: the app's messages to one person.
   * null when there is no route: the send fails at once without spending anything.
   */
  rateKey(target: OutboundTarget, message?: OutboundMessage): string | null {
    const { route, channel } = this.choose(target, this.deps.clock().getTime(), message);
    if (channel === 'webhook') return `wecom:webhook:${secretDigest(route.webhookKey!)}`;
    if (channel === 'response_url') return `wecom:aibot:${target.conversationId}`;
    if (channel === 'appchat') return `wecom:appchat:${route.appChatId!}`;
    if (channel === 'message') return `wecom:message:${route.privateUserId!}`;
    return null;
  }

  /** The channel send() would take now (metrics): response_url, webhook, appchat or message. */
  channelOf(target: OutboundTarget, message: OutboundMessage): string | null {
    return this.choose(target, this.deps.clock().getTime(), message).channel;
  }

  mentionGap(target: OutboundTarget, message: OutboundMessage): string | null {
    const { route, channel } = this.choose(target, this.deps.clock().getTime(), message);
    if (!channel || CAN_MENTION[channel] || route.privateUserId || message.mentions.length === 0) return null;
    return (
      '提示：本群还没有设置群机器人，提醒里的 @ 只能显示为文字，被提醒的同事不会收到 @ 通知。' +
      '请群主在群设置 →「群机器人」→「添加机器人」，复制它的 Webhook 地址，然后在本群发送：/群 机器人=<Webhook 地址>。谢谢！'
    );
  }

  private choose(target: OutboundTarget, now: number, message?: OutboundMessage): Choice {
    const stored = parseStoredRoute(target.route);
    const group: WecomRoute = stored?.kind === 'wecom' ? stored : { kind: 'wecom' };
    const own = parseStoredRoute(target.replyRoute);
    const ownUrl = own?.kind === 'wecom' ? this.usableResponseUrl(own, now) : null;
    // `route` carries the response_url in use, so send() marks the right one spent.
    const viaOwn = (): Choice => ({
      route: { ...group, responseUrl: (own as WecomRoute).responseUrl, responseUrlExpiresAt: (own as WecomRoute).responseUrlExpiresAt },
      channel: 'response_url',
      responseUrl: ownUrl,
    });
    if (group.privateUserId) {
      if (ownUrl) return viaOwn();
      if (this.canMessage()) return { route: group, channel: 'message', responseUrl: null };
    } else {
      const wantsAt = (message?.mentions.length ?? 0) > 0 && !message?.parts;
      if (ownUrl && !(wantsAt && group.webhookKey)) return viaOwn();
      if (group.webhookKey) return { route: group, channel: 'webhook', responseUrl: null };
      if (group.appChatId && this.tokens) return { route: group, channel: 'appchat', responseUrl: null };
    }
    const latest = this.usableResponseUrl(group, now);
    return { route: group, channel: latest ? 'response_url' : null, responseUrl: latest };
  }

  private canMessage(): boolean {
    return Boolean(this.tokens && this.config.WECOM_AGENT_ID);
  }

  /** Where the parts after a response_url's one answer go: the next channel that reaches the same conversation. */
  private continuation(route: WecomRoute): Exclude<Channel, 'response_url'> | null {
    if (route.privateUserId) return this.canMessage() ? 'message' : null;
    if (route.webhookKey) return 'webhook';
    if (route.appChatId && this.tokens) return 'appchat';
    return null;
  }

  async send(target: OutboundTarget, message: OutboundMessage): Promise<void> {
    const now = this.deps.clock().getTime();
    this.pruneSpent(now);
    const { route, channel, responseUrl } = this.choose(target, now, message);
    if (!channel) {
      const how = route.privateUserId ? 'set WECOM_AGENT_ID with the app secret for private messages' : 'set one with /群 机器人=…';
      throw new PlatformApiError('wecom', 'send', 'no_route', `no usable route for this conversation (${how})`, false);
    }
    this.deps.log?.debug({ conversationId: target.conversationId, channel }, 'sending to WeCom');

    if (channel !== 'response_url') return sendParts(this.steps(channel, route, message, maxBytes(channel, message)));

    // One POST only: the first part here, the rest on the next channel, else kept (never cut).
    const next = this.continuation(route);
    // The response_url speaks markdown, so the rest continues as markdown too.
    const asMarkdown: OutboundMessage = { ...message, parts: [], partsMarkdown: true };
    const limit = Math.min(WECOM_AIBOT_MAX_BYTES, next ? maxBytes(next, asMarkdown) : WECOM_AIBOT_MAX_BYTES);
    const parts = partsOf(message, renderFor('response_url', message), limit);
    this.spentResponseUrls.set(route.responseUrl!, route.responseUrlExpiresAt ?? now);
    const first: PartStep = { part: parts[0]!, post: () => this.postResponseUrl(responseUrl!, parts[0]!) };
    if (parts.length === 1) return sendParts([first]);
    if (!next) {
      await sendParts([first]);
      throw noChannelForRest(1, parts.slice(1), 'the AI bot answers once per message and this conversation has no other channel (/群 机器人=…)', true);
    }
    const rest = this.steps(next, route, { ...message, parts: parts.slice(1), partsMarkdown: true, mentions: [] }, limit);
    return sendParts([first, ...rest]);
  }

  /** The posts of one message on one channel: labelled parts within the channel's limit, @ on the first. */
  private steps(channel: Exclude<Channel, 'response_url'>, route: WecomRoute, message: OutboundMessage, limit: number): PartStep[] {
    const markdown = message.parts ? message.partsMarkdown === true : message.markdown !== undefined;
    const parts = partsOf(message, renderFor(channel, message), limit);
    return parts.map((p, i) => ({
      part: p,
      post: () => {
        if (channel === 'webhook') {
          if (markdown) return this.postWebhook(route.webhookKey!, { msgtype: 'markdown', markdown: { content: p } });
          // mentioned_list @-s people after the text; only once, on the first part.
          const text = i === 0 && message.mentions.length > 0 && !message.parts ? { content: p, mentioned_list: message.mentions } : { content: p };
          return this.postWebhook(route.webhookKey!, { msgtype: 'text', text });
        }
        if (channel === 'appchat') {
          const chatid = route.appChatId!;
          return this.postWithToken('appchat/send', markdown ? { chatid, msgtype: 'markdown', markdown: { content: p } } : { chatid, msgtype: 'text', text: { content: p }, safe: 0 });
        }
        const base = { touser: route.privateUserId!, agentid: this.config.WECOM_AGENT_ID! };
        return this.postWithToken('message/send', markdown ? { ...base, msgtype: 'markdown', markdown: { content: p } } : { ...base, msgtype: 'text', text: { content: p }, safe: 0 });
      },
    }));
  }

  private usableResponseUrl(route: WecomRoute, now: number): string | null {
    if (!route.responseUrl || !route.responseUrlExpiresAt) return null;
    if (now >= route.responseUrlExpiresAt - RESPONSE_URL_MARGIN_MS) return null;
    if (this.spentResponseUrls.has(route.responseUrl)) return null;
    const url = rebaseLearnedUrl('wecom', route.responseUrl, this.config);
    if (!url) this.deps.log?.warn('response_url refused: not on the WeCom API base');
    return url;
  }

  private pruneSpent(now: number): void {
    for (const [url, exp] of this.spentResponseUrls) if (exp <= now) this.spentResponseUrls.delete(url);
  }

  private timeout() {
    return this.config.PLATFORM_HTTP_TIMEOUT_MS;
  }

  private async postResponseUrl(url: string, content: string): Promise<void> {
    const res = await fetchJson(url, { body: { msgtype: 'markdown', markdown: { content } }, timeoutMs: this.timeout() });
    checkErrcode('wecom', 'aibot/response', res, RULES);
  }

  private async postWebhook(key: string, body: unknown): Promise<void> {
    const url = `${this.config.WECOM_API_BASE}/cgi-bin/webhook/send?key=${encodeURIComponent(key)}`;
    const res = await fetchJson(url, { body, timeoutMs: this.timeout() });
    checkErrcode('wecom', 'webhook/send', res, RULES);
  }

  /** appchat/send and message/send: the corp token, refreshed once on 40014/42001. */
  private async postWithToken(method: 'appchat/send' | 'message/send', body: unknown): Promise<void> {
    const tokens = this.tokens!;
    const call = async (token: string): Promise<JsonResponse> =>
      fetchJson(`${this.config.WECOM_API_BASE}/cgi-bin/${method}?access_token=${encodeURIComponent(token)}`, {
        body,
        timeoutMs: this.timeout(),
      });
    const token = await tokens.get();
    let res = await call(token);
    if (TOKEN_INVALID.includes(errcodeOf(res))) {
      res = await call(await tokens.refresh(token));
      if (TOKEN_INVALID.includes(errcodeOf(res))) {
        const b = res.body as { errmsg?: unknown };
        throw new PlatformApiError('wecom', method, errcodeOf(res), shortMessage(b.errmsg), true);
      }
    }
    checkErrcode('wecom', method, res, RULES);
    // message/send answers 0 with the userids it could not reach (outside the app's visible range).
    const invalid = (res.body as { invaliduser?: unknown } | null)?.invaliduser;
    if (method === 'message/send' && typeof invalid === 'string' && invalid.trim()) {
      throw new PlatformApiError('wecom', method, 'invaliduser', 'the person is outside the app\'s visible range', false);
    }
  }

  private async fetchToken(): Promise<{ token: string; expiresInSec: number }> {
    const q = new URLSearchParams({ corpid: this.config.WECOM_CORP_ID!, corpsecret: this.config.WECOM_CORP_SECRET! });
    const res = await fetchJson(`${this.config.WECOM_API_BASE}/cgi-bin/gettoken?${q.toString()}`, {
      method: 'GET',
      timeoutMs: this.timeout(),
    });
    checkErrcode('wecom', 'gettoken', res, RULES);
    const b = res.body as { access_token?: unknown; expires_in?: unknown } | null;
    if (!b || typeof b.access_token !== 'string' || typeof b.expires_in !== 'number') {
      throw new PlatformApiError('wecom', 'gettoken', 'bad_response', 'no access_token in answer', true);
    }
    return { token: b.access_token, expiresInSec: b.expires_in };
  }
}

function errcodeOf(res: JsonResponse): number {
  const b = res.body as { errcode?: unknown } | null;
  return b && typeof b.errcode === 'number' ? b.errcode : 0;
}

function maxBytes(channel: Channel, message: OutboundMessage): number {
  if (channel === 'webhook') {
    const markdown = message.parts ? message.partsMarkdown === true : message.markdown !== undefined;
    return markdown ? WECOM_MARKDOWN_MAX_BYTES : WECOM_TEXT_MAX_BYTES;
  }
  return channel === 'response_url' ? WECOM_AIBOT_MAX_BYTES : WECOM_APP_MAX_BYTES;
}

/**
 * The whole content as this channel shows it (parts of an earlier send are taken as they are):
 * - webhook text: the @ comes from mentioned_list, so the "@name" line is dropped;
 * - webhook markdown: `<@userid>` in the content (docs path/91770), in place of that line or first;
 * - response_url, appchat, message/send: no @ syntax is documented; the names stay as text.
 */
function renderFor(channel: Channel, message: OutboundMessage): string {
  const markdown = message.markdown !== undefined;
  const body = message.markdown ?? message.text;
  if (channel !== 'webhook' || message.mentions.length === 0) return body;
  const bare = withoutTagLine(body, message.mentions);
  if (!markdown) return bare ?? body;
  const ats = message.mentions.filter((id) => !body.includes(`<@${id}>`)).map((id) => `<@${id}>`);
  if (ats.length === 0) return body;
  return bare !== null ? `${bare}\n${ats.join(' ')}` : `${ats.join(' ')}\n${body}`;
}

/** Labelled parts within `limit` bytes: kept parts re-fitted, or the content split afresh. */
function partsOf(message: OutboundMessage, content: string, limit: number): string[] {
  return message.parts ? fitParts(message.parts, limit) : splitIntoNumberedParts(content, limit);
}
