import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/core/context';
import { createOutboxWorker } from '../../src/core/outbox-worker';
import { openDatabase, type Database, type Db } from '../../src/db/client';
import { groups } from '../../src/db/schema';
import { createSenders } from '../../src/platforms/create-senders';
import type { RecordedRequest } from '../fakes/fake-http-server';
import { startFakeWecomApi, WECOM_PATHS, type FakeWecomApi } from '../fakes/fake-wecom-api';
import { fakeClock, silentLog } from '../helpers/bot';
import { createServerDatabase, drivers, TEST_DATABASE_URL } from '../helpers/databases';
import { testConfig } from '../helpers/platform-test-kit';

/**
 * Head-of-line blocking across groups: one group's backlog (a robot over its 20-a-minute budget, or a
 * platform that does not answer at all) must not delay another group's reply. The quiet group's reply
 * goes out in the very next worker round, on one instance and on three instances sharing one database.
 */

const textOf = (r: RecordedRequest) => ((r.body as { text?: { content?: string } }).text?.content ?? '').replace(/^@\S+ /, '');

/** A loopback port with nothing listening: a dead platform. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const setups = drivers.flatMap((d) => (d.name === 'postgres' ? [{ driver: d, instances: 1 }, { driver: d, instances: 3 }] : [{ driver: d, instances: 1 }]));

describe.each(setups)('one blocked group does not delay another ($driver.name, $instances instance(s))', ({ driver, instances }) => {
  let handles: Database[] = [];
  let closeAll: () => Promise<void>;
  let wecom: FakeWecomApi;
  const clock = fakeClock('2026-12-01T02:00:00Z');
  const KEYS = ['robot-busy-0000001', 'robot-quiet-000001', 'robot-quiet-000002'];
  let workers: ReturnType<typeof createOutboxWorker>[];

  beforeAll(async () => {
    if (driver.name === 'pglite') {
      const d = await driver.open();
      handles = [d];
      closeAll = () => d.close();
    } else {
      const tmp = await createServerDatabase(TEST_DATABASE_URL!);
      for (let i = 0; i < instances; i++) handles.push(await openDatabase({ url: tmp.url, max: 4 }));
      await handles[0]!.migrate();
      closeAll = async () => {
        for (const h of handles) await h.close();
        await tmp.drop();
      };
    }
    wecom = await startFakeWecomApi({ webhookKeys: KEYS });
    const config = testConfig({
      WECOM_API_BASE: wecom.baseUrl,
      WECOM_AIBOT_TOKEN: 'aibot-token',
      WECOM_AIBOT_ENCODING_AES_KEY: 'a'.repeat(43),
      // DingTalk is down: nothing listens on its port.
      DINGTALK_OAPI_BASE: `http://127.0.0.1:${await deadPort()}`,
      DINGTALK_API_BASE: `http://127.0.0.1:${await deadPort()}`,
      DINGTALK_APP_KEY: 'dingappkey',
      DINGTALK_APP_SECRET: 'dingappsecret',
    });
    // Each instance: its own worker and senders, the default batch of 50.
    workers = handles.map((h) => createOutboxWorker({ db: h.db, senders: createSenders(config, { clock }), log: silentLog, clock }));
  });
  afterAll(async () => {
    await wecom?.close();
    await closeAll?.();
  });

  const db = (): Db => handles[0]!.db;
  /** One round on every instance at once (the loops' normal step), at the same fake time. */
  const round = () => Promise.all(workers.map((w) => w.runOnce()));

  async function queue(platform: 'wecom' | 'dingtalk', conversationId: string, text: string) {
    await enqueue(db(), { platform, conversationId, payload: { text, mentions: [] }, now: clock() });
  }

  it('a robot over its budget with 120 queued messages: another group is answered in the next round', async () => {
    await db().insert(groups).values([
      { platform: 'wecom', conversationId: 'busy', route: { kind: 'wecom', webhookKey: KEYS[0] }, createdAt: clock() },
      { platform: 'wecom', conversationId: 'quiet', route: { kind: 'wecom', webhookKey: KEYS[1] }, createdAt: clock() },
    ]);
    for (let i = 1; i <= 120; i++) await queue('wecom', 'busy', `积压 ${i}`);
    wecom.requests.length = 0;
    await round();
    await round();
    // The busy robot has spent its 20 for this minute.
    expect(wecom.delivered(WECOM_PATHS.webhook).map(textOf)).toEqual(Array.from({ length: 20 }, (_, i) => `积压 ${i + 1}`));

    await queue('wecom', 'quiet', '安静群的回复');
    await round();
    const delivered = wecom.delivered(WECOM_PATHS.webhook).map(textOf);
    expect(delivered).toContain('安静群的回复');
    expect(delivered.filter((t) => t.startsWith('积压'))).toHaveLength(20);
  });

  it('a dead platform with 120 queued messages: another group is answered in the next round', async () => {
    await db().insert(groups).values([
      { platform: 'dingtalk', conversationId: 'dead', route: { kind: 'dingtalk', webhookAccessToken: 'deadtoken00000000000001' }, createdAt: clock() },
      { platform: 'wecom', conversationId: 'quiet-2', route: { kind: 'wecom', webhookKey: KEYS[2] }, createdAt: clock() },
    ]);
    for (let i = 1; i <= 120; i++) await queue('dingtalk', 'dead', `发不出 ${i}`);
    await round();
    await round();
    await queue('wecom', 'quiet-2', '另一个群的回复');
    await round();
    expect(wecom.delivered(WECOM_PATHS.webhook).map(textOf)).toContain('另一个群的回复');
  });
});
