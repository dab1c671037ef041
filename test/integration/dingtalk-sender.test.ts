import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PlatformApiError, UpstreamHttpError } from '../../src/core/errors';
import type { OutboundTarget } from '../../src/core/types';
import { DingtalkSender } from '../../src/platforms/dingtalk/dingtalk-sender';
import { isRateLimited, PlatformRateLimitError } from '../../src/platforms/errors';
import { DINGTALK_PATHS, startFakeDingtalkApi, type FakeDingtalkApi } from '../fakes/fake-dingtalk-api';
import { fixedClock, testConfig } from '../helpers/platform-test-kit';

const TOKEN = 'fakeaccesstoken0000000001';
const SECRET = 'SECfakesecret0000000000000001';
const NOW = 1_750_000_000_000;

describe('DingtalkSender against the fake DingTalk API', () => {
  let fake: FakeDingtalkApi;
  const clock = fixedClock(NOW);

  beforeAll(async () => {
    fake = await startFakeDingtalkApi({ robots: { [TOKEN]: SECRET }, appKey: 'dingappkey', appSecret: 'ding-app-secret', now: () => NOW });
  });
  afterAll(() => fake.close());
  afterEach(() => {
    fake.requests.length = 0;
    clock.set(NOW);
  });

  const make = (extra: Record<string, string> = {}) =>
    new DingtalkSender(
      testConfig({
        DINGTALK_OAPI_BASE: fake.baseUrl,
        DINGTALK_API_BASE: fake.baseUrl,
        DINGTALK_APP_KEY: 'dingappkey',
        DINGTALK_APP_SECRET: 'ding-app-secret',
        ...extra,
      }),
      { clock },
    );
  const webhookTarget: OutboundTarget = {
    platform: 'dingtalk',
    conversationId: 'cidGroup1',
    route: { kind: 'dingtalk', webhookAccessToken: TOKEN, webhookSecret: SECRET },
  };
  const openApiTarget: OutboundTarget = { platform: 'dingtalk', conversationId: 'cidGroup2', route: { kind: 'dingtalk', robotCode: 'dingrobot' } };

  it('signs the custom robot URL (timestamp + sign, encoded once) and @-mentions with atUserIds and "@id" text', async () => {
    await make().send(webhookTarget, { text: '请提交周报', mentions: ['lisi01'] });
    const [req] = fake.requestsTo(DINGTALK_PATHS.robotSend);
    expect(req!.query.timestamp).toBe(String(NOW));
    const expected = createHmac('sha256', SECRET).update(`${NOW}\n${SECRET}`).digest('base64');
    expect(req!.query.sign).toBe(expected);
    expect(req!.rawQuery).toContain(`sign=${encodeURIComponent(expected)}`);
    expect(req!.rawQuery).not.toContain('%25');
    expect(req!.body).toEqual({ msgtype: 'text', text: { content: '@lisi01 请提交周报' }, at: { atUserIds: ['lisi01'], isAtAll: false } });
  });

  it('gets 310000 (not retryable) when its clock is more than an hour off DingTalk\'s', async () => {
    clock.set(NOW - 3_600_001);
    const e = await make().send(webhookTarget, { text: 'x', mentions: [] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PlatformApiError);
    expect((e as PlatformApiError).errcode).toBe(310000);
    expect((e as PlatformApiError).retryable).toBe(false);
    expect((e as Error).message).not.toContain(TOKEN);
  });

  it('uses the sessionWebhook while valid, then the OpenAPI group send', async () => {
    const target: OutboundTarget = {
      platform: 'dingtalk',
      conversationId: 'cidGroup3',
      route: { kind: 'dingtalk', sessionWebhook: fake.sessionWebhook('sess-1'), sessionWebhookExpiresAt: NOW + 5_400_000, robotCode: 'dingrobot' },
    };
    const s = make();
    await s.send(target, { text: '好的', markdown: '### 已记录\n周五前提交', mentions: ['lisi01'] });
    const [sess] = fake.requestsTo(DINGTALK_PATHS.sessionSend);
    expect(sess!.query.session).toBe('sess-1');
    expect(sess!.body).toEqual({
      msgtype: 'markdown',
      markdown: { title: '已记录', text: '### 已记录\n周五前提交\n\n@lisi01' },
      at: { atUserIds: ['lisi01'], isAtAll: false },
    });

    clock.set(NOW + 5_400_000);
    await s.send(target, { text: '会话已过期', mentions: [] });
    expect(fake.requestsTo(DINGTALK_PATHS.sessionSend)).toHaveLength(1);
    const [send] = fake.requestsTo(DINGTALK_PATHS.groupSend);
    expect(send!.headers['x-acs-dingtalk-access-token']).toBe(fake.issuedTokens.at(-1));
    expect(send!.body).toEqual({
      robotCode: 'dingrobot',
      openConversationId: 'cidGroup3',
      msgKey: 'sampleText',
      msgParam: JSON.stringify({ content: '会话已过期' }),
    });
  });

  it('splits long Chinese text so each body stays within 20000 bytes, characters intact', async () => {
    const text = '第三季度客户满意度调研结果汇总：整体评分提升，响应速度仍需改进。"引号"\\反斜杠\n'.repeat(400);
    await make().send(webhookTarget, { text, mentions: ['lisi01'] });
    const reqs = fake.requestsTo(DINGTALK_PATHS.robotSend);
    expect(reqs.length).toBeGreaterThan(1);
    const contents = reqs.map((r) => (r.body as { text: { content: string } }).text.content);
    reqs.forEach((r, i) => {
      expect(r.bodyBytes).toBeLessThanOrEqual(20000);
      expect(contents[i]!.startsWith(`(${i + 1}/${reqs.length})\n`)).toBe(true);
      expect(contents[i]).not.toContain('\uFFFD');
    });
    expect((reqs[0]!.body as { at: { atUserIds: string[] } }).at.atUserIds).toEqual(['lisi01']);
    const rejoined = contents.map((c) => c.replace(/^\(\d+\/\d+\)\n/, '')).join('\n');
    expect(rejoined.replace(/\n/g, '')).toBe(`@lisi01 ${text}`.replace(/\n/g, ''));
  });

  it('caches the OpenAPI token and refreshes it once for 10 concurrent sends', async () => {
    const s = make();
    for (let i = 0; i < 3; i++) await s.send(openApiTarget, { text: `第${i}条`, mentions: [] });
    expect(fake.requestsTo(DINGTALK_PATHS.accessToken)).toHaveLength(1);
    const stale = fake.issuedTokens.at(-1);
    fake.expireAllTokens();
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.send(openApiTarget, { text: `并发${i}`, mentions: [] })));
    expect(fake.requestsTo(DINGTALK_PATHS.accessToken)).toHaveLength(2);
    const sends = fake.requestsTo(DINGTALK_PATHS.groupSend);
    expect(sends.filter((r) => r.headers['x-acs-dingtalk-access-token'] === stale)).toHaveLength(13);
    expect(sends.filter((r) => r.headers['x-acs-dingtalk-access-token'] === fake.issuedTokens.at(-1))).toHaveLength(10);
  });

  it('maps failures: 500 → UpstreamHttpError, 130101 and 429 → rate limited, 460101 → not retryable', async () => {
    const s = make();
    const msg = { text: 'x', mentions: [] };
    fake.fail(DINGTALK_PATHS.robotSend, 1, 'http500');
    expect(await s.send(webhookTarget, msg).catch((e: unknown) => e)).toBeInstanceOf(UpstreamHttpError);

    fake.fail(DINGTALK_PATHS.robotSend, 1, 'rate-limit');
    const eRate = await s.send(webhookTarget, msg).catch((e: unknown) => e);
    expect(eRate).toBeInstanceOf(PlatformRateLimitError);
    expect((eRate as PlatformRateLimitError).errcode).toBe(130101);
    expect((eRate as PlatformRateLimitError).retryable).toBe(true);
    expect((eRate as PlatformRateLimitError).retryAfterMs).toBe(600_000);

    fake.fail(DINGTALK_PATHS.groupSend, 1, 'rate-limit');
    const eQps = await s.send(openApiTarget, msg).catch((e: unknown) => e);
    expect(isRateLimited(eQps)).toBe(true);

    fake.fail(DINGTALK_PATHS.robotSend, 1, { errcode: 460101 });
    const eLong = await s.send(webhookTarget, msg).catch((e: unknown) => e);
    expect((eLong as PlatformApiError).retryable).toBe(false);
    expect(isRateLimited(eLong)).toBe(false);

    const noRoute = await make({ DINGTALK_APP_KEY: '', DINGTALK_APP_SECRET: '' })
      .send({ platform: 'dingtalk', conversationId: 'c', route: null }, msg)
      .catch((e: unknown) => e);
    expect((noRoute as PlatformApiError).errcode).toBe('no_route');
  });

  it('reports a wrong app secret as a non-retryable token error without the secret in it', async () => {
    const e = await make({ DINGTALK_APP_SECRET: 'wrong-app-secret' }).send(openApiTarget, { text: 'x', mentions: [] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PlatformApiError);
    expect((e as PlatformApiError).method).toBe('oauth2/accessToken');
    expect((e as PlatformApiError).retryable).toBe(false);
    expect((e as Error).message).not.toContain('wrong-app-secret');
  });
});
