import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WELCOME } from '../../src/core/chat';
import type { InboundMessage } from '../../src/core/types';
import type { Database } from '../../src/db/client';
import { outbox } from '../../src/db/schema';
import { computeSignature, decryptMessage } from '../../src/platforms/callback-crypto';
import { decodeEventCallback, sealSuccess } from '../../src/platforms/dingtalk/dingtalk-events';
import { createDingtalkEventsRouter } from '../../src/platforms/dingtalk/dingtalk-events-router';
import { DINGTALK_PATHS } from '../fakes/fake-dingtalk-api';
import { eventPush, openAnswer, postEventPush, type DingEventKeys } from '../fakes/fake-dingtalk-event-caller';
import { DINGTALK_CHECK_URL_VECTOR as CHECK, DINGTALK_SUCCESS_VECTOR as SUCCESS } from '../fixtures/dingtalk-official-vector';
import { drivers } from '../helpers/databases';
import { startPlatformApp, type PlatformApp } from '../helpers/platform-app';
import { capturingLogger, fixedClock, recordingInbound, serve, testConfig } from '../helpers/platform-test-kit';

const aesKey = () => randomBytes(32).toString('base64').slice(0, 43);

/** A chat_add_member event as the decrypted push carries it (field names: see dingtalk-events.ts). */
const joinEvent = (over: Record<string, unknown> = {}) => ({
  EventType: 'chat_add_member',
  EventId: 'evt-join-1',
  CorpId: 'dingcorp01',
  TimeStamp: '1750000000000',
  ChatId: 'chat5a1b',
  OpenConversationId: 'cidJoin+grp==',
  Operator: 'liu',
  UserId: ['newbie01', 'newbie02'],
  ...over,
});

describe('DingTalk callback crypto against the official samples', () => {
  it('verifies and decrypts the official check_url push (DingCallbackCrypto3.py)', () => {
    expect(computeSignature(CHECK.token, CHECK.timeStamp, CHECK.nonce, CHECK.encrypt)).toBe(CHECK.msgSignature);
    expect(decryptMessage(CHECK.aesKey, CHECK.encrypt, CHECK.ownerKey)).toEqual({ ok: true, message: CHECK.plaintext, receiveId: CHECK.ownerKey });
    expect(decryptMessage(CHECK.aesKey, CHECK.encrypt, 'dingOtherApp')).toEqual({ ok: false, reason: 'bad_receiveid' });
    const keys = { token: CHECK.token, aesKey: CHECK.aesKey, receiveId: CHECK.ownerKey };
    const req = { query: { signature: CHECK.msgSignature, timestamp: CHECK.timeStamp, nonce: CHECK.nonce }, body: JSON.stringify({ encrypt: CHECK.encrypt }) };
    expect(decodeEventCallback(keys, req, new Date(Number(CHECK.timeStamp)))).toEqual({ ok: true, kind: 'check_url' });
    // The same push a day later is stale.
    expect(decodeEventCallback(keys, req, new Date(Number(CHECK.timeStamp) + 86_400_000))).toEqual({ ok: false, status: 401, reason: 'stale_timestamp' });
  });

  it('verifies and decrypts the official encrypted "success" answer (DingTalkCrypto.go)', () => {
    expect(computeSignature(SUCCESS.token, SUCCESS.timeStamp, SUCCESS.nonce, SUCCESS.encrypt)).toBe(SUCCESS.msgSignature);
    expect(decryptMessage(SUCCESS.aesKey, SUCCESS.encrypt, SUCCESS.ownerKey)).toMatchObject({ ok: true, message: SUCCESS.plaintext });
  });

  it('seals "success" so that the official scheme (written out independently) opens it', () => {
    const keys = { token: SUCCESS.token, aesKey: SUCCESS.aesKey, receiveId: SUCCESS.ownerKey };
    const sealed = sealSuccess(keys, new Date(1_750_000_000_000));
    expect(sealed.timeStamp).toBe('1750000000000');
    expect(sealed.nonce).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(openAnswer({ token: SUCCESS.token, aesKey: SUCCESS.aesKey, appKey: SUCCESS.ownerKey }, JSON.stringify(sealed))).toEqual({ message: 'success', ownerKey: SUCCESS.ownerKey });
    expect(openAnswer({ token: 'other-token', aesKey: SUCCESS.aesKey, appKey: SUCCESS.ownerKey }, JSON.stringify(sealed))).toBeNull();
  });
});

