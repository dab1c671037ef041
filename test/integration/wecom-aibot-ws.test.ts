import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PlatformApiError } from '../../src/core/errors';
import type { InboundMessage } from '../../src/core/types';
import type { Database } from '../../src/db/client';
import { createWecomAibotWs, type WecomAibotWs } from '../../src/platforms/wecom/wecom-aibot-ws';
import { FakeWecomAibotWs } from '../fakes/fake-wecom-aibot-ws';
import { WECOM_PATHS } from '../fakes/fake-wecom-api';
import { silentLog } from '../helpers/bot';
import { drivers } from '../helpers/databases';
import { startPlatformApp, type PlatformApp } from '../helpers/platform-app';
import { fixedClock } from '../helpers/platform-test-kit';

const creds = { botId: 'bot-fake-1', secret: 'ws-secret-1' };
const textBody = (msgid: string, text: string, chatid = 'wx-ws-chat') => ({
  msgid,
  aibotid: creds.botId,
  chatid,
  chattype: 'group',
  from: { userid: 'wang' },
  msgtype: 'text',
  text: { content: `@服务助手 ${text}` },
});

describe('WeCom AI bot long connection: the client against a fake server on 127.0.0.1', () => {
  let fake: FakeWecomAibotWs;
  const clients: WecomAibotWs[] = [];
  const received: InboundMessage[] = [];
  const clock = fixedClock(Date.parse('2026-12-01T02:00:00Z'));
  const client = (over: Partial<Parameters<typeof createWecomAibotWs>[0]> = {}) => {
    const c = createWecomAibotWs({
      url: fake.url,
      ...creds,
      clock,
      log: silentLog,
      botName: '服务助手',
      onInbound: async (m) => {
        received.push(m);
        return 'accepted';
      },
      reconnectBaseMs: 20,
      reconnectMaxMs: 100,
      heartbeatMs: 40,
      ackTimeoutMs: 1000,
      ...over,
    });
    clients.push(c);
    c.start();
    return c;
  };
  beforeAll(async () => {
    fake = await new FakeWecomAibotWs(creds).start();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.stop();
    fake.answerPings = true;
  });
  afterAll(async () => fake.close());

  it('subscribes with bot_id and secret, receives a callback, and answers it on the same req_id', async () => {
    const c = client();
    await c.whenReady();
    const sub = fake.sent('aibot_subscribe').at(-1)!;
    expect(sub.body).toEqual({ bot_id: creds.botId, secret: creds.secret });
    const reqId = fake.callback(textBody('ws-m1', '/日历'));
    const m = await fake.waitFor(() => received.find((r) => r.messageId === 'ws-m1'));
    expect(m).toMatchObject({ platform: 'wecom', conversationId: 'wx-ws-chat', senderId: 'wang', text: '/日历' });
    expect(m.route).toMatchObject({ wsReqId: reqId });
    await c.respond(reqId, { msgtype: 'stream', stream: { id: 's1', finish: true, content: '好的' } });
    expect(fake.sent('aibot_respond_msg').at(-1)).toMatchObject({ headers: { req_id: reqId }, body: { stream: { finish: true } } });
    // A req_id WeCom never sent is refused, as WeCom does: a typed, retryable error.
    await expect(c.respond('made-up', { msgtype: 'stream', stream: { id: 's2', finish: true, content: 'x' } })).rejects.toBeInstanceOf(PlatformApiError);
  });

  it('reconnects after the connection drops, and after pings go unanswered', async () => {
    const c = client();
    await c.whenReady();
    const before = fake.subscriptions;
    fake.dropAll();
    await fake.waitFor(() => fake.subscriptions === before + 1);
    await c.whenReady();
    fake.callback(textBody('ws-after-drop', '/帮助'));
    await fake.waitFor(() => received.find((r) => r.messageId === 'ws-after-drop'));
    // A silent server: two pings without an answer close the socket, and the client comes back.
    fake.answerPings = false;
    await fake.waitFor(() => fake.subscriptions === before + 2);
    expect(fake.sent('ping').length).toBeGreaterThan(1);
  });

  it('keeps retrying with a wrong secret, and stays down when another connection takes over', async () => {
    const bad = client({ secret: 'wrong' });
    await fake.waitFor(() => fake.frames.filter((f) => f.cmd === 'aibot_subscribe' && f.body.secret === 'wrong').length >= 2);
    expect(bad.ready).toBe(false);
    bad.stop();

    const first = client();
    await first.whenReady();
    const subs = fake.subscriptions;
    const second = client();
    await fake.waitFor(() => fake.subscriptions === subs + 1);
    await second.whenReady();
    await fake.waitFor(() => !first.ready);
    await new Promise((r) => setTimeout(r, 150)); // several backoff periods
    expect(fake.subscriptions).toBe(subs + 1);
    expect(second.ready).toBe(true);
  });
});

