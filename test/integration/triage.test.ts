import { and, asc, eq, like, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { clients, complaints, events, groups, outbox, timers, triageSuggestions } from '../../src/db/schema';
import { RULES_VERSION } from '../../src/features/triage/classify';
import { demoBot, fakeClock, REFUSED } from '../helpers/bot';
import { drivers } from '../helpers/databases';

/**
 * Complaint triage without a model (the rules): a client's complaint in a client group → 疑似投诉 in
 * the department's internal group with real @ → `/投诉 确认` files it exactly as `/投诉`, its clock
 * counted from the client's message; `/投诉 忽略` files nothing; one reminder after 10 minutes.
 */
describe.each(drivers)('complaint triage with rules on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  const clock = fakeClock('2026-11-23T02:00:00Z');
  const db = () => database.db;
  const at = (local: string) => clock.set(new Date(`${local}+08:00`).toISOString());
  const outboxTo = async (conv: string) => db().select().from(outbox).where(eq(outbox.conversationId, conv)).orderBy(asc(outbox.id));
  const suggestions = async () => db().select().from(triageSuggestions).orderBy(asc(triageSuggestions.id));

  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { clock, admins: ['root'] });
    at('2026-11-23T09:00:00');
    const made = await bot.say('wang', '/单 新建 客户=华星科技 类型=专利 业务员=@王业务 已付款');
    expect(made, made).toContain('D1');
    expect(await bot.say('li', '/派单 D1 @张工')).not.toMatch(REFUSED);
    // The client group is bound to the client; its one open order is D1.
  });
  afterAll(async () => database?.close());

  it('a thank-you, a question about dates and scheduling make no suggestion', async () => {
    at('2026-11-23T09:30:00');
    for (const text of ['谢谢张工，资料收到了', '请问审计报告大概什么时候能出来？', '下周三上午方便来公司辅导吗？']) {
      expect(await bot.say('client-a', text, { group: 'demo-client' })).toBe('');
    }
    expect(await suggestions()).toHaveLength(0);
  });

  it("a client's complaint reaches the internal group with @handler and @supervisor, and nothing is said in the client group", async () => {
    const before = (await outboxTo('demo-client')).length;
    at('2026-11-23T10:00:00');
    const reply = await bot.say('client-a', '你们上周说好周三给结果，到现在没人回电话，太不负责了', { group: 'demo-client', name: '赵总' });
    expect(reply).toBe('');
    const [s] = await suggestions();
    expect(s).toMatchObject({ status: 'open', level: 'A', source: 'rules', orderId: 1 });
    const notice = (await outboxTo('demo-internal')).filter((r) => r.dedupeKey === `triage:${s!.id}:notice`);
    expect(notice).toHaveLength(1);
    expect(notice[0]!.payload.text).toContain(`疑似投诉 X${s!.id}：华星科技（D1，专利）「`);
    expect(notice[0]!.payload.text).toContain('没人回电话');
    expect(notice[0]!.payload.text).toContain('建议级别 A');
    expect(notice[0]!.payload.text).toContain(`确认：/投诉 确认 X${s!.id}　忽略：/投诉 忽略 X${s!.id}`);
    expect(notice[0]!.payload.mentions).toEqual(['zhang', 'li']);
    expect(notice[0]!.payload.text).toContain('@张工 @李主管');
    expect(notice[0]!.payload.internal).toBe(true);
    expect((await outboxTo('demo-client')).length).toBe(before);
  });

  it('more messages from the same client person about the same order within the window join the one suggestion', async () => {
    at('2026-11-23T10:02:00');
    await bot.say('client-a', '打了三个电话都没人接，再这样我们就要求退款', { group: 'demo-client', name: '赵总' });
    const all = await suggestions();
    expect(all).toHaveLength(1);
    expect(all[0]!.messages).toHaveLength(2);
    expect(all[0]!.level).toBe('B'); // raised by the refund
    const raised = (await outboxTo('demo-internal')).filter((r) => r.payload.text.startsWith('疑似投诉 X1 升级为 B 级：「'));
    expect(raised).toHaveLength(1);
    expect(raised[0]!.payload.mentions).toEqual(['zhang', 'li']);
    expect(all[0]!.firstAt.toISOString()).toBe('2026-11-23T02:00:00.000Z');
  });

  it('/投诉 确认 files the complaint from the client time, with the client words, and the escalation comes at minute 30', async () => {
    at('2026-11-23T10:07:00');
    const reply = await bot.say('li', '/投诉 确认 X1');
    expect(reply).toContain('X1 已确认为投诉 T1');
    const [c] = await db().select().from(complaints);
    expect(c!.receivedAt.toISOString()).toBe('2026-11-23T02:00:00.000Z');
    expect(c!.channel).toBe('chat');
    expect(c!.content).toContain('到现在没人回电话');
    expect(c!.content).toContain('打了三个电话都没人接');
    expect(c!.sourceConversationId).toBe('demo-client');
    expect(c!.orderIds).toEqual([1]);
    const [callback] = await db().select().from(timers).where(and(eq(timers.subject, `complaint:${c!.id}`), eq(timers.ruleId, 'complaint.callback')));
    expect(callback!.dueAt.toISOString()).toBe('2026-11-23T02:30:00.000Z');
    // The same notice as /投诉 in the department group.
    expect((await outboxTo('demo-internal')).some((r) => r.payload.text.startsWith('【客户投诉】T1'))).toBe(true);
    // The reminder clock of the suggestion stopped.
    const [reminder] = await db().select().from(timers).where(eq(timers.subject, 'triage:1'));
    expect(reminder!.state).toBe('done');

    at('2026-11-23T10:29:59');
    await bot.scheduler.tick();
    const esc = async () => (await db().select().from(outbox).where(like(outbox.dedupeKey, `timer:${callback!.id}:%`))).filter((r) => r.payload.mentions.includes('liu'));
    expect(await esc()).toHaveLength(0);
    at('2026-11-23T10:30:00');
    await bot.scheduler.tick();
    expect(await esc()).toHaveLength(1);
    expect((await esc())[0]!.conversationId).toBe('demo-internal');
    // Nothing about it in the client group.
    expect((await outboxTo('demo-client')).filter((r) => /投诉|级别|X1|T1/.test(r.payload.text))).toHaveLength(0);
    const audit = await db().select().from(events).where(eq(events.action, 'triage.confirmed'));
    expect(audit[0]!.data).toMatchObject({ complaint: 'T1', source: 'rules' });
    expect(await bot.say('li', '/投诉 确认 X1')).toContain('X1 已确认为投诉 T1');
  });

  it('an unconfirmed suggestion is reminded once to the supervisor after 10 minutes, then climbs to the head and 总经办; /投诉 忽略 files no complaint', async () => {
    at('2026-11-23T14:00:00');
    await bot.say('client-b', '负责人态度太差了，我要投诉', { group: 'demo-client' });
    const s = (await suggestions()).at(-1)!;
    expect(s.id).toBe(2);
    const [t] = await db().select().from(timers).where(eq(timers.subject, 'triage:2'));
    at('2026-11-23T14:09:59');
    await bot.scheduler.tick();
    expect(await db().select().from(outbox).where(like(outbox.dedupeKey, `timer:${t!.id}:%`))).toHaveLength(0);
    for (const x of ['2026-11-23T14:10:00', '2026-11-23T14:11:00', '2026-11-23T14:30:00', '2026-11-23T14:31:00', '2026-11-23T15:00:00', '2026-11-23T16:00:00']) {
      at(x);
      await bot.scheduler.tick();
    }
    const reminders = await db().select().from(outbox).where(like(outbox.dedupeKey, `timer:${t!.id}:%`)).orderBy(asc(outbox.id));
    // 14:10 the supervisor, 14:30 the department head, 15:00 总经办: each once.
    expect(reminders.map((r) => r.dedupeKey)).toEqual([`timer:${t!.id}:due`, `timer:${t!.id}:overdue_head`, `timer:${t!.id}:overdue_management`]);
    expect(reminders[0]!.payload.mentions).toEqual(['li']);
    expect(reminders[0]!.conversationId).toBe('demo-internal');
    expect(reminders[0]!.payload.text).toContain('/投诉 确认 X2');
    expect(reminders[1]!.payload.mentions).toEqual(['liu', 'li']);
    expect(reminders[2]!.payload.mentions).toEqual(['liu', 'boss']);

    const n = async () => (await db().select({ n: sql<number>`count(*)::int` }).from(complaints))[0]!.n;
    const before = await n();
    expect(await bot.say('li', '/投诉 忽略 X2 客户在催进度，已电话说明')).toContain('已忽略疑似投诉 X2');
    expect(await n()).toBe(before);
    expect((await suggestions()).at(-1)).toMatchObject({ status: 'dismissed', dismissReason: '客户在催进度，已电话说明' });
    expect(await bot.say('li', '/投诉 确认 X2')).toContain('已由');
    expect(await n()).toBe(before);
  });

  it('staff writing in a client group, and commands, are not triaged; malformed forms get the right form', async () => {
    const before = (await suggestions()).length;
    await bot.say('zhang', '客户说没人回电话，我马上回', { group: 'demo-client' });
    expect(await suggestions()).toHaveLength(before);
    expect(await bot.say('li', '/投诉 确认 abc')).toContain('/投诉 确认 <疑似投诉编号>');
    expect(await bot.say('li', '/投诉 忽略 X9')).toContain('缺少原因');
    expect(await bot.say('li', '/投诉 确认 X99')).toContain('没有找到疑似投诉 X99');
    // The confirm command shows internal detail: refused in the client group.
    expect(await bot.say('li', '/投诉 确认 X1', { group: 'demo-client' })).toContain('不能在客户群里使用');
    // /投诉 itself still works as before.
    expect(await bot.say('li', '/投诉 客户=华星科技 负责人=@张工 材料寄错地址了')).toContain('【客户投诉】');
  });

  it('/查 X1 shows the suggestion with its source and version', async () => {
    const r = await bot.say('li', '/查 X1');
    expect(r).toContain('疑似投诉 X1｜已确认为投诉 T1');
    expect(r).toContain(`规则（${RULES_VERSION}）`);
  });

  it("the text of /投诉 is read by the triage's rules too: a level the playbook's keywords miss is proposed, with why", async () => {
    at('2026-11-24T11:00:00');
    const words = '电话关机一整天，找不到人，太耽误事了';
    const reply = await bot.say('zhang', `/投诉 客户=华星科技 ${words}`);
    expect(reply).toContain('建议 B 级');
    const [c] = await db().select().from(complaints).where(eq(complaints.content, words));
    expect(c!.proposedLevel).toBe('B');
    const [why] = await db().select().from(events).where(and(eq(events.subject, `complaint:${c!.id}`), like(events.action, '%proposed%')));
    expect(JSON.stringify(why ?? {})).toContain('分诊规则');
  });

  it("a client group of a client with several open orders in one department: the notice goes to that department's group", async () => {
    at('2026-11-24T10:00:00');
    expect(await bot.say('wang', '/单 新建 客户=远山科技 类型=专利 业务员=@王业务 已付款')).toMatch(/D\d+/);
    expect(await bot.say('wang', '/单 新建 客户=远山科技 类型=专利 业务员=@王业务 已付款')).toMatch(/D\d+/);
    const [client] = await db().select().from(clients).where(eq(clients.name, '远山科技'));
    await db().insert(groups).values({ platform: 'sandbox', conversationId: 'yuanshan-client', kind: 'client', clientId: client!.id });
    const before = (await outboxTo('demo-internal')).length;
    await bot.say('client-ys', '材料交了两周了一直没进展，电话也没人接，太不负责了', { group: 'yuanshan-client' });
    const posted = (await outboxTo('demo-internal')).slice(before);
    expect(posted.map((r) => r.payload.text).join('\n')).toContain('疑似投诉');
    expect(posted.map((r) => r.payload.text).join('\n')).toContain('远山科技');
    expect(await outboxTo('yuanshan-client')).toEqual([]);
  });
});
