import type { RobotSetting, RouteDescription } from '../core/types';
import { mergeRoute, parseRouteSetting, parseStoredRoute, type BaseUrls, type GroupRoute } from './group-route';

/** The fields `/群 机器人=…` owns; everything else in a route was learned from callbacks. */
const CONFIGURED = ['webhookKey', 'webhookAccessToken', 'webhookSecret'] as const;

/** WeCom appchat chatid: at most 32 characters, 0-9 a-z A-Z (docs path/90245). */
const APPCHAT_ID = /^[0-9A-Za-z]{1,32}$/;

type RobotConfig = BaseUrls & { WECOM_CORP_ID?: string; WECOM_CORP_SECRET?: string };

/**
 * `/群 机器人=<webhook key or URL> [密钥=<SEC…>]` for WeCom and DingTalk (parseRouteSetting checks the
 * value and the host). The configured robot is replaced whole, so a new DingTalk robot without 加签
 * drops the old secret; learned facts (response_url, sessionWebhook, robotCode) stay. The summary for
 * the reply names the kind of robot only, never the key or secret.
 */
export function createRobotSetting(bases: RobotConfig): RobotSetting {
  return (platform, input, stored) => {
    if (platform !== 'wecom' && platform !== 'dingtalk') return { ok: false, reason: '这个平台不需要设置机器人，消息会直接发到本群。' };
    if (input.appChat !== undefined) return setAppChat(platform, input.appChat, stored, bases);
    if (input.robot === undefined) return { ok: false, reason: '请写明机器人的 Webhook 地址：/群 机器人=<Webhook 地址或 key>。' };
    if (platform === 'wecom' && input.secret !== undefined) {
      return { ok: false, reason: '企业微信群机器人没有加签密钥，请只发送：/群 机器人=<Webhook 地址或 key>。' };
    }
    const value = input.secret !== undefined ? `${input.robot} ${input.secret}` : input.robot;
    const parsed = parseRouteSetting(platform, value, bases);
    if (!parsed.ok) return parsed;
    const old = parseStoredRoute(stored);
    const kept = old && old.kind === platform ? (withoutConfigured(old) as GroupRoute) : null;
    const route = mergeRoute(kept, parsed.route);
    const summary =
      parsed.route.kind === 'wecom'
        ? '企业微信群机器人（Webhook）'
        : `钉钉自定义机器人（Webhook，${parsed.route.webhookSecret ? '已加签' : '未加签'}）`;
    return { ok: true, route, summary };
  };
}

/** `/群 应用群聊=<chatid>`: a WeCom group the self-built app created (appchat/create) is reached by appchat/send. */
function setAppChat(platform: 'wecom' | 'dingtalk', value: string, stored: Record<string, unknown> | null, config: RobotConfig) {
  if (platform !== 'wecom') return { ok: false as const, reason: '应用群聊只用于企业微信；钉钉群请用 /群 机器人=<Webhook 地址> 密钥=<SEC…>。' };
  const chatid = value.trim();
  if (!APPCHAT_ID.test(chatid)) {
    return { ok: false as const, reason: '应用群聊的 chatid 由字母和数字组成（最多 32 位），例如：/群 应用群聊=wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA。' };
  }
  if (!config.WECOM_CORP_ID || !config.WECOM_CORP_SECRET) {
    return { ok: false as const, reason: '发送到应用群聊需要自建应用的凭据：请管理员先配置 WECOM_CORP_ID 和 WECOM_CORP_SECRET。' };
  }
  const route = mergeRoute(stored, { kind: 'wecom', appChatId: chatid });
  return { ok: true as const, route, summary: '企业微信应用群聊（appchat）' };
}

/**
 * `/群`: how the bot reaches this group, channel by channel, and whether an @ there reaches the
 * person. Names the kinds of channels only, never a key, token or secret.
 */
export function createRouteDescription(): RouteDescription {
  return (platform, stored) => {
    const route = parseStoredRoute(stored);
    if (platform === 'wecom') {
      const r = route?.kind === 'wecom' ? route : null;
      if (r?.privateUserId) return ['这是与我的私聊：回复和提醒通过自建应用的消息发给您。'];
      return [
        r?.webhookKey
          ? '· 群机器人：已设置。提醒和通知经它发送，@ 会通知到人。'
          : '· 群机器人：未设置。没有它时，提醒里的 @ 只能显示为文字。添加方法：群设置 →「群机器人」→「添加机器人」，复制 Webhook 地址后发送 /群 机器人=<Webhook 地址>。',
        r?.appChatId ? '· 应用群聊：已设置（自建应用创建的群）。' : null,
        r?.responseUrl ? '· 智能机器人：可回复 @ 它的消息（每条消息只能回复一次；较长的回复其余部分经群机器人发送）。' : null,
      ].filter((l): l is string => l !== null);
    }
    if (platform === 'dingtalk') {
      const r = route?.kind === 'dingtalk' ? route : null;
      if (r?.privateUserId) return ['这是与我的私聊：回复和提醒通过企业机器人的单聊消息发给您。'];
      return [
        r?.webhookAccessToken
          ? `· 自定义机器人：已设置（${r.webhookSecret ? '已加签' : '未加签'}）。提醒和通知经它发送，@ 会通知到人。`
          : '· 自定义机器人：未设置。群里最近一次 @ 我之后约 90 分钟内 @ 能通知到人，之后提醒经企业机器人发送，@ 只能显示为文字。' +
            '添加方法：群设置 →「机器人」→「添加机器人」→「自定义」，安全设置选「加签」，然后发送 /群 机器人=<Webhook 地址> 密钥=<SEC…>。',
      ];
    }
    return [];
  };
}

function withoutConfigured(route: GroupRoute): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...route };
  for (const k of CONFIGURED) delete copy[k];
  return copy;
}