describe('DingTalk event subscription over HTTP (POST /dingtalk/events)', () => {
  const now = 1_750_000_000_000;
  const clock = fixedClock(now);
  const keys: DingEventKeys = { token: `evtoken${randomBytes(6).toString('hex')}`, aesKey: aesKey(), appKey: 'dingappkey01' };
  const inbound = recordingInbound();
  const logs = capturingLogger();
  let calls = 0;
  let failing = false;
  let server: Awaited<ReturnType<typeof serve>>;
  let url = '';

  beforeAll(async () => {
    const router = createDingtalkEventsRouter({
      config: testConfig({
        DINGTALK_APP_KEY: keys.appKey,
        DINGTALK_APP_SECRET: 'dingappsecret01',
        DINGTALK_EVENT_TOKEN: keys.token,
        DINGTALK_EVENT_AES_KEY: keys.aesKey,
        BODY_LIMIT_BYTES: '4096',
      }),
      clock,
      log: logs.log,
      onInbound: async (m: InboundMessage) => {
        calls++;
        if (failing) throw new Error('database down');
        return inbound.onInbound(m);
      },
    });
    server = await serve(router);
    url = `${server.baseUrl}/dingtalk/events`;
  });
  afterAll(() => server.close());

  const push = (event: Record<string, unknown> | string, opts: Parameters<typeof eventPush>[3] = {}) => postEventPush(url, keys, eventPush(keys, event, clock(), opts));

  it('answers check_url with "success", encrypted and signed for the AppKey, and hands nothing on', async () => {
    const before = calls;
    const a = await push({ EventType: 'check_url' });
    expect(a.status).toBe(200);
    expect(Object.keys(JSON.parse(a.raw)).sort()).toEqual(['encrypt', 'msg_signature', 'nonce', 'timeStamp']);
    expect(a.success).toBe('success');
    expect(a.ownerKey).toBe(keys.appKey);
    expect(calls).toBe(before);
  });

  it('accepts msg_signature as well as signature, and a timestamp in seconds as well as milliseconds', async () => {
    expect((await push({ EventType: 'check_url' }, { signatureParam: 'msg_signature' })).success).toBe('success');
    expect((await push({ EventType: 'check_url' }, { timestamp: String(Math.floor(now / 1000)) })).success).toBe('success');
  });

  it('turns a group join into one welcome from the first person added, and a re-push into a duplicate', async () => {
    const before = inbound.messages.length;
    const first = await push(joinEvent());
    expect(first.status).toBe(200);
    expect(first.success).toBe('success');
    expect(inbound.messages.slice(before)).toEqual([
      {
        platform: 'dingtalk',
        conversationId: 'cidJoin+grp==',
        conversationType: 'group',
        senderId: 'newbie01',
        messageId: 'join:evt-join-1',
        text: '',
        mentions: [],
        receivedAt: new Date(now),
        event: 'welcome',
      },
    ]);
    // DingTalk pushes again (no answer seen): the same event id, answered "success" again, deduped by the core.
    const again = await push(joinEvent());
    expect(again.success).toBe('success');
    expect(inbound.messages.slice(before).map((m) => m.messageId)).toEqual(['join:evt-join-1', 'join:evt-join-1']);
  });

  it('reads the lower-case spelling too, and without an event id dedupes by the event itself', async () => {
    const before = inbound.messages.length;
    const lower = { EventType: 'chat_add_member', openConversationId: 'cidLower==', userId: ['zhao'], TimeStamp: '1750000000001' };
    await push(lower);
    await push(lower);
    await push({ ...lower, TimeStamp: '1750000000999' });
    const got = inbound.messages.slice(before);
    expect(got.map((m) => [m.conversationId, m.senderId])).toEqual([
      ['cidLower==', 'zhao'],
      ['cidLower==', 'zhao'],
      ['cidLower==', 'zhao'],
    ]);
    expect(got[0]!.messageId).toMatch(/^join:h[0-9a-f]{32}$/);
    expect(got[1]!.messageId).toBe(got[0]!.messageId);
    expect(got[2]!.messageId).not.toBe(got[0]!.messageId);
  });

  it('answers "success" to every other event (and to an incomplete join) without handing it on', async () => {
    const before = calls;
    for (const e of [
      { EventType: 'chat_remove_member', OpenConversationId: 'cidJoin+grp==', UserId: ['x'] },
      { EventType: 'user_add_org', UserId: ['x'], CorpId: 'c' },
      { EventType: 'chat_add_member', UserId: ['x'] },
    ]) {
      const a = await push(e);
      expect(a.status).toBe(200);
      expect(a.success).toBe('success');
    }
    expect(calls).toBe(before);
  });

  it('rejects forged, misaddressed, stale, malformed and oversized pushes with 4xx and hands nothing on', async () => {
    const before = calls;
    const good = eventPush(keys, joinEvent({ EventId: 'evt-bad' }), clock());
    const q = new URLSearchParams(good.query);
    const withQuery = (k: string, v: string) => {
      const c = new URLSearchParams(q);
      c.set(k, v);
      return c.toString();
    };
    const otherKeys = { ...keys, token: 'another-token' };
    const cases: [string, Promise<{ status: number; raw: string }>, number, string][] = [
      ['bad signature', postEventPush(url, keys, { ...good, query: withQuery('signature', '0'.repeat(40)) }), 401, 'bad_signature'],
      ['signed with another token', postEventPush(url, keys, eventPush(otherKeys, joinEvent({ EventId: 'evt-bad' }), clock())), 401, 'bad_signature'],
      ['body changed after signing', postEventPush(url, keys, { ...good, body: eventPush(keys, joinEvent({ EventId: 'evt-other' }), clock()).body }), 401, 'bad_signature'],
      ['nonce changed', postEventPush(url, keys, { ...good, query: withQuery('nonce', 'zzzz') }), 401, 'bad_signature'],
      ['wrong receive id', push(joinEvent({ EventId: 'evt-bad' }), { ownerKey: 'dingOtherApp' }), 401, 'bad_receiveid'],
      ['stale timestamp', push(joinEvent({ EventId: 'evt-bad' }), { timestamp: String(now - 3_600_001) }), 401, 'stale_timestamp'],
      ['future timestamp', push(joinEvent({ EventId: 'evt-bad' }), { timestamp: String(now + 3_600_001) }), 401, 'stale_timestamp'],
      ['no signature', postEventPush(url, keys, { ...good, query: `timestamp=${now}&nonce=abc` }), 400, 'missing_query_params'],
      ['bad JSON body', postEventPush(url, keys, { ...good, body: '{"encrypt": ' }), 400, 'bad_json'],
      ['no encrypt field', postEventPush(url, keys, { ...good, body: '{"data":"x"}' }), 400, 'missing_encrypt'],
      ['bad JSON inside', push('not json at all'), 400, 'bad_inner_json'],
      ['no EventType', push({ UserId: ['x'] }), 400, 'missing_event_type'],
      ['oversized body', postEventPush(url, keys, { ...good, body: JSON.stringify({ encrypt: 'A'.repeat(5000) }) }), 413, 'body_too_large'],
      ['not JSON content type', postEventPush(url, keys, good, { 'content-type': 'text/html' }), 415, 'unsupported_media_type'],
    ];
    for (const [name, res, status, reason] of cases) {
      const r = await res;
      expect(r.status, name).toBe(status);
      expect(r.raw, name).toBe(reason);
    }
    // The untouched push is accepted, so each case above failed only for its own fault.
    expect((await postEventPush(url, keys, good)).success).toBe('success');
    expect(calls).toBe(before + 1);
  });

  it('answers 503 without "success" when the core cannot record the join, so DingTalk pushes it again', async () => {
    failing = true;
    try {
      const a = await push(joinEvent({ EventId: 'evt-fail' }));
      expect(a.status).toBe(503);
      expect(a.success).toBeNull();
    } finally {
      failing = false;
    }
    expect((await push(joinEvent({ EventId: 'evt-fail' }))).success).toBe('success');
    expect(inbound.messages.at(-1)!.messageId).toBe('join:evt-fail');
  });

  it('never logs the token, the aes_key or a ciphertext', async () => {
    const p = eventPush(keys, joinEvent({ EventId: 'evt-log' }), clock());
    await postEventPush(url, keys, p);
    const all = logs.lines.join('\n');
    expect(all).toContain('callback rejected'); // the log was written to
    expect(all).not.toContain(keys.token);
    expect(all).not.toContain(keys.aesKey);
    expect(all).not.toContain((JSON.parse(p.body) as { encrypt: string }).encrypt.slice(0, 24));
  });

  it('is not mounted without the event Token and aes_key', async () => {
    const router = createDingtalkEventsRouter({
      config: testConfig({ DINGTALK_APP_KEY: keys.appKey, DINGTALK_APP_SECRET: 's' }),
      clock,
      log: logs.log,
      onInbound: inbound.onInbound,
    });
    const bare = await serve(router);
    try {
      const r = await postEventPush(`${bare.baseUrl}/dingtalk/events`, keys, eventPush(keys, { EventType: 'check_url' }, clock()));
      expect(r.status).toBe(404);
    } finally {
      await bare.close();
    }
  });
});

