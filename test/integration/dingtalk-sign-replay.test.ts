import { createHmac } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { rowsOf } from '../../src/db/rows';
import type { Database } from '../../src/db/client';
import { robotPayload } from '../fixtures/dingtalk-robot-message';
import { startTestApp } from '../helpers/app';
import { fakeClock } from '../helpers/bot';
import { drivers, openTwoInstances } from '../helpers/databases';

/**
 * DingTalk's robot HTTP callback signs `timestamp + "\n" + appSecret`, not the body (PROTOCOLS.md). A
 * captured header pair must not carry another body: it is bound to its first msgId, in the database,
 * so two instances on one database agree.
 */

const APP_SECRET = 'replay-test-app-secret';
/** The documented formula, written out independently of the code under test. */
const sign = (ts: string) => createHmac('sha256', APP_SECRET).update(`${ts}\n${APP_SECRET}`).digest('base64');

describe.each(drivers)('DingTalk callback header pair bound to one message ($name)', (driver) => {
  const clock = fakeClock('2026-12-01T02:00:00Z');
  let dbs: Awaited<ReturnType<typeof openTwoInstances>>;
  let a: App;
  let b: App;

  const start = (database: Database) =>
    startTestApp(
      { SANDBOX: 'off', DINGTALK_APP_KEY: 'dingkey', DINGTALK_APP_SECRET: APP_SECRET, DINGTALK_OAPI_BASE: 'http://127.0.0.1:9', DINGTALK_API_BASE: 'http://127.0.0.1:9' },
      { database, clock, loops: false },
    );

  beforeAll(async () => {
    dbs = await openTwoInstances(driver);
    a = await start(dbs.a);
    b = await start(dbs.b);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await dbs?.close();
  });

  const post = (app: App, ts: string, msgId: string, text = '/帮助') =>
    fetch(`${app.url}/dingtalk/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', timestamp: ts, sign: sign(ts) },
      body: JSON.stringify({ ...robotPayload, msgId, conversationId: 'cid-replay', text: { content: ` ${text}` } }),
    });

  const count = async (table: string, where: string) =>
    Number(rowsOf<{ n: string | number }>(await dbs.a.db.execute(sql.raw(`select count(*) as n from ${table} where ${where}`)))[0]!.n);

  it('refuses the same header pair with another msgId (another body) with 401, on the same and on the other instance', async () => {
    const ts = String(clock().getTime() - 1000);
    expect((await post(a, ts, 'genuine-1')).status).toBe(200);
    const forged = [await post(b, ts, 'forged-1', '/成员 添加 evil 姓名=坏人 部门=总经办 角色=总经办 管理员'), await post(a, ts, 'forged-2')];
    for (const res of forged) {
      expect(res.status).toBe(401);
      expect(await res.text()).toBe('signature_used_for_another_message');
    }
    expect(await count('inbound_messages', `message_id in ('forged-1', 'forged-2')`)).toBe(0);
    expect(await count('inbound_messages', `message_id = 'genuine-1'`)).toBe(1);
  });

  it('lets the same pair with the same msgId through (a platform retry): deduplicated, handled once', async () => {
    const ts = String(clock().getTime() - 2000);
    const first = await post(a, ts, 'retry-1');
    const again = await post(b, ts, 'retry-1');
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(await count('inbound_messages', `message_id = 'retry-1'`)).toBe(1);
    while ((await a.chat.processPending()) > 0);
    while ((await b.chat.processPending()) > 0);
    expect(await count('chat_log', `message_id = 'retry-1' and direction = 'in'`)).toBe(1);
  });

  it('two bodies racing with one fresh pair on two instances: exactly one is accepted', async () => {
    const ts = String(clock().getTime() - 3000);
    const [x, y] = await Promise.all([post(a, ts, 'race-x'), post(b, ts, 'race-y')]);
    expect([x.status, y.status].sort()).toEqual([200, 401]);
    expect(await count('inbound_messages', `message_id in ('race-x', 'race-y')`)).toBe(1);
  });

  it('upkeep removes pairs past their expiry and keeps the others; an expired pair is still refused (window)', async () => {
    const t0 = clock().getTime();
    const old = String(t0 - 4000);
    expect((await post(a, old, 'expiry-old')).status).toBe(200);
    // Two windows (2 × 300 s) after every pair of the tests above (all signed at or before t0 - 1 s).
    clock.advance(600_001);
    const fresh = String(clock().getTime());
    expect((await post(b, fresh, 'expiry-fresh')).status).toBe(200);
    const before = await count('dingtalk_sign_pairs', 'true');
    await a.scheduler.maintain();
    const after = await count('dingtalk_sign_pairs', 'true');
    // Every pair of the tests above (all older than `old`'s expiry) is gone; the fresh one stays.
    expect(before).toBe(5);
    expect(after).toBe(1);
    expect(await count('dingtalk_sign_pairs', `msg_id = 'expiry-fresh'`)).toBe(1);
    const replay = await post(a, old, 'expiry-forged');
    expect(replay.status).toBe(401);
    expect(await replay.text()).toBe('stale_timestamp');
    // And the fresh pair is still bound.
    expect((await post(a, fresh, 'expiry-forged-2')).status).toBe(401);
  });
});
