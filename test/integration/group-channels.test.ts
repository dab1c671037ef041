import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Chat } from '../../src/core/chat';
import type { OutboundTarget, PlatformSender } from '../../src/core/types';
import type { Database } from '../../src/db/client';
import { groups } from '../../src/db/schema';
import { createRobotSetting, createRouteDescription } from '../../src/platforms/robot-setting';
import { DINGTALK_PATHS, type FakeDingtalkApi } from '../fakes/fake-dingtalk-api';
import { WECOM_PATHS, type FakeWecomApi } from '../fakes/fake-wecom-api';
import { demoBot, fakeClock } from '../helpers/bot';
import { drivers } from '../helpers/databases';
import { startFakePlatforms } from '../helpers/fake-platforms';

/**
 * `/群` shows how the bot reaches the group and whether an @ there notifies anyone (with how to add a
 * channel that can); `/群 应用群聊=<chatid>` makes an app-created WeCom group reachable; an admin's
 * `/帮助` fits one message on every channel.
 */

const BASES = { WECOM_API_BASE: 'https://qyapi.weixin.qq.com', DINGTALK_OAPI_BASE: 'https://oapi.dingtalk.com' };
const WECOM_KEY = 'a1b2c3d4-0000-1111-2222-333344445555';
const DING_TOKEN = 'abcdef0123456789abcdef0123456789';
const DING_SECRET = 'SECabcdefabcdefabcdefabcdef0123';

