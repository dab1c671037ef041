import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PlatformApiError } from '../../src/core/errors';
import type { InboundMessage, OutboundTarget } from '../../src/core/types';
import type { DingtalkSender } from '../../src/platforms/dingtalk/dingtalk-sender';
import { withPrivateRoute } from '../../src/platforms/group-route';
import { WecomSender } from '../../src/platforms/wecom/wecom-sender';
import { DINGTALK_PATHS, type FakeDingtalkApi } from '../fakes/fake-dingtalk-api';
import { WECOM_PATHS, type FakeWecomApi } from '../fakes/fake-wecom-api';
import { startFakePlatforms } from '../helpers/fake-platforms';
import { fixedClock, testConfig } from '../helpers/platform-test-kit';

/**
 * The @ each channel actually renders, and private chats on both platforms, against the fakes.
 * The core writes the mentioned people as a last line "@张三 @李四"; where a channel renders a real
 * @, that line is replaced by the channel's own form, so no name appears twice.
 */

const NOW = Date.UTC(2026, 10, 23, 3, 0, 0);
const KEY = 'mention-webhook-key-01';
const DT_TOKEN = 'mentionaccesstoken0000001';
const DT_SECRET = 'SECmentionsecret00000000000001';
const REMINDER = { text: '分配单 A12 的初稿今天 18:00 到期，请按时提交。\n@张三 @李四', mentions: ['zhangsan', 'lisi'] };

