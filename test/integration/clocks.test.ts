import { and, eq, like, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScheduler } from '../../src/core/clocks/scheduler';
import { timerSubjectsOf } from '../../src/core/feature';
import { fromRow } from '../../src/core/clocks/clock-store';
import type { Database } from '../../src/db/client';
import { clients, departments, groups, orders, outbox, people, timers } from '../../src/db/schema';
import type { Condition, PlaybookRule } from '../../src/domain/playbooks';
import { ladder } from '../../src/domain/timers';
import { demoBot, fakeClock, playbook, silentLog } from '../helpers/bot';
import { drivers } from '../helpers/databases';

/** Field values that satisfy a rule's conditions. */
function fieldsFor(rule: PlaybookRule, base: Date): Record<string, string> {
  const f: Record<string, string> = {};
  const set = (c: Condition) => {
    const v = c.value;
    switch (c.op) {
      case 'eq':
        f[c.field] = String(v);
        break;
      case 'in':
        f[c.field] = String((v as unknown[])[0]);
        break;
      case 'lt':
        f[c.field] = String(Number(v) - 1);
        break;
      case 'gt':
        f[c.field] = String(Number(v) + 1);
        break;
      case 'lte':
      case 'gte':
        f[c.field] = String(v);
        break;
      case 'ne':
        f[c.field] = `not-${String(v)}`;
        break;
      case 'present':
        f[c.field] = '1';
        break;
      case 'absent':
        break;
    }
  };
  rule.when.forEach(set);
  if (rule.trigger.kind === 'date') {
    const days = rule.duration.unit === 'months' ? 500 : 90;
    f[rule.trigger.field] = new Date(base.getTime() + days * 86_400_000).toISOString().slice(0, 10);
  }
  return f;
}

