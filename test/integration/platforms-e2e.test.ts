import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { events, groups, outbox } from '../../src/db/schema';
import { DINGTALK_PATHS } from '../fakes/fake-dingtalk-api';
import { WECOM_PATHS } from '../fakes/fake-wecom-api';
import { drivers } from '../helpers/databases';
import { startPlatformApp, type PlatformApp } from '../helpers/platform-app';

/**
 * WeCom and DingTalk end to end through the real app: signed callbacks in over loopback HTTP, the chat
 * core, the outbox, and the fake platform APIs recording what the bot sends. The background loops
 * are off and a fake clock runs time: each test does the loops' work by hand (`settle`).
 */
describe.each(drivers)('WeCom and DingTalk through the app on $name', (driver) => {
  let database: Database;
  let p: PlatformApp;
  beforeAll(async () => {
    database = await driver.open();
    p = await startPlatformApp({ database });
  });
  afterAll(async () => {
    await p?.close();
    await database?.close();
  });

  const orderCount = () => p.count('orders');
  const wecomBodies = (path: string) => p.wecom.requestsTo(path).map((r) => r.body as any);
  const groupRoute = async (platform: string, conversationId: string) =>
    (await database.db.select().from(groups).where(eq(groups.conversationId, conversationId))).find((g) => g.platform === platform)?.route as
      | Record<string, unknown>
      | undefined;

  it('WeCom AI bot: acknowledges before handling, then the command takes effect and the reply names the head (no @ in AI-bot markdown) and says how to get one', async () => {
    const before = await orderCount();
    const sent = p.wecom.requestsTo(WECOM_PATHS.aibotResponse).length;
    const r = await p.wecomMessage({ from: 'wang', chatid: 'wx-chat-1', text: '/单 新建 客户=企微客户甲 类型=专利 业务员=wang', responseCode: 'rc-1' });
    expect(r.status).toBe(200);
    expect(r.body).toBe('');
    // Acknowledged, recorded, not yet handled.
    expect(await orderCount()).toBe(before);
    expect(await p.count('inbound_messages', `message_id = '${r.msgid}' and status = 'pending'`)).toBe(1);

    await p.settle();
    expect(await orderCount()).toBe(before + 1);
    const replies = p.wecom.requestsTo(WECOM_PATHS.aibotResponse).slice(sent);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.query.response_code).toBe('rc-1');
    const body = replies[0]!.body as { msgtype: string; markdown: { content: string } };
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.content).toContain('已新建分配单');
    // The AI bot's markdown has no @ syntax (docs path/101138; issue 14: `<@userid>` does not render there),
    // so the head who must assign it is named as text, and the group is told once how to get a real @.
    expect(body.markdown.content).not.toContain('<@liu>');
    expect(body.markdown.content).toContain('@刘经理');
    expect(body.markdown.content).toContain('/群 机器人=');
    // The route learned from the callback is stored with the group.
    expect(await groupRoute('wecom', 'wx-chat-1')).toMatchObject({ kind: 'wecom', responseUrl: p.wecom.responseUrl('rc-1') });
  });

  it('WeCom: /群 机器人= stores the group robot without echoing the key; later posts go as text with mentioned_list', async () => {
    const url = `${p.wecom.baseUrl}/cgi-bin/webhook/send?key=${p.secrets.webhookKey}`;
    const aibotBefore = p.wecom.requestsTo(WECOM_PATHS.aibotResponse).length;
    expect((await p.wecomMessage({ from: 'liu', chatid: 'wx-chat-2', text: `/群 机器人=${url}` })).status).toBe(200);
    await p.settle();
    const ack = wecomBodies(WECOM_PATHS.aibotResponse).slice(aibotBefore);
    expect(ack).toHaveLength(1);
    expect(ack[0].markdown.content).toContain('已设置本群发消息用的机器人：企业微信群机器人');
    expect(JSON.stringify(ack)).not.toContain(p.secrets.webhookKey);
    const route = await groupRoute('wecom', 'wx-chat-2');
    expect(route).toMatchObject({ kind: 'wecom', webhookKey: p.secrets.webhookKey });
    expect(route!.responseUrl).toBeTypeOf('string'); // learned facts kept beside the configured robot
    const audit = await database.db.select().from(events).where(eq(events.action, 'group.robot_set'));
    expect(JSON.stringify(audit)).not.toContain(p.secrets.webhookKey);

    // An order created here; its reply is sent after the response_url's hour, so it takes the webhook.
    const hookBefore = p.wecom.requestsTo(WECOM_PATHS.webhook).length;
    await p.wecomMessage({ from: 'wang', chatid: 'wx-chat-2', text: '/单 新建 客户=企微客户乙 类型=专利 业务员=wang' });
    while ((await p.app.chat.processPending()) > 0);
    p.clock.advance(61 * 60_000);
    await p.app.outbox.drain();
    const hooks = wecomBodies(WECOM_PATHS.webhook).slice(hookBefore);
    expect(hooks).toHaveLength(1);
    expect(hooks[0].msgtype).toBe('text');
    expect(hooks[0].text.content).toContain('已新建分配单');
    expect(hooks[0].text.mentioned_list).toEqual(['liu']);
  });

  it('WeCom: the same message delivered 3 times within 6 s has one effect and one reply', async () => {
    const before = await orderCount();
    const sent = p.wecom.requestsTo(WECOM_PATHS.aibotResponse).length;
    const msg = { from: 'wang', chatid: 'wx-chat-3', text: '/单 新建 客户=重试客户 类型=商标 业务员=wang', msgid: 'wx-retry-1', responseCode: 'rc-retry' };
    const t0 = p.clock().getTime();
    const first = await p.wecomMessage({ ...msg, at: new Date(t0) });
    p.clock.advance(5_000); // WeCom re-sends after 5 s without an answer…
    const second = await p.wecomMessage({ ...msg, at: new Date(t0 + 5_000) });
    await p.app.chat.processPending(); // …handling starts between the retries…
    p.clock.advance(1_000);
    const third = await p.wecomMessage({ ...msg, at: new Date(t0 + 6_000) });
    await p.settle();
    expect([first.status, second.status, third.status]).toEqual([200, 200, 200]);
    expect(await orderCount()).toBe(before + 1);
    expect(await p.count('inbound_messages', `message_id = 'wx-retry-1'`)).toBe(1);
    expect(await p.count('outbox', `reply_to = 'wx-retry-1'`)).toBe(1);
    expect(p.wecom.requestsTo(WECOM_PATHS.aibotResponse).slice(sent)).toHaveLength(1);
  });

  it('WeCom: a forged signature is refused and records nothing', async () => {
    const inbound = await p.count('inbound_messages');
    const res = await fetch(`${p.app.url}/wecom/aibot?msg_signature=${'0'.repeat(40)}&timestamp=${Math.floor(p.clock().getTime() / 1000)}&nonce=n`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ encrypt: 'AAAA' }),
    });
    expect(res.status).toBe(401);
    const ding = await fetch(`${p.app.url}/dingtalk/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', timestamp: String(p.clock().getTime()), sign: 'forged' },
      body: '{}',
    });
    expect(ding.status).toBe(401);
    expect(await p.count('inbound_messages')).toBe(inbound);
  });

  it('DingTalk: a callback takes effect and the reply @-mentions with at.atUserIds and "@userid" in the text', async () => {
    const before = await orderCount();
    const sent = p.dingtalk.requestsTo(DINGTALK_PATHS.sessionSend).length;
    const r = await p.dingtalkMessage({ from: 'wang', conversationId: 'cid-dt-1', text: '/单 新建 客户=钉钉客户甲 类型=专利 业务员=wang', session: 'sess-1' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({});
    expect(await orderCount()).toBe(before);
    await p.settle();
    expect(await orderCount()).toBe(before + 1);
    const replies = p.dingtalk.requestsTo(DINGTALK_PATHS.sessionSend).slice(sent);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.query.session).toBe('sess-1');
    const body = replies[0]!.body as { msgtype: string; text: { content: string }; at: { atUserIds: string[] } };
    expect(body.msgtype).toBe('text');
    expect(body.at.atUserIds).toEqual(['liu']);
    expect(body.text.content).toContain('@liu');
    expect(body.text.content).toContain('已新建分配单');
    expect(await groupRoute('dingtalk', 'cid-dt-1')).toMatchObject({ kind: 'dingtalk', sessionWebhook: p.dingtalk.sessionWebhook('sess-1'), robotCode: p.secrets.dingAppKey });
  });

  it('DingTalk: /群 机器人= with 密钥 keeps the secret out of the reply; once the session expires, posts go signed through the custom robot', async () => {
    const hook = `${p.dingtalk.baseUrl}/robot/send?access_token=${p.secrets.robotToken}`;
    const sent = p.dingtalk.requestsTo(DINGTALK_PATHS.sessionSend).length;
    await p.dingtalkMessage({ from: 'liu', conversationId: 'cid-dt-2', text: `/群 机器人=${hook} 密钥=${p.secrets.robotSecret}` });
    await p.settle();
    const ack = p.dingtalk.requestsTo(DINGTALK_PATHS.sessionSend).slice(sent);
    expect(ack).toHaveLength(1);
    const ackText = JSON.stringify(ack[0]!.body);
    expect(ackText).toContain('钉钉自定义机器人（Webhook，已加签）');
    expect(ackText).not.toContain(p.secrets.robotSecret);
    expect(ackText).not.toContain(p.secrets.robotToken);
    expect(await groupRoute('dingtalk', 'cid-dt-2')).toMatchObject({
      kind: 'dingtalk',
      webhookAccessToken: p.secrets.robotToken,
      webhookSecret: p.secrets.robotSecret,
      sessionWebhook: expect.any(String),
    });

    const robotBefore = p.dingtalk.requestsTo(DINGTALK_PATHS.robotSend).length;
    await p.dingtalkMessage({ from: 'wang', conversationId: 'cid-dt-2', text: '/单 新建 客户=钉钉客户乙 类型=专利 业务员=wang' });
    while ((await p.app.chat.processPending()) > 0);
    p.clock.advance(2 * 60 * 60_000); // the sessionWebhook has expired
    await p.app.outbox.drain();
    const posts = p.dingtalk.requestsTo(DINGTALK_PATHS.robotSend).slice(robotBefore);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.query.sign).toBeTruthy(); // the fake checked the signature (310000 otherwise)
    expect(await p.count('outbox', `status = 'sent' and conversation_id = 'cid-dt-2'`)).toBe(2);
    const body = posts[0]!.body as { text: { content: string }; at: { atUserIds: string[] } };
    expect(body.at.atUserIds).toEqual(['liu']);
    expect(body.text.content).toMatch(/^@liu /);
  });

  it('a message that keeps failing ends failed, is listed by /发送失败, and /重发 delivers it', async () => {
    // A WeCom group with a robot, its response_url already spent by the acknowledgement.
    await p.wecomMessage({ from: 'liu', chatid: 'wx-chat-9', text: `/群 机器人=${p.secrets.webhookKey}` });
    await p.settle();
    const [row] = await database.db
      .insert(outbox)
      .values({ platform: 'wecom', conversationId: 'wx-chat-9', payload: { text: '提醒：D1 明天到期，请尽快处理', mentions: ['zhang'] }, nextAttemptAt: p.clock() })
      .returning();
    p.wecom.fail(WECOM_PATHS.webhook, 12, 'http500');
    for (let i = 0; i < 12; i++) {
      await p.app.outbox.runOnce();
      p.clock.advance(6 * 60_000);
    }
    const [failed] = await database.db.select().from(outbox).where(eq(outbox.id, row!.id));
    expect(failed!.status).toBe('failed');
    expect(failed!.attempts).toBe(12);
    expect(failed!.lastError).toContain('500');

    const listed = p.wecom.requestsTo(WECOM_PATHS.aibotResponse).length;
    await p.wecomMessage({ from: 'zhang', chatid: 'wx-chat-9', text: '/发送失败' });
    await p.settle();
    const list = (p.wecom.requestsTo(WECOM_PATHS.aibotResponse)[listed]!.body as any).markdown.content as string;
    expect(list).toContain(`编号 ${row!.id}`);
    expect(list).toContain('提醒：D1 明天到期');
    expect(list).toContain('尝试 12 次');
    // A staff member elsewhere may not list every group; the boss may.
    await p.wecomMessage({ from: 'zhang', chatid: 'wx-chat-9', text: '/发送失败 全部' });
    await p.settle();
    expect((p.wecom.requestsTo(WECOM_PATHS.aibotResponse).at(-1)!.body as any).markdown.content).toMatch(/^(<@\S+>\n)?抱歉/);

    const hookBefore = p.wecom.requestsTo(WECOM_PATHS.webhook).length;
    await p.wecomMessage({ from: 'zhang', chatid: 'wx-chat-9', text: `/重发 ${row!.id}` });
    await p.settle();
    expect((p.wecom.requestsTo(WECOM_PATHS.aibotResponse).at(-1)!.body as any).markdown.content).toContain(`已把编号 ${row!.id} 的消息重新放回发送队列`);
    const resent = p.wecom.requestsTo(WECOM_PATHS.webhook).slice(hookBefore);
    expect(resent).toHaveLength(1);
    expect((resent[0]!.body as any).text).toEqual({ content: '提醒：D1 明天到期，请尽快处理', mentioned_list: ['zhang'] });
    const [done] = await database.db.select().from(outbox).where(eq(outbox.id, row!.id));
    expect(done!.status).toBe('sent');
    const audit = await database.db.select().from(events).where(eq(events.subject, `outbox:${row!.id}`));
    expect(audit.map((e) => [e.action, e.actorUserid])).toEqual([['outbox.resent', 'zhang']]);
    // Resending it again is refused politely.
    await p.wecomMessage({ from: 'zhang', chatid: 'wx-chat-9', text: `/重发 ${row!.id}` });
    await p.settle();
    expect((p.wecom.requestsTo(WECOM_PATHS.aibotResponse).at(-1)!.body as any).markdown.content).toContain('已经发送成功');
  });
});
