import { describe, expect, it } from 'vitest';
import type { InboundMessage } from '../../src/core/types';
import { mergeRoute, parseRouteSetting, rebaseLearnedUrl, routeFromInbound } from '../../src/platforms/group-route';

const official = { WECOM_API_BASE: 'https://qyapi.weixin.qq.com', DINGTALK_OAPI_BASE: 'https://oapi.dingtalk.com' };
const proxied = { WECOM_API_BASE: 'https://proxy.corp.example/wecom', DINGTALK_OAPI_BASE: 'http://127.0.0.1:9000' };

describe('parseRouteSetting (/群 机器人=…)', () => {
  it('WeCom: a bare key or the whole webhook URL gives the key', () => {
    expect(parseRouteSetting('wecom', ' 693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa ')).toEqual({
      ok: true,
      route: { kind: 'wecom', webhookKey: '693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa' },
    });
    expect(parseRouteSetting('wecom', 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4')).toEqual({
      ok: true,
      route: { kind: 'wecom', webhookKey: '693a91f6-7xxx-4bc4' },
    });
  });

  it('WeCom: honours a configured base with a path prefix, refuses other hosts and paths', () => {
    expect(parseRouteSetting('wecom', 'https://proxy.corp.example/wecom/cgi-bin/webhook/send?key=abcdefgh12', proxied)).toMatchObject({ ok: true });
    for (const bad of [
      'https://evil.example.com/cgi-bin/webhook/send?key=abcdefgh12',
      'https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=abcdefgh12',
      'https://user:pw@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcdefgh12',
      'https://qyapi.weixin.qq.com/cgi-bin/other?key=abcdefgh12',
      'https://qyapi.weixin.qq.com/cgi-bin/webhook/send',
      'https://proxy.corp.example/other/cgi-bin/webhook/send?key=abcdefgh12',
      'key with spaces',
    ]) {
      const r = parseRouteSetting('wecom', bad, proxied);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/[\u4e00-\u9fff]/);
    }
  });

  it('DingTalk: webhook URL with an optional secret (bare SEC… or secret=SEC…)', () => {
    const url = 'https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123456789abcdef';
    expect(parseRouteSetting('dingtalk', url, official)).toEqual({
      ok: true,
      route: { kind: 'dingtalk', webhookAccessToken: '0123456789abcdef0123456789abcdef' },
    });
    const withSecret = { kind: 'dingtalk', webhookAccessToken: '0123456789abcdef0123456789abcdef', webhookSecret: 'SEC0123456789abcdef0123' };
    expect(parseRouteSetting('dingtalk', `${url} SEC0123456789abcdef0123`, official)).toEqual({ ok: true, route: withSecret });
    expect(parseRouteSetting('dingtalk', `${url}  secret=SEC0123456789abcdef0123`, official)).toEqual({ ok: true, route: withSecret });
  });

  it('DingTalk: refuses other hosts, a missing token and a malformed secret', () => {
    for (const bad of [
      'https://evil.example.com/robot/send?access_token=0123456789abcdef0123',
      'https://oapi.dingtalk.com/robot/send',
      'https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123 notasecret',
      'oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123',
    ]) {
      expect(parseRouteSetting('dingtalk', bad, official).ok, bad).toBe(false);
    }
    expect(parseRouteSetting('dingtalk', 'http://127.0.0.1:9000/robot/send?access_token=0123456789abcdef0123', proxied).ok).toBe(true);
  });
});

describe('routes learned from callbacks', () => {
  const base: InboundMessage = {
    platform: 'dingtalk',
    conversationId: 'cid',
    senderId: 's',
    messageId: 'm',
    text: 't',
    mentions: [],
    receivedAt: new Date(0),
  };

  it('routeFromInbound returns the route of the same platform, null otherwise', () => {
    const route = { kind: 'dingtalk', sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=x', sessionWebhookExpiresAt: 5 };
    expect(routeFromInbound({ ...base, route })).toEqual(route);
    expect(routeFromInbound({ ...base, platform: 'wecom', route })).toBeNull();
    expect(routeFromInbound(base)).toBeNull();
  });

  it('mergeRoute keeps a configured webhook when a callback teaches a session webhook', () => {
    const merged = mergeRoute(
      { kind: 'dingtalk', webhookAccessToken: 'tok', webhookSecret: 'SECx' },
      { kind: 'dingtalk', sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=y', sessionWebhookExpiresAt: 9 },
    );
    expect(merged).toEqual({
      kind: 'dingtalk',
      webhookAccessToken: 'tok',
      webhookSecret: 'SECx',
      sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=y',
      sessionWebhookExpiresAt: 9,
    });
    expect(mergeRoute({ kind: 'wecom', webhookKey: 'k' }, { kind: 'dingtalk', robotCode: 'r' })).toEqual({ kind: 'dingtalk', robotCode: 'r' });
  });

  it('rebaseLearnedUrl sends official-host URLs to the configured base and refuses others', () => {
    expect(rebaseLearnedUrl('wecom', 'https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=abc', proxied)).toBe(
      'https://proxy.corp.example/wecom/cgi-bin/aibot/response?response_code=abc',
    );
    expect(rebaseLearnedUrl('dingtalk', 'https://oapi.dingtalk.com/robot/sendBySession?session=s', proxied)).toBe(
      'http://127.0.0.1:9000/robot/sendBySession?session=s',
    );
    expect(rebaseLearnedUrl('dingtalk', 'https://evil.example.com/robot/sendBySession?session=s', proxied)).toBeNull();
    expect(rebaseLearnedUrl('wecom', 'https://qyapi.weixin.qq.com/other/path', official)).toBeNull();
  });
});
