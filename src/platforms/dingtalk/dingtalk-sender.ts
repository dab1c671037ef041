import { PlatformApiError } from '../../core/errors';
import type { OutboundMessage, OutboundTarget, PlatformSender } from '../../core/types';
import type { PlatformConfig } from '../config-schema';
import { PlatformRateLimitError } from '../errors';
import { fetchJson, type JsonResponse } from '../http/fetch-json';
import { parseStoredRoute, rebaseLearnedUrl, type DingtalkRoute } from '../group-route';
import { checkErrcode, shortMessage } from '../outbound-errors';
import { byteLength, splitIntoNumberedParts } from '../split-by-bytes';
import { TokenCache } from '../token-cache';
import type { SenderDeps } from '../wecom/wecom-sender';
import { secretDigest } from '../secret-digest';
import { dingtalkSign } from './dingtalk-sign';

/** DingTalk refuses a robot message body over 20000 bytes (errcode 460101). */
export const DINGTALK_BODY_MAX_BYTES = 20_000;

/** 130101: sending too fast; the custom robot is then blocked for 10 minutes (PROTOCOLS.md). */
const WEBHOOK_RULES = { rateLimited: [130101], retryable: [-1], rateLimitRetryAfterMs: 10 * 60_000 };
/** Stop using a sessionWebhook a minute before DingTalk does. */
const SESSION_MARGIN_MS = 60_000;

type Channel = 'session' | 'webhook' | 'openapi';

/**
 * Sends to a DingTalk group: through the sessionWebhook of the latest callback while it is valid,
 * else the custom robot webhook the group configured, else the OpenAPI group send of the enterprise
 * robot (needs the app credentials).
 */
export class DingtalkSender implements PlatformSender {
  readonly platform = 'dingtalk' as const;
  private readonly tokens: TokenCache | null;

  constructor(
    private readonly config: PlatformConfig,
    private readonly deps: SenderDeps,
  ) {
    this.tokens =
      config.DINGTALK_APP_KEY && config.DINGTALK_APP_SECRET ? new TokenCache(() => this.fetchToken(), deps.clock) : null;
  }

  /**
   * The robot whose budget (20 a minute, then a 10-minute block) a send spends, named without secrets:
   * - webhook: the custom robot, by a hash of its access_token;
   * - session / openapi: the enterprise robot in this conversation (robotCode + conversation). The
   *   limit is per robot and group, so one busy group does not hold back every other group.
   * null when there is no route: the send fails at once without spending anything.
   */
  rateKey(target: OutboundTarget): string | null {
    const { route, channel, robotCode } = this.choose(target, this.deps.clock().getTime());
    if (channel === 'webhook') return `dingtalk:webhook:${secretDigest(route.webhookAccessToken!)}`;
    if (channel === 'session' || channel === 'openapi') return `dingtalk:robot:${robotCode ?? 'session'}:${target.conversationId}`;
    return null;
  }

  private choose(target: OutboundTarget, now: number) {
    const stored = parseStoredRoute(target.route);
    const route: DingtalkRoute = stored?.kind === 'dingtalk' ? stored : { kind: 'dingtalk' };
    const session = this.usableSession(route, now);
    const robotCode = route.robotCode ?? this.config.DINGTALK_ROBOT_CODE ?? this.config.DINGTALK_APP_KEY;
    const channel: Channel | null = session
      ? 'session'
      : route.webhookAccessToken
        ? 'webhook'
        : this.tokens && robotCode
          ? 'openapi'
          : null;
    return { route, session, robotCode, channel };
  }

  async send(target: OutboundTarget, message: OutboundMessage): Promise<void> {
    const { route, session, robotCode, channel } = this.choose(target, this.deps.clock().getTime());
    if (!channel) {
      throw new PlatformApiError('dingtalk', 'send', 'no_route', 'no usable route for this group (set one with /群 机器人=…)', false);
    }
    this.deps.log?.debug({ conversationId: target.conversationId, channel }, 'sending to DingTalk');

    if (channel === 'openapi') {
      const title = titleOf(contentOf(message));
      for (const part of this.parts(message, (p) => this.openApiBody(robotCode!, target.conversationId, message, p, title))) {
        await this.postOpenApi(part);
      }
      return;
    }
    const title = titleOf(contentOf(message));
    const markdownMentionsLast = message.markdown !== undefined;
    const bodies = this.parts(message, (p, i, n) => robotBody(message, p, markdownMentionsLast ? i === n - 1 : i === 0, title));
    for (const body of bodies) {
      if (channel === 'session') await this.postSession(session!, body);
      else await this.postWebhook(route, body);
    }
  }

  /**
   * Split the content so every complete JSON body stays within 20000 bytes. JSON escaping can grow
   * the text ("\n" → "\\n"), so measure real bodies and shrink the budget until all fit.
   */
  private parts(message: OutboundMessage, build: (content: string, index: number, count: number) => unknown): unknown[] {
    const content = contentOf(message);
    let budget = DINGTALK_BODY_MAX_BYTES - byteLength(JSON.stringify(build('', 0, 1))) - 64;
    for (let attempt = 0; attempt < 20; attempt++) {
      const pieces = splitIntoNumberedParts(content, budget);
      const bodies = pieces.map((p, i) => build(p, i, pieces.length));
      if (bodies.every((b) => byteLength(JSON.stringify(b)) <= DINGTALK_BODY_MAX_BYTES)) return bodies;
      budget = Math.floor(budget * 0.8);
    }
    throw new PlatformApiError('dingtalk', 'send', 'too_long', 'message could not be split to fit', false);
  }

