import { and, asc, eq, like } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { clientQuestions, outbox, timers } from '../../src/db/schema';
import { lastStaffContact } from '../../src/features/client-groups';
import { CLIENT_TEXTS, INTERNAL_WORDS } from '../../src/features/client-groups/client-group-texts';
import { demoBot, fakeClock } from '../helpers/bot';
import { drivers } from '../helpers/databases';

/**
 * Issue 12: the 讨论组 clocks through the database with a fake clock — questions answered in time, answered
 * privately, unanswered across a weekend and the National Day holiday; weekly contact with and without
 * /联系; the 14-day progress report; the group-creation clock; pause with the order; and what the client
 * group sees.
 */
const CLIENT = 'kehu-a';
/** Shanghai wall time → UTC instant. */
const sh = (local: string) => new Date(`${local}+08:00`).toISOString();

describe.each(drivers)('client groups on $name', (driver) => {
  const opened: Database[] = [];
  afterAll(async () => {
    for (const d of opened) await d.close();
  });

  /** A fresh database with D1 (专利, 张工, supervisor 李主管) bound to the demo client group. */
  async function setup(start: string) {
    const database = await driver.open();
    opened.push(database);
    const clock = fakeClock(sh(start));
    const bot = await demoBot(database.db, { clock });
    const db = database.db;
    expect(await bot.say('wang', '/单 新建 客户=华星科技 类型=专利 业务员=@王业务')).toContain('D1');
    expect(await bot.say('liu', '/派单 D1 @张工')).toContain('派给');
    const bound = await bot.say('zhang', '/绑定 D1', { group: 'demo-client' });
    expect(bound).toContain('本群已绑定到 D1');
    const ask = (text: string) => bot.say(CLIENT, text, { group: 'demo-client' });
    const reminders = async (conversationId = 'demo-internal') =>
      db
        .select()
        .from(outbox)
        .where(and(eq(outbox.conversationId, conversationId), like(outbox.dedupeKey, 'timer:%')))
        .orderBy(asc(outbox.id));
    const timer = async (ruleId: string, state?: string) =>
      (await db.select().from(timers).where(eq(timers.ruleId, ruleId)).orderBy(asc(timers.id))).filter((t) => !state || t.state === state);
    const at = async (local: string) => {
      clock.set(sh(local));
      await bot.scheduler.tick();
    };
    return { bot, db, clock, ask, reminders, timer, at };
  }

  it('a question answered by staff in the group in time stops its clock; nobody is reminded', async () => {
    const s = await setup('2026-11-23T09:30:00');
    s.clock.set(sh('2026-11-23T10:00:00'));
    expect(await s.ask('请问专利申请什么时候能提交？')).toBe('');
    const [t] = await s.timer('client-group.answer', 'running');
    expect(t?.dueAt.toISOString()).toBe(sh('2026-11-23T10:30:00'));
    expect(t?.orderId).toBe(1);
    s.clock.set(sh('2026-11-23T10:12:00'));
    await s.bot.say('zhang', '您好，预计本周五提交，届时群里告知您。', { group: 'demo-client' });
    expect(await s.timer('client-group.answer', 'running')).toHaveLength(0);
    expect((await s.timer('client-group.answer', 'done')).length).toBe(1);
    const [q] = await s.db.select().from(clientQuestions);
    expect(q).toMatchObject({ kind: 'asked', state: 'answered' });
    await s.at('2026-11-23T11:30:00');
    expect((await s.reminders()).filter((r) => r.payload.text.includes('提问'))).toHaveLength(0);
    // The staff message is the last contact with the client (reports and the 看板 read this).
    expect((await lastStaffContact(s.db, 1))?.at.toISOString()).toBe(sh('2026-11-23T10:12:00'));
    // A plain remark without a question starts nothing.
    await s.ask('好的，谢谢');
    expect(await s.timer('client-group.answer', 'running')).toHaveLength(0);
  });

  it('/已私聊 says so in the client group, politely and with nothing internal, and stops the clock', async () => {
    const s = await setup('2026-11-23T09:30:00');
    s.clock.set(sh('2026-11-23T14:00:00'));
    await s.ask('我们的材料还缺什么');
    expect(await s.timer('client-group.answer', 'running')).toHaveLength(1);
    const reply = await s.bot.say('zhang', '/已私聊 已电话告知缺少营业执照副本', { group: 'demo-client' });
    expect(reply).toBe(CLIENT_TEXTS.answeredPrivately());
    for (const w of INTERNAL_WORDS) expect(reply).not.toContain(w);
    expect(reply).not.toContain('营业执照'); // the staff note stays internal
    expect(await s.timer('client-group.answer', 'running')).toHaveLength(0);
    const [q] = await s.db.select().from(clientQuestions);
    expect(q).toMatchObject({ state: 'private', closeNote: '已电话告知缺少营业执照副本' });
    // Outside a client group the command says where to use it.
    expect(await s.bot.say('zhang', '/已私聊 已回复')).toContain('请在已绑定分配单的客户群里');
    // A client cannot use it.
    expect(await s.bot.say(CLIENT, '/已私聊 x', { group: 'demo-client' })).toMatch(/^您好！这条命令仅供/);
  });

  it('a question at 17:50 on a Friday is escalated on Monday morning: handler at 09:20, supervisor at 09:50, nothing at the weekend', async () => {
    const s = await setup('2026-11-27T09:30:00');
    const questionReminders = async () => (await s.reminders()).filter((r) => r.payload.text.includes('回复客户在讨论组里的提问'));
    s.clock.set(sh('2026-11-27T17:50:00'));
    await s.ask('请问下周能安排辅导吗');
    await s.ask('另外发票怎么开？'); // a follow-up does not start a second clock
    const running = await s.timer('client-group.answer', 'running');
    expect(running).toHaveLength(1);
    expect(running[0]!.dueAt.toISOString()).toBe(sh('2026-11-30T09:20:00'));
    for (const t of ['2026-11-27T18:20:00', '2026-11-27T23:00:00', '2026-11-28T10:00:00', '2026-11-29T21:00:00', '2026-11-30T09:10:00']) {
      await s.at(t);
      expect(await questionReminders(), t).toHaveLength(0);
    }
    await s.at('2026-11-30T09:20:00');
    const [due] = await questionReminders();
    expect(due?.payload.mentions).toEqual(['zhang']);
    expect(due?.payload.text).toContain('D1');
    expect(due?.payload.text).toContain('请问下周能安排辅导吗');
    expect(due?.payload.text).toContain('之后又追问 1 次');
    expect(due?.payload.text).toContain('/已私聊');
    expect(due?.payload.internal).toBe(true);
    await s.at('2026-11-30T09:50:00');
    const all = await questionReminders();
    expect(all).toHaveLength(2);
    expect(all[1]!.payload.mentions).toEqual(['li']);
    // Nothing of it reached the client group.
    expect(await s.reminders('demo-client')).toHaveLength(0);
  });

  it('a question on the eve of National Day waits for the first working day after the holiday', async () => {
    const s = await setup('2026-09-30T09:30:00');
    s.clock.set(sh('2026-09-30T17:50:00'));
    await s.ask('国庆后什么时候能拿到证书？');
    expect((await s.timer('client-group.answer', 'running'))[0]!.dueAt.toISOString()).toBe(sh('2026-10-08T09:20:00'));
    for (const t of ['2026-10-01T10:00:00', '2026-10-03T15:00:00', '2026-10-07T17:00:00', '2026-10-08T09:00:00']) {
      await s.at(t);
      expect((await s.reminders()).filter((r) => r.payload.text.includes('提问')), t).toHaveLength(0);
    }
    await s.at('2026-10-08T09:21:00');
    expect((await s.reminders()).filter((r) => r.payload.text.includes('提问'))).toHaveLength(1);
  });

  it('weekly contact: nudges the handler after 7 days without contact; /联系 and staff messages start it again', async () => {
    const s = await setup('2026-11-23T10:00:00');
    const [weekly] = await s.timer('client-group.weekly-contact', 'running');
    expect(weekly?.dueAt.toISOString()).toBe(sh('2026-11-30T10:00:00'));
    // With /联系 on Thursday the week counts from Thursday.
    s.clock.set(sh('2026-11-26T15:00:00'));
    const r = await s.bot.say('zhang', '/联系 D1 电话 约了下周三辅导');
    expect(r).toContain('已记录 D1 的客户联系（电话：约了下周三辅导）');
    expect(r).toContain('重新计时：主动联系客户（每周至少一次）');
    expect((await s.timer('client-group.weekly-contact', 'running'))[0]!.dueAt.toISOString()).toBe(sh('2026-12-03T15:00:00'));
    expect(await lastStaffContact(s.db, 1)).toMatchObject({ via: 'phone' });
    await s.at('2026-11-30T10:05:00');
    expect((await s.reminders()).filter((x) => x.payload.text.includes('主动联系客户'))).toHaveLength(0);
    // Without any contact after that: the nudge comes at the due time, to the handler only.
    await s.at('2026-12-03T15:00:00');
    const nudges = (await s.reminders()).filter((x) => x.payload.text.includes('主动联系客户'));
    expect(nudges).toHaveLength(1);
    expect(nudges[0]!.payload.mentions).toEqual(['zhang']);
    expect(nudges[0]!.payload.text).toContain('最近一次联系客户');
    // A staff message in the group starts a new week (a new row: the next nudge has its own key).
    s.clock.set(sh('2026-12-04T09:30:00'));
    await s.bot.say('zhang', '您好，材料已收到。', { group: 'demo-client' });
    const again = await s.timer('client-group.weekly-contact', 'running');
    expect(again).toHaveLength(1);
    expect(again[0]!.dueAt.toISOString()).toBe(sh('2026-12-11T09:30:00'));
    expect(again[0]!.id).not.toBe(weekly!.id);
    // Wrong forms get the right form, nothing stored.
    expect(await s.bot.say('zhang', '/联系 D1 飞鸽 x')).toContain('联系方式');
    expect(await s.bot.say('zhang', '/联系 电话')).toMatch(/^抱歉/);
  });

  it('the 14-day materials report: /材料进度 posts into the client group and restarts; overdue goes to the handler, then the supervisor', async () => {
    const s = await setup('2026-11-23T10:00:00');
    const [m] = await s.timer('client-group.materials-report', 'running');
    expect(m?.dueAt.toISOString()).toBe(sh('2026-12-07T10:00:00'));
    s.clock.set(sh('2026-12-01T11:00:00'));
    const r = await s.bot.say('zhang', '/材料进度 D1 技术交底书已收到，初稿预计下周五完成');
    expect(r).toContain('已把 D1 的材料进度发到客户群「华星科技服务群」');
    const posted = await s.db.select().from(outbox).where(and(eq(outbox.conversationId, 'demo-client'), like(outbox.dedupeKey, 'clientgroup:report:%')));
    expect(posted).toHaveLength(1);
    expect(posted[0]!.payload.text).toBe(CLIENT_TEXTS.progressReport('技术交底书已收到，初稿预计下周五完成'));
    expect(posted[0]!.payload.internal).toBeFalsy();
    const [next] = await s.timer('client-group.materials-report', 'running');
    expect(next?.dueAt.toISOString()).toBe(sh('2026-12-15T11:00:00'));
    await s.at('2026-12-07T10:30:00');
    expect((await s.reminders()).filter((x) => x.payload.text.includes('材料进度'))).toHaveLength(0);
    await s.at('2026-12-15T11:00:00');
    await s.at('2026-12-17T11:00:00');
    const sent = (await s.reminders()).filter((x) => x.payload.text.includes('材料进度'));
    // The tick at the due time sends the due step (the heads-up it overtook is marked, not sent); 2 working days later, the supervisor.
    expect(sent.map((x) => x.payload.mentions)).toEqual([['zhang'], ['li']]);
    // An order without a client group cannot post a report.
    await s.bot.say('wang', '/单 新建 客户=远航科技 类型=专利 业务员=@王业务');
    await s.bot.say('liu', '/派单 D2 @张工');
    expect(await s.bot.say('zhang', '/材料进度 D2 进展顺利')).toContain('D2 还没有绑定客户群');
    // In D1's client group: another order's report is refused (its reply would name clocks there) …
    expect(await s.bot.say('zhang', '/材料进度 D2 进展顺利', { group: 'demo-client' })).toContain('本群不是 D2 的客户群');
    // … and D1's own report sent there is itself the client-facing report, nothing else.
    expect(await s.bot.say('zhang', '/材料进度 D1 已提交专利局', { group: 'demo-client' })).toBe(CLIENT_TEXTS.progressReport('已提交专利局'));
  });

  it('open questions: /待解决 in the client group (polite, no internal detail), /已解决 Q2 tells the client; /查 Q2; 2 working days', async () => {
    const s = await setup('2026-11-23T10:00:00');
    s.clock.set(sh('2026-11-24T10:00:00'));
    await s.ask('能否加急受理？');
    const ack = await s.bot.say('zhang', '/待解决 客户问能否加急受理', { group: 'demo-client' });
    expect(ack).toBe(CLIENT_TEXTS.openNoted('11月26日(周四) 10:00'));
    for (const w of INTERNAL_WORDS) expect(ack).not.toContain(w);
    // Recording it answers the waiting question; the open question has its own 2-working-day clock.
    expect(await s.timer('client-group.answer', 'running')).toHaveLength(0);
    const [open] = await s.timer('client-group.resolve', 'running');
    expect(open?.dueAt.toISOString()).toBe(sh('2026-11-26T10:00:00'));
    const notice = (await s.db.select().from(outbox).where(eq(outbox.conversationId, 'demo-internal'))).find((r) => r.dedupeKey === 'clientgroup:open:2');
    expect(notice?.payload.text).toContain('Q2');
    expect(await s.bot.say('zhang', '/查 Q2')).toContain('待解决');
    await s.at('2026-11-26T10:00:00');
    expect((await s.reminders()).filter((x) => x.payload.text.includes('Q2')).map((x) => x.payload.mentions)).toEqual([['zhang']]);
    s.clock.set(sh('2026-11-26T11:00:00'));
    const done = await s.bot.say('zhang', '/已解决 Q2 已与受理处确认可以加急，预计下周一受理');
    expect(done).toContain('已在客户群「华星科技服务群」告知客户');
    const told = await s.db.select().from(outbox).where(eq(outbox.dedupeKey, 'clientgroup:resolved:2'));
    expect(told[0]?.conversationId).toBe('demo-client');
    expect(told[0]?.payload.text).toBe(CLIENT_TEXTS.resolved('已与受理处确认可以加急，预计下周一受理'));
    expect(await s.timer('client-group.resolve', 'running')).toHaveLength(0);
    expect(await s.bot.say('zhang', '/已解决 Q2 again')).toContain('已经处理过了');
    expect(await s.bot.say('zhang', '/已解决 Q99 x')).toContain('没有找到问题 Q99');
    // /待解决 elsewhere needs the order.
    expect(await s.bot.say('zhang', '/待解决 没写单号')).toContain('请写明单号');
    expect(await s.bot.say('zhang', '/待解决 D1 客户问年费')).toContain('已登记 D1 的待解决问题 Q3');
  });

  it('the clocks show in /查 D1, /待办 and /逾期, and pause and resume with the order', async () => {
    const s = await setup('2026-11-23T10:00:00');
    s.clock.set(sh('2026-11-23T10:05:00'));
    await s.ask('请问进度如何？');
    const show = await s.bot.say('liu', '/查 D1');
    expect(show).toContain('回复客户在讨论组里的提问');
    expect(show).toContain('主动联系客户（每周至少一次）');
    expect(show).toContain('在讨论组里向客户报告材料进度');
    expect(await s.bot.say('zhang', '/待办')).toContain('回复客户在讨论组里的提问');
    s.clock.set(sh('2026-11-23T11:00:00'));
    const late = await s.bot.say('zhang', '/逾期');
    expect(late).toContain('D1 华星科技｜回复客户在讨论组里的提问');
    expect(late).toContain('3.2.2.8');
    // Paused with the order: no reminder while paused, remaining working time kept.
    s.clock.set(sh('2026-11-23T10:20:00'));
    await s.bot.say('zhang', '/暂停 D1 类型=等客户 等客户补材料');
    const paused = await s.timer('client-group.answer');
    expect(paused[0]!.state).toBe('paused');
    expect((await s.timer('client-group.weekly-contact'))[0]!.state).toBe('paused');
    await s.at('2026-11-24T15:00:00');
    expect((await s.reminders()).filter((r) => r.payload.text.includes('讨论组'))).toHaveLength(0);
    expect(await s.bot.say('zhang', '/逾期')).not.toContain('讨论组');
    await s.bot.say('zhang', '/恢复 D1');
    const resumed = (await s.timer('client-group.answer', 'running'))[0]!;
    // Asked at 10:05 (due 10:35), paused at 10:20: 15 working minutes were left.
    expect(resumed.dueAt.toISOString()).toBe(sh('2026-11-24T15:15:00'));
    // Finishing the order stops them all.
    expect(await s.bot.say('zhang', '/完成 D1 确认')).toContain('已标记完成');
    expect((await s.db.select().from(timers).where(like(timers.subject, 'client-group:%'))).filter((t) => t.state === 'running' || t.state === 'paused')).toHaveLength(0);
  });

  it('the group-creation clock after coaching (项目): nudge, then /绑定 in a client group stops it and checks the project manager is there', async () => {
    const s = await setup('2026-11-23T10:00:00');
    await s.bot.say('qian', '/部门群 项目部', { group: 'pj-internal' });
    await s.bot.say('wang', '/单 新建 客户=星河电子 类型=高新 业务员=@王业务 已付款');
    await s.bot.say('qian', '/派单 D2 @冯工');
    const coached = await s.bot.say('feng', '/进度 D2 已辅导');
    expect(coached).toContain('开始计时：辅导后与客户建立讨论组');
    const [c] = await s.timer('client-group.create-group', 'running');
    expect(c?.dueAt.toISOString()).toBe(sh('2026-11-24T10:00:00'));
    await s.at('2026-11-24T10:00:00');
    const nudge = (await s.reminders('pj-internal')).filter((x) => x.payload.text.includes('建立讨论组'));
    expect(nudge.map((x) => x.payload.mentions)).toEqual([['feng']]);
    // The group is created and bound: the clock is done; 冯工 has not spoken there yet, so 项目部 is told.
    await s.bot.say('qian', '/群 类型=客户', { group: 'pj-client' });
    s.clock.set(sh('2026-11-24T11:00:00'));
    const bound = await s.bot.say('qian', '/绑定 D2', { group: 'pj-client' });
    expect(bound).not.toContain('计时');
    expect(await s.timer('client-group.create-group', 'running')).toHaveLength(0);
    const member = (await s.db.select().from(outbox).where(eq(outbox.dedupeKey, 'clientgroup:member:' + (await groupId(s.db, 'pj-client')) + ':' + (await personId(s.db, 'feng')))))[0];
    expect(member?.conversationId).toBe('pj-internal');
    expect(member?.payload.mentions).toEqual(['feng']);
    expect(member?.payload.text).toContain('项目经理须在讨论组内');
    // 审计 with several contacts (2.2.2.7): the playbook's 1-day clock, which /绑定 in a client group completes too.
    await s.bot.say('wang', '/单 新建 客户=远山会计 类型=审计 业务员=@王业务 已付款');
    await s.bot.say('wu', '/派单 D3 @郑审计');
    await s.bot.say('zheng', '/进度 D3 客户有多个联系人');
    expect((await s.timer('audit.discussion-group', 'running')).map((t) => t.orderId)).toEqual([3]);
    await s.bot.say('wu', '/群 类型=客户', { group: 'au-client' });
    await s.bot.say('wu', '/绑定 D3', { group: 'au-client' });
    expect(await s.timer('audit.discussion-group', 'running')).toHaveLength(0);
    expect((await s.timer('audit.discussion-group', 'done')).map((t) => t.orderId)).toEqual([3]);
    // 专利 orders get no group-creation clock from coaching.
    await s.bot.say('zhang', '/进度 D1 已辅导');
    expect((await s.timer('client-group.create-group')).filter((t) => t.orderId === 1)).toHaveLength(0);
  });
}, 180_000); // each test opens its own database: generous under load

async function groupId(db: Database['db'], conversationId: string) {
  const { groups } = await import('../../src/db/schema');
  return (await db.select().from(groups).where(eq(groups.conversationId, conversationId)))[0]!.id;
}
async function personId(db: Database['db'], userid: string) {
  const { people } = await import('../../src/db/schema');
  return (await db.select().from(people).where(eq(people.userid, userid)))[0]!.id;
}