describe('mention bodies per channel and private sends', () => {
  let wecom: FakeWecomApi;
  let dingtalk: FakeDingtalkApi;
  const clock = fixedClock(NOW);
  let ws: WecomSender;
  let ds: DingtalkSender;

  let close = async () => {};
  beforeAll(async () => {
    ({ wecom, dingtalk, ws, ds, close } = await startFakePlatforms({ clock, webhookKey: KEY, dingtalkRobot: { token: DT_TOKEN, secret: DT_SECRET }, wecomUsers: ['zhangsan', 'lisi'], dingtalkStaff: ['lisi01', 'zhangsan01'] }));
  });
  afterAll(async () => close());
  afterEach(() => {
    wecom.requests.length = 0;
    dingtalk.requests.length = 0;
    clock.set(NOW);
  });

  const aibot = (code: string) => ({ kind: 'wecom', responseUrl: wecom.responseUrl(code), responseUrlExpiresAt: NOW + 3_600_000 });

  describe('WeCom', () => {
    it('group robot text: mentioned_list, and the "@name" line is not repeated', async () => {
      const target: OutboundTarget = { platform: 'wecom', conversationId: 'g1', route: { kind: 'wecom', webhookKey: KEY } };
      await ws.send(target, REMINDER);
      expect(wecom.delivered(WECOM_PATHS.webhook).map((r) => r.body)).toEqual([
        { msgtype: 'text', text: { content: '分配单 A12 的初稿今天 18:00 到期，请按时提交。', mentioned_list: ['zhangsan', 'lisi'] } },
      ]);
      expect(ws.mentionGap(target, REMINDER)).toBeNull();
    });

    it('group robot markdown: <@userid> in place of the "@name" line', async () => {
      const target: OutboundTarget = { platform: 'wecom', conversationId: 'g2', route: { kind: 'wecom', webhookKey: KEY } };
      await ws.send(target, { ...REMINDER, markdown: '**分配单 A12** 初稿今天 18:00 到期。\n@张三 @李四' });
      const [req] = wecom.delivered(WECOM_PATHS.webhook);
      expect(req!.body).toEqual({ msgtype: 'markdown', markdown: { content: '**分配单 A12** 初稿今天 18:00 到期。\n<@zhangsan> <@lisi>' } });
    });

    it('a reply that @-s people takes the group robot, not the AI-bot response_url (whose markdown has no @)', async () => {
      const target: OutboundTarget = { platform: 'wecom', conversationId: 'g3', route: { ...aibot('rc-m1'), webhookKey: KEY }, replyTo: 'm1', replyRoute: aibot('rc-m1') };
      await ws.send(target, REMINDER);
      expect(wecom.requestsTo(WECOM_PATHS.aibotResponse)).toHaveLength(0);
      expect((wecom.delivered(WECOM_PATHS.webhook)[0]!.body as { text: { mentioned_list: string[] } }).text.mentioned_list).toEqual(['zhangsan', 'lisi']);
      // Without mentions the same reply still answers through its response_url.
      await ws.send(target, { text: '收到，谢谢！', mentions: [] });
      expect(wecom.delivered(WECOM_PATHS.aibotResponse)).toHaveLength(1);
    });

    it('only the AI bot: markdown without <@…>, the names stay as text, and the group is told how to get a real @', async () => {
      const target: OutboundTarget = { platform: 'wecom', conversationId: 'g4', route: aibot('rc-m2'), replyTo: 'm2', replyRoute: aibot('rc-m2') };
      const gap = ws.mentionGap(target, REMINDER);
      await ws.send(target, REMINDER);
      const [req] = wecom.delivered(WECOM_PATHS.aibotResponse);
      expect(req!.body).toEqual({ msgtype: 'markdown', markdown: { content: REMINDER.text } });
      expect(gap).toContain('/群 机器人=');
      expect(gap).toContain('群机器人');
    });

    it('appchat shows the names as text and names the fix; a private chat needs no such note', async () => {
      const target: OutboundTarget = { platform: 'wecom', conversationId: 'g5', route: { kind: 'wecom', appChatId: 'appchat-5' } };
      await ws.send(target, REMINDER);
      expect(wecom.delivered(WECOM_PATHS.appchat)[0]!.body).toEqual({ chatid: 'appchat-5', msgtype: 'text', text: { content: REMINDER.text }, safe: 0 });
      expect(ws.mentionGap(target, REMINDER)).toContain('/群 机器人=');
      expect(ws.mentionGap({ platform: 'wecom', conversationId: 'zhangsan', route: { kind: 'wecom', privateUserId: 'zhangsan' } }, REMINDER)).toBeNull();
    });

    it('private chat: the self-built app answers with message/send (agentid, touser)', async () => {
      const target: OutboundTarget = { platform: 'wecom', conversationId: 'lisi', route: { kind: 'wecom', privateUserId: 'lisi' }, replyTo: 'p1' };
      await ws.send(target, { text: '您好，已收到您的消息。', mentions: [] });
      const [req] = wecom.delivered(WECOM_PATHS.messageSend);
      expect(req!.query.access_token).toBe(wecom.issuedTokens.at(-1));
      expect(req!.body).toEqual({ touser: 'lisi', agentid: 1000007, msgtype: 'text', text: { content: '您好，已收到您的消息。' }, safe: 0 });
      expect(wecom.requestsTo(WECOM_PATHS.appchat)).toHaveLength(0);
      expect(wecom.requestsTo(WECOM_PATHS.webhook)).toHaveLength(0);
    });

    it('private chat with the AI bot: its own response_url first, then message/send', async () => {
      const target: OutboundTarget = { platform: 'wecom', conversationId: 'zhangsan', route: { kind: 'wecom', privateUserId: 'zhangsan' }, replyTo: 'p2', replyRoute: aibot('rc-p2') };
      await ws.send(target, { text: '第一条', mentions: [] });
      await ws.send(target, { text: '第二条', mentions: [] });
      expect(wecom.delivered(WECOM_PATHS.aibotResponse)).toHaveLength(1);
      expect((wecom.delivered(WECOM_PATHS.messageSend)[0]!.body as { touser: string }).touser).toBe('zhangsan');
    });

    it('a person outside the app\'s range: a clear, non-retryable error', async () => {
      const target: OutboundTarget = { platform: 'wecom', conversationId: 'nobody', route: { kind: 'wecom', privateUserId: 'nobody' } };
      const e = await ws.send(target, { text: 'x', mentions: [] }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(PlatformApiError);
      expect((e as PlatformApiError).errcode).toBe(81013);
      expect((e as PlatformApiError).retryable).toBe(false);
    });

    it('without WECOM_AGENT_ID a private chat has no route (and says how to get one)', async () => {
      const bare = new WecomSender(testConfig({ WECOM_API_BASE: wecom.baseUrl, WECOM_CORP_ID: 'ww-corp', WECOM_CORP_SECRET: 'corp-secret' }), { clock });
      const e = await bare.send({ platform: 'wecom', conversationId: 'lisi', route: { kind: 'wecom', privateUserId: 'lisi' } }, { text: 'x', mentions: [] }).catch((x: unknown) => x);
      expect((e as PlatformApiError).errcode).toBe('no_route');
      expect((e as Error).message).toContain('WECOM_AGENT_ID');
      expect(wecom.requests).toHaveLength(0);
    });
  });

  describe('DingTalk', () => {
    const DT_REMINDER = { text: '分配单 A12 的初稿今天 18:00 到期，请按时提交。\n@李四', mentions: ['lisi01'] };

    it('custom robot: at.atUserIds with "@userId" in place of the "@name" line', async () => {
      const target: OutboundTarget = { platform: 'dingtalk', conversationId: 'cid1', route: { kind: 'dingtalk', webhookAccessToken: DT_TOKEN, webhookSecret: DT_SECRET } };
      await ds.send(target, DT_REMINDER);
      expect(dingtalk.delivered(DINGTALK_PATHS.robotSend).map((r) => r.body)).toEqual([
        { msgtype: 'text', text: { content: '分配单 A12 的初稿今天 18:00 到期，请按时提交。\n@lisi01' }, at: { atUserIds: ['lisi01'], isAtAll: false } },
      ]);
      expect(ds.mentionGap(target, DT_REMINDER)).toBeNull();
    });

    it('after the sessionWebhook expires, a group with a custom robot keeps its real @ (not the OpenAPI)', async () => {
      const target: OutboundTarget = {
        platform: 'dingtalk',
        conversationId: 'cid2',
        route: { kind: 'dingtalk', sessionWebhook: dingtalk.sessionWebhook('s2'), sessionWebhookExpiresAt: NOW + 5_400_000, robotCode: 'dingrobot', webhookAccessToken: DT_TOKEN, webhookSecret: DT_SECRET },
      };
      await ds.send(target, DT_REMINDER);
      expect((dingtalk.delivered(DINGTALK_PATHS.sessionSend)[0]!.body as { at: unknown }).at).toEqual({ atUserIds: ['lisi01'], isAtAll: false });
      clock.set(NOW + 5_400_000);
      await ds.send(target, DT_REMINDER);
      expect(dingtalk.requestsTo(DINGTALK_PATHS.groupSend)).toHaveLength(0);
      expect((dingtalk.delivered(DINGTALK_PATHS.robotSend)[0]!.body as { at: unknown }).at).toEqual({ atUserIds: ['lisi01'], isAtAll: false });
    });

    it('only the OpenAPI group send (no @ there): the name stays as text, and the group is told to add a custom robot with 加签', async () => {
      const target: OutboundTarget = { platform: 'dingtalk', conversationId: 'cid3', route: { kind: 'dingtalk', robotCode: 'dingrobot' } };
      await ds.send(target, DT_REMINDER);
      const [req] = dingtalk.delivered(DINGTALK_PATHS.groupSend);
      expect(req!.body).toEqual({ robotCode: 'dingrobot', openConversationId: 'cid3', msgKey: 'sampleText', msgParam: JSON.stringify({ content: DT_REMINDER.text }) });
      const gap = ds.mentionGap(target, DT_REMINDER);
      expect(gap).toContain('加签');
      expect(gap).toContain('/群 机器人=');
      expect(ds.mentionGap(target, { text: '无人需要 @', mentions: [] })).toBeNull();
    });

    it('private chat after the session expired: oToMessages/batchSend with the userId, never the group API', async () => {
      const target: OutboundTarget = {
        platform: 'dingtalk',
        conversationId: 'cidPrivateXYZ',
        route: { kind: 'dingtalk', robotCode: 'dingrobot', privateUserId: 'lisi01', sessionWebhook: dingtalk.sessionWebhook('s3'), sessionWebhookExpiresAt: NOW + 5_400_000 },
      };
      await ds.send(target, { text: '在的，请讲。', mentions: [] });
      expect(dingtalk.delivered(DINGTALK_PATHS.sessionSend)).toHaveLength(1);
      clock.set(NOW + 5_400_000);
      await ds.send(target, { text: '您的分配单 A12 已完成，谢谢！', mentions: [] });
      const [req] = dingtalk.delivered(DINGTALK_PATHS.otoSend);
      expect(req!.headers['x-acs-dingtalk-access-token']).toBe(dingtalk.issuedTokens.at(-1));
      expect(req!.body).toEqual({ robotCode: 'dingrobot', userIds: ['lisi01'], msgKey: 'sampleText', msgParam: JSON.stringify({ content: '您的分配单 A12 已完成，谢谢！' }) });
      expect(dingtalk.requestsTo(DINGTALK_PATHS.groupSend)).toHaveLength(0);
    });

    it('private chat with a staff id DingTalk does not know: a clear, non-retryable error', async () => {
      const target: OutboundTarget = { platform: 'dingtalk', conversationId: 'cidP2', route: { kind: 'dingtalk', robotCode: 'dingrobot', privateUserId: 'left-the-firm' } };
      const e = await ds.send(target, { text: 'x', mentions: [] }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(PlatformApiError);
      expect((e as PlatformApiError).errcode).toBe('invalidStaffId');
      expect((e as PlatformApiError).retryable).toBe(false);
    });
  });

  it('a one-to-one chat teaches the private route on both platforms; a group message does not', () => {
    const base: InboundMessage = { platform: 'dingtalk', conversationId: 'cidP', conversationType: 'single', senderId: 'lisi01', messageId: 'm', text: 'hi', mentions: [], receivedAt: new Date(NOW) };
    expect(withPrivateRoute({ ...base, route: { kind: 'dingtalk', robotCode: 'r1' } }).route).toEqual({ kind: 'dingtalk', robotCode: 'r1', privateUserId: 'lisi01' });
    expect(withPrivateRoute({ ...base, platform: 'wecom', conversationId: 'zhangsan', senderId: 'zhangsan' }).route).toEqual({ kind: 'wecom', privateUserId: 'zhangsan' });
    expect(withPrivateRoute({ ...base, conversationType: 'group' }).route).toBeUndefined();
    expect(withPrivateRoute({ ...base, platform: 'sandbox' }).route).toBeUndefined();
  });
});