  private usableSession(route: DingtalkRoute, now: number): string | null {
    if (!route.sessionWebhook || !route.sessionWebhookExpiresAt) return null;
    if (now >= route.sessionWebhookExpiresAt - SESSION_MARGIN_MS) return null;
    const url = rebaseLearnedUrl('dingtalk', route.sessionWebhook, this.config);
    if (!url) this.deps.log?.warn('sessionWebhook refused: not on the DingTalk oapi base');
    return url;
  }

  private async postSession(url: string, body: unknown): Promise<void> {
    const res = await fetchJson(url, { body, timeoutMs: this.config.PLATFORM_HTTP_TIMEOUT_MS });
    checkErrcode('dingtalk', 'robot/sendBySession', res, WEBHOOK_RULES);
  }

  /** Custom robot: timestamp and sign both in the URL; URLSearchParams percent-encodes the sign exactly once. */
  private async postWebhook(route: DingtalkRoute, body: unknown): Promise<void> {
    const url = new URL(`${this.config.DINGTALK_OAPI_BASE}/robot/send`);
    url.searchParams.set('access_token', route.webhookAccessToken!);
    if (route.webhookSecret) {
      const timestamp = String(this.deps.clock().getTime());
      url.searchParams.set('timestamp', timestamp);
      url.searchParams.set('sign', dingtalkSign(timestamp, route.webhookSecret));
    }
    const res = await fetchJson(url.toString(), { body, timeoutMs: this.config.PLATFORM_HTTP_TIMEOUT_MS });
    checkErrcode('dingtalk', 'robot/send', res, WEBHOOK_RULES);
  }

  private openApiBody(robotCode: string, conversationId: string, message: OutboundMessage, content: string, title: string) {
    const markdown = message.markdown !== undefined;
    return {
      robotCode,
      openConversationId: conversationId,
      msgKey: markdown ? 'sampleMarkdown' : 'sampleText',
      msgParam: JSON.stringify(markdown ? { title, text: content } : { content }),
    };
  }

  private async postOpenApi(body: unknown): Promise<void> {
    const tokens = this.tokens!;
    const url = `${this.config.DINGTALK_API_BASE}/v1.0/robot/groupMessages/send`;
    const call = (token: string) =>
      fetchJson(url, {
        body,
        headers: { 'x-acs-dingtalk-access-token': token },
        timeoutMs: this.config.PLATFORM_HTTP_TIMEOUT_MS,
      });
    const token = await tokens.get();
    let res = await call(token);
    if (openApiTokenInvalid(res)) res = await call(await tokens.refresh(token));
    checkOpenApi('robot/groupMessages/send', res);
  }

  private async fetchToken(): Promise<{ token: string; expiresInSec: number }> {
    const res = await fetchJson(`${this.config.DINGTALK_API_BASE}/v1.0/oauth2/accessToken`, {
      body: { appKey: this.config.DINGTALK_APP_KEY, appSecret: this.config.DINGTALK_APP_SECRET },
      timeoutMs: this.config.PLATFORM_HTTP_TIMEOUT_MS,
    });
    checkOpenApi('oauth2/accessToken', res);
    const b = res.body as { accessToken?: unknown; expireIn?: unknown } | null;
    if (!b || typeof b.accessToken !== 'string' || typeof b.expireIn !== 'number') {
      throw new PlatformApiError('dingtalk', 'oauth2/accessToken', 'bad_response', 'no accessToken in answer', true);
    }
    return { token: b.accessToken, expiresInSec: b.expireIn };
  }
}

/** api.dingtalk.com answers errors as HTTP 4xx with {code, message}. */
function openApiTokenInvalid(res: JsonResponse): boolean {
  const code = (res.body as { code?: unknown } | null)?.code;
  return res.status === 401 || code === 'InvalidAuthentication' || code === 'Forbidden.AccessDenied.AccessTokenPermissionDenied';
}

function checkOpenApi(method: string, res: JsonResponse): void {
  if (res.status >= 200 && res.status < 300) return;
  const b = res.body as { code?: unknown; message?: unknown } | null;
  const code = typeof b?.code === 'string' ? b.code : `http_${res.status}`;
  const msg = shortMessage(b?.message);
  if (res.status === 429 || /QpsLimit|Throttl|Flow/i.test(code)) {
    throw new PlatformRateLimitError('dingtalk', method, code, msg, 60_000);
  }
  throw new PlatformApiError('dingtalk', method, code, msg, openApiTokenInvalid(res));
}

/**
 * The text with "@userid" for every mention: DingTalk renders an @ only when the id is both in
 * at.atUserIds and written in the content. Text puts them first; markdown last, so a leading
 * heading still renders.
 */
function contentOf(message: OutboundMessage): string {
  const body = message.markdown ?? message.text;
  const missing = message.mentions.filter((id) => !body.includes(`@${id}`));
  if (missing.length === 0) return body;
  const ats = missing.map((id) => `@${id}`).join(' ');
  return message.markdown !== undefined ? `${body}\n\n${ats}` : `${ats} ${body}`;
}

function robotBody(message: OutboundMessage, content: string, carriesMentions: boolean, title: string) {
  // at.atUserIds only on the part whose text carries the "@userid"s.
  const at = { atUserIds: carriesMentions ? message.mentions : [], isAtAll: false };
  if (message.markdown !== undefined) {
    return { msgtype: 'markdown', markdown: { title, text: content }, at };
  }
  return { msgtype: 'text', text: { content }, at };
}

/** Markdown messages need a title (shown in the notification): the first line, plain, short. */
function titleOf(content: string): string {
  const line = content.split('\n').find((l) => l.trim()) ?? '';
  const plain = line.replace(/@\S+/g, '').replace(/[#>*`_[\]()]/g, '').trim();
  return Array.from(plain).slice(0, 30).join('') || '消息';
}
