import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSettleSignal, expectsReply } from '../../src/core/passive-replies';
import { postAibotCallback, type AibotKeys } from '../fakes/fake-wecom-aibot-caller';
import { WECOM_PATHS } from '../fakes/fake-wecom-api';
import { drivers, openTwoInstances, postgresDriver } from '../helpers/databases';
import { startPlatformApp, type PlatformApp } from '../helpers/platform-app';

/**
 * Issue 24, item 1: a callback waiting for its passive reply is woken by the handling itself — in this
 * process by the chat core's signal, from another instance by PostgreSQL NOTIFY — never by polling.
 * The window is WeCom's longest (4 s); an answer well inside it can only come from a wake-up (without
 * one the request would sleep to the deadline and answer after 4 s).
 */
const WINDOW_MS = 4000;

describe('the settle signal (pure, in process)', () => {
  it('wakes every waiter of a key at once, leaves other keys waiting, and ends at the deadline', async () => {
    const s = createSettleSignal();
    const woke: string[] = [];
    const a1 = s.wait('wecom:a', Date.now() + 60_000);
    const a2 = s.wait('wecom:a', Date.now() + 60_000);
    const b = s.wait('wecom:b', Date.now() + 60_000);
    void a1.settled.then(() => woke.push('a1'));
    void a2.settled.then(() => woke.push('a2'));
    void b.settled.then(() => woke.push('b'));
    s.settle('wecom:a');
    s.settle('wecom:nobody');
    await Promise.resolve();
    await Promise.resolve();
    expect(woke.sort()).toEqual(['a1', 'a2']);
    b.cancel();
    await b.settled;
    expect(woke).toContain('b');
    const late = s.wait('wecom:c', Date.now());
    await late.settled; // a deadline already passed resolves at once
  });
});

describe('expectsReply (from the message alone)', () => {
  const base = { platform: 'wecom' as const, conversationId: 'c', senderId: 'u', messageId: 'm', mentions: [], receivedAt: new Date(0) };
  it('commands, cards, arrivals, attachments and one-to-one chats wait; plain group text does not', () => {
    expect(expectsReply({ ...base, text: '/帮助' })).toBe(true);
    expect(expectsReply({ ...base, text: ' ／查 D1' })).toBe(true);
    expect(expectsReply({ ...base, text: '', cardToken: 'b1234567890abcdefg' })).toBe(true);
    expect(expectsReply({ ...base, text: '', event: 'welcome' })).toBe(true);
    expect(expectsReply({ ...base, text: '', attachment: 'image' })).toBe(true);
    expect(expectsReply({ ...base, text: '在吗', conversationType: 'single' })).toBe(true);
    expect(expectsReply({ ...base, text: '收到，谢谢' })).toBe(false);
    expect(expectsReply({ ...base, text: '你们再这样我就找律师了' })).toBe(false);
  });
});

const message = (p: PlatformApp, msgid: string, text: string) => ({
  msgid,
  aibotid: 'aibot-fake',
  chatid: 'wx-wakeup',
  chattype: 'group',
  from: { userid: 'liu' },
  response_url: p.wecom.responseUrl(`rc-${msgid}`),
  msgtype: 'text',
  text: { content: `@服务助手 ${text}` },
});

/** Handle on `handler` until `pending` settles (the other instance's inbound loop). */
async function handledBy<T>(handler: PlatformApp, pending: Promise<T>): Promise<T> {
  let done = false;
  const r = pending.finally(() => (done = true));
  while (!done) if ((await handler.app.chat.processPending()) === 0) await new Promise((res) => setTimeout(res, 10));
  return r;
}