describe.each(drivers)('WeCom AI bot long connection through the app on $name', (driver) => {
  let database: Database;
  let p: PlatformApp;
  let fake: FakeWecomAibotWs;
  beforeAll(async () => {
    database = await driver.open();
    fake = await new FakeWecomAibotWs(creds).start();
    p = await startPlatformApp({
      database,
      env: { WECOM_AIBOT_BOT_ID: creds.botId, WECOM_AIBOT_SECRET: creds.secret, WECOM_AIBOT_WS_URL: fake.url },
    });
    await fake.waitFor(() => fake.subscriptions >= 1);
  });
  afterAll(async () => {
    await p?.close();
    await fake?.close();
    await database?.close();
  });

  /** Wait until the pushed callback is on record (it arrives over the socket, asynchronously). */
  async function recorded(messageId: string) {
    for (let i = 0; i < 250; i++) {
      if ((await p.count('inbound_messages', `message_id = '${messageId}'`)) > 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${messageId} never recorded`);
  }

  it('a command from the connection is answered on its req_id as a finished stream; later posts are pushed without a webhook', async () => {
    const reqId = fake.callback(textBody('ws-app-1', '/单 新建 客户=长连接客户 类型=专利 业务员=wang'));
    await recorded('ws-app-1');
    await p.settle();
    const reply = await fake.waitFor(() => fake.sent('aibot_respond_msg').find((f) => f.headers.req_id === reqId));
    expect(reply.body.msgtype).toBe('stream');
    expect(reply.body.stream.finish).toBe(true);
    expect(reply.body.stream.content).toContain('已新建分配单');
    expect(reply.body.stream.content).toContain('<@liu>');
    // Nothing went through response_url or a webhook.
    expect(p.wecom.requestsTo(WECOM_PATHS.aibotResponse)).toHaveLength(0);

    // After the req_id's lifetime the answer is a proactive push to the chat.
    fake.callback(textBody('ws-app-2', '/帮助'));
    await recorded('ws-app-2');
    p.clock.advance(6 * 60_000);
    await p.settle();
    const push = await fake.waitFor(() => fake.sent('aibot_send_msg').at(-1));
    expect(push.body).toMatchObject({ chatid: 'wx-ws-chat', msgtype: 'markdown' });
    expect(push.body.markdown.content).toContain('/帮助');
  });

  it('a card on /单 新建 offers the people of the department; a click runs /派单 as the clicker, with the same permission checks', async () => {
    const reqId = fake.callback(textBody('ws-card-1', '/单 新建 客户=卡片客户 类型=专利 业务员=wang'));
    await recorded('ws-card-1');
    await p.settle();
    const card = await fake.waitFor(() => fake.sent('aibot_respond_msg').find((f) => f.headers.req_id === reqId && f.body.msgtype === 'template_card'));
    expect(card.body.template_card.card_type).toBe('button_interaction');
    const buttons = card.body.template_card.button_list as { text: string; key: string }[];
    const toZhang = buttons.find((b) => b.text === '派给 张工')!;
    expect(toZhang.key).toMatch(/^cmd:\/派单 D\d+ zhang$/);
    const code = /D\d+/.exec(toZhang.key)![0];

    const click = (from: string, msgid: string) =>
      fake.callback(
        { msgid, aibotid: creds.botId, chatid: 'wx-ws-chat', chattype: 'group', from: { userid: from }, msgtype: 'event', event: { eventtype: 'template_card_event', template_card_event: { card_type: 'button_interaction', event_key: toZhang.key, task_id: card.body.template_card.task_id } } },
        'aibot_event_callback',
      );
    // 王业务 (sales) may not assign: the click is refused exactly like the typed command.
    const refusedReq = click('wang', 'ws-click-1');
    await recorded('ws-click-1');
    await p.settle();
    const refused = await fake.waitFor(() => fake.sent('aibot_respond_msg').find((f) => f.headers.req_id === refusedReq));
    expect(refused.body.stream.content).toMatch(/抱歉/);
    expect(await p.count('orders', `id = ${code.slice(1)} and handler_id is null`)).toBe(1);
    // 刘经理 (head of 专利部) clicks: assigned.
    const okReq = click('liu', 'ws-click-2');
    await recorded('ws-click-2');
    await p.settle();
    const ok = await fake.waitFor(() => fake.sent('aibot_respond_msg').find((f) => f.headers.req_id === okReq));
    expect(ok.body.stream.content).toContain(`${code} 已派给 @张工`);
    expect(await p.count('orders', `id = ${code.slice(1)} and handler_id = (select id from people where userid = 'zhang')`)).toBe(1);
  });
});
