import { sql } from 'drizzle-orm';
import type { Db } from './client';
import { clients, departments, groups, people } from './schema';

/**
 * A small demo organisation for the sandbox, so the page is useful at once. Only into an empty
 * database; returns false when there was something already. `now` (the app's clock) stamps the rows.
 */
export async function seedDemo(db: Db, now: Date): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [{ n }] = (await tx.select({ n: sql<number>`count(*)::int` }).from(people)) as [{ n: number }];
    if (n > 0) return false;
    const depts = await tx
      .insert(departments)
      .values([
        { name: '专利部', services: ['专利', '集成电路布图', '专利流程事务'], createdAt: now },
        { name: '软件部', services: ['软件', '商标'], createdAt: now },
        { name: '审计部', services: ['审计', '财税', '代账'], createdAt: now },
        { name: '项目部', services: ['高新', '资助'], createdAt: now },
        { name: '市场部', services: [], createdAt: now },
        { name: '总经办', services: [], createdAt: now },
      ])
      .returning();
    const d = Object.fromEntries(depts.map((x) => [x.name, x.id])) as Record<string, number>;
    const ins = async (userid: string, name: string, dept: string, role: (typeof people.$inferInsert)['role'], supervisorId?: number, isAdmin = false) => {
      const [p] = await tx.insert(people).values({ userid, name, departmentId: d[dept], role, supervisorId, isAdmin, createdAt: now }).returning();
      return p!;
    };
    await ins('boss', '陈总', '总经办', 'management', undefined, true);
    const head = await ins('liu', '刘经理', '专利部', 'head');
    const sup = await ins('li', '李主管', '专利部', 'supervisor', head.id);
    await ins('zhang', '张工', '专利部', 'handler', sup.id);
    await ins('zhao', '赵工', '专利部', 'handler', sup.id);
    const swHead = await ins('sun', '孙经理', '软件部', 'head');
    await ins('zhou', '周工', '软件部', 'handler', swHead.id);
    const auHead = await ins('wu', '吴经理', '审计部', 'head');
    await ins('zheng', '郑审计', '审计部', 'handler', auHead.id);
    const pjHead = await ins('qian', '钱经理', '项目部', 'head');
    await ins('feng', '冯工', '项目部', 'handler', pjHead.id);
    const sales = await ins('wang', '王业务', '市场部', 'sales');
    const [client] = await tx.insert(clients).values({ name: '华星科技', salespersonId: sales.id, createdAt: now }).returning();
    await tx.insert(groups).values([
      { platform: 'sandbox', conversationId: 'demo-internal', title: '专利部内部群', kind: 'internal', departmentId: d['专利部'], createdAt: now },
      { platform: 'sandbox', conversationId: 'demo-client', title: '华星科技服务群', kind: 'client', clientId: client!.id, createdAt: now },
    ]);
    return true;
  });
}
