import { and, eq, like } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Feature, WatchContext } from '../../src/core/feature';
import type { TimerSubject } from '../../src/core/clocks/scheduler';
import { toRow } from '../../src/core/clocks/clock-store';
import type { Database } from '../../src/db/client';
import { chatLog, events, groups, orders, outbox, timers } from '../../src/db/schema';
import { nextOccurrence, startTimer } from '../../src/domain/timers';
import { demoBot, playbook } from '../helpers/bot';
import { drivers } from '../helpers/databases';

/**
 * Issue 10: a feature registered in a test adds a command, a `/查` letter, a timer subject and a
 * watcher without touching the chat core or the scheduler.
 */
const probeRule = playbook.rules.find((r) => r.trigger.kind === 'event' && !r.requiresPayment)!;

const seriesRule = playbook.rules.find((r) => r.trigger.kind === 'schedule' && r.trigger.scope === 'department')!;
const maintained: Date[] = [];
const rolledFrom: Date[] = [];

function probeFeature(seen: WatchContext[]): Feature {
  const subject: TimerSubject = {
    prefix: 'probe',
    rule: (id) => (id === probeRule.id ? probeRule : id === seriesRule.id ? seriesRule : undefined),
    prepare: async (_tx, _rows, now, cal) => ({
      render: (row) => ({
        target: { platform: 'sandbox', conversationId: 'demo-internal', internal: true },
        text: `探针提醒 ${row.subject}`,
        mentions: [],
      }),
      nextTimer: (_row, rule, after) => {
        rolledFrom.push(after);
        const occurrence = nextOccurrence(rule, after, cal);
        return occurrence ? startTimer(rule, { occurrence }, now, cal) : null;
      },
    }),
    async maintain(db, now, calendar) {
      maintained.push(now);
      const [have] = await db.select().from(timers).where(eq(timers.subject, 'probe:series'));
      if (have) return 0;
      const cal = await calendar(db);
      const t = startTimer(seriesRule, { occurrence: nextOccurrence(seriesRule, now, cal)! }, now, cal)!;
      await db.insert(timers).values({ ...toRow(t, seriesRule, cal), subject: 'probe:series', createdAt: now, updatedAt: now });
      return 1;
    },
  };
  return {
    name: 'probe',
    help: { topic: '探针', words: ['探针', 'probe'] },
    commands: [
      {
        spec: {
          id: 'probe.ping',
          zh: ['探针'],
          en: ['probe'],
          summary: '测试用命令',
          usage: '/探针',
          example: '/探针',
          args: {},
          gate: 'staff',
        },
        handler: async (ctx) => ctx.reply(`探针收到，${ctx.actor.displayName}`),
      },
    ],
    refs: { P: { noun: '探针', example: 'P1', show: async (ctx, id) => ctx.reply(`探针 P${id}`) } },
    timerSubjects: [subject],
    async watch(ctx) {
      seen.push(ctx);
      await ctx.audit('probe.seen', `probe:${ctx.message.messageId}`, { sender: ctx.sender, kind: ctx.group.kind, orderId: ctx.group.orderId });
      if (ctx.message.text.includes('watcher-boom')) throw new Error('watcher failed after writing');
    },
  };
}