describe.each(drivers)('group channels and one-message help on $name', (driver) => {
  let database: Database;
  let chat: Chat;
  const clock = fakeClock('2026-12-01T02:00:00Z');
  let seq = 0;
  beforeAll(async () => {
    database = await driver.open();
    ({ chat } = await demoBot(database.db, { clock, admins: ['root'], deps: { robotSetting: createRobotSetting({ ...BASES, WECOM_CORP_ID: 'ww-corp', WECOM_CORP_SECRET: 'corp-secret' }), describeRoute: createRouteDescription() } }));
  });
  afterAll(async () => database?.close());

  const say = async (platform: 'wecom' | 'dingtalk', group: string, from: string, text: string) => {
    const r = await chat.handleNow({ platform, conversationId: group, senderId: from, messageId: `gc-${++seq}`, text, mentions: [], receivedAt: clock() });
    return r.replies.map((x) => x.text).join('\n');
  };
  const routeOf = async (conversationId: string) => (await database.db.select().from(groups).where(eq(groups.conversationId, conversationId)))[0]?.route;

  it('DingTalk: /群 says the @ is only text without a custom robot and how to add one with 加签; after adding, that it notifies', async () => {
    const before = await say('dingtalk', 'gc-dt', 'liu', '/群');
    expect(before).toContain('自定义机器人：未设置');
    expect(before).toContain('@ 只能显示为文字');
    expect(before).toContain('加签');
    expect(before).toContain('/群 机器人=<Webhook 地址> 密钥=<SEC…>');
    await say('dingtalk', 'gc-dt', 'liu', `/群 机器人=https://oapi.dingtalk.com/robot/send?access_token=${DING_TOKEN} ${DING_SECRET}`);
    const after = await say('dingtalk', 'gc-dt', 'liu', '/群');
    expect(after).toContain('自定义机器人：已设置（已加签）');
    expect(after).toContain('@ 会通知到人');
    expect(after).not.toContain(DING_TOKEN);
    expect(after).not.toContain(DING_SECRET);
  });

  it('WeCom: /群 names the missing group robot; /群 应用群聊=<chatid> stores the appchat target, checked', async () => {
    expect(await say('wecom', 'gc-wx', 'liu', '/群')).toContain('群机器人：未设置');
    expect(await say('wecom', 'gc-wx', 'liu', '/群 应用群聊=bad-id!')).toMatch(/^抱歉，应用群聊的 chatid/);
    expect(await routeOf('gc-wx')).toBeNull();
    const ok = await say('wecom', 'gc-wx', 'liu', '/群 应用群聊=wrOgQhDgAAMYQiS5ol9G7gK9JV');
    expect(ok).toContain('企业微信应用群聊');
    expect(await routeOf('gc-wx')).toEqual({ kind: 'wecom', appChatId: 'wrOgQhDgAAMYQiS5ol9G7gK9JV' });
    // The group robot set later is kept beside it.
    await say('wecom', 'gc-wx', 'liu', `/群 机器人=${WECOM_KEY}`);
    expect(await routeOf('gc-wx')).toEqual({ kind: 'wecom', appChatId: 'wrOgQhDgAAMYQiS5ol9G7gK9JV', webhookKey: WECOM_KEY });
    const shown = await say('wecom', 'gc-wx', 'liu', '/群');
    expect(shown).toContain('群机器人：已设置');
    expect(shown).toContain('应用群聊：已设置');
    expect(shown).not.toContain(WECOM_KEY);
    // DingTalk has no appchat; a staff member without the group gate is refused.
    expect(await say('dingtalk', 'gc-dt2', 'liu', '/群 应用群聊=abc123')).toMatch(/^抱歉，应用群聊只用于企业微信/);
    expect(await say('wecom', 'gc-wx2', 'zhang', '/群 应用群聊=abc123')).toMatch(/^抱歉/);
    expect(await routeOf('gc-wx2')).toBeNull();
  });

  describe('an admin\'s /帮助 is one message on every channel', () => {
    let fakes: Awaited<ReturnType<typeof startFakePlatforms>>;
    beforeAll(async () => {
      fakes = await startFakePlatforms({ clock, webhookKey: WECOM_KEY, dingtalkRobot: { token: DING_TOKEN, secret: DING_SECRET }, wecomUsers: ['root'], dingtalkStaff: ['root'] });
    });
    afterAll(async () => fakes?.close());

    it('through the AI-bot response_url, group robot, appchat, message/send, and every DingTalk channel', async () => {
      const help = await say('wecom', 'gc-help', 'root', '/帮助');
      // The smallest single-message limit of any channel: WeCom text, appchat and message/send, 2048 bytes.
      expect(Buffer.byteLength(help)).toBeLessThanOrEqual(2048);
      const { wecom, dingtalk, ws, ds } = fakes;
      const aibot = { kind: 'wecom', responseUrl: wecom.responseUrl('rc-help'), responseUrlExpiresAt: clock().getTime() + 3_600_000 };
      const channels: { sender: PlatformSender; target: OutboundTarget; fake: FakeWecomApi | FakeDingtalkApi; path: string }[] = [
        { sender: ws, target: { platform: 'wecom', conversationId: 'h1', route: aibot, replyTo: 'x', replyRoute: aibot }, fake: wecom, path: WECOM_PATHS.aibotResponse },
        { sender: ws, target: { platform: 'wecom', conversationId: 'h2', route: { kind: 'wecom', webhookKey: WECOM_KEY } }, fake: wecom, path: WECOM_PATHS.webhook },
        { sender: ws, target: { platform: 'wecom', conversationId: 'h3', route: { kind: 'wecom', appChatId: 'appchat3' } }, fake: wecom, path: WECOM_PATHS.appchat },
        { sender: ws, target: { platform: 'wecom', conversationId: 'root', route: { kind: 'wecom', privateUserId: 'root' } }, fake: wecom, path: WECOM_PATHS.messageSend },
        { sender: ds, target: { platform: 'dingtalk', conversationId: 'd1', route: { kind: 'dingtalk', webhookAccessToken: DING_TOKEN, webhookSecret: DING_SECRET } }, fake: dingtalk, path: DINGTALK_PATHS.robotSend },
        { sender: ds, target: { platform: 'dingtalk', conversationId: 'd2', route: { kind: 'dingtalk', sessionWebhook: dingtalk.sessionWebhook('sh'), sessionWebhookExpiresAt: clock().getTime() + 5_400_000 } }, fake: dingtalk, path: DINGTALK_PATHS.sessionSend },
        { sender: ds, target: { platform: 'dingtalk', conversationId: 'd3', route: { kind: 'dingtalk', robotCode: 'dingrobot' } }, fake: dingtalk, path: DINGTALK_PATHS.groupSend },
        { sender: ds, target: { platform: 'dingtalk', conversationId: 'd4', route: { kind: 'dingtalk', robotCode: 'dingrobot', privateUserId: 'root' } }, fake: dingtalk, path: DINGTALK_PATHS.otoSend },
      ];
      for (const c of channels) {
        c.fake.requests.length = 0;
        await c.sender.send(c.target, { text: help, mentions: [] });
        expect(c.fake.delivered(c.path), c.path).toHaveLength(1);
        expect(c.fake.requestsTo(c.path), c.path).toHaveLength(1);
        expect(JSON.stringify(c.fake.requestsTo(c.path)[0]!.body)).not.toContain('(1/');
      }
      expect(wecom.truncated).toEqual([]);
    });
  });
});
