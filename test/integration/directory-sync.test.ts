import { desc, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFeatures } from '../../src/app';
import { createChat } from '../../src/core/chat';
import type { FeatureWorker } from '../../src/core/feature';
import type { Database } from '../../src/db/client';
import { departments, groups, outbox, people } from '../../src/db/schema';
import { seedDemo } from '../../src/db/seed-demo';
import { proposeDirectoryChanges } from '../../src/features/directory';
import { planDirectorySync } from '../../src/features/directory/directory-plan';
import { DingtalkDirectory } from '../../src/platforms/dingtalk/dingtalk-directory';
import { WecomDirectory } from '../../src/platforms/wecom/wecom-directory';
import { startFakeDirectoryApi, type FakeDirectoryApi, type FakeUser } from '../fakes/fake-directory-apis';
import { complaintPlaybook, fakeClock, silentLog, testClocks } from '../helpers/bot';
import { drivers } from '../helpers/databases';
import { testConfig } from '../helpers/platform-test-kit';

const creds = { corpId: 'ww-dir', corpSecret: 'dir-secret', appKey: 'ding-dir', appSecret: 'ding-dir-secret' };

describe('directory plan (pure)', () => {
  it('never proposes a role or admin change for someone already in the roster', () => {
    const plan = planDirectorySync(
      [{ platform: 'wecom', departments: [{ id: '1', name: '公司', leaders: [] }, { id: '2', name: '专利部', parentId: '1', leaders: ['a'] }], members: [{ userid: 'a', name: 'A', departmentIds: ['2'] }] }],
      [{ userid: 'a', name: 'A', department: '专利部', role: 'handler', isAdmin: true, active: true }],
      ['专利部'],
    );
    expect(plan.adds).toEqual([]);
    expect(plan.roleHints).toEqual([{ userid: 'a', name: 'A', role: 'handler', department: '专利部' }]);
    expect(JSON.stringify(plan)).not.toMatch(/isAdmin/);
  });
});

