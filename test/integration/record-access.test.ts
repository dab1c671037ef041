import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import type { Database } from '../../src/db/client';
import { clients, complaints, orders, people, visits } from '../../src/db/schema';
import { createCalendarProvider } from '../../src/core/clocks/clock-store';
import { loadVisitPlaybook } from '../../src/features/visits';
import { exportScopeOf, exportTable, monthSpan } from '../../src/features/reports/export';
import {
  accessScope,
  canSee,
  COMPLAINT_FACTS,
  factsOfComplaint,
  factsOfOrder,
  factsOfVisit,
  ORDER_FACTS,
  readerOf,
  scopeWhere,
  VISIT_FACTS,
} from '../../src/features/roster';
import { seedDemo } from '../../src/db/seed-demo';
import { startTestApp } from '../helpers/app';
import { drivers } from '../helpers/databases';
import { kanbanClock, linkIn, sayer } from '../helpers/kanban';

/**
 * Issue 28, item 5: one record-access rule for `/查`, `/客户 查`, `/投诉 列表`, the exports and the 看板.
 * Known data (beforeAll), on the demo organisation plus a second salesperson 马业务:
 * - D1 华星科技 专利 (王业务's client) → 张工; D2 蓝海生物 专利 (马业务's) → 赵工; D3 远山软件 软件 (王业务's) → 周工;
 * - D4 蓝海生物 专利 (马业务's) → 赵工, done; V1 a return visit of 蓝海生物 by 赵工 (专利部);
 * - T1 蓝海生物 on D2 against 赵工 (专利部, open); T2 远山软件 on D3 against 周工 (软件部, open).
 */
