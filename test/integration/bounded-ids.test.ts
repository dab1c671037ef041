import { createHmac, randomBytes } from 'node:crypto';
import { rowsOf } from '../../src/db/rows';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { handleStreamPush } from '../../src/platforms/dingtalk/dingtalk-stream';
import { sealMessage } from '../../src/platforms/wecom/wecom-crypto';
import { buildWecomXml } from '../../src/platforms/wecom/wecom-xml';
import { robotPayload } from '../fixtures/dingtalk-robot-message';
import { FakeWecomAibotWs } from '../fakes/fake-wecom-aibot-ws';
import { drivers } from '../helpers/databases';
import { startPlatformApp, type PlatformApp } from '../helpers/platform-app';
import { capturingLogger } from '../helpers/platform-test-kit';

/**
 * Every id and name a platform sends is bounded (src/platforms/bounded-ids.ts) before the callback is
 * acknowledged: out of bounds it is answered 400 (HTTP) or dropped with a warning (long connection,
 * Stream), and nothing reaches inbound_messages, groups or people.
 */

const HUGE = 'x'.repeat(100 * 1024);
const wsCreds = { botId: 'bot-bounded', secret: 'ws-secret-bounded' };
const appAesKey = randomBytes(32).toString('base64').slice(0, 43);

