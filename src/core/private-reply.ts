import type { ChatContext } from './context';
import { PRIVATE_PLATFORMS, privateConversation } from './reminder-mode';

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
