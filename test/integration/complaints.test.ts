import { and, asc, eq, like, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScheduler } from '../../src/core/clocks/scheduler';
import type { Database } from '../../src/db/client';
import { clients, complaintEvents, complaints, departments, groups, orderEvents, orders, outbox, people, timers } from '../../src/db/schema';
import { complaintPlaybook, demoBot, fakeClock, playbook, REFUSED, silentLog } from '../helpers/bot';
import { drivers } from '../helpers/databases';

const CLIENT_REFUSAL = /^您好！这条命令仅供本公司服务人员使用/;

describe.each(drivers)('complaints on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  const clock = fakeClock('2026-11-23T02:00:00Z'); // Monday 10:00 in Shanghai
  const db = () => database.db;
  const deptId: Record<string, number> = {};

  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { clock, admins: ['root'] });
    for (const d of await db().select().from(departments)) deptId[d.name] = d.id;
    await db().insert(groups).values({ platform: 'sandbox', conversationId: 'demo-mgmt', title: '总经办群', kind: 'internal', departmentId: deptId['总经办'] });
    await db().insert(groups).values({ platform: 'sandbox', conversationId: 'demo-software', title: '软件部群', kind: 'internal', departmentId: deptId['软件部'] });
  });
  afterAll(async () => database?.close());

  const at = (local: string) => clock.set(new Date(`${local}+08:00`).toISOString());
  const latestId = async () => (await db().select({ id: complaints.id }).from(complaints).orderBy(sql`id desc`).limit(1))[0]!.id;
  async function log(from: string, text: string, o: Parameters<typeof bot.say>[2] = {}) {
    const reply = await bot.say(from, text, o);
    expect(reply, reply).not.toMatch(REFUSED);
    const id = await latestId();
    return { reply, id, T: `T${id}` };
  }
  const load = async (id: number) => (await db().select().from(complaints).where(eq(complaints.id, id)))[0]!;
  const timerOf = async (id: number, ruleId: string) =>
    (await db().select().from(timers).where(and(eq(timers.subject, `complaint:${id}`), eq(timers.ruleId, ruleId))).orderBy(asc(timers.id)))[0];
  const stepRows = async (timerId: number) => db().select().from(outbox).where(like(outbox.dedupeKey, `timer:${timerId}:%`)).orderBy(asc(outbox.id));
  const timeline = async (id: number) => db().select().from(complaintEvents).where(eq(complaintEvents.complaintId, id)).orderBy(asc(complaintEvents.id));
  const tickAt = async (local: string) => {
    at(local);
    await bot.scheduler.tick();
  };

  describe('the 30-minute rule (4.3.3)', () => {
    it('a callback at 29 minutes: heads-up at 20, no escalation, no breach', async () => {
      at('2026-11-23T10:00:00');
      const c = await log('li', '/投诉 客户=华星科技 负责人=@张工 级别=A 客户说一周没人回复');
      expect(c.reply).toContain(`【客户投诉】${c.T}`);
      expect(c.reply).toContain('回电期限：11月23日(周一) 10:30');
      const t = (await timerOf(c.id, 'complaint.callback'))!;
      await tickAt('2026-11-23T10:19:59');
      expect(await stepRows(t.id)).toHaveLength(0);
      await tickAt('2026-11-23T10:20:00');
      const heads = await stepRows(t.id);
      expect(heads.map((r) => r.dedupeKey)).toEqual([`timer:${t.id}:headsup`]);
      expect(heads[0]!.conversationId).toBe('demo-internal');
      expect(heads[0]!.payload.mentions).toEqual(['li', 'zhang']);
      at('2026-11-23T10:29:00');
      expect(await bot.say('li', `/回电 ${c.T} 已致歉，约定明天补材料`)).toContain('已登记');
      for (const x of ['2026-11-23T10:30:00', '2026-11-23T10:31:00', '2026-11-23T12:00:00']) await tickAt(x);
      expect((await stepRows(t.id)).map((r) => r.dedupeKey)).toEqual([`timer:${t.id}:headsup`]);
      expect((await load(c.id)).breachedAt).toBeNull();
      expect((await timeline(c.id)).map((e) => e.kind)).not.toContain('breach');
      const [after] = await db().select().from(timers).where(eq(timers.id, t.id));
      expect(after!.state).toBe('done');
    });

    it('no callback by 30 minutes: the department head is @-mentioned once, in the department group, and the breach is recorded', async () => {
      at('2026-11-23T11:00:00');
      const c = await log('li', '/投诉 客户=华星科技 负责人=@张工 材料交晚了');
      const t = (await timerOf(c.id, 'complaint.callback'))!;
      const other = createScheduler({ db: db(), calendar: bot.calendar, log: silentLog, clock, subjects: [bot.complaints.timerSubject] });
      await tickAt('2026-11-23T11:29:59');
      expect((await stepRows(t.id)).some((r) => r.payload.mentions.includes('liu'))).toBe(false);
      at('2026-11-23T11:30:00');
      await Promise.all([bot.scheduler.tick(), other.tick(), bot.scheduler.tick(), other.tick()]);
      for (const x of ['2026-11-23T11:31:00', '2026-11-23T13:00:00', '2026-11-24T11:30:00']) await tickAt(x);
      const toHead = (await stepRows(t.id)).filter((r) => r.payload.mentions.includes('liu'));
      expect(toHead).toHaveLength(1);
      expect(toHead[0]!.dedupeKey).toBe(`timer:${t.id}:overdue_head`);
      expect(toHead[0]!.conversationId).toBe('demo-internal');
      expect(toHead[0]!.payload.text).toContain(`【投诉超时`);
      expect(toHead[0]!.payload.text).toContain(c.T);
      expect(toHead[0]!.payload.text).toContain('@刘经理');
      expect((await load(c.id)).breachedAt?.toISOString()).toBe(new Date('2026-11-23T11:30:00+08:00').toISOString());
      const breaches = (await timeline(c.id)).filter((e) => e.kind === 'breach');
      expect(breaches).toHaveLength(1);
      expect(await bot.say('liu', `/查 ${c.T}`)).toMatch(/超时：「主管判断并电话回访/);
      at('2026-11-23T11:45:00');
      expect(await bot.say('liu', '/逾期 部门')).toContain(`投诉 ${c.T}｜主管判断并电话回访投诉客户`);
    });

    it('时间= in the past shortens the clock; the full date and the unquoted form work too', async () => {
      at('2026-11-23T14:00:00');
      const c = await log('zhang', '/投诉 客户=华星科技 负责人=@张工 时间=13:45 电话里说报告有错');
      expect((await load(c.id)).receivedAt.toISOString()).toBe(new Date('2026-11-23T13:45:00+08:00').toISOString());
      const t = (await timerOf(c.id, 'complaint.callback'))!;
      expect(t.dueAt.toISOString()).toBe(new Date('2026-11-23T14:15:00+08:00').toISOString());
      await tickAt('2026-11-23T14:14:59');
      expect((await stepRows(t.id)).map((r) => r.dedupeKey!.split(':')[2])).toEqual(['headsup']);
      await tickAt('2026-11-23T14:15:00');
      expect((await stepRows(t.id)).map((r) => r.dedupeKey!.split(':')[2])).toEqual(['headsup', 'overdue_head']);

      const d = await log('zhang', '/投诉 客户=华星科技 负责人=@张工 时间="2026-11-23 13:50" 又一次');
      expect((await timerOf(d.id, 'complaint.callback'))!.dueAt.toISOString()).toBe(new Date('2026-11-23T14:20:00+08:00').toISOString());
      const e = await log('zhang', '/投诉 客户=华星科技 负责人=@张工 时间=2026-11-23 13:55 第三次');
      expect((await load(e.id)).content).toBe('第三次');
      expect((await timerOf(e.id, 'complaint.callback'))!.dueAt.toISOString()).toBe(new Date('2026-11-23T14:25:00+08:00').toISOString());
      // A heads-up already past when logged is not repeated: the notice carries the deadline.
      const f = await log('zhang', '/投诉 客户=华星科技 负责人=@张工 时间=13:35 第四次');
      await tickAt('2026-11-23T14:00:30');
      expect(await stepRows((await timerOf(f.id, 'complaint.callback'))!.id)).toHaveLength(0);
    });

    it('a time in the future or more than a day back is refused politely, and nothing is stored', async () => {
      at('2026-11-23T15:00:00');
      const before = await latestId();
      expect(await bot.say('zhang', '/投诉 客户=华星科技 时间=15:05 客户来电')).toMatch(/^抱歉，接到投诉的时间（15:05）晚于现在/);
      expect(await bot.say('zhang', '/投诉 客户=华星科技 时间="2026-11-22 14:00" 客户来电')).toMatch(/^抱歉.*超过一天/);
      expect(await bot.say('zhang', '/投诉 客户=华星科技 时间=明天 客户来电')).toMatch(/^抱歉/);
      expect(await latestId()).toBe(before);
    });

    it('runs at night and on weekends: the escalation is not held for working hours', async () => {
      at('2026-11-28T23:10:00'); // Saturday night
      const c = await log('li', '/投诉 客户=华星科技 负责人=@张工 晚上打电话投诉没人接');
      const t = (await timerOf(c.id, 'complaint.callback'))!;
      await tickAt('2026-11-28T23:30:00');
      await tickAt('2026-11-28T23:40:00');
      expect((await stepRows(t.id)).map((r) => r.dedupeKey!.split(':')[2])).toEqual(['headsup', 'overdue_head']);
    });
  });

  describe('escalation (/上报) and the head’s own 30 minutes', () => {
    it('hands the complaint to the head, who has 30 minutes; closing needs the head’s note', async () => {
      at('2026-11-24T10:00:00');
      const c = await log('li', '/投诉 客户=华星科技 负责人=@张工 级别=A 客户要求退全款');
      at('2026-11-24T10:10:00');
      const r = await bot.say('li', `/上报 ${c.T} 涉及退款，需部门负责人决定`);
      expect(r).toContain('【投诉上报】');
      expect(r).toContain('@刘经理');
      const row = await load(c.id);
      expect(row.ownerId).toBe((await db().select().from(people).where(eq(people.userid, 'liu')))[0]!.id);
      expect((await timerOf(c.id, 'complaint.callback'))!.state).toBe('done');
      const act = (await timerOf(c.id, 'complaint.head-act'))!;
      expect(act.dueAt.toISOString()).toBe(new Date('2026-11-24T10:40:00+08:00').toISOString());
      expect(await bot.say('li', `/上报 ${c.T} 再报一次`)).toMatch(/^抱歉|已在/);
      await tickAt('2026-11-24T10:40:00');
      const sent = await stepRows(act.id);
      expect(sent.at(-1)!.dedupeKey).toBe(`timer:${act.id}:overdue_management`);
      expect(sent.at(-1)!.payload.mentions).toEqual(expect.arrayContaining(['boss', 'liu']));
      expect(await bot.say('liu', `/结案 ${c.T} 已退款`)).toContain('/处理');
      expect(await bot.say('liu', `/处理 ${c.T} 同意退一半费用，由赵工接手`)).toContain('已登记');
      expect(await bot.say('liu', `/结案 ${c.T} 已退一半费用，客户接受`)).toContain('已结案');
      const kinds = (await timeline(c.id)).map((e) => e.kind);
      expect(kinds).toEqual(expect.arrayContaining(['received', 'notified', 'escalated', 'handover', 'breach', 'handled', 'closed']));
    });
  });

  describe('routes', () => {
    it('phone: closing is refused until the callback and a confirmed level are recorded', async () => {
      at('2026-11-25T10:00:00');
      const c = await log('zhao', '/投诉 客户=华星科技 负责人=@张工 渠道=电话 没及时接电话');
      expect((await load(c.id)).channel).toBe('phone');
      expect((await load(c.id)).firstResponderId).toBe((await db().select().from(people).where(eq(people.userid, 'zhao')))[0]!.id);
      const refused = await bot.say('li', `/结案 ${c.T} 好了`);
      expect(refused).toContain('暂时不能结案');
      expect(refused).toContain('/回电');
      expect(refused).toContain('/定级');
      expect(await bot.say('li', `/回电 ${c.T} 已回电致歉`)).toContain('已登记');
      expect(await bot.say('li', `/结案 ${c.T} 好了`)).toContain('/定级');
      // 华星科技 has complained to 专利部 before this year: the rules propose B (审计 3.2: 2 次以上).
      expect((await load(c.id)).proposedLevel).toBe('B');
      expect(await bot.say('li', `/定级 ${c.T} A`)).toContain('请写明原因');
      expect(await bot.say('li', `/定级 ${c.T} A 个别偶发，影响较小`)).toContain('定为 A 级');
      expect(await bot.say('li', `/结案 ${c.T} 客户满意`)).toContain('已结案');
      expect(await bot.say('li', `/回电 ${c.T} 再回一次`)).toMatch(/^抱歉|已经结案/);
    });

    it('业务部: the head is @-mentioned and calls back; the salesperson is told the result, reminded until /告知业务员', async () => {
      at('2026-11-25T11:00:00');
      const c = await log('wang', '/投诉 客户=华星科技 负责人=@张工 客户向我反映进度太慢', { group: 'wang-private' });
      const row = await load(c.id);
      expect(row.channel).toBe('sales');
      const [notice] = await db().select().from(outbox).where(like(outbox.dedupeKey, `complaint:${c.id}:received:%`));
      expect(notice!.conversationId).toBe('demo-internal');
      expect(notice!.payload.mentions).toEqual(expect.arrayContaining(['zhang', 'li', 'liu']));
      expect(notice!.payload.text).toContain('4.3.4');
      expect(c.reply).toContain('您是首问负责人');
      const cb = (await timerOf(c.id, 'complaint.callback-head'))!;
      at('2026-11-25T11:25:00');
      expect(await bot.say('liu', `/回电 ${c.T} 已向业务部了解情况并回电客户`)).toContain('开始计时：把投诉处理结果告知业务员');
      expect((await db().select().from(timers).where(eq(timers.id, cb.id)))[0]!.state).toBe('done');
      const tell = (await timerOf(c.id, 'complaint.tell-sales'))!;
      await tickAt('2026-11-26T11:25:00'); // one working day later
      const reminders = await stepRows(tell.id);
      expect(reminders.map((r) => r.dedupeKey!.split(':')[2])).toEqual(['due']);
      expect(reminders[0]!.payload.mentions).toEqual(['liu']);
      expect(reminders[0]!.conversationId).toBe('demo-internal');
      const told = await bot.say('liu', `/告知业务员 ${c.T} 已电话告知`);
      expect(told).toContain('@王业务');
      expect((await db().select().from(timers).where(eq(timers.id, tell.id)))[0]!.state).toBe('done');

      // Closing without /告知业务员 tells the salesperson in the closing message.
      at('2026-11-26T14:00:00');
      const d = await log('wang', '/投诉 客户=华星科技 负责人=@张工 级别=A 客户又来反映');
      await bot.say('liu', `/回电 ${d.T} 已回电`);
      await bot.say('liu', `/定级 ${d.T} A`);
      const closed = await bot.say('liu', `/结案 ${d.T} 已解决`);
      expect(closed).toContain('@王业务');
      expect((await load(d.id)).salesInformedAt).not.toBeNull();
      expect((await timerOf(d.id, 'complaint.tell-sales'))!.state).toBe('done');
    });

    it('boss: management is told, and after closure a report is due from the head, reminded until /报告', async () => {
      at('2026-11-30T10:00:00');
      const c = await log('boss', '/投诉 客户=华星科技 负责人=@张工 客户直接打给我，说材料一直没人要');
      const row = await load(c.id);
      expect(row.channel).toBe('boss');
      expect(row.proposedLevel).toBe('C');
      expect(row.level).toBeNull();
      expect(await bot.say('liu', `/报告 ${c.T} 报告链接`)).toContain('还没有结案');
      await bot.say('liu', `/回电 ${c.T} 已回访客户并致歉`);
      expect(await bot.say('liu', `/定级 ${c.T}`)).toContain('C 级');
      expect((await timerOf(c.id, 'complaint.same-day'))!.dueAt.toISOString()).toBe(new Date('2026-11-30T18:00:00+08:00').toISOString());
      const closed = await bot.say('liu', `/结案 ${c.T} 已安排赵工跟进，客户认可`);
      expect(closed).toContain('/报告');
      expect(closed).toContain('@王业务');
      const report = (await timerOf(c.id, 'complaint.boss-report'))!;
      expect(report.state).toBe('running');
      await tickAt('2026-12-01T14:30:00'); // heads-up half a working day before
      await tickAt('2026-12-02T10:00:00'); // due after 2 working days
      const sent = await stepRows(report.id);
      expect(sent.map((r) => r.dedupeKey!.split(':')[2])).toEqual(['headsup', 'due']);
      expect(sent.every((r) => r.payload.mentions.includes('liu') && r.conversationId === 'demo-internal')).toBe(true);
      expect(await bot.say('zhang', `/报告 ${c.T} x`)).toMatch(REFUSED);
      const r = await bot.say('liu', `/报告 ${c.T} https://pan.example.com/T${c.id}`);
      expect(r).toContain('@陈总');
      expect(r).toContain('@王业务');
      const toMgmt = await db().select().from(outbox).where(like(outbox.dedupeKey, `complaint:${c.id}:report:%`));
      expect(toMgmt.map((x) => x.conversationId)).toEqual(['demo-mgmt']);
      expect((await db().select().from(timers).where(eq(timers.id, report.id)))[0]!.state).toBe('done');
      await tickAt('2026-12-10T10:00:00');
      expect(await stepRows(report.id)).toHaveLength(2);
    });

    it('4.3.4 serious via 业务部: the head is asked to visit the client, reminded until /拜访', async () => {
      at('2026-11-30T11:00:00');
      const c = await log('wang', '/投诉 客户=华星科技 负责人=@张工 渠道=业务部 客户说要曝光我们', { group: 'wang-private' });
      const r = await bot.say('liu', `/定级 ${c.T} C 影响声誉`);
      expect(r).toContain('亲自上门拜访');
      expect(r).toContain('@刘经理');
      const visit = (await timerOf(c.id, 'complaint.visit'))!;
      expect(visit.state).toBe('running');
      expect(await bot.say('liu', `/拜访 ${c.T} 已上门致歉`)).toContain('已完成');
      expect((await db().select().from(timers).where(eq(timers.id, visit.id)))[0]!.state).toBe('done');
    });

    it('chat relay: the quoted client message becomes the content, client and order come from the group binding', async () => {
      at('2026-12-01T10:00:00');
      const o = await bot.say('wang', '/单 新建 客户=华星科技 类型=专利 业务员=wang');
      const code = /D\d+/.exec(o)![0];
      await bot.say('liu', `/派单 ${code} zhang`);
      expect(await bot.say('zhang', `/绑定 ${code}`, { group: 'demo-client' })).toContain('已绑定');
      const ack = await bot.say('zhang', '/投诉', { group: 'demo-client', quote: '你们的报告错了三处，太不专业了' });
      expect(ack).toContain('非常抱歉');
      expect(ack).toContain('感谢');
      expect(ack).not.toMatch(/T\d|张工|李主管|刘经理|主管|超时/);
      const id = await latestId();
      const row = await load(id);
      expect(row.content).toBe('你们的报告错了三处，太不专业了');
      expect(row.channel).toBe('chat');
      expect(row.orderIds[0]).toBe(Number(code.slice(1)));
      expect(row.handlerId).toBe((await db().select().from(people).where(eq(people.userid, 'zhang')))[0]!.id);
      expect(row.sourceConversationId).toBe('demo-client');
      const [notice] = await db().select().from(outbox).where(like(outbox.dedupeKey, `complaint:${id}:received:%`));
      expect(notice!.conversationId).toBe('demo-internal');
      expect(notice!.payload.text).toContain('你们的报告错了三处');
      expect(notice!.payload.text).toContain(code);
      expect((await timerOf(id, 'complaint.callback'))!.state).toBe('running');

      // No quote: the client's most recent message in that group.
      await bot.say('kehu', '我们的证书到底什么时候能拿到？', { group: 'demo-client' });
      await bot.say('zhang', '/投诉', { group: 'demo-client' });
      expect((await load(await latestId())).content).toBe('我们的证书到底什么时候能拿到？');
    });
  });

  describe('levels A–D', () => {
    it('A: handled by the handler — the handler may close it', async () => {
      at('2026-12-02T10:00:00');
      const c = await log('li', '/投诉 客户=华星科技 负责人=@张工 级别=A 回复慢');
      expect((await load(c.id)).level).toBe('A');
      await bot.say('zhang', `/回电 ${c.T} 已回电`);
      expect(await bot.say('zhang', `/结案 ${c.T} 已解决`)).toContain('已结案');
    });

    it('B: opened as a case owned by the department head, who alone closes it; a level the handler gives is only a proposal', async () => {
      at('2026-12-02T11:00:00');
      const c = await log('zhang', '/投诉 客户=华星科技 负责人=@张工 级别=B 客户不满意进度');
      expect((await load(c.id)).level).toBeNull();
      expect((await load(c.id)).proposedLevel).toBe('B');
      expect(await bot.say('zhang', `/定级 ${c.T} B`)).toMatch(REFUSED);
      const r = await bot.say('li', `/定级 ${c.T}`);
      expect(r).toContain('已立项');
      expect(r).toContain('@刘经理');
      expect((await load(c.id)).ownerId).toBe((await db().select().from(people).where(eq(people.userid, 'liu')))[0]!.id);
      await bot.say('li', `/回电 ${c.T} 已回电`);
      expect(await bot.say('zhang', `/结案 ${c.T} 好了`)).toContain('需由部门负责人结案');
      expect(await bot.say('liu', `/结案 ${c.T} 好了`)).toContain('已结案');
    });

    it('C: handled the same day — the clock ends with the working day and goes to 总经办 when missed; lowering the level stops it', async () => {
      at('2026-12-03T10:00:00');
      const c = await log('li', '/投诉 客户=华星科技 负责人=@张工 级别=C 客户在行业群里公开批评我们');
      const t = (await timerOf(c.id, 'complaint.same-day'))!;
      expect(t.dueAt.toISOString()).toBe(new Date('2026-12-03T18:00:00+08:00').toISOString());
      await tickAt('2026-12-03T18:00:00');
      const sent = await stepRows(t.id);
      expect(sent.at(-1)!.payload.mentions).toEqual(expect.arrayContaining(['boss']));
      const d = await log('li', '/投诉 客户=华星科技 负责人=@张工 级别=C 又公开批评');
      expect(await bot.say('liu', `/定级 ${d.T} A`)).toContain('原因');
      const lowered = await bot.say('liu', `/定级 ${d.T} A 核实后只是一次沟通误会`);
      expect(lowered).toContain('由 C 级调整为 A 级');
      expect(lowered).toContain('已停止：重大、严重投诉当天处理完毕');
      expect((await db().select().from(timers).where(and(eq(timers.subject, `complaint:${d.id}`), eq(timers.ruleId, 'complaint.same-day'))))[0]!.state).toBe('cancelled');
    });

    it('D: a special case owned by the head, notified to 总经办 in its own group', async () => {
      at('2026-12-04T10:00:00');
      const c = await log('li', '/投诉 客户=华星科技 负责人=@张工 专利被驳回，客户说造成重大损失要求赔偿');
      expect((await load(c.id)).proposedLevel).toBe('D');
      const r = await bot.say('liu', `/定级 ${c.T}`);
      expect(r).toContain('专案');
      expect(r).toContain('@陈总');
      const [toMgmt] = await db().select().from(outbox).where(like(outbox.dedupeKey, `complaint:${c.id}:level-d:%`));
      expect(toMgmt!.conversationId).toBe('demo-mgmt');
      expect(toMgmt!.payload.mentions).toEqual(['boss']);
      expect((await load(c.id)).ownerId).toBe((await db().select().from(people).where(eq(people.userid, 'liu')))[0]!.id);
    });

    it('a level change is recorded with who and why, and shown in the timeline', async () => {
      at('2026-12-04T11:00:00');
      const c = await log('li', '/投诉 客户=华星科技 负责人=@张工 级别=B 第二次投诉');
      expect(await bot.say('liu', `/定级 ${c.T} B 再定一次`)).toContain('已经是 B 级');
      expect(await bot.say('liu', `/定级 ${c.T} C`)).toContain('需要写明原因');
      expect(await bot.say('liu', `/定级 ${c.T} C 客户已在网上发帖`)).toContain('由 B 级调整为 C 级');
      const [change] = (await timeline(c.id)).filter((e) => e.kind === 'level' && e.data.from === 'B');
      expect(change!.data).toMatchObject({ from: 'B', to: 'C', reason: '客户已在网上发帖' });
      expect(change!.actorId).toBe((await db().select().from(people).where(eq(people.userid, 'liu')))[0]!.id);
      expect(await bot.say('zhang', `/查 ${c.T}`)).toContain('刘经理 定级：由 B 级改为 C 级（重大）：客户已在网上发帖');
    });
  });

  describe('handler clauses', () => {
    it('4.3.1 unhappy with the handler: the supervisor explains within 2 working days; closing waits for it', async () => {
      at('2026-12-04T16:00:00'); // Friday
      const c = await log('li', '/投诉 客户=华星科技 负责人=@张工 级别=A 不满意 对张工的服务不满意');
      const t = (await timerOf(c.id, 'complaint.explain'))!;
      expect(t.dueAt.toISOString()).toBe(new Date('2026-12-08T16:00:00+08:00').toISOString()); // Tuesday
      await bot.say('li', `/回电 ${c.T} 已回电`);
      expect(await bot.say('li', `/结案 ${c.T} 好了`)).toContain('4.3.1');
      await tickAt('2026-12-08T11:30:00');
      await tickAt('2026-12-08T16:00:00');
      const sent = await stepRows(t.id);
      expect(sent.map((r) => r.dedupeKey!.split(':')[2])).toEqual(['headsup', 'due']);
      expect(sent[1]!.payload.mentions).toEqual(['li']);
      expect(await bot.say('zhang', `/解释 ${c.T} 我解释了`)).toMatch(REFUSED);
      expect(await bot.say('li', `/解释 ${c.T} 已说明延误原因并致歉`)).toContain('已完成');
      expect(await bot.say('li', `/结案 ${c.T} 客户接受`)).toContain('已结案');
    });

    it('4.3.2 another handler: the head decides (a supervisor proposes); /换人 moves the related orders at once, recorded on both', async () => {
      at('2026-12-07T10:00:00');
      const o = await bot.say('wang', '/单 新建 客户=换人客户 类型=专利 业务员=wang');
      const code = /D\d+/.exec(o)![0];
      await bot.say('liu', `/派单 ${code} zhang`);
      const c = await log('li', `/投诉 客户=换人客户 单=${code} 客户要求换负责人`);
      expect(await bot.say('zhang', `/换人 ${c.T} @赵工`)).toMatch(REFUSED);
      expect(await bot.say('li', `/换人 ${c.T} @赵工 客户要求更换`)).toContain(`/换人 ${c.T} 确认`);
      const r = await bot.say('liu', `/换人 ${c.T} 确认`);
      expect(r).toContain('部门负责人 刘经理 决定');
      expect(r).toContain(code);
      const [order] = await db().select().from(orders).where(eq(orders.id, Number(code.slice(1))));
      expect(order!.handlerId).toBe((await db().select().from(people).where(eq(people.userid, 'zhao')))[0]!.id);
      expect(order!.transferToId).toBeNull();
      const evs = await db().select().from(orderEvents).where(eq(orderEvents.orderId, order!.id));
      expect(evs.map((e) => e.kind)).toContain('complaint_handover');
      expect(await bot.say('zhao', `/查 ${code}`)).toContain('投诉换人');
      expect((await timeline(c.id)).map((e) => e.kind)).toContain('replaced');
      expect(await bot.say('li', `/查 ${c.T}`)).toContain('已换为 赵工');
    });

    it('4.4.1 attitude: closing with 原因=态度 requires a 检讨书 from the handler, reminded until filed', async () => {
      at('2026-12-07T11:00:00');
      const c = await log('li', '/投诉 客户=华星科技 负责人=@张工 级别=A 张工电话里态度很差');
      await bot.say('li', `/回电 ${c.T} 已致歉`);
      expect(await bot.say('zhang', `/检讨书 ${c.T} 提前交`)).toContain('不需要检讨书');
      const closed = await bot.say('li', `/结案 ${c.T} 原因=态度 已致歉，客户接受`);
      expect(closed).toContain('@张工');
      expect(closed).toContain('/检讨书');
      const t = (await timerOf(c.id, 'complaint.self-review'))!;
      await tickAt('2026-12-09T11:00:00');
      const sent = await stepRows(t.id);
      expect(sent.at(-1)!.payload.mentions).toEqual(['zhang']);
      expect(await bot.say('zhao', `/检讨书 ${c.T} 代交`)).toMatch(REFUSED);
      expect(await bot.say('zhang', `/检讨书 ${c.T} 已写检讨书，今后两小时内回复客户`)).toContain('建档');
      expect((await db().select().from(timers).where(eq(timers.id, t.id)))[0]!.state).toBe('done');
      await tickAt('2026-12-20T11:00:00');
      expect((await stepRows(t.id)).length).toBe(sent.length);
    });

    it('4.4.2 gifted service: official fees split 3:4:3 to the fen and shown on the complaint (项目部: the head bears it)', async () => {
      at('2026-12-08T10:00:00');
      const c = await log('li', '/投诉 客户=华星科技 负责人=@张工 级别=A 漏缴年费导致专利失效');
      expect(await bot.say('li', `/赠送 ${c.T} 官费=850 补办`)).toMatch(REFUSED);
      expect(await bot.say('liu', `/赠送 ${c.T} 官费=abc 补办`)).toContain('不是有效金额');
      const r = await bot.say('liu', `/赠送 ${c.T} 官费=0.05 过失人=@张工 免费办理恢复手续`);
      expect(r).toContain('张工：0.02 元');
      expect(r).toContain('李主管：0.02 元');
      expect(r).toContain('刘经理：0.01 元');
      expect(r).toContain('不提取提成');
      const row = await load(c.id);
      expect(row.giftFeeFen).toBe(5);
      expect(row.giftShares!.map((s) => s.fen)).toEqual([2, 2, 1]);
      expect(await bot.say('zhang', `/查 ${c.T}`)).toContain('官费 0.05 元：张工 0.02 元、李主管 0.02 元、刘经理 0.01 元');

      const p = await log('qian', '/投诉 客户=项目客户 部门=项目部 负责人=@冯工 级别=A 申报材料漏交');
      const pr = await bot.say('qian', `/赠送 ${p.T} 官费=850.50 免费代办一次`);
      expect(pr).toContain('0:0:1');
      expect(pr).toContain('部门负责人 钱经理：850.50 元');
    });
  });

  describe('views and the year’s rate', () => {
    it('4.4.3: complaints over 10% of the clients served are a matter for the year-end review, not an alert at intake', async () => {
      at('2026-12-09T10:00:00');
      const [sales] = await db().select().from(people).where(eq(people.userid, 'wang'));
      const ids: number[] = [];
      for (let i = 0; i < 20; i++) {
        const [cl] = await db().insert(clients).values({ name: `软件客户${i}`, salespersonId: sales!.id }).returning();
        await db().insert(orders).values({ clientId: cl!.id, serviceType: '软件', departmentId: deptId['软件部'], status: 'assigned', createdAt: clock(), updatedAt: clock() });
        ids.push(cl!.id);
      }
      const rateNotices = () => db().select().from(outbox).where(like(outbox.dedupeKey, `notice:complaint-rate:${deptId['软件部']}:2026:%`));
      await log('sun', '/投诉 客户=软件客户0 负责人=@周工 回复慢');
      await log('sun', '/投诉 客户=软件客户1 负责人=@周工 回复慢');
      expect(await rateNotices()).toHaveLength(0); // 2/20 = 10%: not above
      await log('sun', '/投诉 客户=软件客户2 负责人=@周工 回复慢');
      // 3/20 = 15%: over, but this year's review (first working day of December) has passed; no alert at intake.
      expect(await rateNotices()).toHaveLength(0);
      const rate = await bot.say('sun', '/投诉率');
      expect(rate).toContain('软件部 3/20 = 15.0%（超过 10%，需年终总结检讨）');
      expect(rate).toContain('年终检讨已于 12月1日');
      await log('sun', '/投诉 客户=软件客户3 负责人=@周工 回复慢');
      expect(await rateNotices()).toHaveLength(0);
      expect(await bot.say('sun', '/投诉 列表')).toContain('软件部 4/20 = 20.0%');
    });

    it('/投诉 列表 [部门] [未结] lists complaints; /查 shows the whole timeline', async () => {
      const all = await bot.say('liu', '/投诉 列表');
      const open = await bot.say('liu', '/投诉 列表 专利部 未结');
      expect(all).toContain('已结案');
      expect(open).not.toContain('已结案');
      expect(open).toContain('待回电');
      expect(await bot.say('liu', '/投诉 列表 不存在部')).toMatch(REFUSED);
      const [closed] = await db().select().from(complaints).where(and(eq(complaints.status, 'closed'), sql`${complaints.callbackAt} is not null`)).orderBy(asc(complaints.id)).limit(1);
      const first = await bot.say('zhang', `/查 T${closed!.id}`);
      for (const w of ['接到投诉', '通知', '回电', '定级', '结案']) expect(first).toContain(w);
      const esc = (await db().select().from(complaintEvents).where(eq(complaintEvents.kind, 'escalated')))[0]!;
      const shown = await bot.say('liu', `/查 T${esc.complaintId}`);
      for (const w of ['上报部门负责人', '移交', '超时', '处理意见', '结案']) expect(shown).toContain(w);
      expect(await bot.say('liu', '/查 T99999')).toContain('没有找到投诉 T99999');
    });

    it('5.4.3: an open complaint comes up at the weekly department meeting until it is closed', async () => {
      at('2026-12-10T10:00:00'); // Thursday
      const c = await log('li', '/投诉 客户=华星科技 负责人=@张工 级别=A 一直没人跟进');
      const t = (await timerOf(c.id, 'complaint.weekly-review'))!;
      expect(t.dueAt.toISOString()).toBe(new Date('2026-12-14T09:00:00+08:00').toISOString());
      await tickAt('2026-12-14T09:00:00');
      const sent = await stepRows(t.id);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.payload.text).toContain('部门会议');
      expect(sent[0]!.payload.mentions).toEqual(['liu']);
      const next = (await db().select().from(timers).where(and(eq(timers.subject, `complaint:${c.id}`), eq(timers.ruleId, 'complaint.weekly-review'), eq(timers.state, 'running'))))[0]!;
      expect(next.dueAt.toISOString()).toBe(new Date('2026-12-21T09:00:00+08:00').toISOString());
      await bot.say('li', `/回电 ${c.T} 已回电`);
      expect(await bot.say('li', `/结案 ${c.T} 好了`)).toContain('已停止：部门周会回顾');
      await tickAt('2026-12-21T09:00:00');
      expect(await stepRows(next.id)).toHaveLength(0);
    });
  });

  describe('permissions: clients see nothing', () => {
    const commands = (T: string) => [
      `/投诉 客户=华星科技 你们太慢`,
      '/投诉 列表',
      `/回电 ${T} 好`,
      `/上报 ${T} 不行`,
      `/处理 ${T} 好`,
      `/定级 ${T} A`,
      `/解释 ${T} 好`,
      `/换人 ${T} @赵工`,
      `/告知业务员 ${T}`,
      `/报告 ${T} 好`,
      `/检讨书 ${T} 好`,
      `/结案 ${T} 好`,
      `/赠送 ${T} 官费=1 好`,
      `/查 ${T}`,
      `/complain list`,
      `/callback ${T} ok`,
    ];

    it('a client in a client group can run none of the complaint commands', async () => {
      const before = await latestId();
      for (const cmd of commands(`T${before}`)) {
        const r = await bot.say('kehu', cmd, { group: 'demo-client' });
        // `/投诉 …` from a client is the client's own words: acknowledged politely (and triaged), never refused or run.
        if (/^\/(投诉 |complain )/.test(cmd)) expect(r, cmd).toContain('非常抱歉给您带来了不好的体验');
        else expect(r, cmd).toMatch(CLIENT_REFUSAL);
        expect(r).not.toMatch(/T\d/);
      }
      expect(await latestId()).toBe(before);
      expect(await bot.say('kehu', '/帮助', { group: 'demo-client' })).not.toContain('投诉');
    });

    it('staff in a client group can relay a complaint but not see one', async () => {
      const id = await latestId();
      for (const cmd of [`/查 T${id}`, '/投诉 列表', `/回电 T${id} 好`, `/结案 T${id} 好`]) {
        expect(await bot.say('li', cmd, { group: 'demo-client' }), cmd).toContain('不能在客户群里使用');
      }
    });

    it('no complaint notice or reminder ever went to a client group', async () => {
      const inClient = await db()
        .select()
        .from(outbox)
        .where(and(eq(outbox.conversationId, 'demo-client'), sql`(${outbox.dedupeKey} like 'timer:%' or ${outbox.dedupeKey} like 'complaint:%' or ${outbox.dedupeKey} like 'notice:%')`));
      expect(inClient).toHaveLength(0);
      const complaintTimers = await db().select({ id: timers.id }).from(timers).where(like(timers.subject, 'complaint:%'));
      expect(complaintTimers.length).toBeGreaterThan(10);
      const reminders = await db().select().from(outbox).where(like(outbox.dedupeKey, 'timer:%'));
      const ids = new Set(complaintTimers.map((t) => t.id));
      const complaintReminders = reminders.filter((r) => ids.has(Number(r.dedupeKey!.split(':')[1])));
      expect(complaintReminders.length).toBeGreaterThan(10);
      const internal = await db().select().from(groups).where(eq(groups.kind, 'internal'));
      const internalIds = new Set(internal.map((g) => g.conversationId));
      for (const r of complaintReminders) expect(internalIds.has(r.conversationId), r.dedupeKey!).toBe(true);
      // Every client-group reply to a relayed complaint is the plain acknowledgement.
      const clientReplies = await db().select().from(outbox).where(eq(outbox.conversationId, 'demo-client'));
      for (const r of clientReplies) expect(r.payload.text).not.toMatch(/T\d+｜|被投诉|回电期限/);
    });
  });

  it('every complaint rule in the playbook was exercised through the database', async () => {
    const used = await db().selectDistinct({ ruleId: timers.ruleId }).from(timers).where(like(timers.subject, 'complaint:%'));
    expect(used.map((u) => u.ruleId).sort()).toEqual(complaintPlaybook.rules.map((r) => r.id).sort());
  });
});
