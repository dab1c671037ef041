import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { clients, orderDrafts, orders } from '../../src/db/schema';
import { FORBIDDEN_PHRASES } from '../../src/features/drafting';
import { parseOrderText, readDate } from '../../src/features/order-text';
import { createLlmClient } from '../../src/llm/client';
import { demoBot, fakeClock, silentLog } from '../helpers/bot';
import { drivers } from '../helpers/databases';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/fake-openai';

describe('the rule reading of free-text orders (pure)', () => {
  const today = '2026-11-23'; // a Monday
  it('reads client, type words, the salesperson and dates in the common shapes', () => {
    expect(parseOrderText('星河科技的发明专利，业务员孙业务，12月20号截止', { today })).toEqual({
      client: '星河科技',
      serviceType: '专利',
      salesperson: '孙业务',
      deadline: '2026-12-20',
      department: null,
      paid: false,
    });
    expect(parseOrderText('客户：华星科技 商标注册 @王业务 下周五前 已付款', { today })).toMatchObject({
      client: '华星科技',
      serviceType: '商标',
      salesperson: '王业务',
      deadline: '2026-12-04',
      paid: true,
    });
    expect(parseOrderText('帮蓝海公司做高新认定，业务员是王业务，明年3月31日截止', { today })).toMatchObject({ client: '蓝海公司', serviceType: '高新', deadline: '2027-03-31' });
    expect(parseOrderText('华星科技软著两件 王业务跟进', { today, people: ['王业务', '张工'] })).toMatchObject({ serviceType: '软件', salesperson: '王业务' });
  });
  it('dates: this week, next week, tomorrow, a bad day', () => {
    expect(readDate('本周五', today)).toBe('2026-11-27');
    expect(readDate('下周一', today)).toBe('2026-11-30');
    expect(readDate('明天', today)).toBe('2026-11-24');
    expect(readDate('2月30日', today)).toBeNull();
  });
});

describe.each(drivers)('/单 <一句话> and /草拟 without a model on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  const clock = fakeClock('2026-11-23T02:00:00Z');
  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { clock });
  });
  afterAll(async () => database?.close());
  const orderCount = async () => (await database.db.select().from(orders)).length;

  it('shows the fields and the exact /单 新建 command; nothing is created until /单 确认', async () => {
    const r = await bot.say('wang', '/单 星河科技的发明专利，业务员王业务，12月20号截止');
    expect(r).toContain('/单 新建 客户=星河科技 类型=专利 业务员=@王业务 截止=2026-12-20');
    expect(r).toContain('/单 确认 1');
    expect(await orderCount()).toBe(0);
    expect(await database.db.select().from(clients).where(eq(clients.name, '星河科技'))).toHaveLength(0);
    const done = await bot.say('wang', '/单 确认 1');
    expect(done).toContain('已新建分配单 D1');
    const [o] = await database.db.select().from(orders);
    expect(o).toMatchObject({ serviceType: '专利', deadline: '2026-12-20' });
    expect(await bot.say('wang', '/单 确认 1')).toContain('已在之前确认过（分配单 D1）');
    expect(await orderCount()).toBe(1);
  });

  it('answers with the exact command to use when it cannot read enough, and the existing forms still work', async () => {
    const r = await bot.say('wang', '/单 帮忙建个单子');
    expect(r).toContain('没能从这句话里读出：客户、类型、业务员');
    expect(r).toContain('/单 新建 客户=<客户名称>');
    expect(await bot.say('wang', '/单 新建 客户=华星科技 类型=商标 业务员=@王业务')).toContain('已新建分配单 D2');
    expect(await bot.say('boss', '/单 列表 全部')).toContain('D2');
    expect(await bot.say('wang', '/单')).toContain('/单 新建 客户=');
    expect(await bot.say('wang', '/单 确认 99')).toContain('没有找到编号 99');
    expect(await bot.say('zhang', '/单 星河科技商标 业务员王业务')).toContain('需要');
    expect((await database.db.select().from(orderDrafts).orderBy(asc(orderDrafts.id))).map((d) => d.source)).toEqual(['rules']);
  });

  it('/草拟 writes a polite template draft with thanks, apology where due, no forbidden phrasing, and is refused in a client group', async () => {
    const r = await bot.say('zhang', '/草拟 材料延误两天，周五前补交，不归我管');
    expect(r).toContain('您好');
    expect(r).toContain('感谢');
    expect(r).toContain('非常抱歉');
    expect(r).toContain('材料延误两天，周五前补交');
    const draft = r.split('\n\n')[1]!;
    for (const p of FORBIDDEN_PHRASES) expect(draft).not.toContain(p);
    expect(r).toContain('已从草稿中去掉');
    expect(await bot.say('zhang', '/草拟 谢谢', { group: 'demo-client' })).toContain('不能在客户群里使用');
    expect(await bot.say('zhang', '/草拟')).toContain('缺少回复要点');
  });
});

