import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { dingtalkSign } from '../../src/platforms/dingtalk/dingtalk-sign';
import { createDingtalkRouter } from '../../src/platforms/dingtalk/dingtalk-router';
import { sealMessage } from '../../src/platforms/wecom/wecom-crypto';
import { createWecomRouter } from '../../src/platforms/wecom/wecom-router';
import { vectorPostBody, WECOM_VECTOR as V } from '../fixtures/wecom-official-vector';
import { pgliteDriver } from '../helpers/databases';
import { capturingLogger, fixedClock, serve, testConfig } from '../helpers/platform-test-kit';

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<xml><ToUserName>&lol4;</ToUserName><Encrypt>&lol4;</Encrypt></xml>`;

describe('hostile input never reaches onInbound and never crashes the server', () => {
  const now = Number(V.message.timestamp) * 1000;
  const clock = fixedClock(now);
  const aibotKey = randomBytes(32).toString('base64').slice(0, 43);
  const appSecret = 'dt-app-secret-hostile';
  let calls = 0;
  let server: Awaited<ReturnType<typeof serve>>;
  let database: Database;

  beforeAll(async () => {
    database = await pgliteDriver.open();
    const config = testConfig({
      WECOM_TOKEN: V.token,
      WECOM_ENCODING_AES_KEY: V.encodingAesKey,
      WECOM_CORP_ID: V.corpId,
      WECOM_AIBOT_TOKEN: 'aibot-token',
      WECOM_AIBOT_ENCODING_AES_KEY: aibotKey,
      DINGTALK_APP_KEY: 'dingkey',
      DINGTALK_APP_SECRET: appSecret,
      BODY_LIMIT_BYTES: String(64 * 1024),
    });
    const onInbound = async () => {
      calls++;
      return 'accepted' as const;
    };
    const log = capturingLogger().log;
    server = await serve(createWecomRouter({ config, clock, log, onInbound }), createDingtalkRouter({ config, clock, log, onInbound, db: database.db }));
  });
  afterAll(async () => {
    await server.close();
    await database.close();
  });

  const wecomQuery = `msg_signature=${V.message.msgSignature}&timestamp=${V.message.timestamp}&nonce=${V.message.nonce}`;
  const dingHeaders = () => {
    const ts = String(clock().getTime());
    return { 'content-type': 'application/json', timestamp: ts, sign: dingtalkSign(ts, appSecret) };
  };

  it('refuses a DTD / entity expansion in the outer XML', async () => {
    const res = await fetch(`${server.baseUrl}/wecom/callback?${wecomQuery}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: BILLION_LAUGHS });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('bad_xml');
  });

  it('refuses a DTD inside a correctly signed and encrypted message', async () => {
    const ts = V.message.timestamp;
    const env = sealMessage({ token: V.token, encodingAesKey: V.encodingAesKey, receiveId: V.corpId }, BILLION_LAUGHS, ts, 'nonce1');
    const res = await fetch(`${server.baseUrl}/wecom/callback?msg_signature=${env.msgsignature}&timestamp=${ts}&nonce=nonce1`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: `<xml><Encrypt><![CDATA[${env.encrypt}]]></Encrypt></xml>`,
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('bad_inner_xml');
  });

  it('answers 413 to a 10 MB body, declared or streamed, on every route', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024, 0x41);
    for (const path of ['/wecom/callback', '/wecom/aibot', '/dingtalk/callback']) {
      const type = path === '/wecom/callback' ? 'text/xml' : 'application/json';
      const declared = await fetch(`${server.baseUrl}${path}?${wecomQuery}`, { method: 'POST', headers: { ...dingHeaders(), 'content-type': type }, body: big });
      expect(declared.status, path).toBe(413);
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(1024 * 1024));
          c.close();
        },
      });
      const streamed = await fetch(`${server.baseUrl}${path}?${wecomQuery}`, {
        method: 'POST',
        headers: { ...dingHeaders(), 'content-type': type },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expect(streamed.status, `${path} streamed`).toBe(413);
    }
  });

  it('answers 400 to bytes that are not UTF-8', async () => {
    const bad = Buffer.concat([Buffer.from(vectorPostBody().slice(0, 30)), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('</xml>')]);
    const a = await fetch(`${server.baseUrl}/wecom/callback?${wecomQuery}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: bad });
    expect(a.status).toBe(400);
    expect(await a.text()).toBe('invalid_utf8');
    const b = await fetch(`${server.baseUrl}/dingtalk/callback`, { method: 'POST', headers: dingHeaders(), body: Buffer.from([0x7b, 0xed, 0xa0, 0x80, 0x7d]) });
    expect(b.status).toBe(400);
  });

  it('answers 415 to wrong content types', async () => {
    for (const [path, type] of [
      ['/wecom/callback', 'application/x-www-form-urlencoded'],
      ['/wecom/callback', 'multipart/form-data; boundary=x'],
      ['/wecom/aibot', 'text/xml'],
      ['/dingtalk/callback', 'text/plain'],
      ['/dingtalk/callback', 'application/xml'],
    ] as const) {
      const res = await fetch(`${server.baseUrl}${path}?${wecomQuery}`, { method: 'POST', headers: { ...dingHeaders(), 'content-type': type }, body: '{}' });
      expect(res.status, `${path} ${type}`).toBe(415);
    }
  });

  it('answers 400 to missing fields and non-JSON, 401 to missing signatures', async () => {
    const cases: Array<[string, RequestInit, number]> = [
      ['/wecom/callback', { method: 'POST', headers: { 'content-type': 'text/xml' }, body: vectorPostBody() }, 400], // no query
      [`/wecom/callback?${wecomQuery}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<xml><ToUserName>x</ToUserName></xml>' }, 400],
      [`/wecom/callback?${wecomQuery}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: 'not xml at all <' }, 400],
      [`/wecom/callback?${wecomQuery}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '' }, 400],
      [`/wecom/callback?${wecomQuery}&nonce=dup`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: vectorPostBody() }, 400],
      [`/wecom/callback?echostr=abc`, { method: 'GET' }, 400],
      [`/wecom/aibot?${wecomQuery}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'not json' }, 400],
      [`/wecom/aibot?${wecomQuery}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"encrypt": 42}' }, 400],
      [`/wecom/aibot?${wecomQuery}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' }, 400],
      ['/dingtalk/callback', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }, 401],
      ['/dingtalk/callback', { method: 'POST', headers: dingHeaders(), body: 'not json' }, 400],
      ['/dingtalk/callback', { method: 'POST', headers: dingHeaders(), body: '{"msgtype":"text"}' }, 400],
      ['/dingtalk/callback', { method: 'POST', headers: dingHeaders(), body: 'null' }, 400],
    ];
    for (const [path, init, status] of cases) {
      const res = await fetch(`${server.baseUrl}${path}`, init);
      expect(res.status, `${init.method} ${path} ${String(init.body).slice(0, 30)}`).toBe(status);
    }
  });

  it('is still serving after all of that, and onInbound was never called', async () => {
    const res = await fetch(`${server.baseUrl}/wecom/callback?msg_signature=${V.message.msgSignature}&timestamp=${V.message.timestamp}&nonce=${V.message.nonce}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: vectorPostBody(),
    });
    expect(res.status).toBe(200);
    expect(calls).toBe(1);
  });
});
