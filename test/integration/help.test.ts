import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { HELP_TOPICS } from '../helpers/bot';
import { demoBot } from '../helpers/bot';
import { drivers } from '../helpers/databases';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
/** WeCom's text message limit is 2,048 bytes; the short help stays well under it. */
const SHORT_LIMIT = 1800;
/** A topic's detail fits one WeCom text message too (measured: at most 1,864 bytes, 投诉 for a head). */
const TOPIC_LIMIT = 2048;

// Every role of the demo organisation, an admin outside the roster, and a client contact.
const ROLES = [
  { who: 'zhang', role: 'handler' },
  { who: 'li', role: 'supervisor' },
  { who: 'liu', role: 'head' },
  { who: 'wang', role: 'sales' },
  { who: 'boss', role: 'management + admin' },
  { who: 'root', role: 'bootstrap admin' },
];

describe.each(drivers)('/帮助 on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db, { admins: ['root'] });
  });
  afterAll(async () => database?.close());

  it.each(ROLES)('the short help for $who ($role) and each topic detail fit one WeCom text message', async ({ who }) => {
    const short = await bot.say(who, '/帮助');
    expect(bytes(short), short).toBeLessThan(SHORT_LIMIT);
    expect(short).toContain('【分配单】');
    expect(short).toContain('/帮助 <主题>');
    // A header, one line per topic (at most seven) and two footer lines.
    expect(short.split('\n').length).toBeLessThanOrEqual(10);
    for (const topic of HELP_TOPICS) {
      const detail = await bot.say(who, `/帮助 ${topic}`);
      expect(detail).not.toMatch(/^抱歉/);
      expect(bytes(detail), `${who} ${topic}`).toBeLessThan(TOPIC_LIMIT);
    }
  });

  it('lists by topic only what the sender may use', async () => {
    const sales = await bot.say('wang', '/帮助');
    expect(sales).toContain('/单 新建');
    expect(sales).not.toContain('/批准');
    expect(sales).not.toContain('/日历 调整');
    const head = await bot.say('liu', '/help');
    expect(head).toContain('/批准');
    expect(head).toMatch(/【投诉】.*\/回电/);
    expect(head).toMatch(/【计时】.*\/逾期/);
    expect(head).toMatch(/【管理】.*\/成员 添加/);
  });

  it('/帮助 <主题> gives the usage of each command of the topic', async () => {
    const orders = await bot.say('liu', '/帮助 分配单');
    expect(orders).toContain('/派单 <单号> <人员>');
    expect(orders).toContain('/单 新建 客户=');
    expect(orders).not.toContain('/回电');
    const complaints = await bot.say('liu', '/帮助 投诉');
    expect(complaints).toContain('/回电 <投诉编号> <回访结果>');
    expect(await bot.say('liu', '/help clock')).toContain('/已办 <单号>');
    expect(await bot.say('boss', '/帮助 管理')).toContain('/部门 添加');
  });

  it('/帮助 <命令> explains one command with its example and who may use it', async () => {
    const one = await bot.say('zhang', '/帮助 派单');
    expect(one).toContain('用法：/派单 <单号> <人员>');
    expect(one).toContain('例如：/派单 D12 @张三');
    expect(one).toContain('谁可以用：部门负责人、主管、总经办');
    expect(one).toContain('您目前不能在这里使用这条命令');
    expect(await bot.say('liu', '/帮助 /单 新建')).toContain('用法：/单 新建');
    expect(await bot.say('liu', '/帮助 单新建')).toContain('用法：/单 新建');
    expect(await bot.say('liu', '/help assign')).toContain('用法：/派单');
    expect(await bot.say('liu', '/帮助 跳舞')).toMatch(/^抱歉，没有找到「跳舞」这个主题或命令。可以查看的主题：分配单、计时、投诉、管理/);
  });

  it('a client contact gets the polite refusal, not the command list', async () => {
    const r = await bot.say('client-zhao', '/帮助 分配单', { group: 'demo-client' });
    expect(r).toContain('仅供本公司服务人员使用');
    expect(r).not.toContain('/派单');
  });
});
