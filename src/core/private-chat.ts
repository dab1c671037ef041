import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { groups } from '../db/schema';
import type { ChatContext } from './context';

/** Platforms with a private send (WeCom message/send, DingTalk oToMessages/batchSend). */
export const PRIVATE_PLATFORMS = new Set(['wecom', 'dingtalk']);


/**
 * A reply only its sender should read (a personal link: 看板, exports). In a group on WeCom or
 * DingTalk it goes to the sender's private chat with the bot, and the group is told so; in a private
 * chat, or on a platform without private sends (the sandbox), it is the ordinary reply.
 */
export async function replyPrivately(ctx: ChatContext, text: string, groupNote: string): Promise<void> {
  const platform = ctx.message.platform;
  const route = (ctx.group.route ?? {}) as { privateUserId?: string };
  if (!PRIVATE_PLATFORMS.has(platform) || route.privateUserId === ctx.actor.userid) {
    ctx.reply(text);
    return;
  }
  const conversationId = await privateConversation(ctx.tx, platform, ctx.actor.userid, ctx.now);
  if (conversationId === ctx.message.conversationId) {
    ctx.reply(text);
    return;
  }
  await ctx.post({ platform, conversationId }, { text, mentions: [] }, `private-reply:${platform}:${ctx.message.messageId}`);
  ctx.reply(groupNote);
}

/** The person's private chat with the bot on a platform (known from their messages, else keyed by userid). */
export async function privateConversation(tx: Db, platform: string, userid: string, now: Date): Promise<string> {
  const [known] = await tx
    .select({ conversationId: groups.conversationId })
    .from(groups)
    .where(and(eq(groups.platform, platform), sql`${groups.route}->>'privateUserId' = ${userid}`))
    .limit(1);
  if (known) return known.conversationId;
  // WeCom names a one-to-one chat by the userid (app and AI bot alike); DingTalk's private cid is only
  // learned from a message, so until then the conversation is keyed by the staff id.
  const conversationId = platform === 'wecom' ? userid : `private:${userid}`;
  await tx
    .insert(groups)
    .values({ platform, conversationId, kind: 'internal', route: { kind: platform, privateUserId: userid }, createdAt: now })
    .onConflictDoUpdate({
      target: [groups.platform, groups.conversationId],
      set: { route: sql`coalesce(${groups.route}, '{}'::jsonb) || ${JSON.stringify({ kind: platform, privateUserId: userid })}::jsonb` },
    });
  return conversationId;
}
