import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWecomRouter } from '../../src/platforms/wecom/wecom-router';
import { sealMessage } from '../../src/platforms/wecom/wecom-crypto';
import { vectorPostBody, WECOM_VECTOR as V } from '../fixtures/wecom-official-vector';
import { capturingLogger, fixedClock, recordingInbound, serve, testConfig } from '../helpers/platform-test-kit';

const appEnv = { WECOM_TOKEN: V.token, WECOM_ENCODING_AES_KEY: V.encodingAesKey, WECOM_CORP_ID: V.corpId };

function qs(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

/** Replace one character by another of the same alphabet, so the change tests the crypto, not a format check. */
function mutate(s: string, i: number): string {
  const c = s[i]!;
  const replacement = /[0-9]/.test(c) ? (c === '1' ? '2' : '1') : /[a-f]/.test(c) ? (c === 'a' ? 'b' : 'a') : c === 'A' ? 'B' : 'A';
  return s.slice(0, i) + replacement + s.slice(i + 1);
}

describe('WeCom self-built app callback: official vector through the real Koa route', () => {
  const clock = fixedClock(Number(V.urlCheck.timestamp) * 1000 + 2000);
  const inbound = recordingInbound();
  const logs = capturingLogger();
  let calls = 0;
  let server: Awaited<ReturnType<typeof serve>>;

  beforeAll(async () => {
    const router = createWecomRouter({
      config: testConfig(appEnv),
      clock,
      log: logs.log,
      onInbound: (m) => {
        calls++;
        return inbound.onInbound(m);
      },
    });
    server = await serve(router);
  });
  afterAll(() => server.close());

  const urlCheck = (over: Partial<Record<'msg_signature' | 'timestamp' | 'nonce' | 'echostr', string>> = {}) =>
    fetch(
      `${server.baseUrl}/wecom/callback?${qs({
        msg_signature: V.urlCheck.msgSignature,
        timestamp: V.urlCheck.timestamp,
        nonce: V.urlCheck.nonce,
        echostr: V.urlCheck.echostr,
        ...over,
      })}`,
    );

  const postMessage = (over: Partial<Record<'msg_signature' | 'timestamp' | 'nonce', string>> = {}, encrypt?: string) =>
    fetch(
      `${server.baseUrl}/wecom/callback?${qs({
        msg_signature: V.message.msgSignature,
        timestamp: V.message.timestamp,
        nonce: V.message.nonce,
        ...over,
      })}`,
      { method: 'POST', headers: { 'content-type': 'text/xml' }, body: vectorPostBody(encrypt) },
    );

  it('answers the URL check with exactly the decrypted echostr', async () => {
    clock.set(Number(V.urlCheck.timestamp) * 1000 + 2000);
    const res = await urlCheck();
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(V.urlCheck.answer);
  });

  it('decodes the vector message and hands it to onInbound, answering "success"', async () => {
    clock.set(Number(V.message.timestamp) * 1000 + 1500);
    const before = inbound.messages.length;
    const res = await postMessage();
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('success');
    expect(inbound.messages.length).toBe(before + 1);
    expect(inbound.messages.at(-1)).toMatchObject({
      platform: 'wecom',
      conversationId: 'ChenJiaShun',
      conversationType: 'single',
      senderId: 'ChenJiaShun',
      messageId: '1456453720',
      text: '你好',
      mentions: [],
    });
    expect(inbound.messages.at(-1)!.receivedAt.getTime()).toBe(clock().getTime());
  });

  it('answers a re-delivery 200 as well (the core reports it as a duplicate)', async () => {
    clock.set(Number(V.message.timestamp) * 1000 + 1500);
    const res = await postMessage();
    expect(res.status).toBe(200);
    expect(inbound.messages.filter((m) => m.messageId === '1456453720').length).toBeGreaterThanOrEqual(2);
  });

  it('rejects every single-character change of signature, timestamp, nonce and ciphertext (message POST)', async () => {
    clock.set(Number(V.message.timestamp) * 1000 + 1500);
    const before = calls;
    const statuses = new Set<number>();
    for (const field of ['msg_signature', 'timestamp', 'nonce'] as const) {
      const original = field === 'msg_signature' ? V.message.msgSignature : field === 'timestamp' ? V.message.timestamp : V.message.nonce;
      for (let i = 0; i < original.length; i++) {
        const res = await postMessage({ [field]: mutate(original, i) });
        statuses.add(res.status);
        expect([400, 401], `${field}[${i}]`).toContain(res.status);
      }
    }
    for (let i = 0; i < V.message.encrypt.length; i++) {
      if (V.message.encrypt[i] === '=') continue; // padding characters are not data
      const res = await postMessage({}, mutate(V.message.encrypt, i));
      expect([400, 401], `encrypt[${i}]`).toContain(res.status);
    }
    expect(calls).toBe(before);
    expect(statuses.has(401)).toBe(true);
  });

  it('rejects every single-character change of the URL check too', async () => {
    clock.set(Number(V.urlCheck.timestamp) * 1000 + 2000);
    for (const field of ['msg_signature', 'timestamp', 'nonce', 'echostr'] as const) {
      const original =
        field === 'msg_signature' ? V.urlCheck.msgSignature : field === 'timestamp' ? V.urlCheck.timestamp : field === 'nonce' ? V.urlCheck.nonce : V.urlCheck.echostr;
      for (let i = 0; i < original.length; i++) {
        if (original[i] === '=') continue;
        const res = await urlCheck({ [field]: mutate(original, i) });
        expect([400, 401], `${field}[${i}]`).toContain(res.status);
        expect(await res.text()).not.toBe(V.urlCheck.answer);
      }
    }
  });

  it('rejects a message whose timestamp is more than an hour from the clock', async () => {
    clock.set(Number(V.message.timestamp) * 1000 + 3_600_000 + 1000);
    const before = calls;
    const res = await postMessage();
    expect(res.status).toBe(401);
    expect(calls).toBe(before);
  });

  it('never logs the token, the AES key or the ciphertext', () => {
    const all = logs.lines.join('\n');
    expect(all.length).toBeGreaterThan(0);
    expect(all).not.toContain(V.token);
    expect(all).not.toContain(V.encodingAesKey);
    expect(all).not.toContain(V.message.encrypt.slice(0, 40));
    expect(all).toContain('"messageId":"1456453720"');
  });
});

describe('WeCom app callback: a configured corp id differing in any one character', () => {
  it('rejects the vector message with 401 and never calls onInbound', async () => {
    let calls = 0;
    for (let i = 0; i < V.corpId.length; i++) {
      const router = createWecomRouter({
        config: testConfig({ ...appEnv, WECOM_CORP_ID: mutate(V.corpId, i) }),
        clock: fixedClock(Number(V.message.timestamp) * 1000),
        log: capturingLogger().log,
        onInbound: async () => {
          calls++;
          return 'accepted';
        },
      });
      const server = await serve(router);
      try {
        const res = await fetch(
          `${server.baseUrl}/wecom/callback?${qs({ msg_signature: V.message.msgSignature, timestamp: V.message.timestamp, nonce: V.message.nonce })}`,
          { method: 'POST', headers: { 'content-type': 'text/xml' }, body: vectorPostBody() },
        );
        expect(res.status, `corpId[${i}]`).toBe(401);
        expect(await res.text()).toBe('bad_receiveid');
      } finally {
        await server.close();
      }
    }
    expect(calls).toBe(0);
  });
});

describe('WeCom AI bot (智能机器人) callback', () => {
  const aesKey = randomBytes(32).toString('base64').slice(0, 43);
  const token = 'aibotToken123';
  const now = Date.UTC(2025, 5, 3, 2, 0, 0);
  const clock = fixedClock(now);
  const inbound = recordingInbound();
  let server: Awaited<ReturnType<typeof serve>>;
  let calls = 0;

  beforeAll(async () => {
    const router = createWecomRouter({
      config: testConfig({ WECOM_AIBOT_TOKEN: token, WECOM_AIBOT_ENCODING_AES_KEY: aesKey, WECOM_BOT_NAME: '小助手' }),
      clock,
      log: capturingLogger().log,
      onInbound: (m) => {
        calls++;
        return inbound.onInbound(m);
      },
    });
    server = await serve(router);
  });
  afterAll(() => server.close());

  const post = (payload: unknown, receiveId = '') => {
    const ts = String(Math.floor(clock().getTime() / 1000));
    const env = sealMessage({ token, encodingAesKey: aesKey, receiveId }, JSON.stringify(payload), ts, 'n0nce42');
    return fetch(`${server.baseUrl}/wecom/aibot?${qs({ msg_signature: env.msgsignature, timestamp: ts, nonce: env.nonce })}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ encrypt: env.encrypt }),
    });
  };

  const groupText = {
    msgid: 'CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=',
    aibotid: 'AIBOTID',
    chatid: 'wrkSFfCgAAhRz1lY1ApnXSn-tFfXnWvw',
    chattype: 'group',
    from: { userid: 'zhangsan' },
    response_url: 'https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=RESPONSECODE',
    msgtype: 'text',
    text: { content: '@小助手 明天下午三点前把方案发给客户' },
  };

  it('answers the URL check with the decrypted echostr (receiveid "")', async () => {
    const ts = String(Math.floor(now / 1000));
    const env = sealMessage({ token, encodingAesKey: aesKey, receiveId: '' }, '5927782489442352469', ts, 'abc');
    const res = await fetch(`${server.baseUrl}/wecom/aibot?${qs({ msg_signature: env.msgsignature, timestamp: ts, nonce: 'abc', echostr: env.encrypt })}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('5927782489442352469');
  });

  it('normalises a group @-message: mention stripped, response_url route valid for one hour', async () => {
    const res = await post(groupText);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(inbound.messages.at(-1)).toEqual({
      platform: 'wecom',
      conversationId: groupText.chatid,
      conversationType: 'group',
      senderId: 'zhangsan',
      messageId: groupText.msgid,
      text: '明天下午三点前把方案发给客户',
      mentions: [],
      receivedAt: new Date(now),
      route: { kind: 'wecom', responseUrl: groupText.response_url, responseUrlExpiresAt: now + 3_600_000 },
    });
  });

  it('joins the text items of a mixed message and keeps the quoted text', async () => {
    const res = await post({
      ...groupText,
      msgid: 'mixed-1',
      msgtype: 'mixed',
      text: undefined,
      mixed: { msg_item: [{ msgtype: 'text', text: { content: '@小助手 看下这张图' } }, { msgtype: 'image', image: { url: 'https://x/y' } }] },
      quote: { msgtype: 'text', text: { content: '上周的会议纪要' } },
    });
    expect(res.status).toBe(200);
    expect(inbound.messages.at(-1)).toMatchObject({ messageId: 'mixed-1', text: '看下这张图', quotedText: '上周的会议纪要' });
  });

  it('acknowledges a stream refresh and other events without calling onInbound', async () => {
    const before = calls;
    for (const payload of [
      { msgid: 't1', aibotid: 'A', chattype: 'single', from: { userid: 'u' }, msgtype: 'event', event: { eventtype: 'feedback_event' } },
      { msgid: 's1', aibotid: 'A', from: { userid: 'u' }, msgtype: 'stream', stream: { id: 'STREAMID' } },
    ]) {
      const res = await post(payload);
      expect(res.status).toBe(200);
    }
    expect(calls).toBe(before);
  });

  it('hands enter_chat on as a welcome and an image as an attachment (issue 14: answered, not ignored)', async () => {
    const before = calls;
    for (const payload of [
      { msgid: 'e1', aibotid: 'A', chattype: 'single', from: { userid: 'u' }, msgtype: 'event', event: { eventtype: 'enter_chat' } },
      { msgid: 'i1', aibotid: 'A', chattype: 'single', from: { userid: 'u' }, msgtype: 'image', image: { url: 'https://x' } },
    ]) {
      const res = await post(payload);
      expect(res.status).toBe(200);
    }
    expect(calls).toBe(before + 2);
    expect(inbound.messages.at(-2)).toMatchObject({ messageId: 'e1', event: 'welcome', text: '' });
    expect(inbound.messages.at(-1)).toMatchObject({ messageId: 'i1', attachment: 'image', text: '' });
  });

  it('rejects a payload encrypted for a non-empty receiveid', async () => {
    const before = calls;
    const res = await post({ ...groupText, msgid: 'x-corp' }, 'ww1436e0e65a779aee');
    expect(res.status).toBe(401);
    expect(calls).toBe(before);
  });

  it('rejects a signed payload missing required fields with 400', async () => {
    const before = calls;
    const res = await post({ msgtype: 'text', text: { content: 'hi' } });
    expect(res.status).toBe(400);
    expect(calls).toBe(before);
  });

  it('answers 503 when onInbound fails, so WeCom re-delivers', async () => {
    const router = createWecomRouter({
      config: testConfig({ WECOM_AIBOT_TOKEN: token, WECOM_AIBOT_ENCODING_AES_KEY: aesKey }),
      clock,
      log: capturingLogger().log,
      onInbound: async () => {
        throw new Error('database down');
      },
    });
    const s = await serve(router);
    try {
      const ts = String(Math.floor(now / 1000));
      const env = sealMessage({ token, encodingAesKey: aesKey, receiveId: '' }, JSON.stringify(groupText), ts, 'n1');
      const res = await fetch(`${s.baseUrl}/wecom/aibot?${qs({ msg_signature: env.msgsignature, timestamp: ts, nonce: 'n1' })}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ encrypt: env.encrypt }),
      });
      expect(res.status).toBe(503);
    } finally {
      await s.close();
    }
  });
});
