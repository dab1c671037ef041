import { z } from 'zod';

/**
 * Environment shape of the WeCom and DingTalk adapters, spread into the one config schema in
 * src/config.ts (STYLE.md #9). Nothing here reads process.env.
 */

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() ? v.trim() : undefined));

/** A base URL without a trailing slash, so paths can be appended with a plain `+`. */
const baseUrl = (fallback: string) =>
  z
    .string()
    .url()
    .refine((v) => /^https?:\/\//.test(v), { message: 'must be an http:// or https:// URL' })
    .default(fallback)
    .transform((v) => v.replace(/\/+$/, ''));

const path = (fallback: string) =>
  z.string().regex(/^\/[A-Za-z0-9/_-]*$/, { message: 'must be a path starting with /' }).default(fallback);

/** EncodingAESKey (WeCom) / aes_key (DingTalk): 43 characters of base64 (the platform appends the missing "="). */
const aesKey = (message: string) => optionalString.refine((v) => v === undefined || /^[A-Za-z0-9+/]{43}$/.test(v), { message });
const encodingAesKey = aesKey('must be the 43-character EncodingAESKey from the WeCom admin console');

export const platformEnvShape = {
  // ---- WeCom 企业微信 ----
  /** API base (qyapi.weixin.qq.com); point it at a proxy or a test server. */
  WECOM_API_BASE: baseUrl('https://qyapi.weixin.qq.com'),
  /** Corp id (ww…): the receiveid of self-built app callbacks, and corpid for gettoken. */
  WECOM_CORP_ID: optionalString,
  /** Self-built app secret: enables appchat/send (应用群聊). */
  WECOM_CORP_SECRET: optionalString,
  /** Self-built app AgentId: enables message/send (the app's private messages to a person). */
  WECOM_AGENT_ID: z.preprocess((v) => (typeof v === 'string' && !v.trim() ? undefined : v), z.coerce.number().int().positive().optional()),
  /** Self-built app callback Token and EncodingAESKey (接收消息服务器配置). */
  WECOM_TOKEN: optionalString,
  WECOM_ENCODING_AES_KEY: encodingAesKey,
  /** 智能机器人 (AI bot, API mode) callback Token and EncodingAESKey. */
  WECOM_AIBOT_TOKEN: optionalString,
  WECOM_AIBOT_ENCODING_AES_KEY: encodingAesKey,
  /** Display name of the bot, to strip "@name" from messages; empty: strip a leading @word. */
  WECOM_BOT_NAME: optionalString,
  WECOM_CALLBACK_PATH: path('/wecom/callback'),
  WECOM_AIBOT_PATH: path('/wecom/aibot'),
  /**
   * AI bot, HTTP mode: how long (ms) a callback waits for its command to finish so the answer goes in
   * the HTTP response (passive reply); 0 = always through response_url. WeCom re-delivers after 5 s.
   */
  WECOM_AIBOT_PASSIVE_MS: z.coerce.number().int().min(0).max(4000).default(3000),
  /** Past this, a slow reply is answered with an open stream and finished on WeCom's refresh callbacks; 0: wait the whole window. */
  WECOM_AIBOT_STREAM_AFTER_MS: z.coerce.number().int().min(0).max(4000).default(300),
  /** 智能机器人 long connection (长连接, docs path/101463): Bot ID and Secret; no public URL needed. */
  WECOM_AIBOT_BOT_ID: optionalString,
  WECOM_AIBOT_SECRET: optionalString,
  /** Long-connection address; point it at a proxy or a test server. */
  WECOM_AIBOT_WS_URL: z
    .string()
    .regex(/^wss?:\/\/\S+$/, { message: 'must be a ws:// or wss:// URL' })
    .default('wss://openws.work.weixin.qq.com'),

  // ---- DingTalk 钉钉 ----
  DINGTALK_OAPI_BASE: baseUrl('https://oapi.dingtalk.com'),
  DINGTALK_API_BASE: baseUrl('https://api.dingtalk.com'),
  /** Enterprise app (robot) AppKey / AppSecret (Stream mode: clientId / clientSecret). */
  DINGTALK_APP_KEY: optionalString,
  DINGTALK_APP_SECRET: optionalString,
  /** robotCode for the OpenAPI group send; defaults to DINGTALK_APP_KEY, as DingTalk assigns it. */
  DINGTALK_ROBOT_CODE: optionalString,
  /** http: HTTP callback at DINGTALK_CALLBACK_PATH; stream: outbound WebSocket (dingtalk-stream). */
  DINGTALK_MODE: z.enum(['http', 'stream']).default('http'),
  DINGTALK_CALLBACK_PATH: path('/dingtalk/callback'),
  /**
   * HTTP mode: how far (seconds, either way) a callback's signed `timestamp` may be from our clock.
   * The signature covers the timestamp only, not the body, so the window is how long a captured header
   * pair stays usable; each pair is also bound to its first message (dingtalk-sign-pairs.ts). DingTalk
   * itself allows one hour; 5 minutes leaves ample room for clock skew between NTP-synced servers.
   */
  DINGTALK_SIGN_WINDOW_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  /** Display name of the robot, to strip a leading "@name" that DingTalk left in the text. */
  DINGTALK_BOT_NAME: optionalString,
  /**
   * A published 高级版 card template (卡片平台, associated with this app; id ends in ".schema") with the
   * variables title, markdown and buttons (a loop of {label, actionId} with 回传请求 buttons). Set: replies
   * with buttons go out as interactive cards (Stream mode, whose connection receives the clicks).
   */
  DINGTALK_CARD_TEMPLATE_ID: optionalString,
  /**
   * Event subscription (事件订阅) pushed over HTTP: the 加密 aes_key and 签名 token of the app's
   * event settings. Set both to mount DINGTALK_EVENT_PATH (group joins → a welcome), in either mode.
   */
  DINGTALK_EVENT_TOKEN: optionalString,
  DINGTALK_EVENT_AES_KEY: aesKey('must be the 43-character aes_key from the DingTalk event subscription settings'),
  DINGTALK_EVENT_PATH: path('/dingtalk/events'),

  /** Timeout of one outbound platform HTTP call, in milliseconds. */
  PLATFORM_HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
};

const platformEnvSchema = z.object(platformEnvShape);
export type PlatformConfig = z.infer<typeof platformEnvSchema>;

export interface ConfiguredPlatforms {
  wecom: boolean;
  /** WeCom self-built app callback (Token + AESKey + corp id). */
  wecomApp: boolean;
  /** WeCom AI bot callback (Token + AESKey). */
  wecomAibot: boolean;
  /** WeCom appchat/send (corp id + secret). */
  wecomAppchat: boolean;
  /** WeCom AI bot over the long connection (Bot ID + Secret). */
  wecomAibotWs: boolean;
  dingtalk: boolean;
  /** DingTalk event subscription over HTTP (app credentials + event Token + aes_key). */
  dingtalkEvents: boolean;
}

/** Which platforms have credentials. The sandbox is on by default only when none has. */
export function configuredPlatforms(c: PlatformConfig): ConfiguredPlatforms {
  const wecomApp = Boolean(c.WECOM_TOKEN && c.WECOM_ENCODING_AES_KEY && c.WECOM_CORP_ID);
  const wecomAibot = Boolean(c.WECOM_AIBOT_TOKEN && c.WECOM_AIBOT_ENCODING_AES_KEY);
  const wecomAppchat = Boolean(c.WECOM_CORP_ID && c.WECOM_CORP_SECRET);
  const wecomAibotWs = Boolean(c.WECOM_AIBOT_BOT_ID && c.WECOM_AIBOT_SECRET);
  const dingtalk = Boolean(c.DINGTALK_APP_KEY && c.DINGTALK_APP_SECRET);
  const dingtalkEvents = Boolean(dingtalk && c.DINGTALK_EVENT_TOKEN && c.DINGTALK_EVENT_AES_KEY);
  return { wecom: wecomApp || wecomAibot || wecomAppchat || wecomAibotWs, wecomApp, wecomAibot, wecomAppchat, wecomAibotWs, dingtalk, dingtalkEvents };
}

/** Half-configured credentials are a mistake worth stopping for: name what is missing. */
export function platformConfigProblems(c: PlatformConfig): string[] {
  const problems: string[] = [];
  const pair = (a: keyof PlatformConfig, b: keyof PlatformConfig) => {
    const names = [a, b];
    const set = names.filter((n) => c[n] !== undefined);
    if (set.length > 0 && set.length < names.length) {
      const missing = names.filter((n) => c[n] === undefined);
      problems.push(`${missing.join('、')}：未设置，它要与 ${set.join('、')} 一起设置（要么都设置，要么都不设置）。改法：从平台后台复制后填入，例如 ${missing[0]}=…`);
    }
  };
  pair('WECOM_TOKEN', 'WECOM_ENCODING_AES_KEY');
  if (c.WECOM_TOKEN && !c.WECOM_CORP_ID) problems.push('WECOM_CORP_ID：未设置，设置了 WECOM_TOKEN 时必须填写（回调的 receiveid）。改法：「我的企业」→「企业信息」→ 企业 ID，例如 WECOM_CORP_ID=ww0123456789abcdef');
  pair('WECOM_AIBOT_TOKEN', 'WECOM_AIBOT_ENCODING_AES_KEY');
  pair('WECOM_AIBOT_BOT_ID', 'WECOM_AIBOT_SECRET');
  if (c.WECOM_CORP_SECRET && !c.WECOM_CORP_ID) problems.push('WECOM_CORP_ID：未设置，设置了 WECOM_CORP_SECRET 时必须填写。改法：「我的企业」→「企业信息」→ 企业 ID，例如 WECOM_CORP_ID=ww0123456789abcdef');
  pair('DINGTALK_APP_KEY', 'DINGTALK_APP_SECRET');
  if (c.DINGTALK_MODE === 'stream' && !(c.DINGTALK_APP_KEY && c.DINGTALK_APP_SECRET)) {
    problems.push('DINGTALK_MODE：stream 模式需要同时设置 DINGTALK_APP_KEY 和 DINGTALK_APP_SECRET。改法：填上应用的 AppKey 和 AppSecret，或改回 DINGTALK_MODE=http');
  }
  if (c.DINGTALK_CARD_TEMPLATE_ID && c.DINGTALK_MODE !== 'stream') {
    problems.push('DINGTALK_CARD_TEMPLATE_ID：互动卡片的按钮点击经 Stream 连接送达，需要 DINGTALK_MODE=stream。改法：设置 DINGTALK_MODE=stream，或去掉 DINGTALK_CARD_TEMPLATE_ID（回复仍以文字发出）');
  }
  pair('DINGTALK_EVENT_TOKEN', 'DINGTALK_EVENT_AES_KEY');
  if (c.DINGTALK_EVENT_TOKEN && !(c.DINGTALK_APP_KEY && c.DINGTALK_APP_SECRET)) {
    problems.push('DINGTALK_EVENT_TOKEN：事件订阅需要同时设置 DINGTALK_APP_KEY 和 DINGTALK_APP_SECRET（AppKey 用于解密校验，欢迎语要用应用发送）。改法：填上应用的 AppKey 和 AppSecret');
  }
  if (c.DINGTALK_EVENT_TOKEN && c.DINGTALK_EVENT_PATH === c.DINGTALK_CALLBACK_PATH) {
    problems.push(`DINGTALK_EVENT_PATH：不能与 DINGTALK_CALLBACK_PATH 相同（当前都是 ${c.DINGTALK_CALLBACK_PATH}）。改法：例如 DINGTALK_EVENT_PATH=/dingtalk/events`);
  }
  return problems;
}