describe.each(drivers)('ids and names out of bounds are refused before anything is stored ($name)', (driver) => {
  let database: Database;
  let p: PlatformApp;
  let fake: FakeWecomAibotWs;
  const logs = capturingLogger();
  let dtTs = 0;

  beforeAll(async () => {
    database = await driver.open();
    fake = await new FakeWecomAibotWs(wsCreds).start();
    p = await startPlatformApp({
      database,
      log: logs.log,
      env: {
        WECOM_TOKEN: 'app-token-bounded',
        WECOM_ENCODING_AES_KEY: appAesKey,
        WECOM_AIBOT_BOT_ID: wsCreds.botId,
        WECOM_AIBOT_SECRET: wsCreds.secret,
        WECOM_AIBOT_WS_URL: fake.url,
      },
    });
    await fake.waitFor(() => fake.subscriptions >= 1);
    dtTs = p.clock().getTime() - 100_000;
  });
  afterAll(async () => {
    await p?.close();
    await fake?.close();
    await database?.close();
  });

  /** Rows an accepted callback would have written (the demo seed's people and groups aside). */
  let baseline: { inbound: number; groups: number; people: number };
  const stored = async () => ({ inbound: await p.count('inbound_messages'), groups: await p.count('groups'), people: await p.count('people') });
  beforeAll(async () => {
    baseline = await stored();
  });

  const dingtalk = async (body: Record<string, unknown>) => {
    const ts = String(++dtTs);
    const sign = createHmac('sha256', p.secrets.dingAppSecret).update(`${ts}\n${p.secrets.dingAppSecret}`).digest('base64');
    const res = await fetch(`${p.app.url}/dingtalk/callback`, { method: 'POST', headers: { 'content-type': 'application/json', timestamp: ts, sign }, body: JSON.stringify(body) });
    return { status: res.status, text: await res.text() };
  };
  const dtBase = { ...robotPayload, text: { content: ' /帮助' } };

  it('DingTalk HTTP callback: a 100 KB value in each id and name field is 400', async () => {
    const cases: Record<string, Record<string, unknown>> = {
      msgId: { msgId: HUGE },
      conversationId: { conversationId: HUGE },
      senderStaffId: { senderStaffId: HUGE },
      senderId: { senderStaffId: undefined, senderId: HUGE },
      chatbotUserId: { chatbotUserId: HUGE },
      atUsers: { atUsers: [{ dingtalkId: '$:LWCP_v1:$x', staffId: HUGE }] },
      conversationTitle: { conversationTitle: HUGE },
      senderNick: { senderNick: HUGE },
      sessionWebhook: { sessionWebhook: `https://oapi.dingtalk.com/robot/sendBySession?session=${HUGE}` },
      robotCode: { robotCode: HUGE },
      msgtype: { msgtype: HUGE },
      'msgId of an ignored type': { msgtype: 'unknownType', msgId: HUGE },
      'space in an id': { conversationId: 'cid with space' },
    };
    for (const [field, over] of Object.entries(cases)) {
      const r = await dingtalk({ ...dtBase, msgId: `dt-bound-${field}`, ...over });
      expect(r, field).toEqual({ status: 400, text: 'bad_fields' });
    }
    expect(await stored()).toEqual(baseline);
  });

  it('DingTalk Stream push: the same payloads are acknowledged and dropped with a warning, nothing stored', async () => {
    for (const over of [{ msgId: HUGE }, { conversationId: HUGE }, { senderStaffId: HUGE }, { conversationTitle: HUGE }]) {
      const acked: string[] = [];
      const push = { specVersion: '1.0', type: 'CALLBACK', headers: { appId: 'a', connectionId: 'c', contentType: 'application/json', messageId: 'sp-1', time: '0', topic: '/v1.0/im/bot/messages/get' }, data: JSON.stringify({ ...dtBase, ...over }) };
      const outcome = await handleStreamPush(push, { clock: p.clock, onInbound: (m) => p.app.chat.accept(m), log: logs.log, ack: (id) => acked.push(id) });
      expect(outcome).toBe('malformed');
      expect(acked).toEqual(['sp-1']);
    }
    expect(logs.lines.some((l) => l.includes('"reason":"bad_fields"') && l.includes('stream push malformed'))).toBe(true);
    expect(await stored()).toEqual(baseline);
  });

  it('a well-formed DingTalk message still passes (the bounds are generous for real ids)', async () => {
    const r = await dingtalk({ ...dtBase, msgId: 'dt-bound-ok', conversationId: 'cidGRP3kd9+abc/def==', senderId: '$:LWCP_v1:$Ff09GIxxxxx', senderNick: '张\u0007三' });
    expect(r.status).toBe(200);
    expect(await p.count('inbound_messages', `message_id = 'dt-bound-ok'`)).toBe(1);
    // A control character in a display name is dropped, not a reason to lose the message.
    const [row] = rowsOf<{ payload: unknown }>(await database.db.execute(sql`select payload from inbound_messages where message_id = 'dt-bound-ok'`));
    expect(JSON.stringify(row?.payload)).not.toContain('\\u0007');
    await database.db.execute(sql`delete from inbound_messages where message_id = 'dt-bound-ok'`);
  });

  const aibot = async (inner: Record<string, unknown>) => {
    const timestamp = String(Math.floor(p.clock().getTime() / 1000));
    const env = sealMessage({ token: p.secrets.aibotToken, encodingAesKey: p.secrets.aibotAesKey, receiveId: '' }, JSON.stringify(inner), timestamp);
    const q = new URLSearchParams({ msg_signature: env.msgsignature, timestamp: env.timestamp, nonce: env.nonce });
    const res = await fetch(`${p.app.url}/wecom/aibot?${q}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ encrypt: env.encrypt }) });
    return { status: res.status, text: await res.text() };
  };
  const wxBase = { msgid: 'wx-b', aibotid: 'aibot-fake', chatid: 'wx-bound-chat', chattype: 'group', from: { userid: 'wang' }, response_url: 'https://qyapi.weixin.qq.com/cgi-bin/aibot/response?code=c', msgtype: 'text', text: { content: '@服务助手 /帮助' } };
  const wxCases: Record<string, Record<string, unknown>> = {
    msgid: { msgid: HUGE },
    chatid: { chatid: HUGE },
    'from.userid': { from: { userid: HUGE } },
    aibotid: { aibotid: HUGE },
    response_url: { response_url: `https://qyapi.weixin.qq.com/?x=${HUGE}` },
    msgtype: { msgtype: HUGE },
    'control character in an id': { chatid: 'wx\u0000chat' },
  };

  it('WeCom AI bot callback: a 100 KB value in each id field is 400', async () => {
    for (const [field, over] of Object.entries(wxCases)) {
      expect(await aibot({ ...wxBase, msgid: `wx-bound-${field.replace(/\W/g, '')}`, ...over }), field).toEqual({ status: 400, text: 'bad_fields' });
    }
    expect(await stored()).toEqual(baseline);
  });

  it('WeCom self-built app callback: a 100 KB FromUserName, MsgId or MsgType is 400', async () => {
    const keys = { token: 'app-token-bounded', encodingAesKey: appAesKey, receiveId: p.secrets.corpId };
    const common = { ToUserName: p.secrets.corpId, FromUserName: 'wang', CreateTime: Math.floor(p.clock().getTime() / 1000), MsgType: 'text', Content: '/帮助', MsgId: '1234567', AgentID: 1000002 };
    for (const over of [{ FromUserName: HUGE }, { MsgId: HUGE }, { MsgType: HUGE }]) {
      const env = sealMessage(keys, buildWecomXml({ ...common, ...over }), String(common.CreateTime), 'n1');
      const q = new URLSearchParams({ msg_signature: env.msgsignature, timestamp: env.timestamp, nonce: env.nonce });
      const res = await fetch(`${p.app.url}/wecom/callback?${q}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: buildWecomXml({ ToUserName: p.secrets.corpId, Encrypt: env.encrypt }) });
      expect(res.status, Object.keys(over)[0]).toBe(400);
      expect(await res.text()).toBe('bad_fields');
    }
    expect(await stored()).toEqual(baseline);
  });

  it('WeCom long connection: such frames are dropped with a warning that carries no data, nothing stored', async () => {
    const before = logs.lines.length;
    for (const over of Object.values(wxCases)) fake.callback({ ...wxBase, msgid: `ws-bound-${randomBytes(3).toString('hex')}`, ...over });
    // A good frame after them: once it is on record, the bad ones before it have been handled too.
    fake.callback({ ...wxBase, msgid: 'ws-bound-ok', chatid: 'ws-bound-ok-chat' });
    for (let i = 0; i < 250 && (await p.count('inbound_messages', `message_id = 'ws-bound-ok'`)) === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await p.count('inbound_messages', `message_id = 'ws-bound-ok'`)).toBe(1);
    const warnings = logs.lines.slice(before).filter((l) => l.includes('long-connection callback malformed; dropped'));
    expect(warnings).toHaveLength(Object.keys(wxCases).length);
    for (const w of warnings) {
      expect(w.length).toBeLessThan(1000);
      expect(w).not.toContain(wsCreds.secret);
    }
    expect(await p.count('inbound_messages', `message_id like 'ws-bound-%' and message_id <> 'ws-bound-ok'`)).toBe(0);
    expect(await p.count('groups', `conversation_id like 'x%'`)).toBe(0);
  });
});