describe.each(drivers)('passive reply woken in process on $name', (driver) => {
  let p: PlatformApp;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const database = await driver.open();
    p = await startPlatformApp({ database, env: { WECOM_AIBOT_PASSIVE_MS: String(WINDOW_MS), WECOM_AIBOT_STREAM_AFTER_MS: '0' } });
    close = async () => {
      await p.close();
      await database.close();
    };
  });
  afterAll(async () => close?.());

  it('answers inside the HTTP response as soon as the handling commits, long before the window ends', async () => {
    const keys: AibotKeys = { token: p.secrets.aibotToken, encodingAesKey: p.secrets.aibotAesKey };
    const started = Date.now();
    const answer = await handledBy(p, postAibotCallback(`${p.app.url}/wecom/aibot`, keys, message(p, 'wake-1', '/帮助'), p.clock()));
    const took = Date.now() - started;
    expect(answer.status).toBe(200);
    expect(answer.reply?.stream).toMatchObject({ id: 'reply-wake-1', finish: true });
    expect(took).toBeLessThan(WINDOW_MS - 1000);
    expect(p.wecom.requestsTo(WECOM_PATHS.aibotResponse)).toHaveLength(0);
  });

  it('acknowledges plain group text at once (nothing to answer in place), without waiting for its handling', async () => {
    const keys: AibotKeys = { token: p.secrets.aibotToken, encodingAesKey: p.secrets.aibotAesKey };
    const started = Date.now();
    // Nobody handles it here: a request that waited would answer only at the window's end.
    const answer = await postAibotCallback(`${p.app.url}/wecom/aibot`, keys, message(p, 'plain-1', '收到，谢谢'), p.clock());
    expect(Date.now() - started).toBeLessThan(WINDOW_MS - 2000);
    expect(answer.status).toBe(200);
    expect(answer.reply ?? null).toBeNull();
    expect(await p.count('inbound_messages', "message_id = 'plain-1' and status = 'pending'")).toBe(1);
    // A command in the same state does wait for its reply (the signal wakes it when handled).
    const cmd = await handledBy(p, postAibotCallback(`${p.app.url}/wecom/aibot`, keys, message(p, 'cmd-1', '/帮助'), p.clock()));
    expect(cmd.reply?.stream).toMatchObject({ id: 'reply-cmd-1', finish: true });
  });
});

describe.runIf(postgresDriver)('passive reply woken by NOTIFY from another instance (PostgreSQL)', () => {
  let a: PlatformApp;
  let b: PlatformApp;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const two = await openTwoInstances(postgresDriver!);
    a = await startPlatformApp({ database: two.a, env: { WECOM_AIBOT_PASSIVE_MS: String(WINDOW_MS), WECOM_AIBOT_STREAM_AFTER_MS: '0' } });
    b = await startPlatformApp({ database: two.b, env: { WECOM_AIBOT_PASSIVE_MS: String(WINDOW_MS), WECOM_AIBOT_STREAM_AFTER_MS: '0' } });
    close = async () => {
      await a.close();
      await b.close();
      await two.close();
    };
  });
  afterAll(async () => close?.());

  it('instance A waits, instance B handles, A answers with the reply at once, exactly one delivery', async () => {
    const keys: AibotKeys = { token: a.secrets.aibotToken, encodingAesKey: a.secrets.aibotAesKey };
    const started = Date.now();
    const answer = await handledBy(b, postAibotCallback(`${a.app.url}/wecom/aibot`, keys, message(a, 'wake-2', '/帮助'), a.clock()));
    const took = Date.now() - started;
    expect(answer.status).toBe(200);
    expect(answer.reply?.stream).toMatchObject({ id: 'reply-wake-2', finish: true });
    expect(took).toBeLessThan(WINDOW_MS - 1000);
    // The reply went out once: in A's answer, never through either instance's outbox.
    await a.app.outbox.drain();
    await b.app.outbox.drain();
    expect(a.wecom.requestsTo(WECOM_PATHS.aibotResponse)).toHaveLength(0);
    expect(b.wecom.requestsTo(WECOM_PATHS.aibotResponse)).toHaveLength(0);
    expect(await a.count('outbox', "reply_to = 'wake-2' and status = 'sent'")).toBeGreaterThan(0);
    expect(await a.count('outbox', "reply_to = 'wake-2' and status = 'pending'")).toBe(0);
  });
});

