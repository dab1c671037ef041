import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PlatformApiError, UpstreamHttpError } from '../../src/core/errors';
import type { OutboundTarget } from '../../src/core/types';
import { isRateLimited } from '../../src/platforms/errors';
import { WecomSender } from '../../src/platforms/wecom/wecom-sender';
import { startFakeWecomApi, WECOM_PATHS, type FakeWecomApi } from '../fakes/fake-wecom-api';
import { fixedClock, testConfig } from '../helpers/platform-test-kit';

const KEY = 'fake-webhook-key-0001';
const NOW = Date.UTC(2025, 2, 10, 1, 0, 0);

describe('WecomSender against the fake WeCom API', () => {
  let fake: FakeWecomApi;
  const clock = fixedClock(NOW);
  let sender: WecomSender;

  beforeAll(async () => {
    fake = await startFakeWecomApi({ corpId: 'ww-corp', corpSecret: 'corp-secret-xyz', webhookKeys: [KEY] });
  });
  afterAll(() => fake.close());
  afterEach(() => {
    fake.requests.length = 0;
    clock.set(NOW);
  });

  const make = (extra: Record<string, string> = {}) =>
    new WecomSender(
      testConfig({ WECOM_API_BASE: fake.baseUrl, WECOM_CORP_ID: 'ww-corp', WECOM_CORP_SECRET: 'corp-secret-xyz', ...extra }),
      { clock },
    );
  const webhookTarget: OutboundTarget = { platform: 'wecom', conversationId: 'chat-1', route: { kind: 'wecom', webhookKey: KEY } };
  const appchatTarget: OutboundTarget = { platform: 'wecom', conversationId: 'chat-2', route: { kind: 'wecom', appChatId: 'appchat-2' } };

  it('sends text with mentioned_list through the group robot webhook', async () => {
    sender = make();
    await sender.send(webhookTarget, { text: '请确认本周交付计划', mentions: ['zhangsan', 'lisi'] });
    const [req] = fake.requestsTo(WECOM_PATHS.webhook);
    expect(req!.query.key).toBe(KEY);
    expect(req!.body).toEqual({ msgtype: 'text', text: { content: '请确认本周交付计划', mentioned_list: ['zhangsan', 'lisi'] } });
  });

  it('sends markdown with <@userid> mentions', async () => {
    await make().send(webhookTarget, { text: '提醒', markdown: '**提醒**：方案今天到期', mentions: ['zhangsan'] });
    const [req] = fake.requestsTo(WECOM_PATHS.webhook);
    const body = req!.body as { msgtype: string; markdown: { content: string } };
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.content).toBe('<@zhangsan>\n**提醒**：方案今天到期');
  });

  it('splits long Chinese text into numbered parts within 2048 bytes without breaking characters', async () => {
    const line = '本周项目进度：需求评审已完成，设计稿待客户确认，开发排期顺延两天。😀\n';
    const text = line.repeat(120);
    await make().send(webhookTarget, { text, mentions: ['zhangsan'] });
    const reqs = fake.requestsTo(WECOM_PATHS.webhook);
    expect(reqs.length).toBeGreaterThan(3);
    const contents = reqs.map((r) => (r.body as { text: { content: string; mentioned_list?: string[] } }).text);
    contents.forEach((t, i) => {
      expect(Buffer.byteLength(t.content)).toBeLessThanOrEqual(2048);
      expect(t.content.startsWith(`(${i + 1}/${reqs.length})\n`)).toBe(true);
      expect(t.content).not.toContain('\uFFFD');
      expect(t.mentioned_list ? i : -1).toBe(i === 0 ? 0 : -1);
    });
    const rejoined = contents.map((t) => t.content.replace(/^\(\d+\/\d+\)\n/, '')).join('\n');
    expect(rejoined.replace(/\n/g, '')).toBe(text.replace(/\n/g, ''));
  });

  it('answers a reply through its own response_url once while valid, then falls back to the webhook', async () => {
    const s = make();
    const learned = { kind: 'wecom', responseUrl: fake.responseUrl('rc-1'), responseUrlExpiresAt: NOW + 3_600_000 };
    const target: OutboundTarget = {
      platform: 'wecom',
      conversationId: 'chat-3',
      route: { ...learned, webhookKey: KEY },
      replyTo: 'msg-1',
      replyRoute: learned,
    };
    await s.send(target, { text: '收到，已记录', mentions: [] });
    expect(fake.requestsTo(WECOM_PATHS.aibotResponse).map((r) => r.query.response_code)).toEqual(['rc-1']);
    expect(fake.requestsTo(WECOM_PATHS.aibotResponse)[0]!.body).toEqual({ msgtype: 'markdown', markdown: { content: '收到，已记录' } });
    await s.send(target, { text: '第二条', mentions: [] });
    expect(fake.requestsTo(WECOM_PATHS.aibotResponse)).toHaveLength(1);
    expect(fake.requestsTo(WECOM_PATHS.webhook)).toHaveLength(1);

    // A post that answers no message takes the group robot, even with a fresh response_url stored.
    const fresh = { kind: 'wecom', responseUrl: fake.responseUrl('rc-2'), responseUrlExpiresAt: NOW + 3_600_000 };
    await make().send({ platform: 'wecom', conversationId: 'chat-3', route: { ...fresh, webhookKey: KEY } }, { text: '提醒', mentions: [] });
    expect(fake.requestsTo(WECOM_PATHS.aibotResponse)).toHaveLength(1);
    expect(fake.requestsTo(WECOM_PATHS.webhook)).toHaveLength(2);

    // A group without a robot falls back to the latest response_url it has seen, once.
    await s.send({ platform: 'wecom', conversationId: 'chat-3', route: fresh }, { text: '无机器人的群', mentions: [] });
    expect(fake.requestsTo(WECOM_PATHS.aibotResponse).map((r) => r.query.response_code)).toEqual(['rc-1', 'rc-2']);

    clock.set(NOW + 3_600_000);
    await make().send({ ...target, replyRoute: { ...learned, responseUrl: fake.responseUrl('rc-3') } }, { text: '一小时后', mentions: [] });
    expect(fake.requestsTo(WECOM_PATHS.aibotResponse)).toHaveLength(2);
    expect(fake.requestsTo(WECOM_PATHS.webhook)).toHaveLength(3);
  });

  it('refuses a response_url on another host and reports a missing route', async () => {
    const target: OutboundTarget = {
      platform: 'wecom',
      conversationId: 'chat-4',
      route: { kind: 'wecom', responseUrl: 'https://evil.example.com/cgi-bin/aibot/response?response_code=x', responseUrlExpiresAt: NOW + 3_600_000 },
    };
    const err = await make().send(target, { text: 'x', mentions: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformApiError);
    expect((err as PlatformApiError).errcode).toBe('no_route');
    expect((err as PlatformApiError).retryable).toBe(false);
    expect(fake.requests).toHaveLength(0);
  });

  it('caches the access token: one gettoken for many appchat sends, a new one after expiry', async () => {
    const s = make();
    for (let i = 0; i < 5; i++) await s.send(appchatTarget, { text: `第${i}条`, mentions: [] });
    await Promise.all(Array.from({ length: 5 }, (_, i) => s.send(appchatTarget, { text: `并发${i}`, mentions: [] })));
    expect(fake.requestsTo(WECOM_PATHS.gettoken)).toHaveLength(1);
    expect(fake.requestsTo(WECOM_PATHS.appchat)).toHaveLength(10);
    expect(fake.requestsTo(WECOM_PATHS.appchat)[0]!.body).toEqual({ chatid: 'appchat-2', msgtype: 'text', text: { content: '第0条' }, safe: 0 });
    clock.advance(7200 * 1000);
    await s.send(appchatTarget, { text: '过期后', mentions: [] });
    expect(fake.requestsTo(WECOM_PATHS.gettoken)).toHaveLength(2);
  });

  it('refreshes the token once on 42001 even with 10 concurrent sends', async () => {
    const s = make();
    await s.send(appchatTarget, { text: '预热', mentions: [] });
    fake.requests.length = 0;
    const stale = fake.issuedTokens.at(-1);
    fake.expireAllTokens();
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.send(appchatTarget, { text: `并发${i}`, mentions: [] })));
    expect(fake.requestsTo(WECOM_PATHS.gettoken)).toHaveLength(1);
    const appchat = fake.requestsTo(WECOM_PATHS.appchat);
    expect(appchat).toHaveLength(20);
    const fresh = fake.issuedTokens.at(-1);
    expect(fresh).not.toBe(stale);
    expect(appchat.filter((r) => r.query.access_token === stale)).toHaveLength(10);
    expect(appchat.filter((r) => r.query.access_token === fresh)).toHaveLength(10);
  });

  it('maps failures: 500 and timeouts → UpstreamHttpError, 45009 → rate limited, others not retryable', async () => {
    const s = make({ PLATFORM_HTTP_TIMEOUT_MS: '200' });
    const msg = { text: 'x', mentions: [] };

    fake.fail(WECOM_PATHS.webhook, 1, 'http500');
    const e500 = await s.send(webhookTarget, msg).catch((e: unknown) => e);
    expect(e500).toBeInstanceOf(UpstreamHttpError);
    expect((e500 as UpstreamHttpError).status).toBe(500);
    expect((e500 as Error).message).not.toContain(KEY);

    fake.fail(WECOM_PATHS.webhook, 1, 'rate-limit');
    const eRate = await s.send(webhookTarget, msg).catch((e: unknown) => e);
    expect(eRate).toBeInstanceOf(PlatformApiError);
    expect((eRate as PlatformApiError).errcode).toBe(45009);
    expect((eRate as PlatformApiError).retryable).toBe(true);
    expect(isRateLimited(eRate)).toBe(true);

    for (const errcode of [40058, 93000]) {
      fake.fail(WECOM_PATHS.webhook, 1, { errcode });
      const e = await s.send(webhookTarget, msg).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(PlatformApiError);
      expect((e as PlatformApiError).retryable).toBe(false);
      expect(isRateLimited(e)).toBe(false);
    }
    const unknownKey = await s.send({ ...webhookTarget, route: { kind: 'wecom', webhookKey: 'no-such-key-123' } }, msg).catch((x: unknown) => x);
    expect((unknownKey as PlatformApiError).errcode).toBe(93000);
    expect((unknownKey as PlatformApiError).retryable).toBe(false);

    fake.fail(WECOM_PATHS.webhook, 1, 'hang');
    const eHang = await s.send(webhookTarget, msg).catch((e: unknown) => e);
    expect(eHang).toBeInstanceOf(UpstreamHttpError);
    expect((eHang as UpstreamHttpError).status).toBeNull();
    expect((eHang as Error).message).not.toContain(KEY);
  });

  it('reports a wrong corp secret as a non-retryable gettoken error', async () => {
    const s = make({ WECOM_CORP_SECRET: 'wrong-secret' });
    const e = await s.send(appchatTarget, { text: 'x', mentions: [] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PlatformApiError);
    expect((e as PlatformApiError).method).toBe('gettoken');
    expect((e as PlatformApiError).retryable).toBe(false);
    expect((e as Error).message).not.toContain('wrong-secret');
  });
});
