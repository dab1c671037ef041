import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { orders } from '../../src/db/schema';
import { demoBot, fakeClock } from '../helpers/bot';
import { drivers } from '../helpers/databases';

describe.each(drivers)('a deadline in the past on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  const clock = fakeClock('2026-11-23T02:00:00Z'); // Monday 10:00 in Shanghai
  const orderCount = async () => (await database.db.select({ n: count() }).from(orders))[0]!.n;
  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { clock });
  });
  afterAll(async () => database?.close());

  it('/单 新建 with 截止 before today is refused politely, stores nothing, and goes through with 确认', async () => {
    const before = await orderCount();
    const refused = await bot.say('wang', '/单 新建 客户=华星科技 类型=专利 业务员=wang 截止=2025-01-01');
    expect(refused).toMatch(/^抱歉，截止日期 2025-01-01 早于今天（2026-11-23），请核对日期。/);
    expect(refused).toContain('/单 新建 客户=华星科技 类型=专利 业务员=wang 截止=2025-01-01 确认');
    expect(await orderCount()).toBe(before);
    expect(await bot.say('wang', '/单 新建 客户=华星科技 类型=专利 业务员=wang 截止=2026-11-23')).toContain('已新建分配单');
    const confirmed = await bot.say('wang', '/单 新建 客户=华星科技 类型=专利 业务员=wang 截止=2025-01-01 确认');
    expect(confirmed).toContain('截止：2025-01-01');
    expect(await orderCount()).toBe(before + 2);
  });

  it('/单 设置 refuses a past deadline field unless confirmed; a past 提交时间 is a fact and is accepted', async () => {
    const code = /D\d+/.exec(await bot.say('wang', '/单 新建 客户=华星科技 类型=专利 业务员=wang'))![0];
    const id = Number(code.slice(1));
    const refused = await bot.say('wang', `/单 设置 ${code} 申报截止=2025-01-01`);
    expect(refused).toMatch(/^抱歉，申报截止 2025-01-01 早于今天/);
    expect(refused).toContain(`/单 设置 ${code} 申报截止=2025-01-01 确认`);
    const [row] = await database.db.select().from(orders).where(eq(orders.id, id));
    expect(row!.fields['申报截止']).toBeUndefined();
    expect(await bot.say('wang', `/单 设置 ${code} 截止=2024-12-31`)).toMatch(/^抱歉，截止 2024-12-31 早于今天/);
    expect(await bot.say('wang', `/单 设置 ${code} 提交时间=2026-11-01`)).toContain('已更新');
    expect(await bot.say('wang', `/单 设置 ${code} 申报截止=2025-01-01 确认`)).toContain(`已更新 ${code}：申报截止`);
    const [after] = await database.db.select().from(orders).where(eq(orders.id, id));
    expect(after!.fields['申报截止']).toBe('2025-01-01');
  });
});
