import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import type { Database } from '../../src/db/client';
import { mayAssign } from '../../src/domain/assignment';
import { sandboxChat, startTestApp } from '../helpers/app';
import { fakeClock, REFUSED } from '../helpers/bot';
import { drivers } from '../helpers/databases';

describe('who may assign (pure, one rule)', () => {
  const dept = 1;
  const handler = { role: 'handler' as const, departmentId: dept };
  const other = { role: 'handler' as const, departmentId: 2 };
  it('heads and supervisors assign within their department; only 总经办 and admins across', () => {
    expect(mayAssign({ role: 'head', departmentId: dept, isAdmin: false }, dept, handler)).toEqual({ ok: true, crossDepartment: false });
    expect(mayAssign({ role: 'supervisor', departmentId: dept, isAdmin: false }, dept, other)).toEqual({ ok: false, why: 'handler_other_department' });
    expect(mayAssign({ role: 'head', departmentId: 2, isAdmin: false }, dept, handler)).toEqual({ ok: false, why: 'not_assigner' });
    expect(mayAssign({ role: 'management', departmentId: 9, isAdmin: false }, dept, other)).toEqual({ ok: true, crossDepartment: true });
    expect(mayAssign({ role: 'handler', departmentId: dept, isAdmin: true }, dept, other)).toEqual({ ok: true, crossDepartment: true });
    expect(mayAssign({ role: 'head', departmentId: dept, isAdmin: false }, dept, { role: 'sales', departmentId: dept })).toEqual({ ok: false, why: 'handler_is_sales' });
  });
});

/** Issue 26 #8 and #10 through the sandbox API of a started app on the demo organisation. */
describe.each(drivers)('bindings, assignment and input through the sandbox API on $name', (driver) => {
  let database: Database;
  let app: App;
  const clock = fakeClock('2026-11-23T02:00:00Z'); // Monday 10:00 in Shanghai
  const chat = sandboxChat(() => app);
  const say = (from: string, text: string, group = 'demo-internal') => chat.say(group, from, text);
  const code = (reply: string) => /D\d+/.exec(reply)![0];

  beforeAll(async () => {
    database = await driver.open();
    app = await startTestApp({}, { database, clock, loops: false });
    expect(app.seeded).toBe(true);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it('#8: a department group is never bound to an order; /投诉 客户=… there keeps working', async () => {
    const d = code(await say('wang', '/单 新建 客户=华星科技 类型=专利 业务员=@王业务'));
    const r = await say('liu', `/绑定 ${d}`);
    expect(r).toMatch(/^抱歉，本群是「专利部」的部门群/);
    expect(r).toContain(`/绑定 ${d}`);
    expect(await say('li', '/投诉 客户=华星科技 负责人=@张工 渠道=电话 一周没人回复')).toMatch(/已登记投诉 T\d+|T\d+/);
    expect(await say('li', '/投诉 客户=华星科技 负责人=@张工 渠道=电话 一周没人回复')).not.toContain('不是这位客户的分配单');
    // The client group takes it.
    expect(await say('liu', `/绑定 ${d}`, 'demo-client')).toContain(`本群已绑定到 ${d}`);
  });

  it('#8: /派单 on an assigned order (and a stale 「派给」 button) points to /转交; approval tells the previous handler', async () => {
    const created = await say('wang', '/单 新建 客户=改派客户 类型=专利 业务员=@王业务');
    const d = code(created);
    expect(await say('liu', `/派单 ${d} @张工`)).toContain('已派给');
    const again = await say('liu', `/派单 ${d} @赵工`);
    expect(again).toMatch(/^抱歉，D\d+ 已派给 张工，不能再用 \/派单 改派/);
    expect(again).toContain(`/转交 ${d} @赵工 <原因>`);
    // The card button offered at creation runs the same /派单 and gets the same answer.
    const msgs = await chat.messages('demo-internal');
    const card = msgs.filter((m) => m.text.includes(`已新建分配单 ${d}`)).at(-1) as unknown as { buttons?: { label: string; token?: string }[] };
    const button = card.buttons?.find((b) => b.label === '派给 赵工');
    expect(button?.token).toBeTruthy();
    const clicked = await chat.say('demo-internal', 'liu', '', { card: button!.token });
    expect(clicked).toContain('已不再适用');
    const transfer = await say('li', `/转交 ${d} @赵工 客户要求换人`);
    expect(transfer).toContain('张工 请知悉');
    const approved = await say('liu', `/批准 ${d}`);
    expect(approved).toContain('张工 请把资料和进展全部交接给新负责人');
  });

  it('#8: a head may not give his order to another department\'s handler; 总经办 may', async () => {
    const d = code(await say('wang', '/单 新建 客户=跨部门客户 类型=专利 业务员=@王业务'));
    const r = await say('liu', `/派单 ${d} @周工`);
    expect(r).toMatch(REFUSED);
    expect(r).toContain('周工 属于软件部');
    expect(await say('sun', `/派单 ${d} @张工`)).toMatch(REFUSED);
    expect(await say('boss', `/派单 ${d} @周工`)).toContain('已派给');
  });

  it('#10: full-width digits and letters are read like the rest; quoted text keeps them', async () => {
    const r = await say('wang', '／单 新建 客户＝全角客户 类型＝专利 业务员＝@王业务 截止＝２０２６－１２－２５');
    expect(r).toContain('已新建分配单');
    expect(r).toContain('2026-12-25');
    const d = code(r);
    const n = d.slice(1);
    expect(await say('liu', `/派单 Ｄ${String.fromCharCode(...[...n].map((c) => c.charCodeAt(0) + 0xfee0))} @张工`)).toContain(`${d} 已派给`);
    expect(await say('zhang', `/进度 ${d} 客户说“２０２６年”再议`)).toContain('２０２６');
  });

  it('#10: impossible dates and unknown salespeople are named in the draft reply; no draft is offered', async () => {
    const bad = await say('wang', '/单 星河科技的发明专利，业务员王业务，2月30号截止');
    expect(bad).toContain('「2月30号」不是有效的日期');
    expect(bad).not.toContain('/单 确认');
    const who = await say('wang', '/单 星河科技的发明专利，业务员孙业务，12月20号截止');
    expect(who).toContain('业务员「孙业务」不在名册里');
    expect(who).not.toContain('/单 确认');
    const ok = await say('wang', '/单 星河科技的发明专利，业务员王业务，１２月２０号截止');
    expect(ok).toContain('截止=2026-12-20');
    expect(ok).toContain('/单 确认');
  });

  it('#10: staff commands in a client group are not client contact; a plain message is', async () => {
    expect(await say('zhang', '/单 列表', 'demo-client')).toBeTruthy();
    const before = await say('boss', '/客户 查 华星科技');
    expect(before).not.toContain('/单 列表');
    await say('zhang', '您好，材料我们已收到，周三前给您反馈', 'demo-client');
    expect(await say('boss', '/客户 查 华星科技')).toContain('张工：您好，材料我们已收到');
  });

  it('#10: /群 alone shows the settings without an apology', async () => {
    const r = await say('liu', '/群');
    expect(r).not.toMatch(/^抱歉/);
    expect(r).toContain('本群「专利部内部群」的设置');
    expect(r).toContain('类型：内部群，「专利部」的部门群');
    const c = await say('liu', '/群', 'demo-client');
    expect(c).toContain('绑定的客户：华星科技');
    expect(c).toMatch(/绑定的分配单：D\d+/);
  });
});