describe.each(drivers)('/单 <一句话> and /草拟 with a model on $name', (driver) => {
  let database: Database;
  let fake: FakeOpenAi;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  beforeAll(async () => {
    database = await driver.open();
    fake = await startFakeOpenAi();
    const llm = createLlmClient({ baseURL: fake.baseUrl, model: 'fake', timeoutMs: 500, maxRetries: 0, privacy: true }, silentLog);
    bot = await demoBot(database.db, { clock: fakeClock('2026-11-23T02:00:00Z'), llm });
  });
  afterAll(async () => {
    await database?.close();
    await fake?.close();
  });

  it("uses the model's fields when they validate, and the rules when they do not; nothing is created before /单 确认", async () => {
    fake.script({ content: JSON.stringify({ client: '星河科技', serviceType: '软件', salesperson: '王业务', deadline: '2026-12-31', department: null, paid: true }) });
    const r = await bot.say('wang', '/单 星河科技要做两个软著，王业务的单，年底前，钱已经付了');
    expect(r).toContain('/单 新建 客户=星河科技 类型=软件 业务员=@王业务 截止=2026-12-31 已付款');
    const body = JSON.stringify(fake.calls().at(-1)!.body);
    expect(body).not.toContain('王业务');
    fake.script({ content: JSON.stringify({ client: '星河科技', serviceType: '太空旅行', salesperson: 'x', deadline: 'soon', department: null, paid: 'yes' }) }, { content: 'no' });
    const rules = await bot.say('wang', '/单 星河科技的发明专利，业务员王业务，12月20号截止');
    expect(rules).toContain('类型=专利 业务员=@王业务 截止=2026-12-20');
    expect((await database.db.select().from(orderDrafts).orderBy(asc(orderDrafts.id))).map((d) => [d.source, d.version])).toEqual([
      ['model', 'order-extract@1'],
      ['rules', 'order-rules-1'],
    ]);
    expect(await database.db.select().from(orders)).toHaveLength(0);
  });

  it("a model draft is used when it passes the check; one with a forbidden phrase or an invented number is replaced by the template", async () => {
    fake.script({ content: JSON.stringify({ draft: '您好！感谢您的耐心等待，非常抱歉材料延误了，我们会在周五前补交，谢谢您的理解，再见！' }) });
    expect(await bot.say('zhang', '/草拟 材料延误，周五前补交')).toContain('我们会在周五前补交，谢谢您的理解');
    fake.script({ content: JSON.stringify({ draft: '您好，这个不归我管，请您自己去查一下，谢谢。' }) });
    const r = await bot.say('zhang', '/草拟 材料延误，周五前补交');
    expect(r).not.toContain('不归我管');
    expect(r).toContain('非常抱歉给您带来了不便');
    fake.script({ content: JSON.stringify({ draft: '您好！材料将于 12 月 25 日前补交，给您带来不便非常抱歉，谢谢！' }) });
    expect(await bot.say('zhang', '/草拟 材料延误，周五前补交')).not.toContain('12 月 25 日');
  });
});
