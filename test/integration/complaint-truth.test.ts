import { and, asc, desc, eq, like, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { clients, complaintEvents, complaints, departments, events, groups, orders, outbox, people, timers } from '../../src/db/schema';
import { formatInstantInChinese } from '../../src/domain/calendar';
import { rateReviewAt } from '../../src/domain/complaints';
import { complaintPlaybook, demoBot, fakeClock, REFUSED } from '../helpers/bot';
import { drivers } from '../helpers/databases';

/**
 * Issue 8, "what the bot says must be true", complaint clauses: every reply that names a deadline, a
 * recipient or a group is compared with the timer or outbox row that drives it.
 */
describe.each(drivers)('complaint replies tell the truth on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  const clock = fakeClock('2026-01-12T02:00:00Z'); // Monday 10:00 in Shanghai
  const db = () => database.db;
  const deptId: Record<string, number> = {};
  let seq = 0;

  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { clock, admins: ['root'] });
    for (const d of await db().select().from(departments)) deptId[d.name] = d.id;
    await db().insert(groups).values([
      { platform: 'sandbox', conversationId: 'demo-mgmt', title: '总经办群', kind: 'internal', departmentId: deptId['总经办'] },
      { platform: 'sandbox', conversationId: 'demo-software', title: '软件部群', kind: 'internal', departmentId: deptId['软件部'] },
      { platform: 'sandbox', conversationId: 'demo-market', title: '市场部群', kind: 'internal', departmentId: deptId['市场部'] },
    ]);
  });
  afterAll(async () => database?.close());

  const at = (local: string) => clock.set(new Date(`${local}+08:00`).toISOString());
  const latestId = async () => (await db().select({ id: complaints.id }).from(complaints).orderBy(sql`id desc`).limit(1))[0]!.id;
  /** Says something and returns the reply with its queued outbox row (for the mentions). */
  async function say(from: string, text: string, group = 'demo-internal') {
    const id = `truth-${++seq}`;
    const reply = await bot.say(from, text, { group, id });
    const [row] = await db().select().from(outbox).where(eq(outbox.dedupeKey, `reply:sandbox:${id}:0`));
    return { reply, mentions: row?.payload.mentions ?? [] };
  }
  async function log(from: string, text: string, group = 'demo-internal') {
    const r = await say(from, text, group);
    expect(r.reply, r.reply).not.toMatch(REFUSED);
    const id = await latestId();
    return { ...r, id, T: `T${id}` };
  }
  const personId = async (userid: string) => (await db().select().from(people).where(eq(people.userid, userid)))[0]!.id;
  const orderOf = async (code: string) => (await db().select().from(orders).where(eq(orders.id, Number(code.slice(1)))))[0]!;
  const timerOf = async (id: number, ruleId: string) =>
    (await db().select().from(timers).where(and(eq(timers.subject, `complaint:${id}`), eq(timers.ruleId, ruleId))).orderBy(asc(timers.id)))[0];
  const rateNotices = (dept: string, year: number) => db().select().from(outbox).where(like(outbox.dedupeKey, `notice:complaint-rate:${deptId[dept]}:${year}:%`));
  const tickAt = async (local: string) => {
    at(local);
    await bot.scheduler.tick();
  };
  async function newOrder(client: string, type: string, handler: string) {
    const o = await bot.say('wang', `/单 新建 客户=${client} 类型=${type} 业务员=wang`);
    const code = /D\d+/.exec(o)![0];
    const head = type === '软件' ? 'sun' : 'liu';
    expect(await bot.say(head, `/派单 ${code} ${handler}`)).not.toMatch(REFUSED);
    return code;
  }

  it('4.4.3: the first complaint of the year (1 of 2 clients) raises no alert; the running figure and the review date are shown', async () => {
    at('2026-01-12T10:00:00');
    const sales = await personId('wang');
    for (const name of ['年初客户甲', '年初客户乙']) {
      const [cl] = await db().insert(clients).values({ name, salespersonId: sales }).returning();
      await db().insert(orders).values({ clientId: cl!.id, serviceType: '软件', departmentId: deptId['软件部'], status: 'assigned', createdAt: clock(), updatedAt: clock() });
    }
    await log('sun', '/投诉 客户=年初客户甲 负责人=@周工 回复慢', 'demo-software');
    expect(await rateNotices('软件部', 2026)).toHaveLength(0);
    expect(await db().select().from(outbox).where(like(outbox.dedupeKey, 'notice:complaint-rate:%'))).toHaveLength(0);

    const cal = await bot.calendar(db());
    const reviewAt = rateReviewAt(2026, complaintPlaybook.rate.review, cal);
    expect(reviewAt.toISOString()).toBe(new Date('2026-12-01T10:00:00+08:00').toISOString()); // first working day of December
    const when = formatInstantInChinese(reviewAt, cal, { now: clock() });
    const list = (await say('sun', '/投诉 列表', 'demo-software')).reply;
    expect(list).toContain('软件部 1/2 = 50.0%');
    expect(list).toContain(`年终检讨时间：${when}`);
    const rate = (await say('sun', '/投诉率', 'demo-software')).reply;
    expect(rate).toContain('软件部 1/2 = 50.0%');
    expect(rate).toContain(`年终检讨时间：${when}`);
    expect(rate).toContain('此前不单独提醒');
    // Management sees every service department; a handler may not ask; a bad year is refused politely.
    const all = (await say('boss', '/投诉率 2026', 'demo-mgmt')).reply;
    for (const d of ['专利部', '软件部', '审计部', '项目部']) expect(all).toContain(d);
    expect((await say('zhou', '/投诉率', 'demo-software')).reply).toMatch(REFUSED);
    expect((await say('sun', '/投诉率 2031', 'demo-software')).reply).toContain('不是有效年份');
    // Ticks before the review time send nothing.
    await tickAt('2026-06-01T10:00:00');
    expect(await db().select().from(outbox).where(like(outbox.dedupeKey, 'notice:complaint-rate:%'))).toHaveLength(0);
  });

  it('4.3.2: a supervisor only proposes the new handler; the department head, @-mentioned, confirms (or picks directly)', async () => {
    at('2026-03-02T10:00:00');
    const code = await newOrder('换人甲', '专利', 'zhang');
    const c = await log('li', `/投诉 客户=换人甲 单=${code} 客户要求换负责人`);
    // Proposed in the department's own group: the notice is the reply, with a real @ of the head.
    const proposed = await say('li', `/换人 ${c.T} @赵工 客户要求更换`);
    expect(proposed.reply).toContain('换人待确认');
    expect(proposed.reply).toContain(`/换人 ${c.T} 确认`);
    expect(proposed.reply).toContain('@刘经理');
    expect(proposed.mentions).toEqual(['liu']);
    expect((await orderOf(code)).handlerId).toBe(await personId('zhang'));
    expect((await db().select().from(complaints).where(eq(complaints.id, c.id)))[0]!.replacementId).toBeNull();
    expect((await say('li', `/换人 ${c.T} 确认`)).reply).toMatch(REFUSED);
    expect((await say('zhang', `/换人 ${c.T} 确认`)).reply).toMatch(REFUSED);

    const done = await say('liu', `/换人 ${c.T} 确认`);
    expect(done.reply).toContain('部门负责人 刘经理 决定');
    expect(done.reply).toContain('李主管 建议');
    expect(done.mentions).toEqual(expect.arrayContaining(['zhao', 'zhang']));
    expect((await orderOf(code)).handlerId).toBe(await personId('zhao'));
    const kinds = (await db().select().from(complaintEvents).where(eq(complaintEvents.complaintId, c.id)).orderBy(asc(complaintEvents.id))).map((e) => e.kind);
    expect(kinds.indexOf('replace_proposed')).toBeLessThan(kinds.indexOf('replaced'));
    expect((await say('liu', `/换人 ${c.T} 确认`)).reply).toContain('没有待确认的换人建议');

    // Proposed elsewhere: the reply names the group and the person of the outbox row that asks the head.
    const elsewhere = await say('li', `/换人 ${c.T} @张工 客户又改主意`, 'li-private');
    const [ask] = await db().select().from(outbox).where(like(outbox.dedupeKey, `complaint:${c.id}:replace-proposed:%`)).orderBy(desc(outbox.id)).limit(1);
    const [g] = await db().select().from(groups).where(eq(groups.conversationId, ask!.conversationId));
    expect(ask!.payload.mentions).toEqual(['liu']);
    expect(ask!.payload.text).toContain('@刘经理');
    expect(elsewhere.reply).toContain(`「${g!.title}」`);
    expect(elsewhere.reply).toContain('刘经理');
    expect((await orderOf(code)).handlerId).toBe(await personId('zhao'));

    // The head picks directly (overriding the proposal).
    const direct = await say('liu', `/换人 ${c.T} @张工`, 'liu-private');
    expect(direct.reply).toContain('部门负责人 刘经理 决定');
    expect((await orderOf(code)).handlerId).toBe(await personId('zhang'));
    expect((await say('liu', `/换人 ${c.T} 确认`)).reply).toContain('没有待确认的换人建议');
  });

  it('4.3.6: the boss report reaches the salesperson with a real @ in a group they are in, and the reply says where, from the outbox rows', async () => {
    at('2026-03-09T10:00:00');
    const c = await log('boss', '/投诉 客户=华星科技 负责人=@张工 客户直接打给我，说材料一直没人要', 'boss-private');
    await say('liu', `/回电 ${c.T} 已回访客户并致歉`);
    await say('liu', `/定级 ${c.T}`);
    expect((await say('liu', `/结案 ${c.T} 已安排赵工跟进，客户认可`)).reply).toContain('/报告');
    const r = await say('liu', `/报告 ${c.T} https://pan.example.com/T${c.id}`);
    const rows = await db().select().from(outbox).where(like(outbox.dedupeKey, `complaint:${c.id}:report:%`)).orderBy(asc(outbox.id));
    const toSales = rows.filter((x) => x.payload.mentions.includes('wang'));
    expect(toSales).toHaveLength(1);
    expect(toSales[0]!.conversationId).toBe('demo-market'); // the salesperson's own department group
    expect(toSales[0]!.payload.text).toContain('@王业务');
    expect(toSales[0]!.payload.text).toContain(`https://pan.example.com/T${c.id}`);
    const toMgmt = rows.filter((x) => x.payload.mentions.includes('boss'));
    expect(toMgmt.map((x) => x.conversationId)).toEqual(['demo-mgmt']);
    expect(toMgmt[0]!.payload.text).not.toContain('王业务');
    for (const row of rows) {
      const [g] = await db().select().from(groups).where(eq(groups.conversationId, row.conversationId));
      const names = await db().select().from(people).where(sql`${people.userid} in ${row.payload.mentions}`);
      expect(r.reply).toContain(`已发到「${g!.title}」：${names.map((p) => '@' + p.name).join(' ')}`);
    }
    expect(r.mentions).toEqual([]);

    // An internal group bound to the complaint's order comes first.
    at('2026-03-10T10:00:00');
    const code = await newOrder('报告客户', '专利', 'zhang');
    await db().insert(groups).values({ platform: 'sandbox', conversationId: 'order-internal', title: '报告客户项目群', kind: 'internal', orderId: Number(code.slice(1)) });
    const d = await log('boss', `/投诉 客户=报告客户 单=${code} 老板接到电话投诉`, 'boss-private');
    await say('liu', `/回电 ${d.T} 已回访`);
    await say('liu', `/定级 ${d.T}`);
    await say('liu', `/结案 ${d.T} 已处理`);
    const r2 = await say('boss', `/报告 ${d.T} 报告摘要`, 'demo-mgmt');
    const [copy] = await db().select().from(outbox).where(eq(outbox.dedupeKey, `complaint:${d.id}:report:order-internal`));
    expect(copy!.payload.mentions).toEqual(['wang']);
    expect(r2.reply).toContain('已发到「报告客户项目群」：@王业务');
    // Sent in the 总经办 group itself: the report is the reply there, with the real @ of management.
    expect(r2.reply).toContain('本群：@陈总');
    expect(r2.mentions).toEqual(['boss']);
  });

  it('4.3.4 / 4.3.5: a serious complaint via 业务部 asks the head to visit, with the visit clock’s deadline; the notice lists the client’s orders in other departments', async () => {
    at('2026-03-16T10:00:00');
    const patent = await newOrder('拜访客户', '专利', 'zhang');
    const software = await newOrder('拜访客户', '软件', 'zhou');
    const c = await log('wang', '/投诉 客户=拜访客户 负责人=@张工 渠道=业务部 客户很生气，说要公开投诉我们', 'wang-private');
    const [notice] = await db().select().from(outbox).where(like(outbox.dedupeKey, `complaint:${c.id}:received:%`));
    expect(notice!.conversationId).toBe('demo-internal');
    expect(notice!.payload.text).toContain('该客户在其他部门的分配单（4.3.5');
    expect(notice!.payload.text).toContain(`${software}（软件部·软件，进行中，周工）`);
    expect(notice!.payload.text).toContain(`相关分配单：${patent}`);
    expect(notice!.payload.mentions).toContain('liu');

    // The head confirms C from elsewhere: the department group gets the visit notice with a real @ and the clock's deadline.
    const level = await say('liu', `/定级 ${c.T} C`, 'liu-private');
    const visit = (await timerOf(c.id, 'complaint.visit'))!;
    expect(visit.state).toBe('running');
    const cal = await bot.calendar(db());
    const due = formatInstantInChinese(visit.dueAt, cal, { now: clock() });
    expect(level.reply).toContain(`期限 ${due}`);
    expect(level.reply).toContain(`/拜访 ${c.T}`);
    expect(level.mentions).toContain('liu');
    const [asked] = await db().select().from(outbox).where(like(outbox.dedupeKey, `complaint:${c.id}:visit:%`));
    expect(asked!.conversationId).toBe('demo-internal');
    expect(asked!.payload.mentions).toEqual(['liu']);
    expect(asked!.payload.text).toContain(`期限 ${due}`);
    expect(visit.dueAt.toISOString()).toBe(new Date('2026-03-19T10:00:00+08:00').toISOString()); // 3 working days

    // Reminded until the head records the visit.
    await tickAt('2026-03-18T10:00:00'); // heads-up one working day before
    await tickAt('2026-03-19T10:00:00');
    const sent = await db().select().from(outbox).where(like(outbox.dedupeKey, `timer:${visit.id}:%`));
    expect(sent.map((x) => x.dedupeKey!.split(':')[2]).sort()).toEqual(['due', 'headsup']);
    expect(sent.every((x) => x.payload.mentions.includes('liu') && x.conversationId === 'demo-internal')).toBe(true);
    expect((await say('li', `/拜访 ${c.T} 我去了`)).reply).toMatch(REFUSED);
    expect((await say('liu', `/拜访 ${c.T} 已上门致歉，客户同意继续合作`)).reply).toContain('已完成：部门负责人与客户约定拜访时间');
    expect((await db().select().from(timers).where(eq(timers.id, visit.id)))[0]!.state).toBe('done');

    // An ordinary (A) complaint via 业务部 starts no visit clock.
    const a = await log('wang', '/投诉 客户=拜访客户 负责人=@张工 渠道=业务部 回复稍慢', 'wang-private');
    await say('liu', `/定级 ${a.T} A 偶发`);
    expect(await timerOf(a.id, 'complaint.visit')).toBeUndefined();
  });

  /** Every "⏱ 开始计时：<step>，期限 <due>" line names a running timer of that step with that due time; "已完成" a done one. */
  async function expectClocksTrue(reply: string, complaintId: number) {
    const cal = await bot.calendar(db());
    const rows = await db().select().from(timers).where(eq(timers.subject, `complaint:${complaintId}`));
    const stepOf = (ruleId: string) => complaintPlaybook.byId.get(ruleId)!.step;
    let checked = 0;
    for (const line of reply.split('\n').filter((l) => l.startsWith('⏱'))) {
      const verb = /^⏱ (开始计时|已完成|已停止)：/.exec(line)?.[1];
      const rule = complaintPlaybook.rules.find((r) => line.startsWith(`⏱ ${verb}：${r.step}（`) || line.startsWith(`⏱ ${verb}：${r.step}，`));
      expect(rule, line).toBeDefined();
      const step = rule!.step;
      const due = /^，(?:期限|首次) ([^（]+)（/.exec(line.slice(`⏱ ${verb}：${step}`.length))?.[1];
      const matching = rows.filter((r) => stepOf(r.ruleId) === step);
      expect(matching.length, step).toBeGreaterThan(0);
      if (verb === '开始计时') {
        expect(matching.some((r) => r.state === 'running' && formatInstantInChinese(r.dueAt, cal, { now: clock() }) === due), `${step} ${due}`).toBe(true);
      } else {
        expect(matching.some((r) => r.state === (verb === '已完成' ? 'done' : 'cancelled')), step).toBe(true);
      }
      checked++;
    }
    return checked;
  }
  const namesOf = async (userids: string[]) =>
    userids.length ? (await db().select().from(people).where(sql`${people.userid} in ${userids}`)).map((p) => p.name).sort() : [];
  const groupTitle = async (conversationId: string) => (await db().select().from(groups).where(eq(groups.conversationId, conversationId)))[0]!.title;

  describe('issue 8 "Also": each complaint command’s reply matches the timer and outbox rows it names', () => {
    let T = '';
    let id = 0;
    it('/投诉: the group and people told, and the callback deadline', async () => {
      at('2026-04-13T10:00:00');
      const c = await log('zhao', '/投诉 客户=华星科技 负责人=@张工 渠道=电话 不满意 电话没人接', 'zhao-private');
      T = c.T;
      id = c.id;
      const [notice] = await db().select().from(outbox).where(like(outbox.dedupeKey, `complaint:${id}:received:%`));
      const names = await namesOf(notice!.payload.mentions);
      const told = /已在「(.+?)」通知 (.+?)。/.exec(c.reply)!;
      expect(told[1]).toBe(await groupTitle(notice!.conversationId));
      expect(told[2]!.split('、').sort()).toEqual(names);
      const cal = await bot.calendar(db());
      const cb = (await timerOf(id, 'complaint.callback'))!;
      expect(c.reply).toContain(`回电期限：${formatInstantInChinese(cb.dueAt, cal, { now: clock() })}`);
      expect(notice!.payload.text).toContain(`回电期限：${formatInstantInChinese(cb.dueAt, cal, { now: clock() })}`);
    });

    it('/上报: the head it was given to, and the head’s deadline in the notice', async () => {
      at('2026-04-13T10:10:00');
      const r = await say('li', `/上报 ${T} 需要部门负责人决定`, 'li-private');
      const [notice] = await db().select().from(outbox).where(like(outbox.dedupeKey, `complaint:${id}:escalated:%`));
      expect(r.reply).toContain(`上报给 ${(await namesOf(notice!.payload.mentions)).join('、')}`);
      const cal = await bot.calendar(db());
      const act = (await timerOf(id, 'complaint.head-act'))!;
      expect(notice!.payload.text).toContain(`期限 ${formatInstantInChinese(act.dueAt, cal, { now: clock() })}`);
      expect(await expectClocksTrue(r.reply, id)).toBeGreaterThan(0);
    });

    it('/处理, /解释, /定级: the people @-mentioned and every clock named are the stored ones', async () => {
      const handled = await say('liu', `/处理 ${T} 由赵工接手并致歉`, 'liu-private');
      expect(handled.mentions).toEqual(['zhang']);
      expect(handled.reply).toContain('@张工');
      expect(await expectClocksTrue(handled.reply, id)).toBeGreaterThan(0);
      const explained = await say('li', `/解释 ${T} 已向客户解释`, 'li-private');
      expect(await expectClocksTrue(explained.reply, id)).toBeGreaterThan(0);
      const level = await say('liu', `/定级 ${T} D 客户要求赔偿损失`, 'liu-private');
      const [toMgmt] = await db().select().from(outbox).where(like(outbox.dedupeKey, `complaint:${id}:level-d:%`));
      expect(toMgmt!.conversationId).toBe('demo-mgmt');
      expect(level.mentions).toEqual(expect.arrayContaining(toMgmt!.payload.mentions));
      expect(level.reply).toContain(`并报总经办 ${(await namesOf(toMgmt!.payload.mentions)).map((n) => '@' + n).join(' ')}`);
      expect(await expectClocksTrue(level.reply, id)).toBeGreaterThan(0);
    });

    it('/结案, /检讨书, /告知业务员: the salesperson named is the client’s, and the clocks named are the stored ones', async () => {
      at('2026-04-13T11:00:00');
      const closed = await say('liu', `/结案 ${T} 原因=态度 客户接受致歉`, 'liu-private');
      const [inDept] = await db().select().from(outbox).where(like(outbox.dedupeKey, `complaint:${id}:closed:%`));
      expect(inDept!.conversationId).toBe('demo-internal');
      expect(closed.mentions).toContain('zhang');
      expect(await expectClocksTrue(closed.reply, id)).toBeGreaterThan(0);
      const review = await say('zhang', `/检讨书 ${T} 已写检讨书`, 'zhang-private');
      expect(await expectClocksTrue(review.reply, id)).toBe(1);
      const told = await say('liu', `/告知业务员 ${T} 已电话告知`, 'liu-private');
      const [client] = await db().select().from(clients).where(eq(clients.name, '华星科技'));
      const [sales] = await db().select().from(people).where(eq(people.id, client!.salespersonId!));
      expect(told.mentions).toEqual([sales!.userid]);
      expect(told.reply).toContain(`@${sales!.name}`);
    });
  });

  it('4.4.3: the year is reviewed on the first working day of December — once, in the department and 总经办 groups', async () => {
    const cal = await bot.calendar(db());
    const reviewAt = rateReviewAt(2026, complaintPlaybook.rate.review, cal);
    clock.set(new Date(reviewAt.getTime() - 60_000).toISOString());
    await bot.scheduler.tick();
    expect(await rateNotices('软件部', 2026)).toHaveLength(0);
    clock.set(reviewAt.toISOString());
    await bot.scheduler.tick();
    const notices = await rateNotices('软件部', 2026);
    expect(notices.map((n) => n.conversationId).sort()).toEqual(['demo-mgmt', 'demo-software']);
    expect(notices[0]!.payload.text).toContain('年终检讨');
    expect(notices[0]!.payload.mentions).toEqual(expect.arrayContaining(['sun', 'boss']));
    const [mark] = await db().select().from(events).where(and(eq(events.subject, 'complaint-rate:2026'), eq(events.action, 'complaint.rate_review')));
    expect(mark!.at.toISOString()).toBe(reviewAt.toISOString());
    await tickAt('2026-12-02T10:00:00');
    expect(await rateNotices('软件部', 2026)).toHaveLength(2);
    expect((await say('sun', '/投诉率 2026', 'demo-software')).reply).toContain(`年终检讨已于 ${formatInstantInChinese(reviewAt, cal, { now: clock() })} 进行`);
    at('2027-01-05T10:00:00');
    expect((await say('sun', '/投诉率 2026', 'demo-software')).reply).toContain('全年');
  });
});