/**
 * Issue 24, item 3: a reply not ready within the stream budget is answered at once with an open stream
 * (`finish: false`) and finished on WeCom's stream refresh callbacks (docs path/100719); when the refresh
 * stops, response_url after the stream's life. One delivery on every path.
 */
describe.each(drivers)('stream replies for slow work on $name', (driver) => {
  let p: PlatformApp;
  let keys: AibotKeys;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const database = await driver.open();
    p = await startPlatformApp({ database, env: { WECOM_AIBOT_PASSIVE_MS: '3000', WECOM_AIBOT_STREAM_AFTER_MS: '300' } });
    keys = { token: p.secrets.aibotToken, encodingAesKey: p.secrets.aibotAesKey };
    close = async () => {
      await p.close();
      await database.close();
    };
  });
  afterAll(async () => close?.());

  const refresh = (streamId: string, msgid: string) =>
    postAibotCallback(`${p.app.url}/wecom/aibot`, keys, { msgid, aibotid: 'aibot-fake', chatid: 'wx-wakeup', chattype: 'group', from: { userid: 'liu' }, msgtype: 'stream', stream: { id: streamId } }, p.clock());
  const toResponseUrl = (msgid: string) => p.wecom.requestsTo(WECOM_PATHS.aibotResponse).filter((r) => r.query.response_code === `rc-${msgid}`);

  it('answers an open stream when nobody has handled it yet, then finishes it on refresh with the reply, once', async () => {
    const open = await postAibotCallback(`${p.app.url}/wecom/aibot`, keys, message(p, 'slow-1', '/帮助'), p.clock()); // not handled yet
    expect(open.status).toBe(200);
    expect(open.reply?.msgtype).toBe('stream');
    expect(open.reply?.stream).toMatchObject({ id: 'reply-slow-1', finish: false });
    // WeCom refreshes before the handling: still open.
    const early = await refresh('reply-slow-1', 'rf-1');
    expect(early.reply?.stream).toMatchObject({ id: 'reply-slow-1', finish: false });
    await p.app.chat.processPending();
    const done = await refresh('reply-slow-1', 'rf-2');
    expect(done.reply?.stream?.finish).toBe(true);
    expect(done.reply?.stream?.content).toContain('/帮助');
    // A later refresh finds nothing more: finished again, no second copy of the reply.
    const again = await refresh('reply-slow-1', 'rf-3');
    expect(again.reply?.stream?.finish).toBe(true);
    expect(again.reply?.stream?.content).not.toContain('/帮助');
    // The outbox has nothing left to send for it, even after the hold.
    p.clock.advance(10 * 60_000);
    await p.app.outbox.drain();
    expect(toResponseUrl('slow-1')).toHaveLength(0);
    expect(await p.count('outbox', "reply_to = 'slow-1' and status <> 'sent'")).toBe(0);
  });

  it('without refreshes the reply goes through response_url once the stream has expired, exactly once', async () => {
    const open = await postAibotCallback(`${p.app.url}/wecom/aibot`, keys, message(p, 'slow-2', '/帮助'), p.clock());
    expect(open.reply?.stream).toMatchObject({ finish: false });
    await p.app.chat.processPending();
    await p.app.outbox.drain();
    expect(toResponseUrl('slow-2')).toHaveLength(0); // still held for the stream
    p.clock.advance(6 * 60_000);
    await p.app.outbox.drain();
    expect(toResponseUrl('slow-2')).toHaveLength(1);
    // A refresh that comes after all finds the reply already sent.
    const late = await refresh('reply-slow-2', 'rf-4');
    expect(late.reply?.stream?.finish).toBe(true);
    await p.app.outbox.drain();
    expect(toResponseUrl('slow-2')).toHaveLength(1);
  });

  it('a refresh of a stream that is not ours is finished empty-handed, nothing stored', async () => {
    const r = await refresh('someone-else', 'rf-5');
    expect(r.status).toBe(200);
    expect(r.reply?.stream).toMatchObject({ id: 'someone-else', finish: true });
    expect(await p.count('inbound_messages', "message_id = 'rf-5'")).toBe(0);
  });
});
