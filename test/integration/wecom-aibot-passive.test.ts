import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WELCOME } from '../../src/core/chat';
import type { Database } from '../../src/db/client';
import { chatLog, outbox } from '../../src/db/schema';
import { postAibotCallback, type AibotKeys } from '../fakes/fake-wecom-aibot-caller';
import { WECOM_PATHS } from '../fakes/fake-wecom-api';
import { drivers } from '../helpers/databases';
import { startPlatformApp, type PlatformApp } from '../helpers/platform-app';

/**
 * The WeCom AI bot answers in the HTTP response itself (encrypted passive reply, docs path/101031) when
 * the command finishes within the window, and falls back to response_url when it does not. The test
 * plays WeCom: it posts signed, encrypted callbacks and verifies and decrypts what comes back.
 */
describe.each(drivers)('WeCom AI bot passive replies on $name', (driver) => {
  let database: Database;
  let p: PlatformApp;
  let keys: AibotKeys;
  let url: string;
  let seq = 0;
  beforeAll(async () => {
    database = await driver.open();
    // The whole-window mode (no open stream): the stream path has its own tests (passive-wakeup.test.ts).
    p = await startPlatformApp({ database, env: { WECOM_AIBOT_PASSIVE_MS: '2500', WECOM_AIBOT_STREAM_AFTER_MS: '0' } });
    keys = { token: p.secrets.aibotToken, encodingAesKey: p.secrets.aibotAesKey };
    url = `${p.app.url}/wecom/aibot`;
  });
  afterAll(async () => {
    await p?.close();
    await database?.close();
  });

  const message = (from: string, text: string, msgid = `pm-${++seq}`) => ({
    msgid,
    aibotid: 'aibot-fake',
    chatid: 'wx-passive',
    chattype: 'group',
    from: { userid: from },
    response_url: p.wecom.responseUrl(`rc-${msgid}`),
    msgtype: 'text',
    text: { content: `@服务助手 ${text}` },
  });

  /** Do the inbound loop's work while the callback waits, as the running app would. */
  async function whileHandled<T>(pending: Promise<T>): Promise<T> {
    let done = false;
    const r = pending.finally(() => {
      done = true;
    });
    while (!done) {
      await p.app.chat.processPending();
      await new Promise((res) => setTimeout(res, 15));
    }
    return r;
  }

  it('answers a command inside the HTTP response as a finished stream, and nothing goes to response_url', async () => {
    const sentBefore = p.wecom.requestsTo(WECOM_PATHS.aibotResponse).length;
    const m = message('wang', '/单 新建 客户=被动客户 类型=专利 业务员=wang');
    const answer = await whileHandled(postAibotCallback(url, keys, m, p.clock()));
    expect(answer.status).toBe(200);
    // The 派给 buttons ride in the same answer: stream + button_interaction card (docs path/101031).
    expect(answer.reply?.msgtype).toBe('stream_with_template_card');
    expect(answer.reply?.stream).toMatchObject({ id: `reply-${m.msgid}`, finish: true });
    const card = answer.reply!.template_card!;
    expect(card.card_type).toBe('button_interaction');
    expect(card.main_title.title).toMatch(/^已新建分配单 /);
    expect(card.task_id).toMatch(/^task-/);
    expect(card.button_list.length).toBeGreaterThan(0);
    for (const b of card.button_list) {
      expect(b.text).toMatch(/^派给 /);
      expect(b.key).toMatch(/^cmd:\/派单 \S+ \S+$/);
    }
    expect(answer.reply?.stream?.content).toContain('已新建分配单');
    expect(answer.reply?.stream?.content).toContain('<@liu>');
    // The outbox row is settled as sent: the worker never sends it again.
    const rows = await database.db.select().from(outbox).where(eq(outbox.replyTo, m.msgid));
    expect(rows.map((r) => r.status)).toEqual(['sent']);
    const logged = await database.db.select().from(chatLog).where(eq(chatLog.conversationId, 'wx-passive'));
    expect(logged.filter((l) => l.direction === 'out').map((l) => l.text).join('\n')).toContain('已新建分配单');
    p.clock.advance(60_000);
    await p.settle();
    expect(p.wecom.requestsTo(WECOM_PATHS.aibotResponse).length).toBe(sentBefore);
  });

  it('falls back to response_url when the command is not handled within the window', async () => {
    const m = message('liu', '/帮助');
    const answer = await postAibotCallback(url, keys, m, p.clock()); // nobody handles it in time
    expect(answer.status).toBe(200);
    expect(answer.raw).toBe('');
    await p.settle();
    // Handled, but held for the passive answer until the window (by the app's clock) has passed.
    expect(p.wecom.requestsTo(WECOM_PATHS.aibotResponse).filter((r) => r.query.response_code === `rc-${m.msgid}`)).toHaveLength(0);
    p.clock.advance(5_000);
    await p.settle();
    const sent = p.wecom.requestsTo(WECOM_PATHS.aibotResponse).filter((r) => r.query.response_code === `rc-${m.msgid}`);
    expect(sent).toHaveLength(1);
    expect((sent[0]!.body as { markdown: { content: string } }).markdown.content).toContain('/帮助');
  });

  it('a retried delivery is answered empty and never doubles the reply', async () => {
    const m = message('wang', '/帮助');
    const first = await whileHandled(postAibotCallback(url, keys, m, p.clock()));
    expect(first.reply?.stream?.content).toContain('/帮助');
    // No buttons, no card: a plain finished stream.
    expect(first.reply?.msgtype).toBe('stream');
    expect(first.reply?.template_card).toBeUndefined();
    const retry = await postAibotCallback(url, keys, m, p.clock());
    expect(retry.raw).toBe('');
    expect((await database.db.select().from(outbox).where(eq(outbox.replyTo, m.msgid))).length).toBe(1);
  });

  it('welcomes on enter_chat with a passive text reply', async () => {
    const ev = { msgid: `ev-${++seq}`, create_time: Math.floor(p.clock().getTime() / 1000), aibotid: 'aibot-fake', from: { userid: 'zhao' }, msgtype: 'event', event: { eventtype: 'enter_chat' } };
    const answer = await whileHandled(postAibotCallback(url, keys, ev, p.clock()));
    expect(answer.reply).toEqual({ msgtype: 'text', text: { content: WELCOME } });
  });

  it('rejects a passive reply that a tampered key could not have made (the check is real)', async () => {
    const m = message('wang', '/帮助');
    const answer = await whileHandled(postAibotCallback(url, keys, m, p.clock()));
    const wrong = { ...keys, token: `${keys.token}x` };
    const { openPassiveReply } = await import('../fakes/fake-wecom-aibot-caller');
    expect(() => openPassiveReply(wrong, answer.raw)).toThrow(/signature/);
  });
});