describe.each(drivers)('/成员 同步 against fake WeCom and DingTalk directories on $name', (driver) => {
  let database: Database;
  let fake: FakeDirectoryApi;
  const clock = fakeClock('2026-12-01T02:00:00Z');
  let chat: ReturnType<typeof createChat>;
  let sources: (WecomDirectory | DingtalkDirectory)[];
  let seq = 0;

  const wecomUsers: FakeUser[] = [
    { userid: 'boss', name: '陈总', depts: [9] },
    { userid: 'liu', name: '刘经理', depts: [2] },
    { userid: 'li', name: '李主管', depts: [2] },
    { userid: 'zhang', name: '张工', depts: [2] },
    // zhao (赵工) has left: status 5 in WeCom, absent from DingTalk.
    { userid: 'zhao', name: '赵工', depts: [2], status: 5 },
    { userid: 'he', name: '何工', depts: [2] },
    { userid: 'sun', name: '孙经理', depts: [3] },
    { userid: 'zhou', name: '周工程师', depts: [3] },
    { userid: 'wang', name: '王业务', depts: [8] },
    { userid: 'xu', name: '许律师', depts: [7] },
  ];
  const dingUsers: FakeUser[] = [
    { userid: 'wu', name: '吴经理', depts: [11] },
    { userid: 'zheng', name: '郑审计', depts: [11] },
    { userid: 'qian', name: '钱经理', depts: [10] },
    { userid: 'feng', name: '冯工', depts: [10] },
  ];
  const depts = [
    { id: 1, name: '公司' },
    { id: 2, name: '专利部', parentId: 1, leaders: ['zhang'] }, // the directory says 张工 leads 专利部
    { id: 3, name: '软件部', parentId: 1, leaders: ['sun'] },
    { id: 7, name: '法务部', parentId: 1, leaders: ['xu'] },
    { id: 8, name: '市场部', parentId: 1 },
    { id: 9, name: '总经办', parentId: 1 },
    { id: 10, name: '项目部', parentId: 1, leaders: ['qian'] },
    { id: 11, name: '审计部', parentId: 1, leaders: ['wu'] },
  ];

  beforeAll(async () => {
    database = await driver.open();
    await seedDemo(database.db, clock());
    fake = await startFakeDirectoryApi(creds);
    fake.depts = depts;
    fake.users = [...wecomUsers, ...dingUsers];
    const config = testConfig({
      SANDBOX: 'off',
      WECOM_API_BASE: fake.baseUrl,
      WECOM_CORP_ID: creds.corpId,
      WECOM_CORP_SECRET: creds.corpSecret,
      DINGTALK_API_BASE: fake.baseUrl,
      DINGTALK_OAPI_BASE: fake.baseUrl,
      DINGTALK_APP_KEY: creds.appKey,
      DINGTALK_APP_SECRET: creds.appSecret,
    });
    // One fake serves both contact APIs: each platform reads its own users by department.
    const wecom = new WecomDirectory(config, clock);
    const ding = new DingtalkDirectory(config, clock);
    const only = (s: WecomDirectory | DingtalkDirectory, ids: Set<string>) => ({
      platform: s.platform,
      read: async () => {
        const snap = await s.read();
        return { ...snap, members: snap.members.filter((m) => ids.has(m.userid)) };
      },
    });
    sources = [wecom, ding];
    const wecomIds = new Set(wecomUsers.map((u) => u.userid));
    const dingIds = new Set(dingUsers.map((u) => u.userid));
    const features = createFeatures({ ...testClocks(), complaintPlaybook, directory: [only(wecom, wecomIds) as never, only(ding, dingIds) as never] });
    chat = createChat({ db: database.db, log: silentLog, clock, adminUserids: [], features });
    worker = features.find((f) => f.name === 'directory')!.worker!({ db: database.db, clock, log: silentLog });
  });
  afterAll(async () => {
    await fake?.close();
    await database?.close();
  });

  const say = async (from: string, text: string) => {
    const r = await chat.handleNow({ platform: 'wecom', conversationId: 'dir-internal', senderId: from, messageId: `dir-${++seq}`, text, mentions: [], receivedAt: clock() });
    return { text: r.replies.map((x) => x.text).join('\n'), mentions: r.replies.flatMap((x) => x.mentions) };
  };
  /** `/成员 同步`: the command answers at once; the worker reads the directories and answers in the group. */
  let worker: FeatureWorker;
  const syncAnswer = async (from: string) => {
    const ack = await say(from, '/成员 同步');
    if (/^抱歉/.test(ack.text)) return ack.text;
    expect(ack.text).toContain('正在读取');
    expect(await worker.runOnce()).toBe(1);
    const rows = await database.db.select().from(outbox).where(like(outbox.dedupeKey, 'directory-request:%')).orderBy(desc(outbox.id)).limit(1);
    return rows[0]!.payload.text;
  };
  const rolesAndAdmins = async () =>
    Object.fromEntries((await database.db.select().from(people)).map((p) => [p.userid, `${p.role}/${p.isAdmin}`]));

  it('reads both directories with their official shapes', async () => {
    const w = await sources[0]!.read();
    expect(w.departments.find((d) => d.id === '2')).toMatchObject({ name: '专利部', parentId: '1', leaders: ['zhang'] });
    expect(w.members.map((m) => m.userid)).not.toContain('zhao'); // status 5: left
    const d = await sources[1]!.read();
    expect(d.departments.map((x) => x.name)).toContain('审计部');
    expect(d.members.find((m) => m.userid === 'qian')).toMatchObject({ name: '钱经理', departmentIds: ['10'] });
    expect(fake.requestsTo('/cgi-bin/user/list').every((r) => r.query.access_token === 'dir-token-1')).toBe(true);
    expect(fake.requestsTo('/topapi/v2/user/list')[0]!.body).toMatchObject({ dept_id: 1, cursor: 0, size: 100 });
  });

  it('follows DingTalk user/list pages (has_more, next_cursor)', async () => {
    const saved = fake.users;
    fake.users = [...saved, ...Array.from({ length: 130 }, (_, i) => ({ userid: `bulk${i}`, name: `批量${i}`, depts: [10] }))];
    const d = await sources[1]!.read();
    expect(d.members.filter((m) => m.userid.startsWith('bulk'))).toHaveLength(130);
    expect(fake.requestsTo('/topapi/v2/user/list').some((r) => (r.body as { cursor: number }).cursor === 100)).toBe(true);
    fake.users = saved;
  });

  it('proposes adds, a leaver with open orders, a rename — and changes nothing until confirmed', async () => {
    // 赵工 has an open order.
    const created = await say('wang', '/单 新建 客户=目录客户 类型=专利 业务员=wang');
    const code = /D\d+/.exec(created.text)![0];
    expect((await say('liu', `/派单 ${code} zhao`)).text).toContain('已派给');
    const before = await rolesAndAdmins();

    expect(await syncAnswer('liu')).toMatch(/^抱歉/); // a department head may not
    const proposal = await syncAnswer('boss');
    expect(proposal).toContain('许律师（xu），法务部，建议角色：部门负责人');
    expect(proposal).toContain('何工（he），专利部，建议角色：负责人');
    expect(proposal).toContain('已不在通讯录（将标为离职）：赵工（zhao）');
    expect(proposal).toContain('改名：周工 → 周工程师');
    expect(proposal).toMatch(/张工 是专利部的负责人，名册角色为负责人。角色不会自动修改/);
    expect(proposal).toContain('/成员 同步 确认');
    expect(await rolesAndAdmins()).toEqual(before);
    expect((await database.db.select().from(people).where(eq(people.userid, 'zhao')))[0]!.active).toBe(true);

    const done = await say('boss', '/成员 同步 确认');
    expect(done.text).toContain(`赵工 已标为离职，名下进行中的分配单：${code}`);
    expect(done.text).toContain('@李主管'); // 赵工's direct leader names the successor (4.5.1)
    expect(done.mentions).toContain('li');
    expect(done.text).toContain('角色和管理员身份均未改动');
    const after = await rolesAndAdmins();
    // Everyone who was there keeps role and admin flag; only the new people are new.
    for (const [userid, v] of Object.entries(before)) expect(after[userid]).toBe(v);
    expect(after.xu).toBe('head/false');
    expect(after.he).toBe('handler/false');
    const [he] = await database.db.select().from(people).where(eq(people.userid, 'he'));
    const [zhang] = await database.db.select().from(people).where(eq(people.userid, 'zhang'));
    expect(he!.supervisorId).toBe(zhang!.id);
    expect((await database.db.select().from(people).where(eq(people.userid, 'zhao')))[0]!.active).toBe(false);
    expect((await database.db.select().from(people).where(eq(people.userid, 'zhou')))[0]!.name).toBe('周工程师');
    expect((await database.db.select().from(departments).where(eq(departments.name, '法务部'))).length).toBe(1);

    expect((await say('boss', '/成员 同步 确认')).text).toContain('没有待确认的同步方案');
    expect(await syncAnswer('boss')).toContain('名册已与通讯录一致');
  });

  it('refuses to act on an empty directory', async () => {
    const users = fake.users;
    fake.users = [];
    const before = await rolesAndAdmins();
    expect(await syncAnswer('boss')).toContain('没有读到任何成员');
    expect(await rolesAndAdmins()).toEqual(before);
    fake.users = users;
  });

  it('a directory that cannot be read: retried after the lease, then a polite answer; the roster is untouched', async () => {
    const before = await rolesAndAdmins();
    const ack = await say('boss', '/成员 同步');
    expect(ack.text).toContain('正在读取');
    // A second request while the first is open is not queued twice.
    expect((await say('boss', '/成员 同步')).text).toContain('正在读取中');
    fake.fail('/cgi-bin/user/list', 3, 'http500');
    expect(await worker.runOnce()).toBe(1); // attempt 1 fails
    expect(await worker.runOnce()).toBe(0); // leased: not claimed again at once
    clock.advance(3 * 60_000);
    expect(await worker.runOnce()).toBe(1); // attempt 2 fails
    clock.advance(3 * 60_000);
    expect(await worker.runOnce()).toBe(1); // attempt 3 fails: given up
    const [answer] = await database.db.select().from(outbox).where(like(outbox.dedupeKey, 'directory-request:%')).orderBy(desc(outbox.id)).limit(1);
    expect(answer!.payload.text).toMatch(/^抱歉，多次读取通讯录都没有成功/);
    expect(answer!.payload.mentions).toEqual(['boss']);
    expect(await rolesAndAdmins()).toEqual(before);
    clock.advance(3 * 60_000);
    expect(await worker.runOnce()).toBe(0);
  });

  it('the daily job proposes once a day and tells the management group', async () => {
    const [mgmt] = await database.db.select().from(departments).where(eq(departments.name, '总经办'));
    await database.db.insert(groups).values({ platform: 'wecom', conversationId: 'mgmt-group', title: '总经办群', kind: 'internal', departmentId: mgmt!.id });
    fake.users = [...fake.users, { userid: 'new1', name: '新同事', depts: [3] }];
    const id = await proposeDirectoryChanges(database.db, sources, clock());
    expect(id).not.toBeNull();
    const [notice] = await database.db.select().from(outbox).where(eq(outbox.conversationId, 'mgmt-group'));
    expect(notice!.payload.text).toContain('新同事（new1）');
    expect(notice!.dedupeKey).toBe('directory:2026-12-01');
    clock.advance(60 * 60_000);
    expect(await proposeDirectoryChanges(database.db, sources, clock())).toBeNull();
    expect(await database.db.select().from(outbox).where(eq(outbox.conversationId, 'mgmt-group'))).toHaveLength(1);
  });
});
