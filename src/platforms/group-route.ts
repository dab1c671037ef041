import { z } from 'zod';
import type { InboundMessage, Platform } from '../core/types';
import type { PlatformConfig } from './config-schema';

/**
 * How to reach one group, stored as JSON with the group (OutboundTarget.route). One object per
 * platform, discriminated by `kind`; each field is one way to send, and the sender picks the best
 * one still valid. Callbacks teach some fields (routeFromInbound), the chat command
 * `/群 机器人=…` others (parseRouteSetting); the core merges them with mergeRoute.
 */

export const wecomRouteSchema = z.object({
  kind: z.literal('wecom'),
  /** Group robot (群机器人) webhook key: POST {WECOM_API_BASE}/cgi-bin/webhook/send?key=… */
  webhookKey: z.string().min(1).optional(),
  /** Chat id of an app-created group (应用群聊): appchat/send with the corp token. */
  appChatId: z.string().min(1).optional(),
  /** AI bot response_url of the latest @-message: one POST, valid for an hour. */
  responseUrl: z.string().min(1).optional(),
  /** Epoch milliseconds. */
  responseUrlExpiresAt: z.number().optional(),
  /** A one-to-one chat with this userid: the self-built app's message/send reaches it (agent message). */
  privateUserId: z.string().min(1).optional(),
});

export const dingtalkRouteSchema = z.object({
  kind: z.literal('dingtalk'),
  /** Custom robot (自定义机器人) webhook: access_token, and the SEC… signing secret if enabled. */
  webhookAccessToken: z.string().min(1).optional(),
  webhookSecret: z.string().min(1).optional(),
  /** sessionWebhook of the latest callback, usable until sessionWebhookExpiresAt (epoch ms). */
  sessionWebhook: z.string().min(1).optional(),
  sessionWebhookExpiresAt: z.number().optional(),
  /** Enterprise robot code for the OpenAPI group send (defaults to DINGTALK_ROBOT_CODE / app key). */
  robotCode: z.string().min(1).optional(),
  /** A one-to-one chat with this staff id: robot/oToMessages/batchSend reaches it, never the group API. */
  privateUserId: z.string().min(1).optional(),
});

export const groupRouteSchema = z.discriminatedUnion('kind', [wecomRouteSchema, dingtalkRouteSchema]);

export type WecomRoute = z.infer<typeof wecomRouteSchema>;
export type DingtalkRoute = z.infer<typeof dingtalkRouteSchema>;
export type GroupRoute = z.infer<typeof groupRouteSchema>;

/** A stored route, or null if it is absent or not one of ours. */
export function parseStoredRoute(value: unknown): GroupRoute | null {
  const r = groupRouteSchema.safeParse(value);
  return r.success ? r.data : null;
}

/** Learned fields win; a route of the other platform is replaced. */
export function mergeRoute(stored: unknown, learned: GroupRoute): GroupRoute {
  const old = parseStoredRoute(stored);
  if (!old || old.kind !== learned.kind) return learned;
  const defined = Object.fromEntries(Object.entries(learned).filter(([, v]) => v !== undefined));
  return { ...old, ...defined } as GroupRoute;
}

/** The route facts a verified callback carried (AI bot response_url, DingTalk sessionWebhook + robotCode). */
export function routeFromInbound(msg: InboundMessage): GroupRoute | null {
  if (!msg.route) return null;
  const r = parseStoredRoute(msg.route);
  return r && r.kind === msg.platform ? r : null;
}

/**
 * A one-to-one chat teaches who is on the other end (WeCom userid, DingTalk staffId), so replies and
 * later posts go through the platform's private send (WeCom message/send, DingTalk oToMessages) and
 * never through a group API with a private conversation id.
 */
export function withPrivateRoute(msg: InboundMessage): InboundMessage {
  if (msg.conversationType !== 'single' || (msg.platform !== 'wecom' && msg.platform !== 'dingtalk')) return msg;
  const learned = msg.route && (msg.route as { kind?: unknown }).kind === msg.platform ? msg.route : { kind: msg.platform };
  return { ...msg, route: { ...learned, privateUserId: msg.senderId } };
}

export type BaseUrls = Pick<PlatformConfig, 'WECOM_API_BASE' | 'DINGTALK_OAPI_BASE'>;

const OFFICIAL = { wecom: 'https://qyapi.weixin.qq.com', dingtalk: 'https://oapi.dingtalk.com' } as const;

/**
 * Webhook URL policy. A URL pasted by a user or learned from a callback is accepted only when it
 * points at the platform's official host or at the configured base URL (same origin, and under the
 * base's path prefix if it has one), and its path is the expected endpoint. Anything else is refused,
 * so a chat command cannot make the bot POST to an arbitrary host. Only the credential part (key,
 * access_token, session path) is kept; sending always rebuilds the URL on the configured base, so a
 * proxy or test base set in the config is honoured even for URLs that name the official host.
 *
 * Returns the path + query relative to the base, or null when refused.
 */
