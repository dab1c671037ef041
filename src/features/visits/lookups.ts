import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { chatLog, clientContacts, groups, orders, people, visits } from '../../db/schema';
import { UserInputError } from '../../core/errors';
import { formatInstant } from '../../domain/calendar/format-instant';
import { plainMessage, WAY_NAMES } from '../client-groups';
import type { VisitRow } from './visit-store';

/** What the visit commands look up and print: the last contact, a visit's number and its status. */

/**
 * "Last contact" with a client: the latest of a staff member's message in one of the client's client
 * groups (chat_log) and a contact recorded on one of its orders (`/联系`, `/材料进度`: client_contacts).
 */
export async function lastContact(tx: Db, clientId: number): Promise<{ at: Date; name: string; text: string } | null> {
  const [msg] = await tx
    .select({ at: chatLog.at, name: people.name, text: chatLog.text })
    .from(chatLog)
    .innerJoin(groups, and(eq(groups.platform, chatLog.platform), eq(groups.conversationId, chatLog.conversationId)))
    .innerJoin(people, eq(people.userid, chatLog.sender))
    .where(and(eq(groups.kind, 'client'), eq(groups.clientId, clientId), eq(chatLog.direction, 'in'), plainMessage))
    .orderBy(desc(chatLog.at), desc(chatLog.id))
    .limit(1);
  const [rec] = await tx
    .select({ at: clientContacts.at, kind: clientContacts.kind, note: clientContacts.note, name: people.name })
    .from(clientContacts)
    .innerJoin(orders, eq(orders.id, clientContacts.orderId))
    .leftJoin(people, eq(people.id, clientContacts.personId))
    .where(eq(orders.clientId, clientId))
    .orderBy(desc(clientContacts.at), desc(clientContacts.id))
    .limit(1);
  if (rec && (!msg || rec.at.getTime() >= msg.at.getTime())) {
    return { at: rec.at, name: rec.name ?? '—', text: `（${WAY_NAMES[rec.kind]}）${rec.note ?? ''}` };
  }
  return msg ?? null;
}

export function visitIdOf(ref: unknown): number {
  const m = /^V(\d{1,9})$/i.exec(String(ref ?? ''));
  if (!m) throw new UserInputError(`抱歉，「${String(ref)}」不是回访编号（应为 V 加数字，如 V9）。`);
  return Number(m[1]);
}

export const clip = (s: string, n = 60) => (s.length > n ? s.slice(0, n) + '…' : s);

export function visitStatus(v: VisitRow): string {
  if (v.status === 'planned') return `计划${v.plannedFor ? ' ' + v.plannedFor : ''}`;
  if (v.status === 'refused') return `客户拒约 ${formatInstant(v.createdAt)}`;
  return `已回访 ${v.doneAt ? formatInstant(v.doneAt) : ''}${v.reviewedAt ? '，已审阅' : v.reportAt ? '，已报告' : ''}`;
}

export async function openPlanned(tx: Db, clientId: number): Promise<VisitRow | null> {
  const [v] = await tx
    .select()
    .from(visits)
    .where(and(eq(visits.clientId, clientId), eq(visits.status, 'planned')))
    .orderBy(desc(visits.id))
    .limit(1)
    .for('update');
  return v ?? null;
}