describe.each(drivers)('DingTalk group join over HTTP events through the app on $name', (driver) => {
  let database: Database;
  let p: PlatformApp;
  let keys: DingEventKeys;
  const token = `evtoken${randomBytes(6).toString('hex')}`;
  const key = aesKey();
  beforeAll(async () => {
    database = await driver.open();
    p = await startPlatformApp({ database, env: { DINGTALK_EVENT_TOKEN: token, DINGTALK_EVENT_AES_KEY: key } });
    keys = { token, aesKey: key, appKey: p.secrets.dingAppKey };
  });
  afterAll(async () => {
    await p?.close();
    await database?.close();
  });

  const send = (event: Record<string, unknown>, opts: Parameters<typeof eventPush>[3] = {}) =>
    postEventPush(`${p.app.url}/dingtalk/events`, keys, eventPush(keys, event, p.clock(), opts));

  it('lists the events URL among the callback addresses, beside the robot callback', () => {
    expect(p.app.callbackPaths).toEqual(expect.arrayContaining(['/dingtalk/callback', '/dingtalk/events']));
  });

  it('sends exactly one welcome with /帮助 to the group, even when DingTalk pushes the join twice', async () => {
    const conv = 'cidAppJoin==';
    const sent = p.dingtalk.requestsTo(DINGTALK_PATHS.groupSend).length;
    expect((await send(joinEvent({ EventId: 'evt-app-1', OpenConversationId: conv }))).success).toBe('success');
    expect((await send(joinEvent({ EventId: 'evt-app-1', OpenConversationId: conv }))).success).toBe('success');
    expect(await p.count('inbound_messages', `platform = 'dingtalk' and message_id = 'join:evt-app-1'`)).toBe(1);
    await p.settle();
    const rows = await database.db.select().from(outbox).where(and(eq(outbox.platform, 'dingtalk'), eq(outbox.conversationId, conv)));
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows[0]!.payload)).toContain('/帮助');
    const delivered = p.dingtalk.requestsTo(DINGTALK_PATHS.groupSend).slice(sent);
    expect(delivered).toHaveLength(1);
    const body = delivered[0]!.body as { openConversationId: string; msgParam: string };
    expect(body.openConversationId).toBe(conv);
    expect(JSON.parse(body.msgParam).content ?? JSON.parse(body.msgParam).text).toContain(WELCOME);
  });

  it('stores nothing for a forged or stale push', async () => {
    const before = await p.count('inbound_messages');
    const outBefore = await p.count('outbox');
    expect((await send(joinEvent({ EventId: 'evt-app-forged' }), { ownerKey: 'dingSomeoneElse' })).status).toBe(401);
    expect((await send(joinEvent({ EventId: 'evt-app-stale' }), { timestamp: String(p.clock().getTime() - 2 * 3_600_000) })).status).toBe(401);
    const forged = eventPush({ ...keys, token: 'guessed-token' }, joinEvent({ EventId: 'evt-app-guess' }), p.clock());
    expect((await postEventPush(`${p.app.url}/dingtalk/events`, keys, forged)).status).toBe(401);
    await p.settle();
    expect(await p.count('inbound_messages')).toBe(before);
    expect(await p.count('outbox')).toBe(outBefore);
  });
});