describe.each(drivers)('record access on $name', (driver) => {
  let database: Database;
  let app: App;
  let say: ReturnType<typeof sayer>;
  const clock = kanbanClock();
  const REFUSED = /^抱歉，/;

  beforeAll(async () => {
    database = await driver.open();
    app = await startTestApp({ SANDBOX: 'off' }, { database, clock, loops: false });
    say = sayer(app, clock);
    await seedDemo(database.db, clock());
    const must = async (from: string, text: string, expect: RegExp) => {
      const r = await say(from, text);
      if (!expect.test(r)) throw new Error(`${text} → ${r}`);
    };
    await must('boss', '/成员 添加 ma 姓名=马业务 部门=市场部 角色=业务员', /马业务/);
    await must('wang', '/单 新建 客户=华星科技 类型=专利 业务员=@王业务', /D1/);
    await must('ma', '/单 新建 客户=蓝海生物 类型=专利 业务员=@马业务', /D2/);
    await must('wang', '/单 新建 客户=远山软件 类型=软件 业务员=@王业务', /D3/);
    await must('ma', '/单 新建 客户=蓝海生物 类型=专利 业务员=@马业务', /D4/);
    await must('liu', '/派单 D1 @张工', /张工/);
    await must('liu', '/派单 D2 @赵工', /赵工/);
    await must('sun', '/派单 D3 @周工', /周工/);
    await must('liu', '/派单 D4 @赵工', /赵工/);
    await must('zhao', '/完成 D4 确认 已交付', /D4 已标记完成/);
    await must('zhao', '/回访 记录 蓝海生物 结果=客户满意', /V1/);
    await must('liu', '/投诉 客户=蓝海生物 单=D2 负责人=@赵工 渠道=电话 一直没人回电话', /T1/);
    await must('sun', '/投诉 客户=远山软件 单=D3 负责人=@周工 渠道=电话 软件登记太慢', /T2/);
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  const CODES = ['D1', 'D2', 'D3', 'D4', 'T1', 'T2', 'V1'];
  /** The codes `/查` shows to `who` (the others are refused politely). */
  const shownInChat = async (who: string) => {
    const shown: string[] = [];
    for (const code of CODES) {
      const r = await say(who, `/查 ${code}`);
      if (!REFUSED.test(r)) shown.push(code);
      else expect(r, `${who} /查 ${code}`).toMatch(/您没有查看权限。如需查看，请联系.+。$/);
    }
    return shown;
  };

  it("a salesperson's /查 of another salesperson's client's order is refused with the reason; his own clients' records are shown", async () => {
    expect(await say('wang', '/查 D2')).toBe('抱歉，D2 属于其他业务员的客户，您没有查看权限。如需查看，请联系该客户的业务员或部门负责人。');
    const d1 = await say('wang', '/查 D1');
    expect(d1).toMatch(/^D1｜华星科技｜专利/);
    expect(d1).toContain('负责人：张工');
    expect(await shownInChat('wang')).toEqual(['D1', 'D3', 'T2']); // his clients 华星科技 and 远山软件, in any department
    expect(await shownInChat('ma')).toEqual(['D2', 'D4', 'T1', 'V1']);
  });

  it("a handler sees his own orders and his department's open work, not another department's nor the department's closed work", async () => {
    expect(await shownInChat('zhang')).toEqual(['D1', 'D2', 'T1', 'V1']); // V1 awaits its report and review: open work
    expect(await say('zhang', '/查 D3')).toBe('抱歉，D3 属于软件部，您没有查看权限。如需查看，请联系软件部的部门负责人。');
    expect(await say('zhang', '/查 D4')).toBe('抱歉，D4 已办结且不是您经手的，您没有查看权限。如需查看，请联系您的主管或部门负责人。');
    expect(await shownInChat('zhao')).toEqual(['D1', 'D2', 'D4', 'T1', 'V1']); // D4 is his own
    expect(await shownInChat('zhou')).toEqual(['D3', 'T2']);
  });

  it('a supervisor and a department head see their department; 总经办 sees everything', async () => {
    expect(await shownInChat('li')).toEqual(['D1', 'D2', 'D4', 'T1', 'V1']);
    expect(await shownInChat('liu')).toEqual(['D1', 'D2', 'D4', 'T1', 'V1']);
    expect(await shownInChat('sun')).toEqual(['D3', 'T2']);
    expect(await shownInChat('boss')).toEqual(CODES);
  });

  it('/客户 查 shows only the records in scope and refuses a client with none', async () => {
    expect(await say('wang', '/客户 查 蓝海生物')).toBe('抱歉，客户「蓝海生物」属于其他业务员的客户，您没有查看权限。如需查看，请联系该客户的业务员或部门负责人。');
    const own = await say('ma', '/客户 查 蓝海生物');
    expect(own).toMatch(/^客户「蓝海生物」/);
    expect(own.match(/[DTV]\d+/g)).toEqual(['D4', 'D2', 'T1', 'V1']);
    expect(own).not.toContain('不在您的查看范围内');
    // 张工: the department's open D2 and T1, V1 (open), not the closed D4 of 赵工 — and he is told one was left out.
    const zhang = await say('zhang', '/客户 查 蓝海生物');
    expect(zhang.match(/[DTV]\d+/g)).toEqual(['D2', 'T1', 'V1']);
    expect(zhang).toContain('另有 1 条记录不在您的查看范围内；您可以查看您经手的记录和本部门未办结的工作。');
    expect(await say('zhou', '/客户 查 蓝海生物')).toMatch(/^抱歉，客户「蓝海生物」没有您可以查看的记录（您可以查看您经手的记录和本部门未办结的工作）。/);
    expect(await say('liu', '/客户 查 远山软件')).toMatch(/^抱歉，客户「远山软件」没有您可以查看的记录/);
    // The client's salesperson sees the file of his client, in every department.
    expect((await say('wang', '/客户 查 远山软件')).match(/[DTV]\d+/g)).toEqual(['D3', 'T2']);
    expect((await say('boss', '/客户 查 蓝海生物')).match(/[DTV]\d+/g)).toEqual(['D4', 'D2', 'T1', 'V1']);
  });

  it('/投诉 列表 lists only what the sender may see, and says how many were left out', async () => {
    const list = (r: string) => r.match(/T\d+/g) ?? [];
    const wang = await say('wang', '/投诉 列表');
    expect(wang).toMatch(/^您的客户的投诉：/);
    expect(list(wang)).toEqual(['T2']);
    expect(wang).toContain('另有 1 件不在您的查看范围内，未列出');
    expect(list(await say('ma', '/投诉 列表'))).toEqual(['T1']);
    expect(list(await say('zhang', '/投诉 列表'))).toEqual(['T1']);
    const other = await say('zhang', '/投诉 列表 软件部');
    expect(list(other)).toEqual([]);
    expect(other).toContain('另有 1 件不在您的查看范围内');
    expect(list(await say('liu', '/投诉 列表'))).toEqual(['T1']);
    const boss = await say('boss', '/投诉 列表');
    expect(list(boss)).toEqual(['T2', 'T1']);
    expect(boss).not.toContain('不在您的查看范围内');
  });

  it('/单 列表, /逾期, /待办 and /回访 列表 list only what the sender may see, and say how many were left out', async () => {
    const codes = (r: string) => [...new Set(r.match(/D\d+/g) ?? [])].sort();
    // A salesperson seated in 专利部 (none of its clients are his): the department's lists hold nothing of his.
    expect(await say('boss', '/成员 添加 xu 姓名=徐业务 部门=专利部 角色=业务员')).toMatch(/徐业务/);
    const xuOrders = await say('xu', '/单 列表 部门');
    expect(codes(xuOrders)).toEqual([]);
    expect(xuOrders).toContain('另有 2 张不在您的查看范围内，未列出；您可以查看您的客户的记录。');
    const xuDue = await say('xu', '/待办 30 部门');
    expect(codes(xuDue)).toEqual([]);
    expect(xuDue).toMatch(/另有 \d+ 项不在您的查看范围内，未列出/);
    // The same lists for the department's supervisor hold the department's open orders, nothing left out.
    const liOrders = await say('li', '/单 列表 部门');
    expect(codes(liOrders)).toEqual(['D1', 'D2']);
    expect(liOrders).not.toContain('不在您的查看范围内');
    const liDue = await say('li', '/待办 30 部门');
    expect(codes(liDue)).toEqual(['D1', 'D2']);
    expect(liDue).not.toContain('不在您的查看范围内');
    // A salesperson's own list holds his clients' orders.
    expect(codes(await say('wang', '/单 列表 我的'))).toEqual(['D1', 'D3']);
    expect(codes(await say('boss', '/单 列表 全部'))).toEqual(['D1', 'D2', 'D3']);
    // Return visits: 马业务's client's visit V1 is listed for him and the department, not for 徐业务.
    const visitsOf = (r: string) => [...new Set(r.match(/V\d+|蓝海生物|华星科技|远山软件/g) ?? [])].sort();
    const liVisits = await say('li', '/回访 列表 专利部');
    const xuVisits = await say('xu', '/回访 列表 专利部');
    expect(visitsOf(liVisits)).toContain('V1');
    expect(visitsOf(xuVisits)).toEqual([]);
    expect(xuVisits).toMatch(/另有 \d+ 项不在您的查看范围内，未列出/);
    expect(visitsOf(await say('ma', '/回访 列表 专利部'))).toContain('V1');
    // Without a department a salesperson's list is his clients', wherever they are served.
    const maVisits = await say('ma', '/回访 列表');
    expect(maVisits).toMatch(/^您的客户本月待回访/);
    expect(visitsOf(maVisits)).toContain('V1');
    expect(visitsOf(await say('wang', '/回访 列表'))).not.toContain('V1');
  });

  it('chat and 看板 agree for the same person: the same records open, the same client file', async () => {
    const ids = Object.fromEntries((await database.db.select().from(clients)).map((c) => [c.name, c.id])) as Record<string, number>;
    for (const who of ['li', 'liu', 'sun', 'boss']) {
      const link = linkIn(await say(who, '/看板'));
      const open = async (path: string) => (await fetch(app.url + link.replace('/kanban?', `/kanban${path}?`))).status;
      const onKanban: string[] = [];
      for (const code of CODES.filter((c) => !c.startsWith('V'))) {
        const status = await open(`/${code.startsWith('D') ? 'orders' : 'complaints'}/${code.slice(1)}`);
        expect([200, 403]).toContain(status);
        if (status === 200) onKanban.push(code);
      }
      const inChat = (await shownInChat(who)).filter((c) => !c.startsWith('V'));
      expect(onKanban, who).toEqual(inChat);
      // The client page and /客户 查 list the same orders and complaints.
      for (const name of ['蓝海生物', '远山软件']) {
        const page = await fetch(app.url + link.replace('/kanban?', `/kanban/clients/${ids[name]}?`));
        const chat = await say(who, `/客户 查 ${name}`);
        const pageCodes = page.status === 200 ? [...new Set([...(await page.text()).matchAll(/>([DT]\d+)<\/a>/g)].map((m) => m[1]))].sort() : [];
        const chatCodes = REFUSED.test(chat) ? [] : (chat.match(/[DT]\d+/g) ?? []).sort();
        expect(pageCodes, `${who} ${name}`).toEqual(chatCodes);
      }
    }
  });

  it('lists (SQL) and /查 (the pure rule) agree for every person and every record, and the exports hold exactly that', async () => {
    const db = database.db;
    const owner = new Map((await db.select().from(clients)).map((c) => [c.id, c.salespersonId]));
    const os = await db.select().from(orders);
    const cs = await db.select().from(complaints);
    const vs = await db.select().from(visits);
    expect(os.length * cs.length * vs.length).toBeGreaterThan(0);
    for (const p of await db.select().from(people)) {
      const reader = readerOf({ person: p, isAdmin: p.isAdmin });
      const scope = accessScope(reader);
      const bySql = async (table: typeof orders | typeof complaints | typeof visits, facts: typeof ORDER_FACTS) =>
        (await db.select({ id: table.id }).from(table).where(scopeWhere(scope, facts))).map((r) => r.id).sort((a, b) => a - b);
      expect(await bySql(orders, ORDER_FACTS), p.name).toEqual(os.filter((o) => canSee(reader, factsOfOrder(o, owner.get(o.clientId) ?? null)).ok).map((o) => o.id).sort((a, b) => a - b));
      expect(await bySql(complaints, COMPLAINT_FACTS), p.name).toEqual(cs.filter((c) => canSee(reader, factsOfComplaint(c, owner.get(c.clientId) ?? null)).ok).map((c) => c.id).sort((a, b) => a - b));
      expect(await bySql(visits, VISIT_FACTS), p.name).toEqual(vs.filter((v) => canSee(reader, factsOfVisit(v, owner.get(v.clientId) ?? null)).ok).map((v) => v.id).sort((a, b) => a - b));
    }
    // Exports: a department head gets the department's orders, 总经办 all; nobody else may export.
    const cal = await createCalendarProvider({ timeZone: 'Asia/Shanghai', workingHours: { start: '09:00', end: '18:00' } })(db);
    const span = monthSpan(cal.dateOf(clock()).slice(0, 7), cal);
    const exported = async (userid: string) => {
      const rights = await exportScopeOf(db, userid);
      if (!rights) return null;
      return (await exportTable(db, '分配单', span, rights, clock(), cal, loadVisitPlaybook())).slice(1).map((r) => r[0]);
    };
    expect(await exported('liu')).toEqual(['D1', 'D2', 'D4']);
    expect(await exported('sun')).toEqual(['D3']);
    expect(await exported('boss')).toEqual(['D1', 'D2', 'D3', 'D4']);
    expect(await exported('li')).toBeNull();
    expect(await exported('wang')).toBeNull();
  });
});
