import type { Logger } from 'pino';
import { PlatformApiError } from '../../core/errors';
import type { OutboundMessage, OutboundTarget, PlatformSender } from '../../core/types';
import type { Clock } from '../clock';
import type { PlatformConfig } from '../config-schema';
import { fetchJson, type JsonResponse } from '../http/fetch-json';
import { parseStoredRoute, rebaseLearnedUrl, type WecomRoute } from '../group-route';
import { checkErrcode, shortMessage } from '../outbound-errors';
import { secretDigest } from '../secret-digest';
import { splitIntoNumberedParts } from '../split-by-bytes';
import { TokenCache } from '../token-cache';

/** WeCom limits in UTF-8 bytes (docs path/91770). */
export const WECOM_TEXT_MAX_BYTES = 2048;
export const WECOM_MARKDOWN_MAX_BYTES = 4096;

/** 40014 invalid access_token, 42001 expired: refresh once and retry. */
const TOKEN_INVALID = [40014, 42001];
/** 45009: API frequency limit. The webhook allows 20 messages a minute per robot. */
const RULES = { rateLimited: [45009], retryable: [-1], rateLimitRetryAfterMs: 60_000 };
/** Stop using a response_url a minute before WeCom does. */
const RESPONSE_URL_MARGIN_MS = 60_000;

type Channel = 'response_url' | 'webhook' | 'appchat';

export interface SenderDeps {
  clock: Clock;
  log?: Logger;
}

/**
 * Sends to a WeCom group through the best channel its route allows: the AI bot's response_url while
 * valid and unused, else the group robot webhook, else appchat/send (app-created groups).
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
   * - appchat: the app's sends into this app-created chat.
   * null when there is no route: the send fails at once without spending anything.
   */
  rateKey(target: OutboundTarget): string | null {
    const { route, channel } = this.choose(target, this.deps.clock().getTime());
    if (channel === 'webhook') return `wecom:webhook:${secretDigest(route.webhookKey!)}`;
    if (channel === 'response_url') return `wecom:aibot:${target.conversationId}`;
    if (channel === 'appchat') return `wecom:appchat:${route.appChatId!}`;
    return null;
  }

  /**
   * A reply goes through its own message's response_url while that is valid and unused; otherwise
   * (and for posts that answer nothing) the group robot, then appchat; only a group with neither
   * falls back to the latest response_url the group has seen.
   */
  private choose(target: OutboundTarget, now: number): { route: WecomRoute; channel: Channel | null; responseUrl: string | null } {
    const stored = parseStoredRoute(target.route);
    const group: WecomRoute = stored?.kind === 'wecom' ? stored : { kind: 'wecom' };
    const own = parseStoredRoute(target.replyRoute);
    const ownUrl = own?.kind === 'wecom' ? this.usableResponseUrl(own, now) : null;
    // `route` carries the response_url in use, so send() marks the right one spent.
    if (ownUrl && own?.kind === 'wecom') {
      const route = { ...group, responseUrl: own.responseUrl, responseUrlExpiresAt: own.responseUrlExpiresAt };
      return { route, channel: 'response_url', responseUrl: ownUrl };
    }
    if (group.webhookKey) return { route: group, channel: 'webhook', responseUrl: null };
    if (group.appChatId && this.tokens) return { route: group, channel: 'appchat', responseUrl: null };
    const latest = this.usableResponseUrl(group, now);
    return { route: group, channel: latest ? 'response_url' : null, responseUrl: latest };
  }

  async send(target: OutboundTarget, message: OutboundMessage): Promise<void> {
    const now = this.deps.clock().getTime();
    this.pruneSpent(now);
    const { route, channel, responseUrl } = this.choose(target, now);
    if (!channel) {
      throw new PlatformApiError('wecom', 'send', 'no_route', 'no usable route for this group (set one with /群 机器人=…)', false);
    }
    this.deps.log?.debug({ conversationId: target.conversationId, channel }, 'sending to WeCom');

    if (channel === 'response_url') {
      const parts = splitIntoNumberedParts(markdownOf(message), WECOM_MARKDOWN_MAX_BYTES);
      this.spentResponseUrls.set(route.responseUrl!, route.responseUrlExpiresAt ?? now);
      if (parts.length === 1 || !route.webhookKey) {
        // One POST only: a longer answer without a webhook to continue on is cut, and says so.
        const content = parts.length === 1 ? parts[0]! : `${parts[0]!}\n…（内容过长，后续部分未能发送）`;
        return this.postResponseUrl(responseUrl!, content);
      }
      await this.postResponseUrl(responseUrl!, parts[0]!);
      for (const p of parts.slice(1)) await this.postWebhook(route.webhookKey, { msgtype: 'markdown', markdown: { content: p } });
      return;
    }

    if (channel === 'webhook') {
      if (message.markdown !== undefined) {
        for (const p of splitIntoNumberedParts(markdownOf(message), WECOM_MARKDOWN_MAX_BYTES)) {
          await this.postWebhook(route.webhookKey!, { msgtype: 'markdown', markdown: { content: p } });
        }
        return;
      }
      const parts = splitIntoNumberedParts(message.text, WECOM_TEXT_MAX_BYTES);
      for (const [i, p] of parts.entries()) {
        // mentioned_list @-s people after the text; only once, on the first part.
        const text = i === 0 && message.mentions.length > 0 ? { content: p, mentioned_list: message.mentions } : { content: p };
        await this.postWebhook(route.webhookKey!, { msgtype: 'text', text });
      }
      return;
    }

    const chatid = route.appChatId!;
    if (message.markdown !== undefined) {
      for (const p of splitIntoNumberedParts(message.markdown, WECOM_MARKDOWN_MAX_BYTES)) {
        await this.postAppchat({ chatid, msgtype: 'markdown', markdown: { content: p } });
      }
      return;
    }
    for (const p of splitIntoNumberedParts(message.text, WECOM_TEXT_MAX_BYTES)) {
      await this.postAppchat({ chatid, msgtype: 'text', text: { content: p }, safe: 0 });
    }
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

  private async postAppchat(body: unknown): Promise<void> {
    const tokens = this.tokens!;
    const call = async (token: string): Promise<JsonResponse> =>
      fetchJson(`${this.config.WECOM_API_BASE}/cgi-bin/appchat/send?access_token=${encodeURIComponent(token)}`, {
        body,
        timeoutMs: this.timeout(),
      });
    const token = await tokens.get();
    let res = await call(token);
    if (TOKEN_INVALID.includes(errcodeOf(res))) {
      res = await call(await tokens.refresh(token));
      if (TOKEN_INVALID.includes(errcodeOf(res))) {
        const b = res.body as { errmsg?: unknown };
        throw new PlatformApiError('wecom', 'appchat/send', errcodeOf(res), shortMessage(b.errmsg), true);
      }
    }
    checkErrcode('wecom', 'appchat/send', res, RULES);
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

/** Markdown with `<@userid>` for each mention not already written in it. */
function markdownOf(message: OutboundMessage): string {
  const md = message.markdown ?? message.text;
  const missing = message.mentions.filter((id) => !md.includes(`<@${id}>`));
  return missing.length > 0 ? `${missing.map((id) => `<@${id}>`).join(' ')}\n${md}` : md;
}
