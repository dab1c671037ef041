import { and, asc, desc, eq, inArray, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboxWorker, INTERNAL_REFUSED } from '../../src/core/outbox-worker';
import type { Database } from '../../src/db/client';
import { clients, complaintEvents, complaints, departments, groups, orders, outbox, timers } from '../../src/db/schema';
import { sandboxSender } from '../../src/platforms/sandbox/sandbox-router';
import { demoBot, fakeClock, REFUSED, silentLog } from '../helpers/bot';
import { drivers } from '../helpers/databases';

/**
 * Issue 8 "what the bot says must be true": routing of department notices (defects 1, 0c), client-group
 * safety (0, 0b). Each reply that names a group or recipients is compared with the stored rows.
 */
describe.each(drivers)('issue 8 routing and client-group safety on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  const clock = fakeClock('2026-11-23T02:00:00Z'); // Monday 10:00 in Shanghai
  const db = () => database.db;
  const dept: Record<string, number> = {};

  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { clock, admins: ['root'] });
    for (const d of await db().select().from(departments)) dept[d.name] = d.id;
  });
  afterAll(async () => database?.close());

  const at = (local: string) => clock.set(new Date(`${local}+08:00`).toISOString());
  const tickAt = async (local: string) => {
    at(local);
    await bot.scheduler.tick();
  };
  const group = async (conversationId: string) => (await db().select().from(groups).where(eq(groups.conversationId, conversationId)))[0]!;
  const latestComplaint = async () => (await db().select().from(complaints).orderBy(desc(complaints.id)).limit(1))[0]!;
  const latestOrder = async () => (await db().select().from(orders).orderBy(desc(orders.id)).limit(1))[0]!;
  const timerRows = async (subject: string) => db().select().from(timers).where(eq(timers.subject, subject)).orderBy(asc(timers.id));
  const stepRows = async (timerId: number) => db().select().from(outbox).where(like(outbox.dedupeKey, `timer:${timerId}:%`)).orderBy(asc(outbox.id));
  async function ok(from: string, text: string, o: Parameters<typeof bot.say>[2] = {}) {
    const reply = await bot.say(from, text, o);
    expect(reply, reply).not.toMatch(REFUSED);
    return reply;
  }

  describe('defect 1: /部门群 moves every notice of the department', () => {
    it('issue 8 defect 1: the group last set by /部门群 gets the complaint notice, its 20-minute reminder and 30-minute escalation; the old group is told; /部门 列表 shows it', async () => {
      at('2026-11-23T10:00:00');
      // The demo's 专利部 already has 「专利部内部群」 (demo-internal); 刘经理 sets a new group.
      const moved = await ok('liu', '/部门群 专利部', { group: 'patent-new' });
      expect(moved).toContain('本群已设为「专利部」的部门群');
      expect(moved).toContain('原部门群「专利部内部群」已收到通知');
      expect((await group('patent-new')).departmentId).toBe(dept['专利部']);
      expect((await group('demo-internal')).departmentId).toBeNull();
      const told = await db().select().from(outbox).where(and(eq(outbox.conversationId, 'demo-internal'), like(outbox.dedupeKey, 'notice:department-group-moved:%')));
      expect(told).toHaveLength(1);
      expect(told[0]!.payload.text).toContain('本群不再是「专利部」的部门群');
      expect(told[0]!.payload.text).toContain('「patent-new」');

      // /部门 列表 names the group the notices are routed by (the stored row).
      const list = await ok('liu', '/部门 列表', { group: 'patent-new' });
      const stored = await group('patent-new');
      expect(list).toContain(`· 专利部：专利、集成电路布图、专利流程事务｜部门群「${stored.title ?? stored.conversationId}」`);
      expect(list).toMatch(/· 软件部：软件、商标｜部门群未设置/);

      // A complaint logged in the old group: the notice, the reminder and the escalation go to the new group.
      const reply = await ok('li', '/投诉 客户=华星科技 负责人=@张工 客户说一周没人回复', { group: 'demo-internal' });
      const c = await latestComplaint();
      const notice = await db().select().from(outbox).where(like(outbox.dedupeKey, `complaint:${c.id}:received:%`));
      expect(notice).toHaveLength(1);
      expect(notice[0]!.conversationId).toBe('patent-new');
      // The reply names the same group and the same people as the stored notice.
      expect(reply).toContain('已在「patent-new」通知 张工、李主管');
      expect(notice[0]!.payload.mentions).toEqual(['zhang', 'li']);
      const [t] = (await timerRows(`complaint:${c.id}`)).filter((r) => r.ruleId === 'complaint.callback');
      await tickAt('2026-11-23T10:20:00');
      await tickAt('2026-11-23T10:30:00');
      const steps = await stepRows(t!.id);
      expect(steps.map((r) => r.dedupeKey!.split(':')[2])).toEqual(['headsup', 'overdue_head']);
      expect(steps.map((r) => r.conversationId)).toEqual(['patent-new', 'patent-new']);
      expect(steps[1]!.payload.mentions).toContain('liu');
      // The timeline names where each reminder went, from the same route.
      const reminders = (await db().select().from(complaintEvents).where(eq(complaintEvents.complaintId, c.id))).filter((e) => e.kind === 'reminder');
      expect(reminders).toHaveLength(2);
      for (const r of reminders) expect(r.note).toContain('发到「patent-new」');
    });

    it('issue 8 defect 1: setting the same group again changes nothing; a client group is never a 部门群 and turning one client drops it', async () => {
      at('2026-11-23T11:00:00');
      expect(await ok('liu', '/部门群 专利部', { group: 'patent-new' })).toContain('本群已经是「专利部」的部门群');
      expect(await bot.say('liu', '/部门群 专利部', { group: 'demo-client' })).toContain('客户群不能设为部门群');
      await ok('sun', '/部门群 软件部', { group: 'sw-temp' });
      const r = await ok('sun', '/群 类型=客户', { group: 'sw-temp' });
      expect(r).toContain('本群不再是「软件部」的部门群');
      expect((await group('sw-temp')).departmentId).toBeNull();
    });
  });

  describe('defect 0c: notices of a department without a group never vanish', () => {
    it('issue 8 defect 0c: with no 部门群 and no 总经办 group, a complaint from the client group is held as unrouted, listed by /发送失败 全部, recorded as not sent, and delivered when /部门群 is set', async () => {
      at('2026-11-24T10:00:00');
      const reply = await ok('wang', '/投诉 部门=软件部 报告一直没人跟进', { group: 'demo-client', quote: '你们的报告一直没人跟进' });
      const c = await latestComplaint();
      expect(c.departmentId).toBe(dept['软件部']);
      expect(reply).toContain("已登记为「华星科技」的投诉");
      const held = await db().select().from(outbox).where(like(outbox.dedupeKey, `complaint:${c.id}:received:%`));
      expect(held).toHaveLength(1);
      expect(held[0]!.status).toBe('unrouted');
      expect(held[0]!.departmentId).toBe(dept['软件部']);
      const [t] = (await timerRows(`complaint:${c.id}`)).filter((r) => r.ruleId === 'complaint.callback');
      await tickAt('2026-11-24T10:20:00');
      await tickAt('2026-11-24T10:30:00');
      const steps = await stepRows(t!.id);
      expect(steps.map((r) => [r.dedupeKey!.split(':')[2], r.status, r.departmentId])).toEqual([
        ['headsup', 'unrouted', dept['软件部']],
        ['overdue_head', 'unrouted', dept['软件部']],
      ]);
      // The timeline says they were not sent (no "提醒" that went nowhere).
      const events = await db().select().from(complaintEvents).where(eq(complaintEvents.complaintId, c.id));
      expect(events.filter((e) => e.kind === 'reminder')).toHaveLength(0);
      expect(events.filter((e) => e.kind === 'reminder_held')).toHaveLength(2);
      expect(events.find((e) => e.kind === 'notified')!.note).toMatch(/^未能通知/);
      const shown = await ok('sun', `/查 T${c.id}`, { group: 'sw-chat' });
      expect(shown).toContain('提醒未发出');
      expect(shown).not.toMatch(/系统 提醒：/);

      const failed = await ok('boss', '/发送失败 全部', { group: 'boss-chat' });
      for (const s of [held[0]!, ...steps]) expect(failed).toContain(`编号 ${s.id}｜`);
      expect(failed).toContain('未发出：软件部还没有部门群');
      expect(await bot.say('boss', `/重发 ${steps[0]!.id}`, { group: 'boss-chat' })).toContain('还没有可发的群');

      // /部门群 软件部 releases them, in order, to the new group.
      const set = await ok('sun', '/部门群 软件部', { group: 'sw-home' });
      expect(set).toContain('此前因没有部门群而未能发出的 3 条通知，现在发到本群');
      const after = await db().select().from(outbox).where(inArray(outbox.id, [held[0]!.id, ...steps.map((s) => s.id)])).orderBy(asc(outbox.id));
      expect(after.map((r) => [r.status, r.conversationId])).toEqual([
        ['pending', 'sw-home'],
        ['pending', 'sw-home'],
        ['pending', 'sw-home'],
      ]);
      const worker = createOutboxWorker({ db: db(), senders: [sandboxSender], log: silentLog, clock });
      await worker.drain();
      const sent = await db().select().from(outbox).where(inArray(outbox.id, after.map((r) => r.id)));
      expect(sent.every((r) => r.status === 'sent')).toBe(true);
    });

    it('issue 8 defect 0c: a complaint logged in an internal group of a department without a 部门群 is noticed there, and its reminders follow', async () => {
      at('2026-11-25T10:00:00');
      const reply = await ok('wu', '/投诉 客户=华星科技 部门=审计部 负责人=@郑审计 客户说报告有错', { group: 'audit-chat' });
      const c = await latestComplaint();
      // The notice is the reply in this group, saying why it came here.
      expect(reply).toContain(`【客户投诉】T${c.id}`);
      expect(reply).toContain('审计部还没有部门群，此通知先发到这里');
      const [t] = (await timerRows(`complaint:${c.id}`)).filter((r) => r.ruleId === 'complaint.callback');
      await tickAt('2026-11-25T10:20:00');
      const steps = await stepRows(t!.id);
      expect(steps.map((r) => [r.status, r.conversationId])).toEqual([['pending', 'audit-chat']]);
      expect(steps[0]!.payload.text).toContain('审计部还没有部门群');
      const reminder = (await db().select().from(complaintEvents).where(eq(complaintEvents.complaintId, c.id))).find((e) => e.kind === 'reminder');
      expect(reminder!.note).toContain('发到「audit-chat」（本部门还没有部门群）');
    });

    it('issue 8 defect 0c: with a 总经办 group set, a department without a group is routed there — complaints from a client group and order reminders alike (order clocks too)', async () => {
      at('2026-11-26T10:00:00');
      await ok('boss', '/部门群 总经办', { group: 'mgmt-home' });
      await ok('wang', '/投诉 部门=项目部 材料一直没人要', { group: 'demo-client', quote: '材料一直没人要' });
      const c = await latestComplaint();
      const notice = await db().select().from(outbox).where(like(outbox.dedupeKey, `complaint:${c.id}:received:%`));
      expect(notice.map((r) => [r.status, r.conversationId])).toEqual([['pending', 'mgmt-home']]);
      expect(notice[0]!.payload.text).toContain('项目部还没有部门群');

      // An order of 项目部 (no group): its reminders go to 总经办's group too, never nowhere.
      await ok('wang', '/单 新建 客户=华星科技 类型=审计 业务员=@王业务 截止=2026-12-30', { group: 'sales-chat' });
      const o = await latestOrder();
      expect(o.departmentId).toBe(dept['审计部']);
      await tickAt('2026-12-07T10:00:00');
      const orderTimers = await timerRows(`order:${o.id}`);
      const steps = (await Promise.all(orderTimers.map((t) => stepRows(t.id)))).flat();
      expect(steps.length).toBeGreaterThan(0);
      expect(new Set(steps.map((r) => r.conversationId))).toEqual(new Set(['mgmt-home']));
      expect(steps.every((r) => r.payload.text.includes('审计部还没有部门群'))).toBe(true);
    });
  });

  describe('defect 0: a client group never becomes internal in one message', () => {
    it('issue 8 defect 0: /群 类型=内部 in a client group where the client has spoken names the risk and changes nothing until 确认', async () => {
      at('2026-11-27T10:00:00');
      await bot.say('kehu', '请问我们的专利进度怎么样了？', { group: 'demo-client' });
      const warned = await bot.say('li', '/群 类型=内部', { group: 'demo-client' });
      expect(warned).toContain('kehu');
      expect(warned).toContain('本群目前是客户群');
      expect(warned).toContain('/群 类型=内部 确认');
      expect((await group('demo-client')).kind).toBe('client');
      // Still a client group: /查 is refused there.
      expect(await bot.say('li', '/查 D1', { group: 'demo-client' })).toContain('不能在客户群里使用');
      // The same in a group that was never marked client but where a non-staff person has spoken.
      await bot.say('kehu2', '你好，我是客户', { group: 'fresh-with-client' });
      expect(await bot.say('li', '/群 类型=内部', { group: 'fresh-with-client' })).toContain('/群 类型=内部 确认');
      // A group of staff only needs no confirmation.
      expect(await ok('li', '/群 类型=内部', { group: 'staff-only' })).toBe('本群已设为内部群。');
      // Confirmed: done, and the audit trail keeps the risks that were accepted.
      expect(await ok('li', '/群 类型=内部 确认', { group: 'fresh-with-client' })).toContain('已按您的确认把本群设为内部群');
    });

    it('issue 8 defect 0: an internal reply queued while the group was internal is not sent after the group became a client group', async () => {
      at('2026-11-27T11:00:00');
      const worker = createOutboxWorker({ db: db(), senders: [sandboxSender], log: silentLog, clock });
      await worker.drain();
      await ok('wang', '/单 新建 客户=华星科技 类型=专利 业务员=@王业务 截止=2026-12-20', { group: 'flip' });
      const o = await latestOrder();
      await worker.drain();
      const shown = await ok('li', `/查 D${o.id}`, { group: 'flip' });
      expect(shown).toContain(`D${o.id}`);
      await ok('li', '/群 类型=客户', { group: 'flip' });
      await worker.drain();
      const rows = await db().select().from(outbox).where(eq(outbox.conversationId, 'flip')).orderBy(asc(outbox.id));
      const show = rows.find((r) => r.payload.text === shown)!;
      expect(show.payload.internal).toBe(true);
      expect(show.status).toBe('failed');
      expect(show.lastError).toBe(INTERNAL_REFUSED);
      // The replies sent before the change, and the /群 answer itself, went out.
      expect(rows.filter((r) => r.id !== show.id).map((r) => r.status)).toEqual(['sent', 'sent']);
      expect(await ok('boss', '/发送失败 全部', { group: 'boss-chat' })).toContain(`编号 ${show.id}｜`);
    });
  });

  describe('defect 0b: a client group keeps to its client', () => {
    it('issue 8 defect 0b: /绑定 of another client’s order in a client group is refused and names both clients; nothing is stored', async () => {
      at('2026-11-30T10:00:00');
      await ok('wang', '/单 新建 客户=星辰软件 类型=软件 业务员=@王业务 截止=2026-12-20', { group: 'sales-chat' });
      const other = await latestOrder();
      const before = await group('demo-client');
      const r = await bot.say('wang', `/绑定 D${other.id}`, { group: 'demo-client' });
      expect(r).toMatch(/^抱歉，本群是「华星科技」的客户群，D\d+ 是「星辰软件」的分配单，不能绑定到这里/);
      const after = await group('demo-client');
      expect([after.orderId, after.clientId]).toEqual([before.orderId, before.clientId]);
    });

    it('issue 8 defect 0b: a complaint quoted in a client group takes the group’s client, even if the group was bound to another client’s order before, and says which', async () => {
      at('2026-11-30T11:00:00');
      const other = (await db().select().from(orders).innerJoin(clients, eq(clients.id, orders.clientId)).where(eq(clients.name, '星辰软件')))[0]!.orders;
      // A binding made before the check existed.
      await db().update(groups).set({ orderId: other.id }).where(eq(groups.conversationId, 'demo-client'));
      const ack = await ok('wang', '/投诉 负责人=@张工', { group: 'demo-client', quote: '你们的报告错了三处' });
      const c = await latestComplaint();
      const [hx] = await db().select().from(clients).where(eq(clients.name, '华星科技'));
      expect(c.clientId).toBe(hx!.id);
      expect(c.orderIds).not.toContain(other.id);
      expect(ack).toContain('已登记为「华星科技」的投诉');
      expect(await bot.say('wang', '/投诉 客户=星辰软件 负责人=@张工 另一件事', { group: 'demo-client' })).toContain('本群是「华星科技」的客户群');
      await db().update(groups).set({ orderId: null }).where(eq(groups.conversationId, 'demo-client'));
    });

    it('issue 8 also (/绑定): the reply names where the order’s reminders go, and the scheduler posts there', async () => {
      at('2026-11-30T14:00:00');
      await ok('wang', '/单 新建 客户=华星科技 类型=专利 业务员=@王业务 截止=2026-12-20', { group: 'sales-chat' });
      const o = await latestOrder();
      const inClient = await ok('wang', `/绑定 D${o.id}`, { group: 'demo-client' });
      const deptGroup = (await db().select().from(groups).where(eq(groups.departmentId, dept['专利部']!)))[0]!;
      expect(inClient).toContain(`内部提醒发到部门群「${deptGroup.title ?? deptGroup.conversationId}」`);
      expect(await ok('liu', `/绑定 D${o.id}`, { group: 'patent-case' })).toContain('之后它的内部提醒会发到这里');
      await tickAt('2026-12-04T10:00:00');
      const steps = (await Promise.all((await timerRows(`order:${o.id}`)).map((t) => stepRows(t.id)))).flat();
      expect(steps.length).toBeGreaterThan(0);
      for (const r of steps) expect(['patent-case', 'demo-client']).toContain(r.conversationId);
      expect(steps.some((r) => r.conversationId === 'patent-case')).toBe(true);
      for (const r of steps.filter((x) => x.conversationId === 'patent-case')) expect(r.payload.internal).toBe(true);
    });
  });
});
