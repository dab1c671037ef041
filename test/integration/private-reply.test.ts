import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { groups, outbox } from '../../src/db/schema';
import { demoBot } from '../helpers/bot';
import { drivers } from '../helpers/databases';

/** Personal links (看板, exports) asked for in a WeCom or DingTalk group go to the sender's private chat. */
describe.each(drivers)('personal links go privately on $name', (driver) => {
  let database: Database;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  beforeAll(async () => {
    database = await driver.open();
    bot = await demoBot(database.db);
  });
  afterAll(async () => database?.close());

  const send = (platform: 'wecom' | 'dingtalk', conversationId: string, text: string) =>
    bot.chat.handleNow({
      platform,
      conversationId,
      senderId: 'liu',
      messageId: `pr-${Math.random().toString(36).slice(2)}`,
      text,
      mentions: [],
      receivedAt: bot.clock(),
    });

  it.each(['wecom', 'dingtalk'] as const)('%s: /看板 in a group: the link goes to the private chat, the group only hears where', async (platform) => {
    await database.db.insert(groups).values({ platform, conversationId: `${platform}-team`, kind: 'internal' }).onConflictDoNothing();
    const r = await send(platform, `${platform}-team`, '/看板');
    const groupText = r.replies.map((x) => x.text).join('\n');
    expect(groupText).toContain('看板链接已私聊发给您');
    expect(groupText).not.toContain('/kanban?k=');
    const rows = await database.db.select().from(outbox).where(eq(outbox.platform, platform));
    const privately = rows.filter((x) => x.payload.text.includes('/kanban?k='));
    expect(privately).toHaveLength(1);
    expect(privately[0]!.conversationId).not.toBe(`${platform}-team`);
    const [chat] = await database.db.select().from(groups).where(eq(groups.conversationId, privately[0]!.conversationId));
    expect((chat!.route as { privateUserId?: string }).privateUserId).toBe('liu');
  });

  it('in the sandbox (no private chats) the link is the ordinary reply', async () => {
    expect(await bot.say('liu', '/看板')).toContain('/kanban?k=');
  });
});
