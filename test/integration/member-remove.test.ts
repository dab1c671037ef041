import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { CLIENT_REFUSAL } from '../../src/core/chat';
import type { Database } from '../../src/db/client';
import { events, people } from '../../src/db/schema';
import { sandboxChat, startTestApp } from '../helpers/app';
import { fakeClock, REFUSED } from '../helpers/bot';
import { drivers } from '../helpers/databases';
import { linkIn } from '../helpers/kanban';

/**
 * Issue 26 #9, the roster: `/成员 删除 <人员>` refuses while the person holds open work (listed with
 * codes), otherwise deactivates them (history kept, audited, links dead); a second 「张工」 is not added
 * without a warning. Driven through the sandbox API of a started app on the demo organisation.
 */
describe.each(drivers)('/成员 删除 and namesakes through the sandbox API on $name', (driver) => {
  let database: Database;
  let app: App;
  const clock = fakeClock('2026-11-23T02:00:00Z'); // Monday 10:00 in Shanghai
  const chat = sandboxChat(() => app);
  const say = (from: string, text: string, group = 'demo-internal') => chat.say(group, from, text);
  const person = async (userid: string) => (await database.db.select().from(people).where(eq(people.userid, userid)))[0]!;
  const code = (reply: string, letter: 'D' | 'T' | 'V') => new RegExp(`${letter}\\d+`).exec(reply)![0];

  beforeAll(async () => {
    database = await driver.open();
    app = await startTestApp({}, { database, clock, loops: false });
    expect(app.seeded).toBe(true);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it('refuses while 赵工 has open work, listing every piece with its code; each handed-over piece drops off the list', async () => {
    const d1 = code(await say('wang', '/单 新建 客户=交接客户甲 类型=专利 业务员=@王业务'), 'D');
    expect(await say('liu', `/派单 ${d1} @赵工`)).toContain('已派给');
    const d2 = code(await say('wang', '/单 新建 客户=交接客户乙 类型=专利 业务员=@王业务'), 'D');
    expect(await say('liu', `/派单 ${d2} @张工`)).toContain('已派给');
    expect(await say('zhang', `/转交 ${d2} @赵工 客户要求换人`)).not.toMatch(REFUSED);
    const t = code(await say('liu', `/投诉 客户=交接客户甲 单=${d1} 负责人=@赵工 渠道=电话 回复太慢`), 'T');
    const v = code(await say('zhao', '/回访 计划 交接客户甲 方式=电话 日期=2026-11-27'), 'V');

    expect(await say('zhang', '/成员 删除 @赵工')).toMatch(REFUSED); // 总经办 and admins only
    const refused = await say('boss', '/成员 删除 @赵工');
    expect(refused).toMatch(/^抱歉，赵工（zhao）名下还有进行中的工作/);
    expect(refused).toContain(`负责的分配单：${d1}`);
    expect(refused).toContain(`待其接手的转交：${d2}`);
    expect(refused).toContain(`未结案的投诉：${t}`);
    expect(refused).toContain(`进行中的回访：${v}（已计划）`);
    expect((await person('zhao')).active).toBe(true);

    // Hand over the order and the transfer, record the visit: only the complaint is left.
    expect(await say('li', `/转交 ${d1} @张工 赵工离职`)).not.toMatch(REFUSED);
    expect(await say('liu', `/批准 ${d1}`)).toContain('已批准');
    expect(await say('liu', `/驳回 ${d2} 赵工离职`)).toContain('已驳回');
    expect(await say('zhao', '/回访 记录 交接客户甲 结果=满意 方式=电话')).not.toMatch(REFUSED);
    const again = await say('boss', '/成员 删除 zhao');
    expect(again).toContain(`未结案的投诉：${t}`);
    expect(again).not.toContain('负责的分配单');
    expect(again).not.toContain('待其接手的转交');
    expect(again).toContain('回访情况表未填'); // the visit is done, its report is still owed (7.3.1)
    expect((await person('zhao')).active).toBe(true);
  });

  it('with no open work the person is deactivated: history kept, audited, their 看板 link and commands stop working', async () => {
    // 李主管 supervises the open complaint: refused as well.
    expect(await say('boss', '/成员 删除 @李主管')).toMatch(/^抱歉，李主管（li）名下还有进行中的工作[\s\S]*未结案的投诉：T\d+/);
    const link = linkIn(await say('sun', '/看板'));
    expect((await fetch(app.url + link)).status).toBe(200);
    const removed = await say('boss', '/成员 删除 @孙经理');
    expect(removed).toContain('已删除成员：孙经理（sun），软件部，部门负责人');
    expect(removed).toContain('以下同事的上级是 孙经理'); // 周工 reports to 孙经理
    expect(removed).toContain('周工（zhou）');
    const sun = await person('sun');
    expect(sun.active).toBe(false); // the row (and every record naming it) stays
    const [audit] = await database.db.select().from(events).where(and(eq(events.action, 'member.removed'), eq(events.subject, 'person:sun')));
    expect(audit!.actorUserid).toBe('boss');
    const page = await fetch(app.url + link);
    expect(page.status).not.toBe(200);
    expect(await page.text()).not.toContain('孙经理（');
    expect(await say('sun', '/单 列表')).toBe(CLIENT_REFUSAL);
    expect(await say('boss', '/成员 列表 软件部')).not.toContain('孙经理');
    expect(await say('boss', '/成员 删除 @孙经理')).toContain('名册里没有找到「孙经理」');
    // /帮助 lists it under 管理 with its form.
    expect(await say('boss', '/帮助 管理')).toContain('/成员 删除');
    expect(await say('boss', '/帮助 成员 删除')).toContain('/成员 删除 <人员>');
  });

  it('a second 「张工」 is not added without a warning: a distinguishing name, or 确认', async () => {
    const warned = await say('boss', '/成员 添加 zhang2 姓名=张工 部门=软件部 角色=负责人');
    expect(warned).toMatch(/^请注意：名册里已有「张工」：zhang，专利部，负责人/);
    expect(warned).toContain('姓名=张工（软件部）');
    expect(warned).toContain('加上「确认」');
    expect((await database.db.select().from(people).where(eq(people.userid, 'zhang2')))).toHaveLength(0);

    expect(await say('boss', '/成员 添加 zhang2 姓名=张工（软件部） 部门=软件部 角色=负责人')).toContain('已登记成员：张工（软件部）（zhang2）');
    // Updating the same person under their own name is no namesake.
    expect(await say('boss', '/成员 添加 zhang 姓名=张工 部门=专利部 角色=负责人')).toContain('已更新成员：张工（zhang）');
    const kept = await say('boss', '/成员 添加 zhang3 姓名=张工 部门=专利部 角色=负责人 确认');
    expect(kept).toContain('已登记成员：张工（zhang3）');
    expect(kept).toContain('与 zhang 同名');
    expect(await say('liu', '/派单 D1 @张工')).toContain('请改用 userid');
  });
});
