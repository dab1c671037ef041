import type { RobotSetting } from '../core/types';
import { mergeRoute, parseRouteSetting, parseStoredRoute, type BaseUrls, type GroupRoute } from './group-route';

/** The fields `/群 机器人=…` owns; everything else in a route was learned from callbacks. */
const CONFIGURED = ['webhookKey', 'webhookAccessToken', 'webhookSecret'] as const;

/**
 * `/群 机器人=<webhook key or URL> [密钥=<SEC…>]` for WeCom and DingTalk (parseRouteSetting checks the
 * value and the host). The configured robot is replaced whole, so a new DingTalk robot without 加签
 * drops the old secret; learned facts (response_url, sessionWebhook, robotCode) stay. The summary for
 * the reply names the kind of robot only, never the key or secret.
 */
export function createRobotSetting(bases: BaseUrls): RobotSetting {
  return (platform, input, stored) => {
    if (platform !== 'wecom' && platform !== 'dingtalk') return { ok: false, reason: '这个平台不需要设置机器人，消息会直接发到本群。' };
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

function withoutConfigured(route: GroupRoute): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...route };
  for (const k of CONFIGURED) delete copy[k];
  return copy;
}
