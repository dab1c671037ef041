import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Chat } from '../../src/core/chat';
import { enqueue } from '../../src/core/context';
import type { Database } from '../../src/db/client';
import { events, groups, outbox } from '../../src/db/schema';
import { createRobotSetting } from '../../src/platforms/robot-setting';
import { demoBot, fakeClock, REFUSED } from '../helpers/bot';
import { drivers } from '../helpers/databases';

const BASES = { WECOM_API_BASE: 'https://qyapi.weixin.qq.com', DINGTALK_OAPI_BASE: 'https://oapi.dingtalk.com' };
const WECOM_KEY = 'a1b2c3d4-0000-1111-2222-333344445555';
const DING_TOKEN = 'abcdef0123456789abcdef0123456789';
const DING_SECRET = 'SECabcdefabcdefabcdefabcdef0123';

/** /群 机器人=, /发送失败 and /重发 through the chat core, with who may use them. */
describe.each(drivers)('platform commands on $name', (driver) => {
  let database: Database;
  let chat: Chat;
  const clock = fakeClock('2026-12-01T02:00:00Z');
  let seq = 0;
  beforeAll(async () => {
    database = await driver.open();
    ({ chat } = await demoBot(database.db, { clock, admins: ['root'], deps: { robotSetting: createRobotSetting(BASES) } }));
  });
  afterAll(async () => database?.close());

  const say = async (platform: 'wecom' | 'dingtalk' | 'sandbox', group: string, from: string, text: string, route?: Record<string, unknown>) => {
    const r = await chat.handleNow({ platform, conversationId: group, senderId: from, messageId: `pc-${++seq}`, text, mentions: [], receivedAt: clock(), route });
    return r.replies.map((x) => x.text).join('\n');
  };
  const routeOf = async (platform: string, conversationId: string) =>
    (await database.db.select().from(groups).where(eq(groups.conversationId, conversationId))).find((g) => g.platform === platform)?.route;

  it('WeCom: sets the group robot from the whole URL, keeps learned facts, never echoes the key', async () => {
    const learned = { kind: 'wecom', responseUrl: 'https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=x', responseUrlExpiresAt: 1 };
    const reply = await say('wecom', 'pc-wx', 'liu', `/群 机器人=https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${WECOM_KEY}`, learned);
    expect(reply).toBe('已设置本群发消息用的机器人：企业微信群机器人（Webhook）。之后的回复和提醒会通过它发到本群，谢谢！');
    expect(await routeOf('wecom', 'pc-wx')).toEqual({ ...learned, webhookKey: WECOM_KEY });
    const audit = await database.db.select().from(events).where(eq(events.action, 'group.robot_set'));
    expect(JSON.stringify(audit)).not.toContain(WECOM_KEY);
    // Another host is refused, politely, without echoing what was sent.
    const evil = await say('wecom', 'pc-wx', 'liu', `/群 机器人=https://evil.example.com/cgi-bin/webhook/send?key=${WECOM_KEY}`);
    expect(evil).toMatch(/^抱歉，只接受企业微信官方/);
    expect(evil).not.toContain(WECOM_KEY);
    expect((await routeOf('wecom', 'pc-wx'))!.webhookKey).toBe(WECOM_KEY);
    expect(await say('wecom', 'pc-wx', 'liu', `/群 机器人=${WECOM_KEY} 密钥=SECabcdefabcdefabcdef`)).toMatch(/企业微信群机器人没有加签密钥/);
  });

  it('DingTalk: a new robot replaces the old one whole (its secret too); the secret is never echoed', async () => {
    const url = `https://oapi.dingtalk.com/robot/send?access_token=${DING_TOKEN}`;
    const signed = await say('dingtalk', 'pc-dt', 'boss', `/群 机器人=${url} ${DING_SECRET}`);
    expect(signed).toContain('钉钉自定义机器人（Webhook，已加签）');
    expect(signed).not.toContain(DING_SECRET);
    expect(signed).not.toContain(DING_TOKEN);
    expect(await routeOf('dingtalk', 'pc-dt')).toEqual({ kind: 'dingtalk', webhookAccessToken: DING_TOKEN, webhookSecret: DING_SECRET });
    const other = 'fedcba9876543210fedcba9876543210';
    expect(await say('dingtalk', 'pc-dt', 'boss', `/群 机器人=https://oapi.dingtalk.com/robot/send?access_token=${other}`)).toContain('未加签');
    expect(await routeOf('dingtalk', 'pc-dt')).toEqual({ kind: 'dingtalk', webhookAccessToken: other });
    // Something other than a secret after the URL is refused without being repeated.
    const odd = await say('dingtalk', 'pc-dt', 'boss', `/群 机器人=${url} 随便写的东西`);
    expect(odd).toMatch(/^抱歉，命令后面有无法识别的内容/);
    expect(odd).not.toContain('随便写的东西');
  });

  it('the sandbox needs no robot, and /群 without anything to set tells the form', async () => {
    expect(await say('sandbox', 'pc-sb', 'liu', `/群 机器人=${WECOM_KEY}`)).toMatch(/^抱歉，这个平台不需要设置机器人/);
    expect(await say('sandbox', 'pc-sb', 'liu', '/群')).toContain('的设置：');
  });

  describe('who may use them', () => {
    const everyone = ['zhang', 'zhao', 'li', 'liu', 'wang', 'boss', 'client-zhao', 'root'] as const;
    const matrix: { cmd: string; allowed: readonly string[] }[] = [
      { cmd: `/群 机器人=${WECOM_KEY}`, allowed: ['li', 'liu', 'boss', 'root'] },
      { cmd: '/发送失败', allowed: ['zhang', 'zhao', 'li', 'liu', 'wang', 'boss', 'root'] },
      { cmd: '/发送失败 全部', allowed: ['boss', 'root'] },
      { cmd: '/重发 {other}', allowed: ['boss', 'root'] },
      { cmd: '/重发 {own}', allowed: ['zhang', 'zhao', 'li', 'liu', 'wang', 'boss', 'root'] },
    ];
    for (const row of matrix) {
      for (const actor of everyone) {
        const allowed = row.allowed.includes(actor);
        it(`${row.cmd} by ${actor} → ${allowed ? 'allowed' : 'refused'}`, async () => {
          const group = `pm-${++seq}`;
          const failed = async (conversationId: string) => {
            await enqueue(database.db, { platform: 'wecom', conversationId, payload: { text: '失败的提醒', mentions: [] }, now: clock() });
            const [row] = await database.db.select().from(outbox).where(eq(outbox.conversationId, conversationId));
            await database.db.update(outbox).set({ status: 'failed', attempts: 12, lastError: 'wecom webhook/send errcode 93000: invalid webhook url' }).where(eq(outbox.id, row!.id));
            return row!.id;
          };
          const own = await failed(group);
          const other = await failed(`${group}-other`);
          const text = row.cmd.replace('{own}', String(own)).replace('{other}', String(other));
          const reply = await say('wecom', group, actor, text);
          if (allowed) {
            expect(reply).not.toMatch(REFUSED);
            if (text.startsWith('/重发')) {
              const [r] = await database.db.select().from(outbox).where(eq(outbox.id, text.endsWith(String(own)) ? own : other));
              expect(r!.status).toBe('pending');
            }
            if (text === '/发送失败') expect(reply).toContain(`编号 ${own}`);
            if (text === '/发送失败') expect(reply).not.toContain(`编号 ${other}`);
            if (text === '/发送失败 全部') expect(reply).toContain(`编号 ${other}`);
          } else {
            expect(reply).toMatch(/^(抱歉|您好！这条命令仅供|本群没有编号)/);
            const [o] = await database.db.select().from(outbox).where(eq(outbox.id, other));
            expect(o!.status).toBe('failed');
          }
        });
      }
    }
  });
});
