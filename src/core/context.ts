import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client';
import { departments, people } from '../db/schema';
import type { Logger } from '../log';
import { UserInputError } from './errors';
import type { InboundMessage, OutboundMessage } from './types';

export { enqueue, writeAudit, type Actor, type Group, type Person } from './records';
import type { Actor, Group, Person } from './records';

/** One message's context (STYLE.md #6): everything a command handler needs, nothing platform-specific. */
export interface ChatContext {
  tx: Db;
  message: InboundMessage;
  group: Group;
  actor: Actor;
  now: Date;
  log: Logger;
  /** Queue a reply; `buttons` become a card where the platform can show one (the text must name the commands too). */
  reply(text: string, mentions?: string[], buttons?: OutboundMessage['buttons']): void;
  /** Post into another conversation through the outbox (same transaction as the change). */
  post(target: { platform: string; conversationId: string }, msg: OutboundMessage, dedupeKey?: string): Promise<void>;
  audit(action: string, subject: string | null, data?: Record<string, unknown>): Promise<void>;
}

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
