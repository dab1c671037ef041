import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { openDatabase, type Database } from '../../src/db/client';
import { outbox } from '../../src/db/schema';
import { createLlmClient } from '../../src/llm/client';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/fake-openai';
import { demoBot, fakeClock, silentLog } from '../helpers/bot';
import { settlesWithin, until } from '../helpers/waits';

/**
 * Issue 26 #11, "no network inside a transaction": `/草拟` and `/单 <一句话>` ask the model before the
 * message's transaction opens (FeatureCommand.prepare). On the embedded database (PGlite: one
 * connection, one transaction at a time) a slow model therefore never holds up another group's
 * command. Real HTTP on 127.0.0.1 (test/fakes/fake-openai.ts): the fake holds the call until released.
 */
describe('a slow model on the embedded database (PGlite)', () => {
  let database: Database;
  let fake: FakeOpenAi;
  let bot: Awaited<ReturnType<typeof demoBot>>;

  beforeAll(async () => {
    database = await openDatabase({});
    await database.migrate();
    expect(database.kind).toBe('pglite');
    fake = await startFakeOpenAi({
      defaultContent: (req) =>
        JSON.stringify(
          JSON.stringify(req.body).includes('order-extract') || JSON.stringify(req.body).includes('serviceType')
            ? { client: '慢模型科技', serviceType: '专利', salesperson: '王业务', deadline: '2026-12-20', department: null, paid: false }
            : { draft: '您好！非常抱歉材料延误了，我们会在周五前补交，感谢您的耐心与理解，祝您工作顺利！' },
        ),
    });
    const llm = createLlmClient({ baseURL: fake.baseUrl, model: 'fake', timeoutMs: 30_000, maxRetries: 0, privacy: true }, silentLog);
    bot = await demoBot(database.db, { clock: fakeClock('2026-11-23T02:00:00Z'), llm });
  });
  afterAll(async () => {
    fake?.releaseHeld();
    await database?.close();
    await fake?.close();
  });

  for (const [name, from, command, answered] of [
    ['/草拟', 'zhang', '/草拟 材料延误，周五前补交，向客户致歉', '感谢您的耐心与理解'],
    ['/单 <一句话>', 'wang', '/单 慢模型科技的发明专利，业务员王业务', '截止=2026-12-20'],
  ] as const) {
    it(`${name}: another group's command is answered while the model is still thinking; the reply then uses the model's answer`, async () => {
      fake.hold();
      const slow = bot.say(from, command, { group: 'demo-internal' });
      await until('the model call to reach the fake', () => fake.heldCount === 1);

      const other = await settlesWithin(bot.say('liu', '/成员 列表 专利部', { group: 'other-group' }), 5000);
      expect(other.settled).toBe(true);
      expect(other.settled && other.value).toContain('刘经理');
      expect(await settlesWithin(slow, 0)).toEqual({ settled: false });

      expect(fake.releaseHeld()).toBe(1);
      expect(await slow).toContain(answered);
    });
  }

  it('a message taken from the inbound queue (platform callbacks) is prepared before its claim, too', async () => {
    const clock = bot.clock;
    const msg = { platform: 'sandbox' as const, conversationId: 'demo-internal', senderId: 'zhang', messageId: 'queued-draft-1', text: '/草拟 材料延误，周五前补交，向客户致歉', mentions: [], receivedAt: clock() };
    expect(await bot.chat.accept(msg)).toBe('accepted');
    fake.hold();
    const processing = bot.chat.processPending();
    await until('the model call to reach the fake', () => fake.heldCount === 1);
    const other = await settlesWithin(bot.say('liu', '/成员 列表 专利部', { group: 'other-group' }), 5000);
    expect(other.settled).toBe(true);
    expect(fake.releaseHeld()).toBe(1);
    expect(await processing).toBe(1);
    const [row] = await database.db.select().from(outbox).where(eq(outbox.dedupeKey, 'reply:sandbox:queued-draft-1:0'));
    expect(row!.payload.text).toContain('感谢您的耐心与理解');
  });
});
