import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { createLinkSigner } from '../../src/core/signed-link';
import type { Database } from '../../src/db/client';
import { events } from '../../src/db/schema';
import { viewerOf } from '../../src/features/kanban/access';
import { startTestApp } from '../helpers/app';
import { drivers } from '../helpers/databases';
import { kanbanClock, linkIn, sayer, seedKanbanData } from '../helpers/kanban';

/**
 * Issue 16: the 看板. Known data (test/helpers/kanban.ts): D1 张工 (李主管's team), D2 秦工 (刘经理's,
 * not 李主管's; a supervisor sees the department all the same: the bot's one record-access rule), D3 周工
 * (软件部), D4 unassigned and overdue; T1 on 张工 (专利部), T2 on 周工 (软件部).
 * The app runs with SANDBOX=off: the 看板 is a feature route, not part of the sandbox.
 */
describe.each(drivers)('看板 on $name', (driver) => {
  let database: Database;
  let app: App;
  let clock: ReturnType<typeof kanbanClock>;
  let say: ReturnType<typeof sayer>;
  let ids: Awaited<ReturnType<typeof seedKanbanData>>;
  const links: Record<string, string> = {};

  const get = async (path: string) => {
    const res = await fetch(app.url + path);
    const bytes = Buffer.from(await res.arrayBuffer());
    return { status: res.status, text: bytes.toString('utf8'), bytes, headers: res.headers };
  };
  /** A page of the link of `who`: `page('li', '/people', { dept: 2 })`. */
  const page = (who: string, sub = '', params: Record<string, string | number> = {}) => {
    const u = new URL(app.url + links[who]!);
    u.pathname = `/kanban${sub}`;
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
    return get(u.pathname + u.search);
  };
  /** Link texts of the order / complaint codes on a page (the key in every href may contain "D2" by chance). */
  const codes = (html: string) => [...html.matchAll(/>([DT]\d+)<\/a>/g)].map((m) => m[1]);

  beforeAll(async () => {
    database = await driver.open();
    clock = kanbanClock();
    app = await startTestApp({ SANDBOX: 'off' }, { database, clock, loops: false });
    say = sayer(app, clock);
    ids = await seedKanbanData(database.db, say, clock);
    for (const who of ['li', 'liu', 'boss']) links[who] = linkIn(await say(who, '/看板'));
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it('with SANDBOX=off, /看板 replies with a personal link (key in the query, valid 12 h) that opens the 总览', async () => {
    expect(app.config.sandboxEnabled).toBe(false);
    expect((await get('/sandbox/')).status).toBe(404);
    const reply = await say('liu', '/看板');
    expect(reply).toMatch(/刘经理，这是您个人的看板链接（只读，11月26日\(周四\) 22:00前有效）/);
    expect(reply).toContain(`${app.url}/kanban?k=`);
    expect(reply).toContain('/看板 注销');
    const r = await page('liu');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    expect(r.text).toContain('<title>总览｜看板</title>');
    expect(r.text).toContain('刘经理（部门负责人）｜专利部');
    expect((await get(links.liu!.replace('/kanban?', '/kanban/?'))).status).toBe(200);
    // ADMIN_USERIDS admins see everything even when not in the roster; anyone else outside it sees nothing.
    expect(await viewerOf(database.db, 'root', ['root'])).toMatchObject({ kind: 'all' });
    expect(await viewerOf(database.db, 'stranger', ['root'])).toBeNull();
    // The audit trail says a link was issued, without the key.
    const audit = await database.db.select().from(events).where(eq(events.action, 'kanban.link'));
    expect(audit.length).toBeGreaterThan(0);
    expect(JSON.stringify(audit)).not.toContain(links.liu!.split('k=')[1]!.slice(0, 40));
  });

  it('总览 for a department head: what is late (red), open orders by step, complaints by level, the complaint rate against 10 %', async () => {
    const { text } = await page('liu');
    const summary = /<table class="sortable" id="summary">([\s\S]*?)<\/table>/.exec(text)![1]!;
    // 专利部: 3 open (D1, D2, D4), 1 waiting to be assigned, 0 due this week, 2 overdue, 1 open complaint, 1/2 = 50 %.
    expect(summary.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ')).toContain('专利部 3 1 0 2 1 50.0%（1/2）');
    expect(summary).toMatch(/<td data-sort="2" class="late">2<\/td>|<td class="late" data-sort="2">2<\/td>/);
    expect(summary).not.toContain('软件部');
    const overdue = /<table class="sortable" id="overdue">([\s\S]*?)<\/table>/.exec(text)![1]!;
    expect(codes(overdue)).toEqual(['D2', 'D4']);
    expect(overdue).toContain('将专利分配单分配给具体负责人');
    expect(overdue).toContain('3.1.2');
    expect((overdue.match(/class="late"/g) ?? []).length).toBe(4); // due time and lateness, two rows
    expect(text).toContain('联系客户，确认是否需要辅导');
    const levels = /id="complaint-levels">([\s\S]*?)<\/table>/.exec(text)![1]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(levels).toContain('专利部 0 0 0 0 1 1');
    // Charts are server-side SVG with the 10 % line.
    expect(text).toMatch(/<svg[^>]*aria-label="2026 年投诉率/);
    expect(text).toContain('>10%</text>');
    expect(text).toContain('aria-label="2026 年每月投诉（按级别）"');
    // Due in November so far in 专利部: D1 and D2 派单, D1 联系客户, T1 回电 on time; D2 联系客户 and D4 派单 still running late → 4/6.
    expect(text).toContain('<title>11月 专利部：67%</title>');
    expect(text).toContain('<title>11月 未定级：1</title>');
  });

  it('人员: each handler with open orders, step, next due and last client contact', async () => {
    const { text } = await page('liu', '/people');
    const list = /id="open-orders">([\s\S]*?)<\/table>/.exec(text)![1]!;
    expect(codes(list).sort()).toEqual(['D1', 'D2', 'D4']);
    const d1 = /<tr><td>张工<\/td>[\s\S]*?<\/tr>/.exec(list)![0];
    // The clock due next is the weekly contact (讨论组, 2.1.7): 7 days after 张工's message on Thursday 10:00.
    expect(d1).toContain('主动联系客户（每周至少一次）');
    expect(d1).toContain('12月3日(周四) 10:00');
    expect(d1).toContain('11月26日(周四) 10:00'); // 张工 wrote in the bound client group on Thursday 10:00
    const d2 = /<tr><td>秦工<\/td>[\s\S]*?<\/tr>/.exec(list)![0];
    expect(d2).toContain('class="late"');
    expect(d2).toContain('无记录');
    const load = /id="workload">([\s\S]*?)<\/table>/.exec(text)![1]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(load).toContain('张工 专利部 1 0 0');
    expect(load).toContain('秦工 专利部 1 1 0');
    expect(text).toContain('aria-label="每位负责人的未完成分配单');
  });

  it('a supervisor sees their department (the record-access rule); editing department, person or id in the URL never widens it', async () => {
    // The bot's one record-access rule (roster: canSee): a supervisor sees the department's records,
    // the same as /查 shows them — 秦工's D2 and the unassigned D4 included.
    const own = await page('li', '/people');
    expect(own.status).toBe(200);
    expect(codes(own.text).sort()).toEqual(['D1', 'D2', 'D4']);
    expect(own.text).toContain('李主管（主管）｜专利部');
    const overview = await page('li');
    expect(codes(overview.text)).toEqual(['D2', 'D4', 'T1']);
    expect(overview.text).not.toContain('远山软件');
    const edits: Record<string, string | number>[] = [{ dept: ids.ds['软件部']! }, { person: ids.ps['zhou']! }, { type: '软件' }];
    for (const params of edits) {
      for (const sub of ['', '/people']) {
        const r = await page('li', sub, params);
        expect(r.status).toBe(200);
        expect(codes(r.text)).toEqual([]);
        expect(r.text).not.toContain('远山软件');
        expect(r.text).not.toContain('明光电子');
      }
      const csv = await page('li', '/people', { ...params, csv: 'open-orders' });
      expect(csv.text.trim().split('\n')).toHaveLength(1); // the header only
    }
    for (const sub of ['/orders/3', '/complaints/2', `/clients/${ids.cs['远山软件']}`]) {
      const r = await page('li', sub);
      expect(r.status, sub).toBe(403);
      expect(r.text).toContain('不在您可以查看的范围内');
      expect(r.text).not.toContain('远山软件');
      expect((await page('li', sub, { csv: 'timeline' })).status).toBe(403);
    }
    for (const sub of ['/orders/1', '/orders/2', '/orders/4', '/complaints/1', `/clients/${ids.cs['明光电子']}`]) expect((await page('li', sub)).status, sub).toBe(200);
    // The client page shows only what is in scope: D1, D4 and T1 of 华星科技 (all 专利部).
    const client = await page('li', `/clients/${ids.cs['华星科技']}`);
    expect(client.status).toBe(200);
    expect([...new Set(codes(client.text))].sort()).toEqual(['D1', 'D4', 'T1']);
  });

  it('a department head sees the department, not another one; 总经办 sees everything', async () => {
    const liu = await page('liu', '/people', { dept: ids.ds['软件部']! });
    expect(codes(liu.text)).toEqual([]);
    expect((await page('liu', '/orders/3')).status).toBe(403);
    expect((await page('liu', '/complaints/2')).status).toBe(403);
    expect((await page('liu', `/clients/${ids.cs['远山软件']}`)).status).toBe(403);
    expect((await page('liu', '/orders/2')).status).toBe(200);
    const csv = await page('liu', '', { csv: 'summary', dept: ids.ds['软件部']! });
    expect(csv.text.replace('\uFEFF', '').trim().split('\r\n')).toHaveLength(1);

    const boss = await page('boss', '/people');
    expect(codes(boss.text).sort()).toEqual(['D1', 'D2', 'D3', 'D4']);
    const bossOverview = await page('boss');
    expect(bossOverview.text).toContain('软件部');
    expect(codes(bossOverview.text)).toContain('T2');
    expect((await page('boss', '/complaints/2')).status).toBe(200);
    // A filter narrows 总经办's view too.
    expect(codes((await page('boss', '/people', { dept: ids.ds['软件部']! })).text)).toEqual(['D3']);
  });

  it('分配单 and 投诉 detail: every event with who, when and the clause; the clocks with their ladders', async () => {
    const { text } = await page('liu', '/orders/1');
    const timeline = /id="timeline">([\s\S]*?)<\/table>/.exec(text)![1]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    const order = ['王业务 新建', '王业务 开始计时 将专利分配单分配给具体负责人', '刘经理 派单', '刘经理 计时完成 将专利分配单分配给具体负责人', '张工 进度 已联系客户'];
    const at = order.map((s) => timeline.indexOf(s));
    expect(at.every((i) => i >= 0), timeline).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(timeline).toContain('3.1.2');
    expect(timeline).toContain('绑定群 华星科技服务群');
    const clocks = /id="clocks">([\s\S]*?)<\/table>/.exec(text)![1]!;
    expect(clocks).toContain('联系客户，催促尽快提供技术交底书');
    expect(clocks).toContain('到期前提醒 11月30日(周一) 10:00');
    expect(clocks).toContain('超时通报总经办 12月8日(周二) 18:00');

    const d4 = await page('liu', '/orders/4');
    expect(/id="clocks">([\s\S]*?)<\/table>/.exec(d4.text)![1]!).toContain('<td class="late">已超时</td>');

    const t1 = await page('liu', '/complaints/1');
    const tl = /id="timeline">([\s\S]*?)<\/table>/.exec(t1.text)![1]!.replace(/<[^>]+>/g, ' ');
    expect(tl).toContain('接到投诉');
    expect(tl).toContain('回电');
    expect(tl).toContain('4.3.3');
    expect(t1.text).toContain('客户说一周没人回复');
  });

  it('日历: the year with holidays, make-up days and the company overrides; CSV per table with a BOM', async () => {
    expect(await say('boss', '/日历 调整 2026-12-24 休息 年会')).toContain('已设置');
    const { text } = await page('liu', '/calendar', { year: 2026 });
    const special = /id="special-days">([\s\S]*?)<\/table>/.exec(text)![1]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(special).toContain('2026-10-01 周四 休息 法定节假日（国庆节）');
    expect(special).toMatch(/2026-\d\d-\d\d 周[六日] 上班\(补班日\) 调休补班/);
    expect(special).toContain('2026-12-24 周四 休息 公司安排休息（年会）');
    expect(text).toMatch(/2026 年：\d+ 个工作日/);
    const csv = await page('liu', '/calendar', { year: 2026, csv: 'special-days' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toContain("filename*=UTF-8''");
    expect(csv.bytes.subarray(0, 3).toString('hex')).toBe('efbbbf'); // UTF-8 BOM, for Excel
    expect(csv.text.startsWith('\uFEFF日期,星期,上班/休息,原因\r\n')).toBe(true);
    expect(csv.text).toContain('2026-12-24,周四,休息,公司安排休息（年会）');
    // Every table on a page has its CSV link.
    const overview = await page('liu');
    for (const id of ['summary', 'overdue', 'week', 'steps', 'complaint-levels', 'complaints']) expect(overview.text).toContain(`csv=${id}`);
    expect((await page('liu', '', { csv: 'nope' })).status).toBe(404);
  });

  it('escapes what people typed in the page, and a CSV cell never starts a spreadsheet formula', async () => {
    expect(await say('wang', '/单 新建 客户="<img src=x onerror=alert(1)>" 类型=软件 业务员=@王业务')).toContain('D5');
    expect(await say('wang', '/单 新建 客户==HYPERLINK(1) 类型=软件 业务员=@王业务')).toContain('D6');
    const r = await page('boss', '/people', { dept: ids.ds['软件部']! });
    expect(r.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(r.text).not.toContain('<img src=x');
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
    const csv = await page('boss', '/people', { dept: ids.ds['软件部']!, csv: 'open-orders' });
    expect(csv.text).toContain('<img src=x onerror=alert(1)>');
    expect(csv.text).toContain(`,'=HYPERLINK(1),`);
  });

  it('refuses a forged, malformed, expired or revoked link with a clear page, and people without the role', async () => {
    // Change a character inside the signature (the last one carries two padding bits, which decode alike).
    const at = links.li!.length - 10;
    const forged = links.li!.slice(0, at) + (links.li![at] === 'A' ? 'B' : 'A') + links.li!.slice(at + 1);
    let r = await get(forged);
    expect(r.status).toBe(403);
    expect(r.text).toContain('签名不符');
    expect(r.text).not.toContain('D1');
    r = await get('/kanban');
    expect(r.status).toBe(403);
    expect(r.text).toContain('链接不完整');
    // CSV with a forged key: the same refusal, no data.
    r = await get(forged.replace('/kanban?', '/kanban/people?') + '&csv=open-orders');
    expect(r.status).toBe(403);
    expect(r.headers.get('content-type')).toContain('text/html');

    // A handler cannot ask for one; a link signed for them (e.g. before a demotion) shows nothing.
    expect(await say('zhang', '/看板')).toMatch(/^抱歉/);
    expect(await say('li', '/看板', { group: 'demo-client' })).toMatch(/^抱歉/);
    const signer = createLinkSigner();
    const zhang = await signer.sign(database.db, { purpose: 'kanban', userid: 'zhang', ttlMs: 3_600_000, now: clock() });
    r = await get(`/kanban?k=${zhang}`);
    expect(r.status).toBe(403);
    expect(r.text).toContain('看板只对主管、部门负责人、总经办和管理员开放');
    // Another purpose's token does not open the 看板.
    const other = await signer.sign(database.db, { purpose: 'export', userid: 'boss', ttlMs: 3_600_000, now: clock() });
    expect((await get(`/kanban?k=${other}`)).status).toBe(403);

    // Revoked: every earlier link of 李主管 is refused; a new one works.
    expect(await say('li', '/看板 注销')).toContain('已注销');
    r = await get(links.li!);
    expect(r.status).toBe(403);
    expect(r.text).toContain('链接已注销');
    clock.advance(1000);
    links.li = linkIn(await say('li', '/看板'));
    expect((await page('li')).status).toBe(200);
    expect((await page('liu')).status).toBe(200); // someone else's links are untouched

    // Permissions are read from the roster on every request: 李主管 made a handler → refused.
    expect(await say('boss', '/成员 添加 li 姓名=李主管 部门=专利部 角色=负责人 上级=@刘经理')).toContain('李主管');
    r = await page('li');
    expect(r.status).toBe(403);
    expect(r.text).toContain('看板只对主管、部门负责人、总经办和管理员开放');

    // Expired after 12 hours (KANBAN_LINK_HOURS).
    clock.advance(12 * 3_600_000);
    r = await page('liu');
    expect(r.status).toBe(403);
    expect(r.text).toContain('链接已过期');
  });
});
