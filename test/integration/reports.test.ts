import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { and, asc, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinkSigner } from '../../src/core/signed-link';
import type { Database } from '../../src/db/client';
import { clients, complaints, departments, groups, orderEvents, orders, outbox, people, timers, visits } from '../../src/db/schema';
import { byteLength } from '../../src/platforms/split-by-bytes';
import { demoBot, fakeClock, REFUSED, silentLog } from '../helpers/bot';
import { drivers } from '../helpers/databases';

describe.each(drivers)('weekly summary, monthly report and exports on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  let server: Server;
  let base = '';
  const clock = fakeClock('2026-11-23T02:00:00Z'); // Monday 10:00 in Shanghai
  const db = () => database.db;
  const at = (local: string) => clock.set(new Date(`${local}+08:00`).toISOString());
  const local = (s: string) => new Date(`${s}+08:00`);
  const dept: Record<string, number> = {};
  const person: Record<string, number> = {};
  let seq = 0;
  /** The replies of one command, each its own message. */
  const replies = async (from: string, text: string) =>
    (await bot.chat.handleNow({ platform: 'sandbox', conversationId: 'demo-internal', senderId: from, messageId: `r${++seq}`, text, mentions: [], receivedAt: clock() })).replies.map((r) => r.text);
  const download = (token: string) => fetch(`${base}/exports/${token}`);
  const tokenOf = (reply: string) => /\/exports\/([A-Za-z0-9_.-]+)/.exec(reply)![1]!;
  const csvRows = (body: string) => body.replace(/^\uFEFF/, '').trimEnd().split('\r\n').map((l) => l.split(','));

  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { clock, admins: ['root'] });
    for (const d of await db().select().from(departments)) dept[d.name] = d.id;
    for (const p of await db().select().from(people)) person[p.userid] = p.id;
    await db().insert(groups).values({ platform: 'sandbox', conversationId: 'demo-mgmt', title: '总经办群', kind: 'internal', departmentId: dept['总经办'] });
    await db().insert(groups).values({ platform: 'sandbox', conversationId: 'demo-software', title: '软件部群', kind: 'internal', departmentId: dept['软件部'] });
    const app = new Koa();
    const router = bot.features.find((f) => f.name === 'reports')!.routes!({ db: db(), clock, log: silentLog });
    app.use(router.routes());
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.close();
    await database?.close();
  });

  it('the weekly summary goes out on Friday at 12:00 to each department group, with real @ of the supervisors, exactly once across instances', async () => {
    at('2026-11-23T10:00:00');
    const o = await replies('wang', '/单 新建 客户=华星科技 类型=专利 业务员=wang 已付款');
    const code = /D\d+/.exec(o.join())![0];
    expect((await replies('liu', `/派单 ${code} zhang`)).join()).not.toMatch(REFUSED);
    expect((await replies('li', '/投诉 客户=华星科技 负责人=@张工 级别=A 客户说报告晚了')).join()).toContain('【客户投诉】');
    expect((await replies('wang', '/客户 设置 华星科技 代账')).join()).toContain('代账客户');
    await bot.scheduler.tick();
    const weekly = (await db().select().from(timers).where(eq(timers.subject, `report:weekly:${dept['专利部']}`)))[0]!;
    expect(weekly.state).toBe('running');
    expect(weekly.dueAt.toISOString()).toBe(local('2026-11-27T12:00:00').toISOString());
    const monthly = (await db().select().from(timers).where(eq(timers.subject, 'report:monthly:all')))[0]!;
    expect(monthly.dueAt.toISOString()).toBe(local('2026-12-01T10:00:00').toISOString());
    // Departments without services (市场部, 总经办) get no weekly summary.
    expect(await db().select().from(timers).where(eq(timers.subject, `report:weekly:${dept['市场部']}`))).toHaveLength(0);

    at('2026-11-27T11:59:00');
    await bot.scheduler.tick();
    expect(await db().select().from(outbox).where(like(outbox.dedupeKey, `timer:${weekly.id}:%`))).toHaveLength(0);
    at('2026-11-27T12:00:00');
    // Several ticks at once (on PostgreSQL, concurrent transactions): the occurrence is claimed once.
    await Promise.all([bot.scheduler.tick(), bot.scheduler.tick(), bot.scheduler.tick(), bot.scheduler.tick()]);
    const sent = await db().select().from(outbox).where(like(outbox.dedupeKey, `timer:${weekly.id}:%`));
    expect(sent.map((r) => r.dedupeKey)).toEqual([`timer:${weekly.id}:due`]);
    const post = sent[0]!;
    expect(post.conversationId).toBe('demo-internal');
    expect(post.payload.mentions).toEqual(['li']);
    expect(post.payload.text).toContain('每周汇总｜专利部｜11月27日(周五)');
    expect(post.payload.text).toContain('【张工：在办 1 单，逾期计时 1 项，未结投诉 1 件，待回访 2 项】');
    expect(post.payload.text).toMatch(new RegExp(`- ${code} 华星科技｜专利｜进行中｜当前：.*｜下一期限：`));
    expect(post.payload.text).toMatch(/- 投诉 T\d+ 华星科技｜A 级｜未结案/);
    expect(post.payload.text).toContain('- 回访 华星科技｜代账客户每月邮件回访｜期限 11月30日(周一) 18:00');
    expect(post.payload.text).toContain('【赵工：在办 0 单】');
    expect(post.payload.text.endsWith('@李主管')).toBe(true);
    expect(post.payload.markdown).toMatch(/^### 每周汇总｜专利部/);
    expect(post.payload.markdown).toContain('**张工：在办 1 单');
    // 审计部 has no group of its own: its summary goes to 总经办's group, saying why.
    const audit = (await db().select().from(timers).where(eq(timers.subject, `report:weekly:${dept['审计部']}`)).orderBy(asc(timers.id)))[0]!;
    const auditPost = (await db().select().from(outbox).where(eq(outbox.dedupeKey, `timer:${audit.id}:due`)))[0]!;
    expect(auditPost.conversationId).toBe('demo-mgmt');
    expect(auditPost.payload.text).toContain('审计部还没有部门群');
    // The next occurrence is running, due next Friday.
    const next = await db().select().from(timers).where(and(eq(timers.subject, `report:weekly:${dept['专利部']}`), eq(timers.state, 'running')));
    expect(next.map((t) => t.dueAt.toISOString())).toEqual([local('2026-12-04T12:00:00').toISOString()]);
  });

  it('the monthly figures match hand-computed ones, and the report goes to 总经办 on the first working day', async () => {
    at('2026-11-30T11:00:00');
    const sw = dept['软件部']!;
    const mk = async (name: string) => (await db().insert(clients).values({ name }).returning())[0]!.id;
    const [c1, c2, c3, c4] = [await mk('甲公司'), await mk('乙公司'), await mk('丙公司'), await mk('丁公司')];
    const o = async (clientId: number, created: string, status: 'new' | 'assigned' | 'done', updated = created) =>
      (await db().insert(orders).values({ clientId, serviceType: '软件', departmentId: sw, status, createdAt: local(created), updatedAt: local(updated) }).returning())[0]!.id;
    const o1 = await o(c1, '2026-10-05T10:00:00', 'new');
    const o2 = await o(c2, '2026-10-10T10:00:00', 'done', '2026-10-20T10:00:00');
    await o(c3, '2026-09-20T10:00:00', 'done', '2026-09-25T10:00:00'); // finished before October: not served in October
    await o(c4, '2026-08-03T10:00:00', 'assigned'); // still open: served
    await db().insert(orderEvents).values({ orderId: o2, at: local('2026-10-20T10:00:00'), kind: 'done' });
    const timer = (subject: string, orderId: number | null, due: string, state: 'running' | 'done' | 'cancelled', ended?: string) => ({
      subject,
      orderId,
      departmentId: orderId ? null : sw,
      ruleId: `test.${Math.random().toString(36).slice(2)}`,
      state,
      dueAt: local(due),
      data: ended ? { endedAt: local(ended).toISOString() } : {},
      createdAt: local('2026-10-01T09:00:00'),
      updatedAt: local('2026-10-01T09:00:00'),
    });
    await db().insert(timers).values([
      timer(`order:${o1}`, o1, '2026-10-06T18:00:00', 'done', '2026-10-06T17:00:00'), // on time
      timer(`order:${o2}`, o2, '2026-10-12T18:00:00', 'done', '2026-10-13T10:00:00'), // late
      timer(`order:${o1}`, o1, '2026-10-15T18:00:00', 'running'), // still open past due: late
      timer(`order:${o2}`, o2, '2026-10-16T18:00:00', 'cancelled', '2026-10-02T10:00:00'), // not counted
      timer(`dept:${sw}`, null, '2026-10-09T18:00:00', 'done', '2026-10-10T10:00:00'), // a reminder series: not counted
      timer(`visit-due:${c1}`, null, '2026-10-30T18:00:00', 'done', '2026-10-15T10:00:00'), // visit due, done (and on time)
      timer(`visit-due:${c2}`, null, '2026-10-30T18:00:00', 'cancelled', '2026-11-02T10:00:00'), // visit due, missed
      timer(`visit-due:${c4}`, null, '2026-10-30T18:00:00', 'cancelled', '2026-10-03T10:00:00'), // no longer applied: not due
    ]);
    const complaint = (clientId: number, level: 'A' | null, received: string) => ({
      clientId,
      departmentId: sw,
      channel: 'phone' as const,
      content: '测试投诉',
      level,
      receivedAt: local(received),
      createdAt: local(received),
      updatedAt: local(received),
    });
    await db().insert(complaints).values([complaint(c1, 'A', '2026-10-08T10:00:00'), complaint(c2, null, '2026-10-21T10:00:00'), complaint(c1, 'A', '2026-11-03T10:00:00')]);
    await db().insert(visits).values({ clientId: c1, departmentId: sw, method: 'phone', status: 'done', doneAt: local('2026-10-15T10:00:00'), createdAt: local('2026-10-15T10:00:00'), updatedAt: local('2026-10-15T10:00:00') });

    // Hand-computed for 软件部, October 2026: opened o1, o2 (2); finished o2 (1); clocks on time: the o1 clock
    // and the done visit clock (2), late: the o2 clock done late and the o1 clock still running (2) → 50%;
    // complaints: 2 (A 1, 待定级 1) ÷ clients served {甲, 乙, 丁} (3) = 66.7% > 10%; visits due 2, done on time 1, done 1.
    const text = (await replies('boss', '/月报 2026-10')).join('\n');
    const block = text.slice(text.indexOf('【软件部】'));
    expect(block).toContain('- 分配单：新开 2，完成 1');
    expect(block).toContain('- 计时：按时 2，超时 2，按时率 50%');
    // The year so far (to 1 November): the same 2 complaints ÷ clients served {甲, 乙, 丙, 丁} (丙's order was active in September) = 50%.
    expect(block).toContain('- 投诉：2 件（A 级 1，待定级 1）；投诉率 2/3 = 66.7%，超过 10% 警戒线；今年累计 2/4 = 50.0%，超过 10%\n');
    expect(block).toContain('- 回访：应回访 2，按期完成 1；本月共回访 1 次');
    // A head sees only their own department.
    const head = (await replies('sun', '/月报 2026-10')).join('\n');
    expect(head).toContain('【软件部】');
    expect(head).not.toContain('【专利部】');
    expect((await replies('zhang', '/月报')).join()).toMatch(REFUSED);
    expect((await replies('boss', '/月报 2027-01')).join()).toMatch(/^抱歉，「2027-01」不是有效月份/);

    // Automatically on the first working day of December (Tuesday 1 December 2026, 10:00), for November, once.
    const monthly = (await db().select().from(timers).where(and(eq(timers.subject, 'report:monthly:all'), eq(timers.state, 'running'))))[0]!;
    at('2026-12-01T10:00:00');
    await Promise.all([bot.scheduler.tick(), bot.scheduler.tick()]);
    const sent = await db().select().from(outbox).where(like(outbox.dedupeKey, `timer:${monthly.id}:%`));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.conversationId).toBe('demo-mgmt');
    expect(sent[0]!.payload.mentions).toEqual(['boss']);
    expect(sent[0]!.payload.text).toContain('服务督导月报｜2026年11月');
    expect(sent[0]!.payload.text).toMatch(/【软件部】\n- 分配单：新开 0，完成 0\n- 计时：[^\n]*\n- 投诉：1 件（A 级 1）/);
    const next = await db().select().from(timers).where(and(eq(timers.subject, 'report:monthly:all'), eq(timers.state, 'running')));
    expect(next[0]!.dueAt.toISOString()).toBe(local('2027-01-04T10:00:00').toISOString());
  });

  it('a long summary is split by handler into parts within the byte limit, sent in order; /周报 gives the same any time', async () => {
    at('2026-12-01T11:00:00');
    const [c] = await db().insert(clients).values({ name: '长长的客户名称有限责任公司' }).returning();
    await db()
      .insert(orders)
      .values(
        Array.from({ length: 50 }, (_, i) => ({
          clientId: c!.id,
          serviceType: '专利',
          departmentId: dept['专利部'],
          handlerId: i < 30 ? person['zhao'] : person['zhang'],
          status: 'assigned' as const,
          lastStep: `第${i}步：撰写并核对申请文件`,
          createdAt: clock(),
          updatedAt: clock(),
        })),
      );
    const parts = await replies('li', '/周报');
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(byteLength(p)).toBeLessThanOrEqual(1800);
    const all = parts.join('\n');
    for (let i = 0; i < 50; i++) expect(all).toContain(`第${i}步：撰写并核对申请文件`);
    expect(parts[parts.length - 1]).toMatch(new RegExp(`（${parts.length}/${parts.length}）$`));

    const weekly = (await db().select().from(timers).where(and(eq(timers.subject, `report:weekly:${dept['专利部']}`), eq(timers.state, 'running'))))[0]!;
    at('2026-12-04T12:00:00');
    await bot.scheduler.tick();
    const sent = await db().select().from(outbox).where(like(outbox.dedupeKey, `timer:${weekly.id}:%`)).orderBy(asc(outbox.id));
    expect(sent.length).toBeGreaterThan(1);
    expect(sent.map((r) => r.dedupeKey)).toEqual([`timer:${weekly.id}:due`, ...sent.slice(1).map((_, i) => `timer:${weekly.id}:due:${i + 1}`)]);
    for (const r of sent) {
      expect(byteLength(r.payload.text)).toBeLessThanOrEqual(2048);
      expect(byteLength(r.payload.markdown!)).toBeLessThanOrEqual(4096);
      expect(r.conversationId).toBe('demo-internal');
    }
    expect(sent[0]!.payload.mentions).toEqual(['li']);
    expect(sent.slice(1).every((r) => r.payload.mentions.length === 0)).toBe(true);
    expect(sent[sent.length - 1]!.payload.text).toMatch(new RegExp(`（${sent.length}/${sent.length}）$`));
    expect((await replies('zhang', '/周报 软件部')).join()).toMatch(REFUSED);
  });

  it('exports: a CSV with BOM, Chinese intact, column by column, only what the requester may see; the link works once', async () => {
    at('2026-12-04T14:00:00');
    await db().insert(complaints).values({
      clientId: (await db().select().from(clients).where(eq(clients.name, '甲公司')))[0]!.id,
      departmentId: dept['软件部'],
      channel: 'phone',
      content: '软件部的投诉',
      receivedAt: local('2026-11-05T10:00:00'),
      createdAt: local('2026-11-05T10:00:00'),
      updatedAt: local('2026-11-05T10:00:00'),
    });
    expect((await replies('zhang', '/导出 投诉 2026-11')).join()).toMatch(REFUSED);
    expect((await replies('liu', '/导出 报销 2026-11')).join()).toMatch(/^抱歉，周报\|投诉\|回访\|分配单只能是/);
    const reply = (await replies('liu', '/导出 投诉 2026-11')).join();
    expect(reply).toContain('专利部的投诉（2026-11）导出链接：\nhttp://127.0.0.1:3000/exports/');
    expect(reply).toContain('链接 12月5日(周六) 14:00 前有效，只能打开一次');
    const token = tokenOf(reply);
    const res = await download(token);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toContain(`filename*=UTF-8''${encodeURIComponent('投诉-2026-11.csv')}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = csvRows(bytes.toString('utf8'));
    expect(rows[0]).toEqual(['编号', '部门', '客户', '级别', '渠道', '状态', '接到时间', '被投诉负责人', '内容', '结案时间']);
    expect(rows).toHaveLength(2); // only 专利部's complaint of November, not 软件部's
    const [code, deptName, client, level, channel, status, received, handler, content, closed] = rows[1]!;
    expect(code).toMatch(/^T\d+$/);
    expect([deptName, client, level, channel, status, handler, content, closed]).toEqual(['专利部', '华星科技', 'A', '电话', '处理中', '张工', '客户说报告晚了', '']);
    expect(received).toBe('2026-11-23 10:00');
    // Once only.
    expect((await download(token)).status).toBe(410);
    expect(await (await download(token)).text()).toBe('链接已使用过，请回到群里重新获取。');

    // Forged: the scope edited to every department, the signature kept.
    const fresh = tokenOf((await replies('liu', '/导出 投诉 2026-11')).join());
    const [body, sig] = fresh.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const forgedBody = Buffer.from(JSON.stringify({ ...claims, scope: { ...claims.scope, dept: 'all' } })).toString('base64url');
    const forged = await download(`${forgedBody}.${sig}`);
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('签名不符');
    // Another department's data: a validly signed link for 孙经理 (软件部) naming 专利部 is refused by the roster.
    const other = await createLinkSigner().sign(db(), { purpose: 'export', userid: 'sun', scope: { kind: '投诉', month: '2026-11', dept: String(dept['专利部']) }, ttlMs: 3_600_000, now: clock() });
    expect((await download(other)).status).toBe(403);
    // A head moved to another department after getting the link: refused (permissions re-read at download).
    await db().update(people).set({ departmentId: dept['软件部'] }).where(eq(people.userid, 'liu'));
    expect((await download(fresh)).status).toBe(403);
    await db().update(people).set({ departmentId: dept['专利部'] }).where(eq(people.userid, 'liu'));
    // The refusal for rights spent the link (issue 28): back in 专利部, it stays used; a new link works.
    // The forged attempt spent nothing: its signature never matched, so the genuine link's twin opens.
    const refusedAgain = await download(fresh);
    expect(refusedAgain.status).toBe(410);
    expect(await refusedAgain.text()).toBe('链接已使用过，请回到群里重新获取。');
    const twin = tokenOf((await replies('liu', '/导出 投诉 2026-11')).join());
    const [twinBody, twinSig] = twin.split('.') as [string, string];
    const twinClaims = JSON.parse(Buffer.from(twinBody, 'base64url').toString());
    const forgedTwin = Buffer.from(JSON.stringify({ ...twinClaims, scope: { ...twinClaims.scope, dept: 'all' } })).toString('base64url');
    expect((await download(`${forgedTwin}.${twinSig}`)).status).toBe(403);
    expect((await download(twin)).status).toBe(200);
    // Expired after 24 hours.
    const late = tokenOf((await replies('liu', '/导出 分配单 2026-11')).join());
    clock.advance(24 * 3_600_000 + 60_000);
    const expired = await download(late);
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain('已过期');
  });

  it('exports for 总经办 cover every department: 回访 and 分配单 columns', async () => {
    at('2026-12-07T10:00:00');
    const visitsCsv = csvRows(await (await download(tokenOf((await replies('boss', '/导出 回访 2026-10')).join()))).text());
    expect(visitsCsv[0]).toEqual(['编号', '部门', '客户', '方式', '状态', '回访人', '回访时间', '结果', '客户意见', '满意度', '备注', '报告时间', '审阅人', '审阅时间', '审阅意见']);
    expect(visitsCsv.slice(1).map((r) => [r[1], r[2], r[3], r[4], r[6]])).toEqual([['软件部', '甲公司', '电话', '已回访', '2026-10-15 10:00']]);
    const ordersCsv = csvRows(await (await download(tokenOf((await replies('boss', '/导出 分配单 2026-10')).join()))).text());
    expect(ordersCsv[0]).toEqual(['编号', '部门', '客户', '业务类型', '状态', '负责人', '业务员', '创建时间', '截止日期', '当前步骤']);
    expect(ordersCsv.slice(1).map((r) => [r[1], r[2], r[3], r[4], r[7]])).toEqual([
      ['软件部', '甲公司', '软件', '待分配', '2026-10-05 10:00'],
      ['软件部', '乙公司', '软件', '已完成', '2026-10-10 10:00'],
    ]);
    const weekly = csvRows(await (await download(tokenOf((await replies('boss', '/导出 周报')).join()))).text());
    expect(weekly[0]).toEqual(['部门', '负责人', '分配单', '客户', '业务类型', '状态', '当前步骤', '下一期限', '逾期计时数']);
    expect(weekly.filter((r) => r[1] === '赵工')).toHaveLength(30);
  });
});
