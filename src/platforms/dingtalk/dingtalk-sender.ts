import { createHash, randomUUID } from 'node:crypto';
import { PlatformApiError } from '../../core/errors';
import type { OutboundMessage, OutboundTarget, PlatformSender } from '../../core/types';
import type { PlatformConfig } from '../config-schema';
import { PlatformRateLimitError } from '../errors';
import { fetchJson, type JsonResponse } from '../http/fetch-json';
import { parseStoredRoute, rebaseLearnedUrl, type DingtalkRoute } from '../group-route';
import { checkErrcode, shortMessage } from '../outbound-errors';
import { byteLength, fitParts, splitIntoNumberedParts } from '../split-by-bytes';
import { withoutTagLine } from '../../core/mention-line';
import { sendParts } from '../send-parts';
import { TokenCache } from '../token-cache';
import type { SenderDeps } from '../wecom/wecom-sender';
import { secretDigest } from '../secret-digest';
import { dingtalkSign } from './dingtalk-sign';

/** DingTalk refuses a robot message body over 20000 bytes (errcode 460101). */
export const DINGTALK_BODY_MAX_BYTES = 20_000;
/** A reply longer than this goes out as text parts, not as one card (our cap: a card is for a short choice). */
export const DINGTALK_CARD_MAX_BYTES = 4_000;

/** 130101: sending too fast; the custom robot is then blocked for 10 minutes (PROTOCOLS.md). */
const WEBHOOK_RULES = { rateLimited: [130101], retryable: [-1], rateLimitRetryAfterMs: 10 * 60_000 };
/** Stop using a sessionWebhook a minute before DingTalk does. */
const SESSION_MARGIN_MS = 60_000;

/** session: the callback's sessionWebhook; webhook: custom robot; openapi: group send; oto: private send. */
type Channel = 'session' | 'webhook' | 'openapi' | 'oto';

/** robot/groupMessages/send and oToMessages/batchSend take no `at`: an @ renders only on the robot webhooks. */
const CAN_MENTION: Record<Channel, boolean> = { session: true, webhook: true, openapi: false, oto: false };

