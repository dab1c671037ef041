import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/core/context';
import { createOutboxWorker } from '../../src/core/outbox-worker';
import type { Db } from '../../src/db/client';
import { groups, outbox } from '../../src/db/schema';
import { createSenders } from '../../src/platforms/create-senders';
import { DINGTALK_PATHS, startFakeDingtalkApi, type FakeDingtalkApi } from '../fakes/fake-dingtalk-api';
import type { RecordedRequest } from '../fakes/fake-http-server';
import { startFakeWecomApi, WECOM_PATHS, type FakeWecomApi } from '../fakes/fake-wecom-api';
import { fakeClock, silentLog } from '../helpers/bot';
import { drivers, openTwoInstances } from '../helpers/databases';
import { testConfig } from '../helpers/platform-test-kit';

/**
 * The outbox against the fake platform APIs on loopback, with a fake clock: the per-robot budget
 * (20 a minute, counted in the database), per-group order, and recovery from 5xx and rate limits.
 */

const MINUTE = 60_000;

/** The most sends that any 60-second window [t, t + 60 s) holds. */
function busiestMinute(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[j]! < sorted[i]! - MINUTE + 1) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

const textOf = (r: RecordedRequest) => ((r.body as { text?: { content?: string } }).text?.content ?? '').replace(/^@\S+ /, '');