describe.each(drivers)('the feature seam on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  const seen: WatchContext[] = [];
  const db = () => database.db;
  const seenEvents = async (subject: string) =>
    db().select().from(events).where(and(eq(events.action, 'probe.seen'), eq(events.subject, subject)));
  const clientGroup = async () => (await db().select().from(groups).where(eq(groups.conversationId, 'demo-client')))[0]!;
  const logged = async (messageId: string) => db().select().from(chatLog).where(eq(chatLog.messageId, messageId));

  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { features: [probeFeature(seen)] });
  });
  afterAll(async () => database?.close());

  it('adds a command, its /帮助 topic and a /查 letter', async () => {
    expect(await bot.say('zhang', '/探针')).toBe('探针收到，张工');
    expect(await bot.say('zhang', '/查 P5')).toBe('探针 P5');
    expect(await bot.say('zhang', '/帮助 探针')).toContain('/探针');
    // An unknown letter lists every letter the features answer, the test's among them.
    const unknown = await bot.say('zhang', '/查 Z5');
    expect(unknown).toMatch(/^「Z5」不是可查询的编号/);
    expect(unknown).toContain('分配单以 D 开头，如 D12');
    expect(unknown).toContain('投诉以 T 开头，如 T7');
    expect(unknown).toContain('探针以 P 开头，如 P1');
  });

  it("runs the feature's timer subject in the scheduler", async () => {
    const now = bot.clock();
    const cal = await bot.calendar(db());
    const t = startTimer(probeRule, { at: now }, now, cal)!;
    const [row] = await db()
      .insert(timers)
      .values({ ...toRow(t, probeRule, cal), subject: 'probe:1', createdAt: now, updatedAt: now })
      .returning();
    (bot.clock as unknown as { advance(ms: number): void }).advance(120 * 86_400_000);
    await bot.scheduler.tick();
    const sent = await db().select().from(outbox).where(like(outbox.dedupeKey, `timer:${row!.id}:%`));
    expect(sent.length).toBe(1);
    expect(sent[0]!.payload.text).toBe('探针提醒 probe:1');
    expect(sent[0]!.conversationId).toBe('demo-internal');
  });

  it("runs the feature's upkeep (maintain) and rolls its recurring timers through its own nextTimer", async () => {
    const now = bot.clock();
    // The feature's upkeep started a series; the scheduler knows it only as the probe subject's.
    maintained.length = 0;
    rolledFrom.length = 0;
    expect(await bot.scheduler.maintain()).toBeGreaterThanOrEqual(1);
    expect(maintained.length).toBe(1);
    const [series] = await db().select().from(timers).where(eq(timers.subject, 'probe:series'));
    expect(series!.state).toBe('running');
    (bot.clock as unknown as { advance(ms: number): void }).advance(30 * 86_400_000);
    await bot.scheduler.tick();
    const rows = await db().select().from(timers).where(eq(timers.subject, 'probe:series'));
    // The occurrence reached its due step and ended; the subject's nextTimer started the next one.
    expect(rows.map((r) => r.state).sort()).toEqual(['done', 'running']);
    expect(rolledFrom.length).toBe(1);
    expect(rolledFrom[0]!.getTime()).toBeGreaterThan(now.getTime());
  });

  it('leaves alone a timer whose subject no installed feature runs', async () => {
    const now = bot.clock();
    const cal = await bot.calendar(db());
    const t = startTimer(probeRule, { at: now }, now, cal)!;
    const [row] = await db()
      .insert(timers)
      .values({ ...toRow(t, probeRule, cal), subject: 'uninstalled:1', createdAt: now, updatedAt: now })
      .returning();
    (bot.clock as unknown as { advance(ms: number): void }).advance(120 * 86_400_000);
    await bot.scheduler.tick();
    const [after] = await db().select().from(timers).where(eq(timers.id, row!.id));
    expect(after!.state).toBe('running');
    expect(after!.data).toEqual(row!.data);
    expect(await db().select().from(outbox).where(like(outbox.dedupeKey, `timer:${row!.id}:%`))).toEqual([]);
  });

  it('offers plain messages to the watcher with the group, its bound order and who sent it; commands are not offered', async () => {
    seen.length = 0;
    await bot.say('boss', '/单 新建 客户=华星科技 类型=专利 业务员=@陈总');
    const [order] = await db().select().from(orders).where(eq(orders.clientId, (await clientGroup()).clientId!)).limit(1);
    const orderId = order!.id;
    expect(await bot.say('boss', `/绑定 D${orderId}`, { group: 'demo-client' })).toContain('已绑定');
    expect(seen.length).toBe(0);
    await bot.say('client-wang', '请问材料什么时候能好？', { group: 'demo-client', id: 'w-client' });
    await bot.say('zhang', '王总您好，我今天下午给您回电。', { group: 'demo-client', id: 'w-staff' });
    expect(seen.map((c) => [c.message.messageId, c.sender, c.group.kind, c.group.orderId])).toEqual([
      ['w-client', 'client', 'client', orderId],
      ['w-staff', 'staff', 'client', orderId],
    ]);
    expect((await seenEvents('probe:w-client')).length).toBe(1);
  });

  it('a duplicate delivery runs no watcher twice', async () => {
    seen.length = 0;
    await bot.say('client-wang', '还在吗？', { group: 'demo-client', id: 'w-dup' });
    await bot.say('client-wang', '还在吗？', { group: 'demo-client', id: 'w-dup' });
    expect(seen.length).toBe(1);
    expect((await seenEvents('probe:w-dup')).length).toBe(1);
    expect((await logged('w-dup')).length).toBe(1);
  });

  it("a watcher that fails after writing loses only its own writes; the message is still recorded", async () => {
    await bot.say('client-wang', 'watcher-boom', { group: 'demo-client', id: 'w-boom' });
    expect((await logged('w-boom')).length).toBe(1);
    expect((await seenEvents('probe:w-boom')).length).toBe(0);
  });

  it("when the message's transaction fails, neither the watcher's write nor the chat log row is kept", async () => {
    // A deferred check at commit: the whole transaction fails after the watcher has written.
    await db().execute(
      sql.raw(`create or replace function probe_fail_commit() returns trigger language plpgsql as $$
        begin if new.text = 'commit-boom' then raise exception 'commit refused'; end if; return null; end $$;`),
    );
    await db().execute(
      sql.raw(`create constraint trigger probe_fail_commit after insert on chat_log deferrable initially deferred
        for each row execute function probe_fail_commit();`),
    );
    seen.length = 0;
    await expect(bot.say('client-wang', 'commit-boom', { group: 'demo-client', id: 'w-commit' })).rejects.toThrow();
    expect(seen.length).toBe(1); // the watcher ran and wrote …
    expect((await seenEvents('probe:w-commit')).length).toBe(0); // … and its write went with the message
    expect((await logged('w-commit')).length).toBe(0);
  });
});