/**
 * Sends to a DingTalk conversation: through the sessionWebhook of the latest callback while it is
 * valid, else (groups) the custom robot webhook the group configured, else the OpenAPI group send of
 * the enterprise robot; one-to-one chats (route.privateUserId) through robot/oToMessages/batchSend
 * with the person's userId, never the group API.
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
   * - session / openapi / oto: the enterprise robot in this conversation (robotCode + conversation). The
   *   limit is per robot and group, so one busy group does not hold back every other group.
   * null when there is no route: the send fails at once without spending anything.
   */
  rateKey(target: OutboundTarget): string | null {
    const { route, channel, robotCode } = this.choose(target, this.deps.clock().getTime());
    if (channel === 'webhook') return `dingtalk:webhook:${secretDigest(route.webhookAccessToken!)}`;
    if (channel) return `dingtalk:robot:${robotCode ?? 'session'}:${target.conversationId}`;
    return null;
  }

  /** The channel send() would take now (metrics): card, session, webhook, openapi or oto. */
  channelOf(target: OutboundTarget, message: OutboundMessage): string | null {
    return this.cardSpace(target, message) ? 'card' : this.choose(target, this.deps.clock().getTime()).channel;
  }

  mentionGap(target: OutboundTarget, message: OutboundMessage): string | null {
    if (this.cardSpace(target, message)) return null;
    const { route, channel } = this.choose(target, this.deps.clock().getTime());
    if (!channel || CAN_MENTION[channel] || route.privateUserId || message.mentions.length === 0) return null;
    return (
      '提示：本群还没有设置自定义机器人，提醒里的 @ 只能显示为文字，被提醒的同事不会收到 @ 通知。' +
      '请群主在群设置 →「机器人」→「添加机器人」→「自定义」，安全设置选「加签」，复制 Webhook 地址和以 SEC 开头的密钥，' +
      '然后在本群发送：/群 机器人=<Webhook 地址> 密钥=<SEC…>。谢谢！'
    );
  }

  private choose(target: OutboundTarget, now: number) {
    const stored = parseStoredRoute(target.route);
    const route: DingtalkRoute = stored?.kind === 'dingtalk' ? stored : { kind: 'dingtalk' };
    const session = this.usableSession(route, now);
    const robotCode = route.robotCode ?? this.config.DINGTALK_ROBOT_CODE ?? this.config.DINGTALK_APP_KEY;
    const api = Boolean(this.tokens && robotCode);
    let channel: Channel | null;
    if (session) channel = 'session';
    else if (route.privateUserId) channel = api ? 'oto' : null;
    else channel = route.webhookAccessToken ? 'webhook' : api ? 'openapi' : null;
    return { route, session, robotCode, channel };
  }

  async send(target: OutboundTarget, message: OutboundMessage): Promise<void> {
    const card = this.cardSpace(target, message);
    if (card) {
      try {
        return await this.sendCard(target, message, card);
      } catch (err) {
        // A card DingTalk refuses for good (template missing, not associated with the app …) must not
        // cost the reply: it goes out as text, whose lines name the same commands. Retryable failures
        // (network, 5xx, rate limits) are the outbox's to retry.
        if (!(err instanceof PlatformApiError) || err.retryable || err instanceof PlatformRateLimitError) throw err;
        this.deps.log?.warn({ conversationId: target.conversationId, errcode: err.errcode }, 'DingTalk refused the interactive card; sending the reply as text');
      }
    }
    const { route, session, robotCode, channel } = this.choose(target, this.deps.clock().getTime());
    if (!channel) {
      const how = route.privateUserId ? 'set DINGTALK_APP_KEY and DINGTALK_APP_SECRET for private messages' : 'set one with /群 机器人=…';
      throw new PlatformApiError('dingtalk', 'send', 'no_route', `no usable route for this conversation (${how})`, false);
    }
    this.deps.log?.debug({ conversationId: target.conversationId, channel }, 'sending to DingTalk');
    const markdown = message.parts ? message.partsMarkdown === true : message.markdown !== undefined;
    const content = message.parts ? '' : CAN_MENTION[channel] ? contentOf(message) : (message.markdown ?? message.text);
    const title = titleOf(message.parts ? (message.parts[0] ?? '') : content);

    if (channel === 'openapi' || channel === 'oto') {
      const build = (p: string) =>
        channel === 'oto'
          ? { robotCode: robotCode!, userIds: [route.privateUserId!], ...msgOf(markdown, p, title) }
          : { robotCode: robotCode!, openConversationId: target.conversationId, ...msgOf(markdown, p, title) };
      const bodies = this.parts(message, content, build);
      return sendParts(bodies.map(({ part, body }) => ({ part, post: () => (channel === 'oto' ? this.postOto(body) : this.postOpenApi(body)) })));
    }
    const bodies = this.parts(message, content, (p) => robotBody(markdown, message.parts ? [] : message.mentions, p, title));
    return sendParts(
      bodies.map(({ part, body }) => ({ part, post: () => (channel === 'session' ? this.postSession(session!, body) : this.postWebhook(route, body)) })),
    );
  }

  /**
   * Where a message with buttons can go as an interactive card: a template is configured, the app can
   * call the OpenAPI, the clicks can reach us (Stream mode: the card is created with callbackType
   * STREAM), the message is whole (not the kept rest of a longer one) and short enough for one card,
   * and every button has its token. null: send text as usual.
   */
  private cardSpace(target: OutboundTarget, message: OutboundMessage): { robotCode: string; privateUserId?: string } | null {
    const buttons = message.buttons ?? [];
    if (!buttons.length || message.parts || !buttons.every((b) => b.token)) return null;
    if (!this.config.DINGTALK_CARD_TEMPLATE_ID || this.config.DINGTALK_MODE !== 'stream' || !this.tokens) return null;
    if (byteLength(message.markdown ?? message.text) > DINGTALK_CARD_MAX_BYTES) return null;
    const stored = parseStoredRoute(target.route);
    const route: DingtalkRoute = stored?.kind === 'dingtalk' ? stored : { kind: 'dingtalk' };
    const robotCode = route.robotCode ?? this.config.DINGTALK_ROBOT_CODE ?? this.config.DINGTALK_APP_KEY;
    if (!robotCode) return null;
    return route.privateUserId ? { robotCode, privateUserId: route.privateUserId } : { robotCode };
  }

  /**
   * One interactive card (卡片平台 POST /v1.0/card/instances/createAndDeliver): the reply as markdown,
   * one 回传请求 button per command whose actionId is the button's token. The click comes back on the
   * Stream topic /v1.0/card/instances/callback with that token in cardPrivateData.actionIds; the core
   * reads the command from card_actions. The @ of a group card is imGroupOpenDeliverModel.atUserIds.
   * outTrackId is derived from the outbox row, so a retry after a lost answer cannot post a second card
   * (DingTalk keeps one card per outTrackId).
   * atUserIds maps each userId to the person's roster name (DingTalk's SDK passes the nickname there).
   * Unconfirmed: the openSpaceId casing of one-to-one chats (`im_robot` here, as a firm running it
   * reported; DingTalk's own SDK writes IM_ROBOT).
   */
  private async sendCard(target: OutboundTarget, message: OutboundMessage, space: { robotCode: string; privateUserId?: string }): Promise<void> {
    const content = message.markdown ?? message.text;
    const atUserIds = Object.fromEntries(message.mentions.map((id) => [id, message.mentionNames?.[id] ?? id]));
    const outTrackId = `spb-${createHash('sha256').update(`${target.platform}:${target.conversationId}:${target.messageKey ?? randomUUID()}`).digest('hex').slice(0, 40)}`;
    const cardParamMap = {
      title: titleOf(content),
      markdown: content,
      buttons: JSON.stringify(message.buttons!.map((b) => ({ label: b.label, actionId: b.token! }))),
    };
    const common = {
      cardTemplateId: this.config.DINGTALK_CARD_TEMPLATE_ID!,
      outTrackId,
      callbackType: 'STREAM',
      cardData: { cardParamMap },
      userIdType: 1,
    };
    const body = space.privateUserId
      ? {
          ...common,
          openSpaceId: `dtv1.card//im_robot.${space.privateUserId}`,
          imRobotOpenSpaceModel: { supportForward: false },
          imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode: space.robotCode },
        }
      : {
          ...common,
          openSpaceId: `dtv1.card//IM_GROUP.${target.conversationId}`,
          imGroupOpenSpaceModel: { supportForward: false },
          imGroupOpenDeliverModel: { robotCode: space.robotCode, ...(message.mentions.length ? { atUserIds } : {}) },
        };
    const res = await this.callOpenApi('card/instances/createAndDeliver', body);
    // 200 can still report a space the card did not reach.
    const results = (res.body as { result?: { deliverResults?: { success?: unknown; errorMsg?: unknown }[] } } | null)?.result?.deliverResults;
    const failed = Array.isArray(results) ? results.find((r) => r.success === false) : undefined;
    if (failed) throw new PlatformApiError('dingtalk', 'card/instances/createAndDeliver', 'deliver_failed', shortMessage(failed.errorMsg), false);
  }

  /**
   * Split the content so every complete JSON body stays within 20000 bytes. JSON escaping can grow
   * the text ("\n" → "\\n"), so measure real bodies and shrink the budget until all fit. Parts kept
   * from an earlier partial send are re-fitted, not labelled again.
   */
  private parts(message: OutboundMessage, content: string, build: (content: string) => unknown): { part: string; body: unknown }[] {
    let budget = DINGTALK_BODY_MAX_BYTES - byteLength(JSON.stringify(build(''))) - 64;
    for (let attempt = 0; attempt < 20; attempt++) {
      const pieces = message.parts ? fitParts(message.parts, budget) : splitIntoNumberedParts(content, budget);
      const bodies = pieces.map((p) => ({ part: p, body: build(p) }));
      if (bodies.every((b) => byteLength(JSON.stringify(b.body)) <= DINGTALK_BODY_MAX_BYTES)) return bodies;
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

  private async postOpenApi(body: unknown): Promise<void> {
    await this.callOpenApi('robot/groupMessages/send', body);
  }

  /** Private send: answers 200 with the userIds it could not reach (invalid or flow-controlled). */
  private async postOto(body: unknown): Promise<void> {
    const res = await this.callOpenApi('robot/oToMessages/batchSend', body);
    const b = res.body as { invalidStaffIdList?: unknown; flowControlledStaffIdList?: unknown } | null;
    if (Array.isArray(b?.flowControlledStaffIdList) && b.flowControlledStaffIdList.length > 0) {
      throw new PlatformRateLimitError('dingtalk', 'robot/oToMessages/batchSend', 'flowControlled', 'the person is flow-controlled', 60_000);
    }
    if (Array.isArray(b?.invalidStaffIdList) && b.invalidStaffIdList.length > 0) {
      throw new PlatformApiError('dingtalk', 'robot/oToMessages/batchSend', 'invalidStaffId', 'the userId is not in this organisation', false);
    }
  }

  private async callOpenApi(method: string, body: unknown): Promise<JsonResponse> {
    const tokens = this.tokens!;
    const url = `${this.config.DINGTALK_API_BASE}/v1.0/${method}`;
    const call = (token: string) =>
      fetchJson(url, {
        body,
        headers: { 'x-acs-dingtalk-access-token': token },
        timeoutMs: this.config.PLATFORM_HTTP_TIMEOUT_MS,
      });
    const token = await tokens.get();
    let res = await call(token);
    if (openApiTokenInvalid(res)) res = await call(await tokens.refresh(token));
    checkOpenApi(method, res);
    return res;
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
 * at.atUserIds and written in the content, and shows it as "@name". The core's own "@name" line is
 * replaced by them (so the names are not shown twice); without one, text puts them first and markdown
 * last, so a leading heading still renders.
 */
function contentOf(message: OutboundMessage): string {
  const body = message.markdown ?? message.text;
  const missing = message.mentions.filter((id) => !body.includes(`@${id}`));
  if (missing.length === 0) return body;
  const ats = missing.map((id) => `@${id}`).join(' ');
  const bare = withoutTagLine(body, message.mentions);
  if (bare !== null) return `${bare}${message.markdown !== undefined ? '\n\n' : '\n'}${message.mentions.map((id) => `@${id}`).join(' ')}`;
  return message.markdown !== undefined ? `${body}\n\n${ats}` : `${ats} ${body}`;
}

/** at.atUserIds only for the ids this part's text carries (the @ renders where both are). */
function robotBody(markdown: boolean, mentions: string[], content: string, title: string) {
  const at = { atUserIds: mentions.filter((id) => content.includes(`@${id}`)), isAtAll: false };
  if (markdown) return { msgtype: 'markdown', markdown: { title, text: content }, at };
  return { msgtype: 'text', text: { content }, at };
}

/** OpenAPI message templates: sampleText {content} or sampleMarkdown {title, text}, msgParam as a JSON string. */
function msgOf(markdown: boolean, content: string, title: string) {
  return markdown
    ? { msgKey: 'sampleMarkdown', msgParam: JSON.stringify({ title, text: content }) }
    : { msgKey: 'sampleText', msgParam: JSON.stringify({ content }) };
}

/** Markdown messages need a title (shown in the notification): the first line, plain, short. */
function titleOf(content: string): string {
  const line = content.split('\n').find((l) => l.trim()) ?? '';
  const plain = line.replace(/@\S+/g, '').replace(/[#>*`_[\]()]/g, '').trim();
  return Array.from(plain).slice(0, 30).join('') || '消息';
}
