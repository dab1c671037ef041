import { describe, expect, it } from 'vitest';
import { DingtalkSender } from '../../src/platforms/dingtalk/dingtalk-sender';
import { WecomSender } from '../../src/platforms/wecom/wecom-sender';
import { fixedClock, testConfig } from '../helpers/platform-test-kit';

/** rateKey names the robot whose 20-a-minute budget a send spends, and never carries the secret. */
describe('sender rate keys', () => {
  const now = 1_750_000_000_000;
  const clock = fixedClock(now);
  const wecom = new WecomSender(testConfig({ WECOM_CORP_ID: 'ww1', WECOM_CORP_SECRET: 'corp-secret' }), { clock });
  const dingtalk = new DingtalkSender(testConfig({ DINGTALK_APP_KEY: 'dingappkey', DINGTALK_APP_SECRET: 'app-secret' }), { clock });
  const wt = (conversationId: string, route: Record<string, unknown> | null) => ({ platform: 'wecom' as const, conversationId, route });
  const dt = (conversationId: string, route: Record<string, unknown> | null) => ({ platform: 'dingtalk' as const, conversationId, route });

  it('WeCom: one budget per webhook key, shared by every group that uses it, without the key', () => {
    const a = wecom.rateKey(wt('g1', { kind: 'wecom', webhookKey: 'secret-key-0001' }));
    const b = wecom.rateKey(wt('g2', { kind: 'wecom', webhookKey: 'secret-key-0001' }));
    const c = wecom.rateKey(wt('g1', { kind: 'wecom', webhookKey: 'secret-key-0002' }));
    expect(a).toMatch(/^wecom:webhook:[0-9a-f]{16}$/);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(a).not.toContain('secret-key');
  });

  it('WeCom: a reply through its valid response_url spends the conversation budget; an expired one falls back to the webhook', () => {
    const learned = { kind: 'wecom', responseUrl: 'https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=abc', responseUrlExpiresAt: now + 3_600_000 };
    const route = { ...learned, webhookKey: 'secret-key-0001' };
    expect(wecom.rateKey({ ...wt('g1', route), replyTo: 'm1', replyRoute: learned })).toBe('wecom:aibot:g1');
    expect(wecom.rateKey({ ...wt('g1', route), replyTo: 'm1', replyRoute: { ...learned, responseUrlExpiresAt: now + 30_000 } })).toMatch(/^wecom:webhook:/);
    expect(wecom.rateKey(wt('g1', learned))).toBe('wecom:aibot:g1');
    expect(wecom.rateKey(wt('g1', { kind: 'wecom', appChatId: 'chat1' }))).toBe('wecom:appchat:chat1');
    expect(wecom.rateKey(wt('g1', null))).toBeNull();
  });

  it('DingTalk: custom robot by a hash of its token; the enterprise robot per robot and group', () => {
    const hook = dingtalk.rateKey(dt('c1', { kind: 'dingtalk', webhookAccessToken: 'tokentokentoken0001', webhookSecret: 'SECxxxxxxxxxxxxxxxxxx' }));
    expect(hook).toMatch(/^dingtalk:webhook:[0-9a-f]{16}$/);
    expect(hook).not.toContain('tokentoken');
    const session = { kind: 'dingtalk', sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=s1', sessionWebhookExpiresAt: now + 3_600_000, robotCode: 'robotA' };
    expect(dingtalk.rateKey(dt('c1', session))).toBe('dingtalk:robot:robotA:c1');
    // No route of its own: the OpenAPI group send of the app's robot (robotCode defaults to the app key).
    expect(dingtalk.rateKey(dt('c2', null))).toBe('dingtalk:robot:dingappkey:c2');
  });
});
