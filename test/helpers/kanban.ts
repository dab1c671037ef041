import { eq } from 'drizzle-orm';
import type { App } from '../../src/app';
import { clients, complaints, departments, orders, people } from '../../src/db/schema';
import { seedDemo } from '../../src/db/seed-demo';
import type { Db } from '../../src/db/client';
import { fakeClock } from './bot';

let seq = 0;

/** Talk to a started app's chat core like a platform would (the replies come back at once). */
export function sayer(app: App, clock: () => Date) {
  return async (from: string, text: string, o: { group?: string; mentions?: string[] } = {}) => {
    const r = await app.chat.handleNow({
      platform: 'sandbox',
      conversationId: o.group ?? 'demo-internal',
      senderId: from,
      messageId: `k${++seq}-${Math.random().toString(36).slice(2)}`,
      text,
      mentions: o.mentions ?? [],
      receivedAt: clock(),
    });
    return r.replies.map((x) => x.text).join('\n');
  };
}

/** The link in a `/看板` reply, as a path + query on the app. */
export function linkIn(reply: string): string {
  const m = /https?:\/\/[^\s]+\/kanban\?k=[A-Za-z0-9_.-]+/.exec(reply);
  if (!m) throw new Error(`no 看板 link in: ${reply}`);
  return new URL(m[0]).pathname + new URL(m[0]).search;
}

export const kanbanClock = () => fakeClock('2026-11-23T02:00:00Z'); // Monday 10:00 in Shanghai

/**
 * Known data on the demo organisation:
 * - 专利部: 刘经理 (head), 李主管 (supervisor of 张工 and 赵工), 秦工 (reports to 刘经理, not to 李主管);
 * - D1 华星科技 专利 → 张工; D2 明光电子 专利 → 秦工; D3 远山软件 软件 (软件部) → 周工; D4 华星科技 专利, not assigned;
 * - T1 against 张工 on D1 (专利部), T2 against 周工 on D3 (软件部);
 * - then three working days pass: D4's 派单 clock (2 working days, 3.1.2) is overdue.
 */
export async function seedKanbanData(db: Db, say: ReturnType<typeof sayer>, clock: ReturnType<typeof fakeClock>) {
  await seedDemo(db, clock());
  const must = async (from: string, text: string, expect: RegExp, group?: string) => {
    const r = await say(from, text, group ? { group } : {});
    if (!expect.test(r)) throw new Error(`${text} → ${r}`);
    return r;
  };
  await must('boss', '/成员 添加 qin 姓名=秦工 部门=专利部 角色=负责人 上级=@刘经理', /秦工/);
  await must('wang', '/单 新建 客户=华星科技 类型=专利 业务员=@王业务', /D1/);
  await must('wang', '/单 新建 客户=明光电子 类型=专利 业务员=@王业务', /D2/);
  await must('wang', '/单 新建 客户=远山软件 类型=软件 业务员=@王业务', /D3/);
  await must('liu', '/派单 D1 @张工', /张工/);
  await must('liu', '/派单 D2 @秦工', /秦工/);
  await must('sun', '/派单 D3 @周工', /周工/);
  await must('wang', '/单 新建 客户=华星科技 类型=专利 业务员=@王业务', /D4/);
  await must('zhang', '/进度 D1 已联系客户，约周三辅导', /已记录/);
  await must('liu', '/投诉 客户=华星科技 单=D1 负责人=@张工 渠道=电话 客户说一周没人回复', /T1/);
  await must('sun', '/投诉 客户=远山软件 单=D3 负责人=@周工 渠道=电话 软件登记太慢', /T2/);
  await must('liu', '/回电 T1 已致歉并约定周三上门', /T1/);
  await must('sun', '/回电 T2 已解释', /T2/);
  // The client group of 华星科技 is bound to D1; 张工 writes there (last client contact).
  await must('zhang', '/绑定 D1', /D1/, 'demo-client');
  clock.advance(3 * 24 * 3_600_000); // Thursday 10:00
  await say('zhang', '王总您好，材料已收到，我们周五前给您初稿。', { group: 'demo-client' });
  const ids = async () => {
    const ds = Object.fromEntries((await db.select().from(departments)).map((d) => [d.name, d.id])) as Record<string, number>;
    const ps = Object.fromEntries((await db.select().from(people)).map((p) => [p.userid, p.id])) as Record<string, number>;
    const cs = Object.fromEntries((await db.select().from(clients)).map((c) => [c.name, c.id])) as Record<string, number>;
    return { ds, ps, cs };
  };
  const t2 = await db.select().from(complaints).where(eq(complaints.id, 2));
  const d3 = await db.select().from(orders).where(eq(orders.id, 3));
  if (!t2[0] || !d3[0]) throw new Error('seed failed');
  return ids();
}
