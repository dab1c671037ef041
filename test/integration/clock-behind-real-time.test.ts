import chineseDaysData from 'chinese-days/dist/chinese-days.json';
import { and, asc, eq, isNotNull, like, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { rowsOf } from '../../src/db/rows';
import { outbox, timers } from '../../src/db/schema';
import { createStatutoryHolidaySource, createWorkCalendar } from '../../src/domain/calendar';
import { sandboxChat, appOnDriver } from '../helpers/app';
import { fakeClock, silentLog, yearWarning } from '../helpers/bot';
import { drivers } from '../helpers/databases';

const sh = (local: string) => new Date(`${local}+08:00`).toISOString();

/** Holiday data as an out-of-date package would have it: nothing from 2025 on. */
function calendarWithoutDataFrom(year: number) {
  const keep = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).filter(([d]) => Number(d.slice(0, 4)) < year));
  const statutory = createStatutoryHolidaySource({
    holidays: keep(chineseDaysData.holidays),
    workdays: keep(chineseDaysData.workdays),
    inLieuDays: keep(chineseDaysData.inLieuDays),
  });
  const cal = createWorkCalendar({ timeZone: 'Asia/Shanghai', workingHours: { start: '09:00', end: '18:00' }, statutory });
  return async () => cal;
}

/**
 * The app's clock a year behind the real one (2025): every row it writes is stamped by that clock, so
 * the scheduler's reminders and notices are due — and delivered by the outbox worker — at that clock,
 * and no table holds the database's own now(). Before the fix, the scheduler's rows took now() as
 * next_attempt_at and were never due while the clock was behind real time.
 */
describe.each(drivers)('a clock behind real time, end to end ($name)', (driver) => {
  let app: App;
  const realStart = Date.now();
  const clock = fakeClock(sh('2025-11-24T10:00:00')); // a Monday
  appOnDriver(driver, {}, { clock, loops: false }, (a) => (app = a));

  const { messages, say } = sandboxChat(() => app);
  const db = () => app.database.db;

  it('delivers a scheduler reminder at the 2025 clock, its row created at that clock', async () => {
    expect(await say('demo-internal', 'wang', '/单 新建 客户=华星科技 类型=专利 业务员=@王业务')).toContain('D1');
    const [timer] = await db()
      .select()
      .from(timers)
      .where(and(eq(timers.subject, 'order:1'), eq(timers.state, 'running'), isNotNull(timers.nextStepAt)))
      .orderBy(asc(timers.nextStepAt))
      .limit(1);
    expect(timer, 'the new order started a clock').toBeDefined();
    const at = timer!.nextStepAt!;
    expect(at.getTime()).toBeLessThan(realStart);
    clock.set(at.toISOString());
    expect((await app.scheduler.tick()).sent).toBeGreaterThan(0);
    await app.outbox.drain(10);

    const rows = await db().select().from(outbox).where(like(outbox.dedupeKey, `timer:${timer!.id}:%`));
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.status, r.dedupeKey ?? '').toBe('sent');
      expect(r.createdAt).toEqual(at);
      expect(r.sentAt).toEqual(at);
    }
    const bot = (await messages(rows[0]!.conversationId)).filter((m) => m.from === 'bot').map((m) => m.text);
    expect(bot).toContain(rows[0]!.payload.text);
  });

  it('delivers the calendar-fallback notice at the 2025 clock, its row created at that clock', async () => {
    clock.set(sh('2025-11-25T10:00:00'));
    expect(await say('mgmt-home', 'boss', '/部门群 总经办')).toContain('总经办');
    const scheduler = { warnUncoveredYears: yearWarning(db(), calendarWithoutDataFrom(2025), silentLog, clock) };
    clock.set(sh('2025-11-25T10:05:00'));
    expect(await scheduler.warnUncoveredYears()).toEqual([2025, 2026]);
    await app.outbox.drain(10);

    const rows = await db().select().from(outbox).where(like(outbox.dedupeKey, 'notice:calendar-fallback:%')).orderBy(asc(outbox.id));
    expect(rows.map((r) => [r.conversationId, r.status])).toEqual([
      ['mgmt-home', 'sent'],
      ['mgmt-home', 'sent'],
    ]);
    for (const r of rows) {
      expect(r.createdAt).toEqual(clock());
      expect(r.sentAt).toEqual(clock());
    }
    const notices = (await messages('mgmt-home')).filter((m) => m.from === 'bot' && m.text.startsWith('【日历提醒】'));
    expect(notices.map((m) => m.text.slice(0, 30))).toEqual([rows[0]!.payload.text.slice(0, 30), rows[1]!.payload.text.slice(0, 30)]);
  });

  it('leaves no timestamp of the real time in any table: every time written came from the clock', async () => {
    const columns = rowsOf<{ table_name: string; column_name: string }>(
      await db().execute(sql`
        select table_name, column_name from information_schema.columns
        where table_schema = 'public' and data_type like 'timestamp%'
        order by table_name, column_name`),
    );
    expect(columns.length).toBeGreaterThan(20);
    const stamped: string[] = [];
    let seen = 0;
    for (const c of columns) {
      const [r] = rowsOf<{ late: number; n: number }>(
        await db().execute(
          sql`select count(*) filter (where ${sql.identifier(c.column_name)} >= ${new Date(realStart - 60_000).toISOString()}::timestamptz)::int as late,
                     count(${sql.identifier(c.column_name)})::int as n
              from ${sql.identifier(c.table_name)}`,
        ),
      );
      seen += r!.n;
      if (r!.late > 0) stamped.push(`${c.table_name}.${c.column_name}: ${r!.late}`);
    }
    expect(seen, 'the scenario wrote timestamps').toBeGreaterThan(30);
    expect(stamped).toEqual([]);
  });
});