describe.each(drivers)('clocks on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  const clock = fakeClock('2026-11-23T01:30:00Z'); // Monday 09:30 in Shanghai
  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { clock, admins: ['root'] });
    // Every department gets an internal group so every reminder has somewhere to go.
    const db = database.db;
    // A department has one 部门群: the demo's 专利部 group gives way to `dept-<id>` first.
    await db.update(groups).set({ departmentId: null }).where(eq(groups.conversationId, 'demo-internal'));
    for (const d of await db.select().from(departments)) {
      await db
        .insert(groups)
        .values({ platform: 'sandbox', conversationId: `dept-${d.id}`, title: `${d.name}群`, kind: 'internal', departmentId: d.id })
        .onConflictDoNothing();
    }
  });
  afterAll(async () => database?.close());

  const db = () => database.db;
  const stepRows = async (timerId: number) =>
    db().select().from(outbox).where(like(outbox.dedupeKey, `timer:${timerId}:%`)).orderBy(outbox.id);

  async function newOrder(rule: PlaybookRule, opts: { paid?: boolean; handler?: boolean } = {}) {
    const service = rule.services === 'all' ? '专利' : rule.services[0]!;
    const [dept] = await db().select().from(departments).where(sql`${service} = any(${departments.services})`);
    const [client] = await db()
      .insert(clients)
      .values({ name: `客户-${rule.id}-${Math.random().toString(36).slice(2, 8)}` })
      .returning();
    const [handler] = await db().select().from(people).where(and(eq(people.role, 'handler'), eq(people.departmentId, dept!.id)));
    const [o] = await db()
      .insert(orders)
      .values({
        clientId: client!.id,
        serviceType: service,
        departmentId: dept!.id,
        salespersonId: (await db().select().from(people).where(eq(people.userid, 'wang')))[0]!.id,
        handlerId: opts.handler === false ? null : (handler?.id ?? null),
        status: 'assigned',
        paid: opts.paid ?? rule.requiresPayment,
        fields: fieldsFor(rule, clock()),
        createdAt: clock(),
        updatedAt: clock(),
      })
      .returning();
    await db()
      .insert(groups)
      .values({ platform: 'sandbox', conversationId: `client-${o!.id}`, kind: 'client', orderId: o!.id, clientId: client!.id });
    return { order: o!, handler, dept: dept! };
  }

  async function start(rule: PlaybookRule, orderId: number) {
    if (rule.trigger.kind === 'event') {
      await db().transaction((tx) => bot.clocks.events(tx as never, orderId, [rule.trigger.kind === 'event' ? rule.trigger.event : 'order.created'], clock(), null));
    } else if (rule.trigger.kind === 'date') {
      await db().transaction((tx) => bot.clocks.fieldsChanged(tx as never, orderId, [(rule.trigger as { field: string }).field], clock(), null));
    }
    const [row] = await db()
      .select()
      .from(timers)
      .where(and(eq(timers.subject, `order:${orderId}`), eq(timers.ruleId, rule.id)));
    return row;
  }

  const orderRules = playbook.rules.filter((r) => r.trigger.kind !== 'schedule');
  it('has a database-driven test for every event- and date-triggered rule', () => {
    expect(orderRules.length).toBeGreaterThanOrEqual(45);
  });

  for (const rule of orderRules) {
    it(`${rule.id} (${rule.clause}): started by its trigger, each ladder step sent once at its time, then stopped`, async () => {
      clock.set('2026-11-23T01:30:00Z');
      const { order, handler } = await newOrder(rule);
      const row = await start(rule, order.id);
      expect(row, 'timer started by the trigger').toBeDefined();
      const cal = await bot.calendar(db());
      const t = fromRow(row!);
      const steps = ladder(t, rule, cal);
      expect(steps.map((s) => s.step)).toContain('due');
      for (const [i, s] of steps.entries()) {
        // Just before the step: nothing new for this timer.
        clock.set(new Date(s.at.getTime() - 1000).toISOString());
        await bot.scheduler.tick();
        expect((await stepRows(row!.id)).length, `before ${s.step}`).toBe(i);
        clock.set(s.at.toISOString());
        await bot.scheduler.tick();
        await bot.scheduler.tick();
        const sent = await stepRows(row!.id);
        expect(sent.length, `after ${s.step}`).toBe(i + 1);
        const msg = sent.find((m) => m.dedupeKey === `timer:${row!.id}:${s.step}`)!;
        expect(msg, s.step).toBeDefined();
        expect(msg.payload.text).toContain(rule.audience === 'client' && (s.step === 'headsup' || s.step === 'due') ? '' : rule.clause);
        if (s.audience === 'client') {
          expect(msg.conversationId).toBe(`client-${order.id}`);
          expect(msg.payload.mentions).toEqual([]);
          if (handler) expect(msg.payload.text).not.toContain(handler.name);
        } else {
          expect(msg.conversationId).toMatch(/^dept-/);
          if (s.mention.includes('handler') && handler) expect(msg.payload.mentions).toContain(handler.userid);
          expect(msg.payload.text).toContain(`D${order.id}`);
        }
        // Working-time steps land on working time unless the rule ignores quiet hours.
        if (rule.quietHours === 'respect') {
          expect(cal.isWorkingMoment(s.at) || cal.previousWorkingMoment(s.at).getTime() === s.at.getTime()).toBe(true);
        }
      }
      // Stop it: by its completing event, else by hand.
      const completing = rule.completedBy[0];
      if (completing) {
        await db().transaction((tx) => bot.clocks.events(tx as never, order.id, [completing], clock(), null));
      } else {
        const [r] = await db().select().from(timers).where(eq(timers.id, row!.id));
        await db().transaction((tx) => bot.clocks.completeOne(tx as never, order.id, r!, clock(), null));
      }
      const [after] = await db().select().from(timers).where(eq(timers.id, row!.id));
      expect(after!.state).toBe('done');
      clock.advance(30 * 86_400_000);
      await bot.scheduler.tick();
      expect((await stepRows(row!.id)).length).toBe(steps.length);
    });
  }

  it('is silent while the order is paused and carries the remaining working time over on resume', async () => {
    clock.set('2026-11-23T01:30:00Z'); // Mon 09:30
    const r = await bot.say('wang', '/单 新建 客户=暂停测试 类型=专利 业务员=wang');
    const code = /D(\d+)/.exec(r)!;
    const [row] = await db().select().from(timers).where(and(eq(timers.orderId, Number(code[1])), eq(timers.ruleId, 'patent.assign')));
    const before = fromRow(row!);
    expect(before.dueAt.toISOString()).toBe('2026-11-25T01:30:00.000Z'); // Wed 09:30 (2 wd)
    clock.set('2026-11-23T03:30:00Z'); // Mon 11:30: 2 working hours used
    expect(await bot.say('liu', `/暂停 D${code[1]} 客户暂未确认`)).toContain('1 项计时同时停止');
    clock.set('2026-11-26T01:30:00Z'); // Thu: would be overdue if it ran
    await bot.scheduler.tick();
    expect(await stepRows(row!.id)).toHaveLength(0);
    clock.set('2026-11-27T01:00:00Z'); // Fri 09:00: resume with 16 working hours left
    expect(await bot.say('liu', `/恢复 D${code[1]}`)).toContain('继续计时');
    const [resumed] = await db().select().from(timers).where(eq(timers.id, row!.id));
    expect(resumed!.state).toBe('running');
    expect(fromRow(resumed!).dueAt.toISOString()).toBe('2026-11-30T08:00:00.000Z'); // Mon 16:00
  });

  it('two schedulers ticking at once send each step once', async () => {
    clock.set('2026-11-23T01:30:00Z');
    const r = await bot.say('wang', '/单 新建 客户=并发测试 类型=软件 业务员=wang');
    const id = Number(/D(\d+)/.exec(r)![1]);
    const [row] = await db().select().from(timers).where(and(eq(timers.orderId, id), eq(timers.ruleId, 'software.assign')));
    const other = createScheduler({ db: db(), calendar: bot.calendar, log: silentLog, clock, subjects: timerSubjectsOf(bot.features) });
    clock.set('2026-12-10T02:00:00Z'); // long overdue: every step at once
    await Promise.all([bot.scheduler.tick(), other.tick(), bot.scheduler.tick(), other.tick()]);
    const rows = await stepRows(row!.id);
    expect(rows).toHaveLength(1); // several steps due at once: the most escalated is sent, all are marked
    expect(rows[0]!.dedupeKey).toBe(`timer:${row!.id}:overdue_management`);
    const [after] = await db().select().from(timers).where(eq(timers.id, row!.id));
    expect(fromRow(after!).stepsSent).toEqual(expect.arrayContaining(['due', 'overdue_head', 'overdue_management']));
    expect(after!.nextStepAt).toBeNull();
  });

  it('waits for working time: no ping at night, on weekends or on 国庆', async () => {
    clock.set('2026-09-30T09:00:00Z'); // Wed 17:00 before the National Day holiday
    const r = await bot.say('wang', '/单 新建 客户=国庆测试 类型=软件 业务员=wang');
    const id = Number(/D(\d+)/.exec(r)![1]);
    const [row] = await db().select().from(timers).where(and(eq(timers.orderId, id), eq(timers.ruleId, 'software.assign')));
    const t = fromRow(row!);
    // 1 working day from Wed 17:00 → 1 working hour on Sep 30, then 8 hours on the next working day,
    // Oct 8 (the holiday is Oct 1–7).
    expect(t.dueAt.toISOString()).toBe('2026-10-08T09:00:00.000Z');
    for (const quiet of ['2026-09-30T15:00:00Z', '2026-10-01T02:00:00Z', '2026-10-05T06:00:00Z', '2026-10-07T15:00:00Z', '2026-10-08T00:59:00Z']) {
      clock.set(quiet);
      await bot.scheduler.tick();
    }
    expect(await stepRows(row!.id)).toHaveLength(0);
    clock.set('2026-10-08T04:30:00Z'); // heads-up half a working day before the due time
    await bot.scheduler.tick();
    expect((await stepRows(row!.id)).map((x) => x.dedupeKey)).toEqual([`timer:${row!.id}:headsup`]);
    clock.set('2026-10-08T09:00:00Z');
    await bot.scheduler.tick();
    expect((await stepRows(row!.id)).map((x) => x.dedupeKey)).toContain(`timer:${row!.id}:due`);
  });

  it('runs department series on their pattern and rolls to the next occurrence, skipping holidays', async () => {
    clock.set('2026-09-30T02:00:00Z'); // Wed
    const started = await bot.scheduler.maintain();
    expect(started).toBeGreaterThan(0);
    const [patentDept] = await db().select().from(departments).where(eq(departments.name, '专利部'));
    const [series] = await db()
      .select()
      .from(timers)
      .where(and(eq(timers.subject, `dept:${patentDept!.id}`), eq(timers.ruleId, 'patent.weekly-list'), eq(timers.state, 'running')));
    // The next Monday, 2026-10-05, is 国庆: the occurrence moves to the next working day, 10-08.
    expect(fromRow(series!).startedAt.toISOString()).toBe('2026-10-08T01:00:00.000Z');
    expect(await bot.scheduler.maintain()).toBe(0); // idempotent
    clock.set('2026-10-08T01:00:00Z');
    await bot.scheduler.tick();
    const posted = await stepRows(series!.id);
    expect(posted.length).toBeGreaterThan(0);
    expect(posted[0]!.conversationId).toBe(`dept-${patentDept!.id}`);
    expect(posted[0]!.payload.mentions).toEqual(expect.arrayContaining(['zhang', 'zhao']));
    // The occurrence's own due step is at the end of that working day; then the series rolls on.
    clock.set('2026-10-08T10:00:00Z');
    await bot.scheduler.tick();
    expect((await stepRows(series!.id)).map((x) => x.dedupeKey!.split(':')[2])).toEqual(['headsup', 'due']);
    const [next] = await db()
      .select()
      .from(timers)
      .where(and(eq(timers.subject, `dept:${patentDept!.id}`), eq(timers.ruleId, 'patent.weekly-list'), eq(timers.state, 'running')));
    expect(next!.id).not.toBe(series!.id);
    expect(fromRow(next!).startedAt.toISOString()).toBe('2026-10-12T01:00:00.000Z');
  });

  it('warns the admins once about a year the holiday data does not cover', async () => {
    const [mgmt] = await db().select().from(departments).where(eq(departments.name, '总经办'));
    clock.set('2027-03-01T02:00:00Z');
    expect(await bot.warnUncoveredYears()).toEqual([2027]);
    expect(await bot.warnUncoveredYears()).toEqual([2027]);
    const notices = await db().select().from(outbox).where(like(outbox.dedupeKey, 'notice:calendar-fallback:2027:%'));
    expect(notices).toHaveLength(1);
    expect(notices[0]!.conversationId).toBe(`dept-${mgmt!.id}`);
    expect(notices[0]!.payload.text).toContain('2027');
    expect(notices[0]!.payload.mentions).toContain('boss');
    clock.set('2026-03-01T02:00:00Z');
    expect(await bot.warnUncoveredYears()).toEqual([]);
  });

  it('answers /逾期, /待办 and /日历, and lets management adjust the calendar', async () => {
    clock.set('2026-11-23T01:30:00Z');
    const r = await bot.say('wang', '/单 新建 客户=命令测试 类型=商标 业务员=wang');
    const code = /D\d+/.exec(r)![0];
    expect(await bot.say('sun', '/待办 2')).toContain(`${code} 命令测试`);
    clock.set('2026-11-25T02:00:00Z');
    const late = await bot.say('sun', '/逾期');
    expect(late).toContain(`${code} 命令测试`);
    expect(late).toMatch(/已超 \d/);
    expect(await bot.say('zhou', '/逾期 我的')).toContain('没有逾期');
    expect(await bot.say('zhang', '/日历 2026-02-14')).toContain('补班日');
    expect(await bot.say('zhang', '/日历 2026-10-05')).toContain('休息日');
    expect(await bot.say('zhang', '/日历 调整 2026-12-31 休息')).toMatch(/^抱歉/);
    expect(await bot.say('boss', '/日历 调整 2026-12-31 休息 公司年会')).toContain('休息日');
    expect(await bot.say('zhang', '/日历 2026-12-31')).toContain('公司年会');
    expect(await bot.say('boss', '/日历 调整 2026-12-31 上班')).toContain('工作日');
  });
});