describe.each(drivers)('outbox delivery against the fake platforms on $name', (driver) => {
  let instances: Awaited<ReturnType<typeof openTwoInstances>>;
  let wecom: FakeWecomApi;
  let dingtalk: FakeDingtalkApi;
  const clock = fakeClock('2026-12-01T02:00:00Z');
  const KEYS = ['robot-burst-000001', 'robot-shared-00001', 'robot-flaky-000001', 'robot-flaky-000002'];
  const DT = { tokenA: 'dtflakytoken000000000001', tokenB: 'dtflakytoken000000000002', secret: 'SECflakysecret00000000000001' };
  let config: ReturnType<typeof testConfig>;

  beforeAll(async () => {
    instances = await openTwoInstances(driver);
    wecom = await startFakeWecomApi({ webhookKeys: KEYS });
    dingtalk = await startFakeDingtalkApi({ robots: { [DT.tokenA]: DT.secret, [DT.tokenB]: DT.secret }, now: () => clock().getTime() });
    config = testConfig({
      WECOM_API_BASE: wecom.baseUrl,
      WECOM_AIBOT_TOKEN: 'aibot-token',
      WECOM_AIBOT_ENCODING_AES_KEY: 'a'.repeat(43),
      DINGTALK_OAPI_BASE: dingtalk.baseUrl,
      DINGTALK_API_BASE: dingtalk.baseUrl,
      DINGTALK_APP_KEY: 'dingappkey',
      DINGTALK_APP_SECRET: 'dingappsecret',
    });
  });
  afterAll(async () => {
    await wecom?.close();
    await dingtalk?.close();
    await instances?.close();
  });

  /** One app instance's worker: its own senders (own token caches), the shared database. */
  const worker = (db: Db, sent?: number[], batch?: number) =>
    createOutboxWorker({ db, senders: createSenders(config, { clock }), log: silentLog, clock, batch, onResult: (r) => r.ok && sent?.push(r.id) });

  async function group(db: Db, platform: 'wecom' | 'dingtalk', conversationId: string, route: Record<string, unknown>) {
    await db.insert(groups).values({ platform, conversationId, route, createdAt: clock() });
  }
  async function queue(db: Db, platform: 'wecom' | 'dingtalk', conversationId: string, text: string, mentions: string[] = []) {
    await enqueue(db, { platform, conversationId, payload: { text, mentions }, now: clock() });
  }

  /** Run rounds until nothing is pending, recording the fake time of each delivered request. */
  async function runUntilDone(
    db: Db,
    round: () => Promise<unknown>,
    fake: FakeWecomApi | FakeDingtalkApi,
    path: string,
    stepMs: number,
    maxRounds = 200,
  ): Promise<Map<RecordedRequest, number>> {
    const at = new Map<RecordedRequest, number>();
    for (let i = 0; i < maxRounds; i++) {
      await round();
      for (const r of fake.requestsTo(path)) if (!at.has(r)) at.set(r, clock().getTime());
      const pending = await db.select({ id: outbox.id }).from(outbox).where(eq(outbox.status, 'pending'));
      if (pending.length === 0) break;
      clock.advance(stepMs);
    }
    return at;
  }

  it('spreads a 45-message burst to one robot so no minute holds more than 20; all arrive, in order', async () => {
    const db = instances.a.db;
    await group(db, 'wecom', 'burst', { kind: 'wecom', webhookKey: KEYS[0] });
    for (let i = 1; i <= 45; i++) await queue(db, 'wecom', 'burst', `连发 ${i}`);
    const w = worker(db);
    wecom.requests.length = 0;
    const at = await runUntilDone(db, () => w.runOnce(), wecom, WECOM_PATHS.webhook, 5_000);
    const delivered = wecom.delivered(WECOM_PATHS.webhook);
    expect(delivered.map(textOf)).toEqual(Array.from({ length: 45 }, (_, i) => `连发 ${i + 1}`));
    const times = delivered.map((r) => at.get(r)!);
    expect(busiestMinute(times)).toBe(20);
    // The budget is used, not wasted: 20 at once, then the rest as slots free up (under four minutes).
    expect(times.filter((t) => t === times[0]).length).toBe(20);
    expect(times.at(-1)! - times[0]!).toBeLessThan(4 * MINUTE);
  });

  it('two workers (two instances) on one database still keep one robot within 20 a minute', async () => {
    const convs = ['shared-a', 'shared-b', 'shared-c'];
    for (const c of convs) await group(instances.a.db, 'wecom', c, { kind: 'wecom', webhookKey: KEYS[1] });
    for (let i = 1; i <= 15; i++) for (const c of convs) await queue(instances.a.db, 'wecom', c, `${c} 第 ${i} 条`);
    const byA: number[] = [];
    const byB: number[] = [];
    // Small batches, so each round both instances find rows the other has not locked.
    const a = worker(instances.a.db, byA, 4);
    const b = worker(instances.b.db, byB, 4);
    wecom.requests.length = 0;
    const at = await runUntilDone(instances.a.db, () => Promise.all([a.runOnce(), b.runOnce()]), wecom, WECOM_PATHS.webhook, 5_000);
    const delivered = wecom.delivered(WECOM_PATHS.webhook);
    expect(delivered).toHaveLength(45);
    expect(new Set(delivered.map(textOf)).size).toBe(45); // no duplicates
    expect(busiestMinute(delivered.map((r) => at.get(r)!))).toBeLessThanOrEqual(20);
    for (const c of convs) {
      expect(delivered.map(textOf).filter((t) => t.startsWith(`${c} `))).toEqual(Array.from({ length: 15 }, (_, i) => `${c} 第 ${i + 1} 条`));
    }
    expect(byA.length + byB.length).toBe(45);
    if (driver.name === 'postgres') {
      // Real concurrency: both instances took part.
      expect(byA.length).toBeGreaterThan(0);
      expect(byB.length).toBeGreaterThan(0);
    }
  });

  it('WeCom: after 500s and 45009s for a while, everything is delivered once, in order per group', async () => {
    const db = instances.a.db;
    await group(db, 'wecom', 'flaky-1', { kind: 'wecom', webhookKey: KEYS[2] });
    await group(db, 'wecom', 'flaky-2', { kind: 'wecom', webhookKey: KEYS[3] });
    for (let i = 1; i <= 5; i++) {
      await queue(db, 'wecom', 'flaky-1', `一组 ${i}`);
      await queue(db, 'wecom', 'flaky-2', `二组 ${i}`);
    }
    wecom.requests.length = 0;
    wecom.fail(WECOM_PATHS.webhook, 3, 'http500');
    wecom.fail(WECOM_PATHS.webhook, 4, 'rate-limit');
    const w = worker(db);
    await runUntilDone(db, () => w.runOnce(), wecom, WECOM_PATHS.webhook, 61_000);
    const all = wecom.requestsTo(WECOM_PATHS.webhook);
    expect(all.filter((r) => r.answered?.status === 500)).toHaveLength(3);
    expect(all.filter((r) => r.answered?.errcode === 45009)).toHaveLength(4);
    const delivered = wecom.delivered(WECOM_PATHS.webhook).map(textOf);
    expect(delivered.filter((t) => t.startsWith('一组'))).toEqual(['一组 1', '一组 2', '一组 3', '一组 4', '一组 5']);
    expect(delivered.filter((t) => t.startsWith('二组'))).toEqual(['二组 1', '二组 2', '二组 3', '二组 4', '二组 5']);
    expect(delivered).toHaveLength(10);
    const rows = await db.select().from(outbox).where(inArray(outbox.conversationId, ['flaky-1', 'flaky-2']));
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
  });

  it('DingTalk: after 500s and 130101s for a while, everything is delivered once, in order per group, signed', async () => {
    const db = instances.a.db;
    await group(db, 'dingtalk', 'dt-flaky-1', { kind: 'dingtalk', webhookAccessToken: DT.tokenA, webhookSecret: DT.secret });
    await group(db, 'dingtalk', 'dt-flaky-2', { kind: 'dingtalk', webhookAccessToken: DT.tokenB, webhookSecret: DT.secret });
    for (let i = 1; i <= 5; i++) {
      await queue(db, 'dingtalk', 'dt-flaky-1', `甲群 ${i}`, ['zhang']);
      await queue(db, 'dingtalk', 'dt-flaky-2', `乙群 ${i}`);
    }
    dingtalk.requests.length = 0;
    dingtalk.fail(DINGTALK_PATHS.robotSend, 2, 'http500');
    dingtalk.fail(DINGTALK_PATHS.robotSend, 3, 'rate-limit');
    const w = worker(db);
    const at = await runUntilDone(db, () => w.runOnce(), dingtalk, DINGTALK_PATHS.robotSend, 61_000);
    const all = dingtalk.requestsTo(DINGTALK_PATHS.robotSend);
    expect(all.filter((r) => r.answered?.status === 500)).toHaveLength(2);
    const limited = all.filter((r) => r.answered?.errcode === 130101);
    expect(limited).toHaveLength(3);
    const delivered = dingtalk.delivered(DINGTALK_PATHS.robotSend);
    expect(delivered.map(textOf).filter((t) => t.startsWith('甲群'))).toEqual(['甲群 1', '甲群 2', '甲群 3', '甲群 4', '甲群 5']);
    expect(delivered.map(textOf).filter((t) => t.startsWith('乙群'))).toEqual(['乙群 1', '乙群 2', '乙群 3', '乙群 4', '乙群 5']);
    expect(delivered).toHaveLength(10);
    expect((delivered.find((r) => textOf(r) === '甲群 1')!.body as { at: { atUserIds: string[] } }).at.atUserIds).toEqual(['zhang']);
    // A robot that said "too fast" is left alone for DingTalk's 10-minute block.
    const firstLimited = at.get(limited[0]!)!;
    const sameRobotAfter = all.filter((r) => r.query.access_token === limited[0]!.query.access_token && at.get(r)! > firstLimited);
    expect(Math.min(...sameRobotAfter.map((r) => at.get(r)!)) - firstLimited).toBeGreaterThanOrEqual(10 * MINUTE);
  });
});
