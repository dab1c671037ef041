import { and, eq, inArray, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { departments, people } from '../../db/schema';
import { UserInputError } from '../../core/errors';
import type { Person } from '../../core/records';

/**
 * Find a person from what someone typed: `@显示名`, a userid, or a name; the platform's mention list
 * settles a name shared by two people.
 */
export async function resolvePerson(tx: Db, ref: string, mentions: string[] = []): Promise<Person> {
  const raw = ref.trim();
  const name = raw.replace(/^[@＠]/, '');
  if (!name) throw new UserInputError('请写出人员的姓名（如 @张三）或 userid。');
  const byUserid = await tx.select().from(people).where(and(eq(people.userid, name), eq(people.active, true)));
  if (byUserid[0]) return byUserid[0];
  const byName = await tx.select().from(people).where(and(eq(people.name, name), eq(people.active, true)));
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) {
    const mentioned = byName.filter((p) => mentions.includes(p.userid));
    if (mentioned.length === 1) return mentioned[0]!;
    throw new UserInputError(
      `名册里有 ${byName.length} 位「${name}」（${byName.map((p) => p.userid).join('、')}），请改用 userid 指明是哪一位。`,
    );
  }
  if (mentions.length > 0 && raw.startsWith('@')) {
    const ms = await tx.select().from(people).where(and(inArray(people.userid, mentions), eq(people.active, true)));
    if (ms.length === 1) return ms[0]!;
  }
  throw new UserInputError(`名册里没有找到「${name}」。请用 /成员 列表 查看，或请部门负责人先用 /成员 添加 登记。`);
}

export async function findDepartment(tx: Db, name: string) {
  const rows = await tx.select().from(departments).where(eq(departments.name, name.trim()));
  return rows[0] ?? null;
}

export function mention(p: Pick<Person, 'name'>): string {
  return `@${p.name}`;
}

/**
 * The people a batch of reminders may @-mention: the named people, everyone in the named departments,
 * and 总经办 — one query for the whole batch (every feature's timer subjects alike).
 */
export async function loadStaff(tx: Db, personIds: number[], deptIds: number[]) {
  return tx
    .select()
    .from(people)
    .where(
      and(
        eq(people.active, true),
        or(
          personIds.length ? inArray(people.id, personIds) : sql`false`,
          deptIds.length ? inArray(people.departmentId, deptIds) : sql`false`,
          eq(people.role, 'management'),
        ),
      ),
    );
}
