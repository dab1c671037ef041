import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, desc, eq, like, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCalendarCli } from '../../src/calendar-cli';
import type { Database } from '../../src/db/client';
import { calendarNotices, calendarStatutoryDays, departments, events, groups, outbox, timers } from '../../src/db/schema';
import { applyNotice, previewNotice, type NoticeContext } from '../../src/features/clocks';
import { demoBot, fakeClock, playbook, REFUSED } from '../helpers/bot';
import { drivers } from '../helpers/databases';

const FIXTURES = join(import.meta.dirname, '../fixtures/calendar-notices');
/** A constructed 2027 notice, marked on its first line as test data (the real one is not out yet). */
const NOTICE_2027 = readFileSync(join(FIXTURES, '2027-TEST-FIXTURE.txt'), 'utf8');
const NOTICE_2026 = readFileSync(join(FIXTURES, '2026.txt'), 'utf8');

describe.each(drivers)('/日历 导入 on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  // Thursday 2027-02-04 10:00 in Shanghai: the day before the 2027 Spring Festival of the fixture.
  const clock = fakeClock('2027-02-04T02:00:00Z');
  const db = () => database.db;
  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { clock });
    // 总经办 gets a department group, so the uncovered-year warning has somewhere to go.
    const [mgmt] = await db().select().from(departments).where(eq(departments.name, '总经办'));
    await db().insert(groups).values({ platform: 'sandbox', conversationId: 'mgmt', title: '总经办群', kind: 'internal', departmentId: mgmt!.id }).onConflictDoNothing();
  });
  afterAll(async () => database?.close());

  const noticeId = (reply: string) => Number(/编号 (\d+)）/.exec(reply)![1]);
  const assignTimer = async (orderId: number) =>
    (await db().select().from(timers).where(and(eq(timers.orderId, orderId), eq(timers.state, 'running'))))[0]!;

  it('previews, applies on confirm, recomputes a running deadline across the imported holiday, and ends the uncovered-year warning', async () => {
    expect(await bot.warnUncoveredYears()).toEqual([2027]);
    const [warning] = await db().select().from(outbox).where(like(outbox.dedupeKey, 'notice:calendar-fallback:2027:%'));
    expect(warning!.payload.text).toContain('/日历 导入');

    // A running order: 2 working days to assign (3.1.2), counted on the fallback calendar: Monday 2月8日 10:00.
    const created = await bot.say('wang', '/单 新建 客户=导入测试 类型=专利 业务员=wang');
    const orderId = Number(/D(\d+)/.exec(created)![1]);
    const before = await assignTimer(orderId);
    expect(before.dueAt.toISOString()).toBe('2027-02-08T02:00:00.000Z');

    const preview = await bot.say('boss', `/日历 导入 ${NOTICE_2027}`);
    expect(preview).toContain('2027 年节假日安排（编号');
    expect(preview).toContain('· 春节：休息 2月5日（周五）至2月13日（周六），共 9 天；调休上班 2月20日（周六）');
    expect(preview).toContain('· 劳动节：休息 5月1日（周六）至5月5日（周三），共 5 天；调休上班 4月25日（周日）、5月8日（周六）');
    expect(preview).toContain('目前还没有 2027 年的节假日数据');
    const id = noticeId(preview);
    expect(preview).toContain(`/日历 导入 确认 ${id}`);
    // Nothing applied yet.
    expect(await bot.say('zhang', '/日历 2027-02-05')).toContain('工作日');
    expect((await assignTimer(orderId)).dueAt.toISOString()).toBe('2027-02-08T02:00:00.000Z');

    const applied = await bot.say('boss', `/日历 导入 确认 ${id}`);
    expect(applied).toContain('已导入 2027 年节假日安排');
    expect(applied).toContain('休息 29 天，调休上班 5 天');
    expect(applied).toMatch(/已按新日历重算 \d+ 项进行中的计时/);
    // Thursday 8 h + (Spring Festival off through Sunday 2月14日) Monday 9 h + 1 h → Tuesday 2月16日 10:00.
    expect((await assignTimer(orderId)).dueAt.toISOString()).toBe('2027-02-16T02:00:00.000Z');
    expect(await bot.say('zhang', '/日历 2027-02-05')).toMatch(/休息日.*春节|春节.*休息/);
    expect(await bot.say('zhang', '/日历 2027-02-20')).toContain('补班');

    // Audit: who, when, the source text, on the notice row and in the event log.
    const [row] = await db().select().from(calendarNotices).where(eq(calendarNotices.id, id));
    expect(row).toMatchObject({ status: 'applied', year: 2027, createdBy: 'boss', appliedBy: 'boss', source: NOTICE_2027.trim() });
    expect(row!.appliedAt!.toISOString()).toBe(clock().toISOString());
    const [audit] = await db().select().from(events).where(eq(events.action, 'calendar.notice.apply'));
    expect(audit).toMatchObject({ actorUserid: 'boss', subject: `calendar-notice:${id}` });
    expect(audit!.data.source).toBe(NOTICE_2027.trim());
    expect((await db().select().from(calendarStatutoryDays).where(eq(calendarStatutoryDays.year, 2027))).length).toBe(34);

    expect(await bot.say('boss', `/日历 导入 确认 ${id}`)).toContain('不会重复导入');
    expect(await bot.warnUncoveredYears()).toEqual([]);
    clock.set('2027-12-15T02:00:00Z');
    expect(await bot.warnUncoveredYears()).toEqual([2028]);
    clock.set('2027-02-04T02:00:00Z');
  });

  it('shows a changed notice as a diff against the earlier import, and refuses a preview made stale by a later import', async () => {
    const changed = NOTICE_2027.replace('6月9日（周三）放假1天，不调休', '6月9日（周三）至11日（周五）放假调休，共3天。6月12日（周六）上班');
    const a = await bot.say('boss', `/日历 导入 ${changed}`);
    expect(a).toContain('与目前的 2027 年数据相比');
    expect(a).toContain('改为休息：6月10日（周四）至6月11日（周五）');
    expect(a).toContain('改为调休上班：6月12日（周六）');
    const b = await bot.say('boss', `/日历 导入 ${NOTICE_2027.replace('9月15日（周三）放假1天，不调休', '9月15日（周三）至17日（周五）放假，共3天')}`);
    expect(await bot.say('boss', `/日历 导入 确认 ${noticeId(b)}`)).toContain('已导入');
    expect(await bot.say('boss', `/日历 导入 确认 ${noticeId(a)}`)).toContain('已有变动');
    expect(await bot.say('zhang', '/日历 2027-06-10')).toContain('工作日');
    expect(await bot.say('zhang', '/日历 2027-09-16')).toContain('休息');
  });

  it('names the failing line of a notice that does not parse and stores nothing', async () => {
    const count = async () => (await db().select({ n: sql<number>`count(*)::int` }).from(calendarStatutoryDays))[0]!.n;
    const notices = async () => (await db().select({ n: sql<number>`count(*)::int` }).from(calendarNotices))[0]!.n;
    const [days, rows] = [await count(), await notices()];
    const bad = NOTICE_2027.replace('共5天', '共6天');
    const r = await bot.say('boss', `/日历 导入 ${bad}`);
    expect(r).toContain('没有做任何修改');
    expect(r).toContain('第 6 行「四、劳动节：');
    expect(r).toContain('共 6 天，但日期算下来是 5 天');
    expect([await count(), await notices()]).toEqual([days, rows]);
  });

  it('reads the notice from the next message of the same person in the same chat, within five minutes', async () => {
    expect(await bot.say('boss', '/日历 导入')).toContain('5 分钟内');
    // Someone else's message in between is not the notice.
    await bot.say('zhang', NOTICE_2026);
    await bot.say('boss', NOTICE_2026, { group: 'mgmt' });
    const previews = async () => (await db().select().from(calendarNotices).where(eq(calendarNotices.year, 2026))).length;
    expect(await previews()).toBe(0);
    clock.advance(60_000);
    await bot.say('boss', NOTICE_2026);
    const [preview] = await db().select().from(calendarNotices).where(eq(calendarNotices.year, 2026));
    expect(preview).toMatchObject({ status: 'preview', createdBy: 'boss' });
    const [reply] = await db().select().from(outbox).where(eq(outbox.conversationId, 'demo-internal')).orderBy(desc(outbox.id)).limit(1);
    expect(reply!.payload.text).toContain(`2026 年节假日安排（编号 ${preview!.id}）`);
    expect(reply!.payload.text).toContain('与目前的 2026 年数据完全一致');
    // Once read, the next message is just a message; and a late one (after five minutes) is not read.
    await bot.say('boss', NOTICE_2026);
    expect(await previews()).toBe(1);
    expect(await bot.say('boss', '/日历 导入')).toContain('5 分钟内');
    clock.advance(6 * 60_000);
    await bot.say('boss', NOTICE_2026);
    expect(await previews()).toBe(1);
  });

  it('refuses a person who is not 总经办 or an admin, politely', async () => {
    expect(await bot.say('zhang', `/日历 导入 ${NOTICE_2027}`)).toMatch(REFUSED);
    expect(await bot.say('zhang', '/日历 导入 确认 1')).toMatch(REFUSED);
    expect(await bot.say('zhang', '/日历 导入')).toMatch(REFUSED);
  });

  it('applies nothing when the apply fails halfway (one transaction)', async () => {
    const ctx = (tx: never): NoticeContext => ({
      tx,
      now: clock(),
      userid: 'boss',
      audit: async () => {},
      clocks: { calendar: bot.calendar, ruleOf: () => undefined, emit: async () => [] },
    });
    const text = NOTICE_2027.replace('端午节：6月9日（周三）放假1天，不调休', '端午节：6月9日（周三）至11日（周五）放假，共3天');
    const reply = await db().transaction((tx) => previewNotice(ctx(tx as never), text));
    const id = noticeId(reply);
    const daysBefore = await db().select().from(calendarStatutoryDays).where(eq(calendarStatutoryDays.year, 2027));
    await expect(
      db().transaction((tx) => applyNotice({ ...ctx(tx as never), audit: async () => Promise.reject(new Error('audit store down')) }, id)),
    ).rejects.toThrow('audit store down');
    expect(await db().select().from(calendarStatutoryDays).where(eq(calendarStatutoryDays.year, 2027))).toEqual(daysBefore);
    expect((await db().select().from(calendarNotices).where(eq(calendarNotices.id, id)))[0]!.status).toBe('preview');
  });

  it('imports from a file with npm run calendar -- import / confirm', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'notice-'));
    try {
      const file = join(dir, 'notice.txt');
      await writeFile(file, NOTICE_2027.replace('2月20日（周六）上班', '2月20日（周六）、2月21日（周日）上班'));
      const out: string[] = [];
      const opts = { database, playbook, timeZone: 'Asia/Shanghai', workingHours: { start: '09:00', end: '18:00' }, userid: 'shell:tester', clock, out: (l: string) => out.push(l) };
      expect(await runCalendarCli(['import', file], opts)).toBe(0);
      expect(out[0]).toContain('改为调休上班：2月21日（周日）');
      const id = noticeId(out[0]!);
      expect(out[0]).toContain(`npm run calendar -- confirm ${id}`);
      expect(await runCalendarCli(['confirm', String(id)], opts)).toBe(0);
      expect(out[1]).toContain('已导入 2027 年节假日安排');
      expect(await bot.say('zhang', '/日历 2027-02-21')).toContain('补班');
      const [audit] = await db().select().from(events).where(and(eq(events.action, 'calendar.notice.apply'), eq(events.subject, `calendar-notice:${id}`)));
      expect(audit!.actorUserid).toBe('shell:tester');
      expect(await runCalendarCli(['import', join(dir, 'missing.txt')], opts)).toBe(1);
      expect(await runCalendarCli(['frobnicate'], opts)).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});


describe('npm run calendar from a shell (embedded database in DATA_DIR)', () => {
  it('previews a notice file, then applies it by its number', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'calendar-cli-'));
    const run = (...args: string[]) =>
      promisify(execFile)('npm', ['run', '-s', 'calendar', '--', ...args], {
        cwd: join(import.meta.dirname, '../..'),
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: join(dir, 'pg') },
      });
    try {
      const file = join(dir, 'notice.txt');
      await writeFile(file, NOTICE_2027);
      const preview = await run('import', file);
      expect(preview.stdout).toContain('2027 年节假日安排（编号 1）');
      expect(preview.stdout).toContain('npm run calendar -- confirm 1');
      const applied = await run('confirm', '1');
      expect(applied.stdout).toContain('已导入 2027 年节假日安排（编号 1）：休息 29 天，调休上班 5 天');
      const again = await run('confirm', '1').catch((e: { code: number; stdout: string }) => e);
      expect(again).toMatchObject({ code: 1 });
      expect((again as { stdout: string }).stdout).toContain('不会重复导入');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
