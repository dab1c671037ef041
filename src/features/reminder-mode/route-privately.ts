import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { people, reminderModes } from '../../db/schema';
import { withoutTagLine } from '../../core/mention-line';
import { PRIVATE_PLATFORMS, privateConversation } from '../../core/private-chat';

/** A reminder row as the scheduler writes it (the part of core's OutboundRow this hook reads). */
export interface ReminderRow {
  platform: string;
  conversationId: string;
  payload: { text: string; mentions: string[]; internal?: boolean };
  status?: 'pending' | 'unrouted';
}

/**
 * `/提醒方式 私聊`: a reminder meant for one person only (an internal post that @-s exactly that
 * person) goes to their private chat with the bot on the same platform instead of the group. A
 * reminder for a client group, for several people, or held for want of a group is never moved.
 * The private conversation is the one the person already has with the bot, else a new one keyed by
 * their userid, whose route names them (the adapters send it privately).
 */
export async function routeRemindersPrivately<R extends ReminderRow>(tx: Db, rows: R[], now: Date): Promise<R[]> {
  const single = rows.filter((r) => r.status !== 'unrouted' && r.payload.internal === true && r.payload.mentions.length === 1 && PRIVATE_PLATFORMS.has(r.platform));
  if (single.length === 0) return rows;
  const userids = [...new Set(single.map((r) => r.payload.mentions[0]!))];
  const privately = new Set(
    (
      await tx
        .select({ userid: people.userid })
        .from(reminderModes)
        .innerJoin(people, eq(people.id, reminderModes.personId))
        .where(and(inArray(people.userid, userids), eq(reminderModes.mode, 'private'), eq(people.active, true)))
    ).map((p) => p.userid),
  );
  if (privately.size === 0) return rows;
  const conversations = new Map<string, string>();
  const out: R[] = [];
  for (const r of rows) {
    const userid = single.includes(r) ? r.payload.mentions[0]! : undefined;
    if (!userid || !privately.has(userid)) {
      out.push(r);
      continue;
    }
    const key = `${r.platform}\u001f${userid}`;
    let conversationId = conversations.get(key);
    if (!conversationId) {
      conversationId = await privateConversation(tx, r.platform, userid, now);
      conversations.set(key, conversationId);
    }
    // In a private chat the "@name" line has no one else to tell: the text alone.
    const text = withoutTagLine(r.payload.text, r.payload.mentions) ?? r.payload.text;
    out.push({ ...r, conversationId, payload: { ...r.payload, text, mentions: [] } });
  }
  return out;
}
