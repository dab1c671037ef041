import { and, desc, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromRow } from '../../src/core/clocks/clock-store';
import type { Database } from '../../src/db/client';
import { departments, groups, orders, outbox, people, timers } from '../../src/db/schema';
import { formatInstantInChinese } from '../../src/domain/calendar';
import { demoBot, fakeClock, playbook } from '../helpers/bot';
import { drivers } from '../helpers/databases';
import { loadClientGroupRules } from '../../src/features/client-groups/client-group-rules';

const featureRules = [...loadClientGroupRules().byId.values()].map((r) => r.timer);

/**
 * Issue 8, "what the bot says must be true": each reply that names a deadline, a person or a group is
 * compared with the timer row that drives the clock and the outbox row that carries the reply.
 */
describe.each(drivers)('order replies tell the truth on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  const clock = fakeClock('2026-11-23T01:30:00Z'); // Monday 09:30 in Shanghai
  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { clock, admins: ['root'] });
    for (const d of await database.db.select().from(departments)) {
      await database.db
        .insert(groups)
        .values({ platform: 'sandbox', conversationId: `dept-${d.id}`, title: `${d.name}群`, kind: 'internal', departmentId: d.id })
        .onConflictDoNothing();
    }
    await database.db.update(groups).set({ departmentId: null }).where(eq(groups.conversationId, 'demo-internal'));
  });
  afterAll(async () => database?.close());

  const db = () => database.db;
  const idOf = (reply: string) => Number(/D(\d+)/.exec(reply)![1]);
  const timerOf = async (orderId: number, ruleId: string) =>
    (await db().select().from(timers).where(and(eq(timers.orderId, orderId), eq(timers.ruleId, ruleId))).orderBy(desc(timers.id)))[0];
  const dueText = async (row: typeof timers.$inferSelect) => formatInstantInChinese(fromRow(row).dueAt, await bot.calendar(db()), { now: clock() });
  /** The outbox row the last reply in a group went out as. */
  const lastReply = async (group = 'demo-internal') =>
    (await db().select().from(outbox).where(and(eq(outbox.conversationId, group), like(outbox.dedupeKey, 'reply:%'))).orderBy(desc(outbox.id)))[0]!;
  const userid = async (name: string) => (await db().select().from(people).where(eq(people.name, name)))[0]!.userid;

  describe('defect 2: /单 新建 quotes the assignment rule that applies', () => {
    it.each([
      ['专利', 'patent.assign', '2 个工作日', '3.1.2'],
      ['软件', 'software.assign', '1 个工作日', '3.3.2'],
      ['商标', 'trademark.assign', '1 个工作日', '3.4.2'],
    ])('3.1.2 / 3.3.2 / 3.4.2: %s names its own deadline, clause and the timer due time', async (type, ruleId, span, clause) => {
      clock.set('2026-11-23T01:30:00Z');
      const r = await bot.say('wang', `/单 新建 客户=派单时限-${type} 类型=${type} 业务员=wang`);
      const row = await timerOf(idOf(r), ruleId);
      expect(row, 'assignment timer started').toBeDefined();
      const rule = playbook.byId.get(ruleId)!;
      expect(rule.clause).toBe(clause);
      expect(r).toContain(`在 ${span}内（${clause}，期限 ${await dueText(row!)}）派单`);
      expect(r).not.toContain(type === '专利' ? '1 个工作日内' : '2 个工作日内');
      const out = await lastReply();
      expect(out.payload.text).toBe(r);
      // The heads @-mentioned are the heads of the department the order (and its timer) belongs to.
      const heads = await db().select().from(people).where(and(eq(people.departmentId, row!.departmentId!), eq(people.role, 'head')));
      expect(out.payload.mentions.sort()).toEqual(heads.map((h) => h.userid).sort());
      for (const h of heads) expect(r).toContain(`@${h.name}`);
    });

    it.each(['审计', '财税', '高新', '资助', '集成电路布图', '专利流程事务'])('3.1.2, 3.3.2, 3.4.2 name only 专利, 软件, 商标: %s has no assignment rule: the reply names no deadline', async (type) => {
      const r = await bot.say('wang', `/单 新建 客户=无派单时限-${type} 类型=${type} 业务员=wang`);
      const id = idOf(r);
      const running = await db().select().from(timers).where(eq(timers.orderId, id));
      expect(running.some((t) => t.ruleId.endsWith('.assign'))).toBe(false);
      expect(r).not.toMatch(/个工作日内.*派单/);
      expect(r).toContain(`派单：/派单 D${id} @负责人`);
    });
  });

  describe('defect 8: staff reminders wait for working hours', () => {
    it('quiet hours (3.1.6 项目 back-dated): no 【超时通报·总经办】 at 02:15, sent once at 09:00', async () => {
      clock.set('2026-11-24T18:15:00Z'); // Wednesday 2026-11-25 02:15 in Shanghai
      const r = await bot.say('wang', '/单 新建 客户=深夜补录 类型=高新 业务员=wang 已付款');
      const id = idOf(r);
      // A date already past: every step of the 3.1.6 clock (due Wed 11-18 18:00) lies in the past.
      expect(await bot.say('wang', `/单 设置 D${id} 申报截止=2026-11-20 确认`)).toContain('已更新');
      const row = (await timerOf(id, 'project.application-complete'))!;
      expect(fromRow(row).dueAt.toISOString()).toBe('2026-11-18T10:00:00.000Z');
      const sent = () => db().select().from(outbox).where(like(outbox.dedupeKey, `timer:${row.id}:%`));
      for (const night of ['2026-11-24T18:15:00Z', '2026-11-24T18:15:05Z', '2026-11-24T22:00:00Z', '2026-11-25T00:59:59Z']) {
        clock.set(night);
        await bot.scheduler.tick();
        expect(await sent(), `nothing at ${night}`).toHaveLength(0);
      }
      // The timer sleeps until the next working moment instead of being claimed every tick all night.
      const [waiting] = await db().select().from(timers).where(eq(timers.id, row.id));
      expect(waiting!.nextStepAt!.toISOString()).toBe('2026-11-25T01:00:00.000Z');
      clock.set('2026-11-25T01:00:00Z'); // 09:00
      await bot.scheduler.tick();
      const rows = await sent();
      expect(rows).toHaveLength(1);
      expect(rows[0]!.payload.text).toMatch(/^【超时通报·总经办】/);
      await bot.scheduler.tick();
      expect(await sent()).toHaveLength(1);
    });

    it('quiet hours: only the complaint 30-minute clocks (4.3.3) run on wall-clock time', async () => {
      expect(playbook.rules.filter((r) => r.quietHours !== 'respect').map((r) => r.id)).toEqual([]);
      const { complaintPlaybook } = await import('../helpers/bot');
      const ignoring = complaintPlaybook.rules.filter((r) => r.timer.quietHours === 'ignore');
      expect(ignoring.length).toBeGreaterThan(0);
      for (const r of ignoring) expect(r.timer.duration).toEqual({ amount: 30, unit: 'minutes' });
    });
  });

  describe('defect 3: /收款 lifts a pause for non-payment', () => {
    async function assignedPatent(name: string) {
      clock.set('2026-11-23T01:30:00Z'); // Mon 09:30
      const id = idOf(await bot.say('wang', `/单 新建 客户=${name} 类型=专利 业务员=wang`));
      await bot.say('liu', `/派单 D${id} zhang`);
      return id;
    }

    it('3.5.2: /暂停 客户未按合同付款 then /收款 resumes the order and its clocks with the working time left', async () => {
      const id = await assignedPatent('付款暂停');
      const before = (await timerOf(id, 'patent.contact-client'))!;
      expect(fromRow(before).dueAt.toISOString()).toBe('2026-11-24T01:30:00.000Z'); // Tue 09:30 (1 wd, 3.1.3)
      clock.set('2026-11-23T03:30:00Z'); // Mon 11:30: 2 working hours used, 7 left
      const paused = await bot.say('zhang', `/暂停 D${id} 客户未按合同付款`);
      expect(paused).toContain('未付款');
      expect(paused).toContain(`/收款 D${id}`);
      const [p] = await db().select().from(orders).where(eq(orders.id, id));
      expect(p!.pauseKind).toBe('unpaid');
      clock.set('2026-11-26T01:00:00Z'); // Thu 09:00
      const r = await bot.say('wang', `/收款 D${id}`);
      const [o] = await db().select().from(orders).where(eq(orders.id, id));
      expect(o!.status).toBe('assigned');
      expect(o!.paid).toBe(true);
      expect(o!.pauseKind).toBeNull();
      const after = (await timerOf(id, 'patent.contact-client'))!;
      expect(after.state).toBe('running');
      expect(fromRow(after).dueAt.toISOString()).toBe('2026-11-26T08:00:00.000Z'); // Thu 16:00
      expect(r).toContain('自动恢复（3.5.2）');
      expect(r).toContain(`继续计时：${playbook.byId.get('patent.contact-client')!.step}，期限 ${await dueText(after)}`);
      const out = await lastReply();
      expect(out.payload.text).toBe(r);
      expect(out.payload.mentions).toEqual(['zhang']);
      expect(r).toContain('@张工');
    });

    it('3.5.2: a pause that is not about payment stays paused after /收款, and the reply says so', async () => {
      const id = await assignedPatent('等客户暂停');
      expect(await bot.say('zhang', `/暂停 D${id} 等客户提供技术交底书`)).toContain('等客户');
      const r = await bot.say('wang', `/收款 D${id}`);
      const [o] = await db().select().from(orders).where(eq(orders.id, id));
      expect(o!.status).toBe('paused');
      expect(o!.paid).toBe(true);
      expect((await timerOf(id, 'patent.contact-client'))!.state).toBe('paused');
      expect(r).toContain('没有自动恢复');
      expect(r).toContain(`/恢复 D${id}`);
      expect((await lastReply()).payload.mentions).toEqual([]);
    });

    it('3.5.2: an explicit 类型=未付款 marks the pause as non-payment', async () => {
      const id = await assignedPatent('显式类型');
      await bot.say('zhang', `/暂停 D${id} 类型=未付款 等财务通知`);
      const [p] = await db().select().from(orders).where(eq(orders.id, id));
      expect(p!.pauseKind).toBe('unpaid');
      expect(p!.pauseReason).toBe('等财务通知');
      await bot.say('wang', `/收款 D${id}`);
      const [o] = await db().select().from(orders).where(eq(orders.id, id));
      expect(o!.status).toBe('assigned');
    });
  });

  describe('defect 4: drop-outs are recorded by the handler', () => {
    it('3.5.1, 3.5.3: the handler runs /退出; the salesperson is @-mentioned at once, the evidence reminder goes to the handler', async () => {
      clock.set('2026-11-23T01:30:00Z');
      const id = idOf(await bot.say('wang', '/单 新建 客户=中途退出 类型=专利 业务员=wang'));
      await bot.say('liu', `/派单 D${id} zhang`);
      const r = await bot.say('zhang', `/退出 D${id} 客户辅导后决定今年不申请`);
      expect(r).not.toMatch(/^抱歉/);
      const out = await lastReply();
      expect(out.payload.text).toBe(r);
      expect(out.payload.mentions.sort()).toEqual(['wang', 'zhang']);
      const salesLine = r.split('\n').find((l) => l.includes('@王业务'))!;
      const evidenceLine = r.split('\n').find((l) => l.includes('证据'))!;
      expect(salesLine).toContain('3.5.1、3.5.3');
      expect(salesLine).not.toContain('证据');
      expect(evidenceLine).toContain('@张工');
      expect(evidenceLine).not.toContain('@王业务');
      const [o] = await db().select().from(orders).where(eq(orders.id, id));
      expect(o!.status).toBe('paused');
      expect(o!.pauseKind).toBe('client');
      expect((await timerOf(id, 'patent.contact-client'))!.state).toBe('paused');
      expect(await bot.say('zhang', `/查 D${id}`)).toContain('客户无法继续或退出：客户辅导后决定今年不申请');
    });

    it('3.5.1, 3.5.3: /取消 tells the salesperson and reminds the handler, not the salesperson, to keep evidence', async () => {
      const id = idOf(await bot.say('wang', '/单 新建 客户=取消证据 类型=专利 业务员=wang'));
      await bot.say('liu', `/派单 D${id} zhang`);
      const r = await bot.say('liu', `/取消 D${id} 客户确认不再办理`);
      const salesLine = r.split('\n').find((l) => l.includes('@王业务'))!;
      expect(salesLine).not.toContain('证据');
      expect(r.split('\n').find((l) => l.includes('证据'))).toContain('@张工');
      expect((await lastReply()).payload.mentions.sort()).toEqual(['wang', 'zhang']);
    });

    it('3.5.1: a salesperson or a colleague outside the order cannot record a drop-out', async () => {
      const id = idOf(await bot.say('wang', '/单 新建 客户=退出权限 类型=专利 业务员=wang'));
      await bot.say('liu', `/派单 D${id} zhang`);
      expect(await bot.say('zhou', `/退出 D${id} 不做了`)).toMatch(/^抱歉/);
      expect(await bot.say('wang', `/退出 D${id} 不做了`)).toMatch(/^抱歉/);
      const [o] = await db().select().from(orders).where(eq(orders.id, id));
      expect(o!.status).toBe('assigned');
    });
  });

  describe('defect 9: check-ins from the contract start; urgent supplements in every playbook', () => {
    it('3.3.9.1 (项目): 资助 check-ins run every 4 months from 合同开始, and restart when it changes', async () => {
      clock.set('2026-03-20T02:00:00Z');
      const id = idOf(await bot.say('wang', '/单 新建 客户=资助验收 类型=资助 业务员=wang 已付款'));
      const r = await bot.say('wang', `/单 设置 D${id} 合同开始=2026-03-18`);
      const row = (await timerOf(id, 'grant.checkins'))!;
      expect(row, 'check-in series started from the contract start').toBeDefined();
      const t = fromRow(row);
      expect(t.startedAt.toISOString()).toBe('2026-07-20T01:00:00.000Z'); // 07-18 + 4 months is a Saturday → Monday 09:00
      expect(r).toContain(`开始计时：${playbook.byId.get('grant.checkins')!.step}，期限 ${await dueText(row)}（3.3.9.1 (项目)）`);
      const r2 = await bot.say('wang', `/单 设置 D${id} 合同开始=2026-04-15`);
      const moved = (await timerOf(id, 'grant.checkins'))!;
      expect(moved.id).not.toBe(row.id);
      expect(fromRow(moved).startedAt.toISOString()).toBe('2026-08-17T01:00:00.000Z'); // 08-15 is a Saturday
      expect(r2).toContain(`重新计时：${playbook.byId.get('grant.checkins')!.step}，期限 ${await dueText(moved)}`);
      const [old] = await db().select().from(timers).where(eq(timers.id, row.id));
      expect(old!.state).toBe('cancelled');
      // At the occurrence the reminder goes out; then the series rolls on 4 months later (12-15).
      clock.set('2026-08-17T01:00:00Z');
      await bot.scheduler.tick();
      clock.set(fromRow(moved).dueAt.toISOString());
      await bot.scheduler.tick();
      const running = await db().select().from(timers).where(and(eq(timers.orderId, id), eq(timers.ruleId, 'grant.checkins'), eq(timers.state, 'running')));
      expect(running.map((x) => fromRow(x).startedAt.toISOString())).toEqual(['2026-12-15T01:00:00.000Z']);
    });

    it.each(['专利', '集成电路布图', '软件', '商标', '专利流程事务', '审计', '财税', '高新', '资助'])(
      '3.4.8 (项目), 2.3.7 (审计): a %s order starts the urgent-supplement clock when the authority asks for material',
      async (type) => {
        clock.set('2026-11-23T01:30:00Z');
        const id = idOf(await bot.say('wang', `/单 新建 客户=补充材料-${type} 类型=${type} 业务员=wang 已付款`));
        const r = await bot.say('wang', `/进度 D${id} 专利局要求补充材料，两天内提交`);
        const rows = (await db().select().from(timers).where(eq(timers.orderId, id))).filter((x) => x.ruleId.endsWith('.urgent-supplement'));
        expect(rows).toHaveLength(1);
        const rule = playbook.byId.get(rows[0]!.ruleId)!;
        expect(rule.clause).toMatch(type === '审计' ? /^2\.3\.7 \(审计\)$/ : /3\.4\.8 \(项目\)/);
        expect(r).toContain(`开始计时：${rule.step}，期限 ${await dueText(rows[0]!)}（${rule.clause}）`);
      },
    );
  });

  describe('every order command: what the reply names is what the rows hold', () => {
    /**
     * Each "⏱ 开始计时 / 重新计时 / 继续计时：<step>，期限 <due>（<clause>）" line names a timer of the order that
     * is running with exactly that due time and clause; returns how many lines were checked.
     */
    async function clockLinesMatch(reply: string, orderId: number): Promise<number> {
      let n = 0;
      for (const line of reply.split('\n')) {
        const m = /^⏱ (开始计时|重新计时|继续计时)：(.+)，期限 (.+)（(.+)）$/.exec(line);
        if (!m) continue;
        // The order's playbook clocks, or a feature's clocks bound to the order (e.g. the 讨论组 clocks).
        const rule = [...playbook.rules, ...featureRules].find((r) => r.step === m[2] && r.clause === m[4]);
        expect(rule, line).toBeDefined();
        const row = (await timerOf(orderId, rule!.id))!;
        expect(row.state, line).toBe('running');
        expect(m[3], line).toBe(await dueText(row));
        n++;
      }
      return n;
    }
    /** The reply's outbox row went to the group the command came from and @-mentions exactly `who`. */
    async function sentTo(reply: string, who: string[], group = 'demo-internal') {
      const out = await lastReply(group);
      expect(out.payload.text).toBe(reply);
      expect([...out.payload.mentions].sort()).toEqual([...who].sort());
      for (const u of who) {
        const [p] = await db().select().from(people).where(eq(people.userid, u));
        expect(reply).toContain(`@${p!.name}`);
      }
    }

    it('/单 新建, /派单, /进度, /暂停, /恢复, /收款, /已办, /完成 on a 专利 order', async () => {
      clock.set('2026-11-23T01:30:00Z');
      const created = await bot.say('wang', '/单 新建 客户=全程核对 类型=专利 业务员=wang');
      const id = idOf(created);
      expect(await clockLinesMatch(created, id)).toBe(1);
      await sentTo(created, ['liu']);

      const assigned = await bot.say('liu', `/派单 D${id} zhang`);
      expect(await clockLinesMatch(assigned, id)).toBeGreaterThanOrEqual(1);
      expect(assigned).toContain(`开始计时：${playbook.byId.get('patent.contact-client')!.step}`);
      await sentTo(assigned, ['zhang', await userid('王业务')]);

      const step = await bot.say('zhang', `/进度 D${id} 已收到技术方案`);
      expect(await clockLinesMatch(step, id)).toBe(1);
      await sentTo(step, []);

      clock.set('2026-11-23T03:00:00Z');
      const paused = await bot.say('zhang', `/暂停 D${id} 客户出差两周`);
      const pausedRows = (await db().select().from(timers).where(and(eq(timers.orderId, id), eq(timers.state, 'paused')))).length;
      expect(paused).toContain(`${pausedRows} 项计时同时停止`);
      await sentTo(paused, []);

      clock.set('2026-11-25T02:00:00Z');
      const resumed = await bot.say('zhang', `/恢复 D${id}`);
      expect(await clockLinesMatch(resumed, id)).toBe(pausedRows);
      await sentTo(resumed, ['zhang']);

      const paid = await bot.say('wang', `/收款 D${id}`);
      await clockLinesMatch(paid, id);
      await sentTo(paid, ['zhang']);

      const checked = await bot.say('zhang', `/已办 D${id} 1`);
      expect(checked).toMatch(/已登记 D\d+ 的计时 「[^」]+」（[^）]+） 已办/);
      await sentTo(checked, []);

      const done = await bot.say('zhang', `/完成 D${id} 已提交专利局`);
      expect((await db().select().from(timers).where(and(eq(timers.orderId, id), eq(timers.state, 'running')))).length).toBe(0);
      await sentTo(done, []);
    });

    it('/转交, /批准, /驳回 and /取消 @-mention the heads, handlers, requester and salesperson the rows name', async () => {
      const id = idOf(await bot.say('wang', '/单 新建 客户=转交核对 类型=商标 业务员=wang'));
      await bot.say('sun', `/派单 D${id} zhou`);
      const heads = await db().select().from(people).where(eq(people.role, 'head'));
      const [o] = await db().select().from(orders).where(eq(orders.id, id));
      const deptHeads = heads.filter((h) => h.departmentId === o!.departmentId).map((h) => h.userid);
      expect(deptHeads).toEqual(['sun']);

      const asked = await bot.say('zhou', `/转交 D${id} zhao 客户希望更换负责人`);
      await sentTo(asked, deptHeads);
      const rejected = await bot.say('sun', `/驳回 D${id} 先与客户沟通`);
      await sentTo(rejected, ['zhou']); // the requester, from transfer_requested_by_id

      await bot.say('zhou', `/转交 D${id} zhao 客户再次要求`);
      const approved = await bot.say('sun', `/批准 D${id}`);
      const [after] = await db().select().from(orders).where(eq(orders.id, id));
      const newHandler = (await db().select().from(people).where(eq(people.id, after!.handlerId!)))[0]!;
      expect(newHandler.userid).toBe('zhao');
      await sentTo(approved, ['zhao', 'zhou']);

      const cancelled = await bot.say('sun', `/取消 D${id} 客户不再办理`);
      await sentTo(cancelled, ['wang', 'zhao']);
    });

    it('/单 设置 names the date clocks it starts with the timer rows\' due times', async () => {
      clock.set('2026-11-23T01:30:00Z');
      const id = idOf(await bot.say('wang', '/单 新建 客户=日期核对 类型=高新 业务员=wang 已付款'));
      const r = await bot.say('wang', `/单 设置 D${id} 申报截止=2026-12-21 提交时间=2026-12-18`);
      expect(await clockLinesMatch(r, id)).toBe(2);
      await sentTo(r, []);
    });
  });
});
