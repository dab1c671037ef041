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
    fake = await startFakeDingtalkApi({ robots: { [TOKEN]: SECRET }, appKey: 'dingappkey', appSecret: 'ding-app-secret', now: () => NOW, cardTemplates: ['tpl-ok.schema'] });
  });
  afterAll(() => fake.close());
  afterEach(() => {
    fake.requests.length = 0;
    fake.cards.clear();
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

  describe('interactive cards (卡片平台 createAndDeliver)', () => {
    const cardConfig = { DINGTALK_MODE: 'stream', DINGTALK_CARD_TEMPLATE_ID: 'tpl-ok.schema' };
    const buttons = [
      { label: '批准', command: '/批准 D12', token: 'bAAAAAAAAAAAAAAA1' },
      { label: '驳回', command: '/驳回 D12 再沟通', token: 'bAAAAAAAAAAAAAAA2' },
    ];
    const msg = { text: '已提交 D12 的项目移交申请。请部门负责人审批：/批准 D12 或 /驳回 D12 <原因>\n@刘经理', mentions: ['liu'], mentionNames: { liu: '刘经理' }, buttons };

    it('a group card carries the text, the buttons by token, the @ as atUserIds, and spends no other channel', async () => {
      await make(cardConfig).send({ ...openApiTarget, messageKey: 'reply:dingtalk:m1:0' }, msg);
      const [card] = [...fake.cards.values()];
      expect(card!.openSpaceId).toBe('dtv1.card//IM_GROUP.cidGroup2');
      expect(card!.atUserIds).toEqual({ liu: '刘经理' });
      expect(JSON.parse(card!.cardParamMap.buttons!)).toEqual([
        { label: '批准', actionId: 'bAAAAAAAAAAAAAAA1' },
        { label: '驳回', actionId: 'bAAAAAAAAAAAAAAA2' },
      ]);
      expect(card!.cardParamMap.markdown).toContain('/批准 D12');
      expect(fake.requestsTo(DINGTALK_PATHS.groupSend)).toHaveLength(0);
      expect(make(cardConfig).mentionGap(openApiTarget, msg)).toBeNull();
    });

    it('a retry of the same outbox row posts no second card (one outTrackId per row)', async () => {
      const sender = make(cardConfig);
      const target = { ...openApiTarget, messageKey: 'reply:dingtalk:m2:0' };
      await sender.send(target, msg);
      await sender.send(target, msg);
      expect(fake.requestsTo(DINGTALK_PATHS.cardCreateAndDeliver)).toHaveLength(2);
      expect(fake.cards.size).toBe(1);
      await sender.send({ ...openApiTarget, messageKey: 'reply:dingtalk:m3:0' }, msg);
      expect(fake.cards.size).toBe(2);
    });

    it('a one-to-one chat gets the card in the robot chat of that person', async () => {
      await make(cardConfig).send({ platform: 'dingtalk', conversationId: 'cidPrivate1', route: { kind: 'dingtalk', privateUserId: 'lisi01' }, messageKey: 'k-private' }, { ...msg, mentions: [] });
      const req = fake.requestsTo(DINGTALK_PATHS.cardCreateAndDeliver)[0]!;
      expect(req.body).toMatchObject({ openSpaceId: 'dtv1.card//im_robot.lisi01', imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode: 'dingappkey' } });
      expect(fake.cards.size).toBe(1);
    });

    it('a template DingTalk does not know costs nothing: the reply goes out as text', async () => {
      await make({ ...cardConfig, DINGTALK_CARD_TEMPLATE_ID: 'tpl-missing.schema' }).send({ ...openApiTarget, messageKey: 'k-missing' }, msg);
      expect(fake.cards.size).toBe(0);
      const [sent] = fake.delivered(DINGTALK_PATHS.groupSend);
      expect(JSON.parse((sent!.body as { msgParam: string }).msgParam).content).toContain('/批准 D12');
    });

    it('a retryable failure is left to the outbox (no text copy that would duplicate the card later)', async () => {
      fake.fail(DINGTALK_PATHS.cardCreateAndDeliver, 1, 'http500');
      const e = await make(cardConfig).send({ ...openApiTarget, messageKey: 'k-500' }, msg).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(UpstreamHttpError);
      expect(fake.requestsTo(DINGTALK_PATHS.groupSend)).toHaveLength(0);
    });

    it('no card without button tokens, or for a reply too long for one card (a template outside Stream mode is refused by the config)', async () => {
      await make(cardConfig).send({ ...openApiTarget, messageKey: 'k-tokenless' }, { ...msg, buttons: buttons.map(({ label, command }) => ({ label, command })) });
      await make(cardConfig).send({ ...openApiTarget, messageKey: 'k-long' }, { ...msg, text: '审批说明'.repeat(400) });
      expect(fake.requestsTo(DINGTALK_PATHS.cardCreateAndDeliver)).toHaveLength(0);
      expect(fake.delivered(DINGTALK_PATHS.groupSend).length).toBeGreaterThanOrEqual(2);
    });
  });
});
