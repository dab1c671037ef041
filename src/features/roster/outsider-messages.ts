import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { chatLog, people } from '../../db/schema';

/**
 * What people outside the active roster (client contacts) have written in a group, newest first:
 * `/群 类型=内部` names them before a group turns internal, and `/投诉` in a client group takes the
 * latest of their plain messages as the complaint's words.
 */
export async function outsiderMessages(
  tx: Db,
  group: { platform: string; conversationId: string },
  opts: { limit: number; plainOnly?: boolean },
): Promise<{ sender: string; name: string | null; text: string }[]> {
  return tx
    .select({ sender: chatLog.sender, name: chatLog.senderName, text: chatLog.text })
    .from(chatLog)
    .leftJoin(people, and(eq(people.userid, chatLog.sender), eq(people.active, true)))
    .where(
      and(
        eq(chatLog.platform, group.platform),
        eq(chatLog.conversationId, group.conversationId),
        eq(chatLog.direction, 'in'),
        isNull(people.id),
        opts.plainOnly ? sql`${chatLog.text} !~ '^\\s*[/／]'` : undefined,
      ),
    )
    .orderBy(desc(chatLog.id))
    .limit(opts.limit);
}