export function relativeToBase(url: string, official: string, configuredBase: string, pathPrefix: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.username || u.password) return null;
  for (const base of [configuredBase, official]) {
    const b = new URL(base);
    if (u.origin !== b.origin) continue;
    const basePath = b.pathname.replace(/\/+$/, '');
    if (!u.pathname.startsWith(`${basePath}/`)) continue;
    const rest = u.pathname.slice(basePath.length);
    if (!rest.startsWith(pathPrefix)) continue;
    return rest + u.search;
  }
  return null;
}

/** Where a learned URL (response_url, sessionWebhook) is actually sent, or null when refused. */
export function rebaseLearnedUrl(
  platform: 'wecom' | 'dingtalk',
  url: string,
  bases: BaseUrls,
): string | null {
  const base = platform === 'wecom' ? bases.WECOM_API_BASE : bases.DINGTALK_OAPI_BASE;
  // response_url: /cgi-bin/aibot/response?response_code=…; sessionWebhook: /robot/sendBySession?session=…
  const rel = relativeToBase(url, OFFICIAL[platform], base, platform === 'wecom' ? '/cgi-bin/' : '/robot/');
  return rel === null ? null : base + rel;
}

export type RouteSettingResult = { ok: true; route: GroupRoute } | { ok: false; reason: string };

const WECOM_KEY = /^[A-Za-z0-9-]{8,100}$/;
const DINGTALK_TOKEN = /^[A-Za-z0-9]{16,128}$/;
const DINGTALK_SECRET = /^SEC[A-Za-z0-9]{16,128}$/;

/**
 * Parse the value of the chat command `/群 机器人=<…>` (STYLE.md #4: a reason that tells the user the right form).
 * - WeCom: a bare webhook key, or the whole webhook URL …/cgi-bin/webhook/send?key=KEY.
 * - DingTalk: the webhook URL …/robot/send?access_token=TOKEN, optionally followed by the signing
 *   secret, as `secret=SEC…` or just `SEC…` (separated by a space).
 */
export function parseRouteSetting(
  platform: Platform,
  value: string,
  bases: BaseUrls = { WECOM_API_BASE: OFFICIAL.wecom, DINGTALK_OAPI_BASE: OFFICIAL.dingtalk },
): RouteSettingResult {
  const v = value.trim();
  if (platform === 'wecom') {
    const form = '请发送群机器人的 Webhook 地址或其中的 key，例如：/群 机器人=https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=xxxx';
    if (WECOM_KEY.test(v)) return { ok: true, route: { kind: 'wecom', webhookKey: v } };
    if (!/^https?:\/\//i.test(v)) return { ok: false, reason: `无法识别的机器人设置。${form}` };
    const rel = relativeToBase(v, OFFICIAL.wecom, bases.WECOM_API_BASE, '/cgi-bin/webhook/send');
    if (rel === null || rel.split('?')[0] !== '/cgi-bin/webhook/send') {
      return { ok: false, reason: `只接受企业微信官方（或本服务配置的）Webhook 地址。${form}` };
    }
    const key = new URLSearchParams(rel.split('?')[1] ?? '').get('key');
    if (!key || !WECOM_KEY.test(key)) return { ok: false, reason: `Webhook 地址中缺少有效的 key。${form}` };
    return { ok: true, route: { kind: 'wecom', webhookKey: key } };
  }
  if (platform === 'dingtalk') {
    const form =
      '请发送自定义机器人的 Webhook 地址，如开启了加签请在后面加空格和密钥，例如：/群 机器人=https://oapi.dingtalk.com/robot/send?access_token=xxxx SECxxxx';
    const [url, ...rest] = v.split(/\s+/);
    if (!url || !/^https?:\/\//i.test(url)) return { ok: false, reason: `无法识别的机器人设置。${form}` };
    const rel = relativeToBase(url, OFFICIAL.dingtalk, bases.DINGTALK_OAPI_BASE, '/robot/send');
    if (rel === null || rel.split('?')[0] !== '/robot/send') {
      return { ok: false, reason: `只接受钉钉官方（或本服务配置的）Webhook 地址。${form}` };
    }
    const token = new URLSearchParams(rel.split('?')[1] ?? '').get('access_token');
    if (!token || !DINGTALK_TOKEN.test(token)) return { ok: false, reason: `Webhook 地址中缺少有效的 access_token。${form}` };
    let secret: string | undefined;
    for (const part of rest) {
      const s = part.replace(/^secret=/i, '');
      if (!DINGTALK_SECRET.test(s)) return { ok: false, reason: `加签密钥应以 SEC 开头。${form}` };
      secret = s;
    }
    return { ok: true, route: { kind: 'dingtalk', webhookAccessToken: token, ...(secret ? { webhookSecret: secret } : {}) } };
  }
  return { ok: false, reason: '此平台不需要设置机器人。' };
}
