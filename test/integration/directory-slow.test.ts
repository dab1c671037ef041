import { desc, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import type { FeatureWorker } from '../../src/core/feature';
import { outbox } from '../../src/db/schema';
import { directoryWorker } from '../../src/features/directory';
import { WecomDirectory } from '../../src/platforms/wecom/wecom-directory';
import { startFakeDirectoryApi, type FakeDirectoryApi } from '../fakes/fake-directory-apis';
import { sandboxChat, startTestApp } from '../helpers/app';
import { fakeClock, silentLog } from '../helpers/bot';
import { settlesWithin, until } from '../helpers/waits';

const creds = { corpId: 'ww-slow', corpSecret: 'slow-secret', appKey: 'ding-slow', appSecret: 'ding-slow-secret' };

/**
 * Issue 26 #11: `/成员 同步` reads the platform's directory with no database transaction open, then
 * writes in one short transaction. On the embedded database (PGlite, one connection) a slow contact
 * API therefore never holds up another group's command; a read that takes too long is abandoned with a
 * clear reply. Real HTTP on 127.0.0.1 (test/fakes/fake-directory-apis.ts), the sandbox API for chat.
 */
describe('a slow directory API on the embedded database (PGlite)', () => {
  let app: App;
  let fake: FakeDirectoryApi;
  let worker: FeatureWorker;
  const clock = fakeClock('2026-12-07T02:00:00Z'); // Monday 10:00 in Shanghai
  const chat = sandboxChat(() => app);
  const answers = (group: string) =>
    app.database.db.select().from(outbox).where(like(outbox.dedupeKey, 'directory-request:%')).orderBy(desc(outbox.id)).then((rows) => rows.filter((r) => r.conversationId === group));

  beforeAll(async () => {
    fake = await startFakeDirectoryApi(creds);
    fake.depts = [
      { id: 1, name: '公司' },
      { id: 2, name: '专利部', parentId: 1 },
    ];
    fake.users = [
      { userid: 'boss', name: '陈总', depts: [1] },
      { userid: 'newbie', name: '新同事', depts: [2] },
    ];
    app = await startTestApp(
      { SANDBOX: 'on', WECOM_API_BASE: fake.baseUrl, WECOM_CORP_ID: creds.corpId, WECOM_CORP_SECRET: creds.corpSecret, PLATFORM_HTTP_TIMEOUT_MS: '30000' },
      { clock, loops: false },
    );
    expect(app.database.kind).toBe('pglite');
    worker = app.workers.find((w) => w.name === 'directory')!;
    expect(worker).toBeDefined();
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('another group’s command is answered while the directory read is still waiting; the sync answers once the API does', async () => {
    expect(await chat.say('dir-mgmt', 'boss', '/成员 同步')).toContain('正在读取企业微信通讯录');
    fake.fail('/cgi-bin/department/list', 1, 'hold');
    const reading = worker.runOnce();
    await until('the directory read to reach the fake API', () => fake.heldCount === 1);

    // The read is waiting on the network: a command in another group is answered all the same.
    const other = await settlesWithin(chat.say('demo-internal', 'liu', '/单 新建 客户=慢接口客户 类型=专利 业务员=@王业务'), 5000);
    expect(other.settled).toBe(true);
    expect(other.settled && other.value).toMatch(/已新建分配单 D\d+/);
    expect(await settlesWithin(chat.say('demo-internal', 'liu', '/成员 列表 专利部'), 5000)).toMatchObject({ settled: true });
    expect(fake.heldCount).toBe(1); // still waiting
    expect(await settlesWithin(reading, 0)).toEqual({ settled: false });
    expect(await answers('dir-mgmt')).toHaveLength(0);

    fake.releaseHeld();
    expect(await reading).toBe(1);
    const [answer] = await answers('dir-mgmt');
    expect(answer!.payload.text).toContain('新同事（newbie），专利部');
    expect(answer!.payload.text).toContain('/成员 同步 确认');
  });

  it('a read that takes longer than its bound is abandoned with a clear reply; the roster is untouched', async () => {
    // The same worker as the app's, with a short bound (the app's is 60 s, below the request's 2-minute lease).
    const source = new WecomDirectory(app.config as never, clock);
    const quick = directoryWorker({ db: app.database.db, clock, log: silentLog }, [source], { readTimeoutMs: 200 });
    clock.advance(25 * 60 * 60_000); // the earlier proposal has expired
    expect(await chat.say('dir-mgmt', 'boss', '/成员 同步')).toContain('正在读取');
    fake.fail('/cgi-bin/department/list', 1, 'hold');
    expect(await quick.runOnce()).toBe(1);
    const [answer] = await answers('dir-mgmt');
    expect(answer!.dedupeKey).toMatch(/:retry$/);
    expect(answer!.payload.text).toMatch(/^抱歉，这次读取通讯录没有成功（通讯录接口超过 1 秒没有读完），名册未做任何修改。约 2 分钟后会自动重试/);
    expect(answer!.payload.mentions).toEqual(['boss']);
    expect(await chat.say('dir-mgmt', 'boss', '/成员 列表')).not.toContain('新同事');
    fake.releaseHeld();
  });
});
