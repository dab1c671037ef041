import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { events, outbox, triageSuggestions } from '../../src/db/schema';
import { demoBot, fakeClock, REFUSED } from '../helpers/bot';
import { drivers } from '../helpers/databases';

/**
 * Issue 25, finding 6, end to end through the sandbox: irony and emoji anger in a client group raise a
 * suggestion; emoji thanks do not; where the rules cannot tell two levels apart the notice names both.
 */
describe.each(drivers)('triage level ranges and irony on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  const clock = fakeClock('2026-12-07T01:00:00Z');
  const db = () => database.db;
  const at = (local: string) => clock.set(new Date(`${local}+08:00`).toISOString());
  const suggestions = async () => db().select().from(triageSuggestions).orderBy(asc(triageSuggestions.id));
  const noticeOf = async (id: number) => {
    const rows = await db().select().from(outbox).where(eq(outbox.dedupeKey, `triage:${id}:notice`));
    expect(rows).toHaveLength(1);
    return rows[0]!.payload.text as string;
  };

  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { clock, admins: ['root'] });
    at('2026-12-07T09:00:00');
    expect(await bot.say('wang', '/单 新建 客户=华星科技 类型=专利 业务员=@王业务 已付款')).toContain('D1');
    expect(await bot.say('li', '/派单 D1 @张工')).not.toMatch(REFUSED);
  });
  afterAll(async () => database?.close());

  it('emoji thanks and a joke make no suggestion', async () => {
    at('2026-12-07T09:10:00');
    for (const text of ['谢谢张老师🙏🙏 效率真高', '👍👍👍', '哈哈哈 我们老板说你们比他还急😂']) {
      expect(await bot.say('client-a', text, { group: 'demo-client' })).toBe('');
    }
    expect(await suggestions()).toHaveLength(0);
  });

  it('irony is read as a complaint, with one level', async () => {
    at('2026-12-07T09:30:00');
    expect(await bot.say('client-a', '你们效率真高啊，一个月了还没动静', { group: 'demo-client', name: '赵总' })).toBe('');
    const [s] = await suggestions();
    expect(s).toMatchObject({ level: 'A', source: 'rules' });
    const text = await noticeOf(s!.id);
    expect(text).toContain('建议级别 A（轻微）');
    expect(text).not.toContain(' 或 ');
  });

  it('a regulator named without money lost: the notice says C or D, the record keeps the higher', async () => {
    at('2026-12-07T10:30:00'); // past the merge window: a suggestion of its own
    expect(await bot.say('client-a', '🤬🤬 再不给个说法我就去市场监管局', { group: 'demo-client', name: '赵总' })).toBe('');
    const all = await suggestions();
    expect(all).toHaveLength(2);
    expect(all[1]!.level).toBe('D');
    expect(await noticeOf(all[1]!.id)).toContain('建议级别 C 或 D（重大或严重，确认时请定级）');
    const [audit] = await db().select().from(events).where(and(eq(events.subject, `triage:${all[1]!.id}`), eq(events.action, 'triage.suggested')));
    expect(audit!.data).toMatchObject({ level: 'D', levelRange: ['C', 'D'] });
  });

  it('emoji-only anger is a suggestion', async () => {
    at('2026-12-07T11:30:00');
    expect(await bot.say('client-b', '😡😡😡', { group: 'demo-client' })).toBe('');
    const all = await suggestions();
    expect(all).toHaveLength(3);
    expect(await noticeOf(all[2]!.id)).toContain('「😡😡😡」');
  });
});
