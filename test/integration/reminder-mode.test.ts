import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeRemindersPrivately, type ReminderRow } from '../../src/features/reminder-mode/route-privately';
import type { Database } from '../../src/db/client';
import { groups, outbox, people, reminderModes, timers } from '../../src/db/schema';
import { demoBot, fakeClock } from '../helpers/bot';
import { drivers } from '../helpers/databases';

/**
 * `/提醒方式 私聊|群` and where the scheduler's reminders then go: one person's internal reminder to
 * their private chat (the one they already have with the bot, else a new one that names them); a
 * reminder for several people, for a client group, or held for want of a group stays where it was.
 */
describe.each(drivers)('/提醒方式 on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  const clock = fakeClock('2026-11-23T02:00:00Z');
  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { clock });
  });
  afterAll(async () => database?.close());

  const modeOf = async (userid: string) => {
    const [p] = await database.db.select().from(people).where(eq(people.userid, userid));
    const [m] = await database.db.select().from(reminderModes).where(eq(reminderModes.personId, p!.id));
    return m?.mode ?? 'group';
  };
  const reminder = (platform: string, conversationId: string, text: string, mentions: string[], extra: Partial<ReminderRow> = {}) =>
    ({ platform, conversationId, payload: { text, mentions, internal: true }, dedupeKey: `t:${text}`, ...extra }) as ReminderRow & { dedupeKey: string };

  it('sets, shows and resets one\'s own mode; a stranger and a bad value get the right form', async () => {
    expect(await bot.say('zhang', '/提醒方式')).toContain('您现在的提醒方式：群');
    expect(await bot.say('zhang', '/提醒方式 私聊')).toContain('私聊发给您');
    expect(await modeOf('zhang')).toBe('private');
    expect(await bot.say('zhang', '/提醒方式')).toContain('您现在的提醒方式：私聊');
    expect(await bot.say('zhang', '/提醒方式 短信')).toMatch(/^抱歉|只能是/);
    expect(await modeOf('zhang')).toBe('private');
    expect(await bot.say('li', '/提醒方式 群')).toContain('都在群里 @ 您');
    expect(await modeOf('li')).toBe('group');
    expect(await bot.say('client-zhao', '/提醒方式 私聊')).toMatch(/^(抱歉|您好)/);
  });

  it('moves only one person\'s internal reminders, to their known private chat or a new one that names them', async () => {
    await bot.say('zhang', '/提醒方式 私聊');
    await bot.say('liu', '/提醒方式 私聊');
    // liu has talked to the bot privately on DingTalk before: that conversation is used.
    await database.db.insert(groups).values({ platform: 'dingtalk', conversationId: 'cidLiuPrivate', route: { kind: 'dingtalk', privateUserId: 'liu' } });
    const rows = [
      reminder('wecom', 'wx-dept', '分配单 D1 今天到期，请提交。\n@张三', ['zhang']),
      reminder('dingtalk', 'cid-dept', '分配单 D2 今天到期，请提交。\n@刘部长', ['liu']),
      reminder('dingtalk', 'cid-dept', '分配单 D3 两人同提醒。\n@张三 @刘部长', ['zhang', 'liu']),
      reminder('wecom', 'wx-dept', '分配单 D4 给李主管。\n@李主管', ['li']),
      { ...reminder('wecom', 'wx-client', '客户群的提醒', ['zhang']), payload: { text: '客户群的提醒', mentions: ['zhang'] } },
      reminder('', '', '没有部门群的提醒\n@张三', ['zhang'], { status: 'unrouted' }),
      reminder('sandbox', 'demo-internal', '沙盒的提醒\n@张三', ['zhang']),
    ];
    const out = await database.db.transaction((tx) => routeRemindersPrivately(tx as never, rows, clock()));
    expect(out.map((r) => [r.platform, r.conversationId, r.payload.text, r.payload.mentions])).toEqual([
      ['wecom', 'zhang', '分配单 D1 今天到期，请提交。', []],
      ['dingtalk', 'cidLiuPrivate', '分配单 D2 今天到期，请提交。', []],
      ['dingtalk', 'cid-dept', '分配单 D3 两人同提醒。\n@张三 @刘部长', ['zhang', 'liu']],
      ['wecom', 'wx-dept', '分配单 D4 给李主管。\n@李主管', ['li']],
      ['wecom', 'wx-client', '客户群的提醒', ['zhang']],
      ['', '', '没有部门群的提醒\n@张三', ['zhang']],
      ['sandbox', 'demo-internal', '沙盒的提醒\n@张三', ['zhang']],
    ]);
    expect(out.map((r) => (r as { dedupeKey: string }).dedupeKey)).toEqual(rows.map((r) => (r as { dedupeKey: string }).dedupeKey));
    const [made] = await database.db.select().from(groups).where(and(eq(groups.platform, 'wecom'), eq(groups.conversationId, 'zhang')));
    expect(made!.route).toEqual({ kind: 'wecom', privateUserId: 'zhang' });
    expect(made!.kind).toBe('internal');
    expect(made!.createdAt).toEqual(clock()); // the app's clock, not the database's

    // Back to the group: nothing moves any more.
    await bot.say('zhang', '/提醒方式 群');
    const again = await database.db.transaction((tx) => routeRemindersPrivately(tx as never, [rows[0]!], clock()));
    expect(again[0]!.conversationId).toBe('wx-dept');
  });

  it('a DingTalk person without a private chat yet gets a conversation keyed by their staff id, whose route names them', async () => {
    await bot.say('wang', '/提醒方式 私聊');
    const out = await database.db.transaction((tx) =>
      routeRemindersPrivately(tx as never, [reminder('dingtalk', 'cid-sales', '客户回访今天到期。\n@王业务', ['wang'])], clock()),
    );
    expect(out[0]!.conversationId).toBe('private:wang');
    const [g] = await database.db.select().from(groups).where(and(eq(groups.platform, 'dingtalk'), eq(groups.conversationId, 'private:wang')));
    expect(g!.route).toEqual({ kind: 'dingtalk', privateUserId: 'wang' });
  });

  it('end to end: the scheduler\'s reminder for one person goes to their private chat, one for several stays in the WeCom group', async () => {
    // 专利部's department group is on WeCom in this firm.
    await database.db.update(groups).set({ platform: 'wecom', conversationId: 'wx-patent' }).where(eq(groups.conversationId, 'demo-internal'));
    for (const who of ['zhang', 'li', 'liu', 'boss']) await bot.say(who, '/提醒方式 私聊');
    clock.set('2026-11-23T01:30:00Z');
    const r = await bot.say('wang', '/单 新建 客户=私聊提醒测试 类型=专利 业务员=wang');
    expect(r).toMatch(/D\d+/);
    const ts = await database.db.select().from(timers);
    expect(ts.length, r).toBeGreaterThan(0);
    clock.set('2026-11-25T01:31:00Z'); // just past the due time (2 working days)
    const ticked = await bot.scheduler.tick();
    const ts2 = await database.db.select().from(timers);
    expect(ticked.sent, JSON.stringify([ticked, ts2.map((t) => [t.ruleId, t.state, t.nextStepAt, t.departmentId, t.orderId])])).toBeGreaterThan(0);
    const all = await database.db.select().from(outbox);
    const rows = all.filter((o) => o.dedupeKey?.startsWith('timer:') && o.platform === 'wecom');
    expect(rows.length, JSON.stringify(all.map((o) => [o.platform, o.conversationId, o.dedupeKey, o.status, o.payload.mentions]))).toBeGreaterThan(0);
    const moved = rows.filter((o) => o.conversationId !== 'wx-patent');
    const stayed = rows.filter((o) => o.conversationId === 'wx-patent');
    expect(moved.length).toBeGreaterThan(0);
    for (const o of moved) {
      expect(o.payload.mentions).toEqual([]);
      expect(o.payload.text).not.toMatch(/\n@\S+$/);
      const [g] = await database.db.select().from(groups).where(and(eq(groups.platform, 'wecom'), eq(groups.conversationId, o.conversationId)));
      expect((g!.route as { privateUserId?: string }).privateUserId).toBe(o.conversationId);
    }
    for (const o of stayed) expect(o.payload.mentions.length).not.toBe(1);
  });
});
