import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/core/records';
import { createOutboxWorker } from '../../src/core/outbox-worker';
import type { InboundMessage } from '../../src/core/types';
import type { Database } from '../../src/db/client';
import { groups, outbox } from '../../src/db/schema';
import { createSenders } from '../../src/platforms/create-senders';
import { DINGTALK_PATHS, startFakeDingtalkApi, type FakeDingtalkApi } from '../fakes/fake-dingtalk-api';
import type { RecordedRequest } from '../fakes/fake-http-server';
import { startFakeWecomApi, WECOM_PATHS, type FakeWecomApi } from '../fakes/fake-wecom-api';
import { demoBot, fakeClock, silentLog } from '../helpers/bot';
import { drivers } from '../helpers/databases';
import { testConfig } from '../helpers/platform-test-kit';

/**
 * The outbox, the real senders and the fakes together: a reply longer than the single-use AI-bot
 * response_url allows is never cut and never lost (the rest is kept, shown by /发送失败, sent by
 * /重发 once a robot is set); a part that fails is retried alone; a group whose only channel cannot
 * @ is told once how to add one.
 */

const KEY = 'never-lost-webhook-key-1';
const LINE = '管理命令说明：/成员 添加 <姓名> <userid>、/部门 添加、/群 类型=客户、/发送失败、/重发。\n';
const LABEL = /^\((\d+)\/(\d+)\)\n/;
const contentOf = (r: RecordedRequest): string => {
  const b = r.body as { text?: { content: string }; markdown?: { content: string }; msgParam?: string };
  if (b.msgParam) return (JSON.parse(b.msgParam) as { content: string }).content;
  return b.text?.content ?? b.markdown?.content ?? '';
};

describe.each(drivers)('a reply is never lost, on $name', (driver) => {
  let database: Database;
  let wecom: FakeWecomApi;
  let dingtalk: FakeDingtalkApi;
  const clock = fakeClock('2026-11-23T02:00:00Z');
  let bot: Awaited<ReturnType<typeof demoBot>>;
  let worker: ReturnType<typeof createOutboxWorker>;
  let seq = 0;

  beforeAll(async () => {
    database = await driver.open();
    wecom = await startFakeWecomApi({ webhookKeys: [KEY] });
    dingtalk = await startFakeDingtalkApi({ appKey: 'dingappkey', appSecret: 'dingappsecret', now: () => clock().getTime() });
    const config = testConfig({
      WECOM_API_BASE: wecom.baseUrl,
      WECOM_AIBOT_TOKEN: 'aibot-token',
      WECOM_AIBOT_ENCODING_AES_KEY: 'a'.repeat(43),
      DINGTALK_OAPI_BASE: dingtalk.baseUrl,
      DINGTALK_API_BASE: dingtalk.baseUrl,
      DINGTALK_APP_KEY: 'dingappkey',
      DINGTALK_APP_SECRET: 'dingappsecret',
    });
    bot = await demoBot(database.db, { admins: ['root'], clock });
    worker = createOutboxWorker({ db: database.db, senders: createSenders(config, { clock }), log: silentLog, clock, backoffMs: () => 1000 });
  });
  afterAll(async () => {
    await wecom?.close();
    await dingtalk?.close();
    await database?.close();
  });

  /** A message in a WeCom group, as the AI bot delivers it (with its own response_url). */
  const inWecom = (conversationId: string, text: string, code?: string): InboundMessage => ({
    platform: 'wecom',
    conversationId,
    conversationType: 'group',
    senderId: 'root',
    messageId: `nl-${++seq}`,
    text,
    mentions: [],
    receivedAt: clock(),
    ...(code ? { route: { kind: 'wecom', responseUrl: wecom.responseUrl(code), responseUrlExpiresAt: clock().getTime() + 3_600_000 } } : {}),
  });
  const rowOf = async (id: number) => (await database.db.select().from(outbox).where(eq(outbox.id, id)))[0]!;

  it('AI bot only: part 1 through the response_url, the rest kept as failed (listed by /发送失败), sent by /重发 once a group robot is set', async () => {
    const g = 'wecom-aibot-only';
    const first = inWecom(g, '大家好，请帮忙看一下管理命令。', 'rc-nl-1');
    await bot.chat.handleNow(first);
    // A reply longer than one message, queued as the chat core queues replies (with its own route).
    const text = LINE.repeat(80).trimEnd();
    await enqueue(database.db, { platform: 'wecom', conversationId: g, payload: { text, mentions: [], replyRoute: first.route }, dedupeKey: 'nl-long-reply', replyTo: first.messageId, now: clock() });
    const [queued] = await database.db.select().from(outbox).where(eq(outbox.dedupeKey, 'nl-long-reply'));
    await worker.drain();

    const viaUrl = wecom.delivered(WECOM_PATHS.aibotResponse).map(contentOf);
    const long = viaUrl.find((c) => c.startsWith('(1/'))!;
    expect(long).toBeDefined();
    const n = Number(LABEL.exec(long)![2]);
    const kept = await rowOf(queued!.id);
    expect(kept.status).toBe('failed');
    expect(kept.payload.parts).toHaveLength(n - 1);
    expect(kept.payload.parts![0]).toMatch(new RegExp(`^\\(2/${n}\\)\\n`));

    // /发送失败 in that group shows it; /群 机器人= sets the robot; /重发 sends exactly the rest.
    const list = (await bot.chat.handleNow(inWecom(g, '/发送失败'))).replies.map((r) => r.text).join('\n');
    expect(list).toContain(`编号 ${queued!.id}`);
    expect(list).toContain(`(2/${n})`);
    // What `/群 机器人=<key>` stores (the demo bot has no platform robot setting wired in).
    const [grp] = await database.db.select().from(groups).where(and(eq(groups.platform, 'wecom'), eq(groups.conversationId, g)));
    await database.db.update(groups).set({ route: { ...grp!.route, webhookKey: KEY } }).where(eq(groups.id, grp!.id));
    await bot.chat.handleNow(inWecom(g, `/重发 ${queued!.id}`));
    wecom.requests.length = 0;
    await worker.drain();
    const resent = await rowOf(queued!.id);
    expect(resent.status, String(resent.lastError)).toBe('sent');
    const rest = wecom.delivered(WECOM_PATHS.webhook).map(contentOf).filter((c) => LABEL.test(c) && Number(LABEL.exec(c)![2]) === n);
    expect(rest.map((c) => Number(LABEL.exec(c)![1]))).toEqual(Array.from({ length: n - 1 }, (_, i) => i + 2));
    expect(wecom.requestsTo(WECOM_PATHS.aibotResponse).filter((r) => contentOf(r).startsWith('(1/'))).toHaveLength(0);
    const whole = [long, ...rest].map((c) => c.replace(LABEL, '')).join('\n');
    expect(whole.replace(/\n/g, '')).toBe(text.replace(/\n/g, ''));
  });

  it('a part that fails mid-way is retried alone: the group never gets the start twice', async () => {
    const g = 'wecom-robot-flaky';
    await database.db.insert(groups).values({ platform: 'wecom', conversationId: g, route: { kind: 'wecom', webhookKey: KEY }, createdAt: clock() });
    const text = LINE.repeat(60).trimEnd();
    await enqueue(database.db, { platform: 'wecom', conversationId: g, payload: { text, mentions: [] }, dedupeKey: 'nl-flaky', now: clock() });
    const [row] = await database.db.select().from(outbox).where(eq(outbox.dedupeKey, 'nl-flaky'));
    wecom.requests.length = 0;
    wecom.fail(WECOM_PATHS.webhook, 1, 'pass');
    wecom.fail(WECOM_PATHS.webhook, 1, 'http500');
    await worker.drain();
    const afterFirst = await rowOf(row!.id);
    expect(afterFirst.status).toBe('pending');
    expect(afterFirst.payload.parts!.length).toBeGreaterThan(0);
    clock.advance(2000);
    await worker.drain();
    expect((await rowOf(row!.id)).status).toBe('sent');
    const got = wecom.delivered(WECOM_PATHS.webhook).map(contentOf);
    const labels = got.map((c) => LABEL.exec(c)![1]);
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels.map(Number)).toEqual(Array.from({ length: labels.length }, (_, i) => i + 1));
    expect(got.map((c) => c.replace(LABEL, '')).join('\n').replace(/\n/g, '')).toBe(text.replace(/\n/g, ''));
  });

  it('a DingTalk group reachable only through the OpenAPI (no @ there) is told once, in its first reminder, how to add a custom robot with 加签', async () => {
    const g = 'cidOpenApiOnly';
    await database.db.insert(groups).values({ platform: 'dingtalk', conversationId: g, kind: 'internal', route: { kind: 'dingtalk', robotCode: 'dingrobot' }, createdAt: clock() });
    await database.db.insert(groups).values({ platform: 'dingtalk', conversationId: 'cidClient', kind: 'client', route: { kind: 'dingtalk', robotCode: 'dingrobot' }, createdAt: clock() });
    for (const [i, conv] of [g, g, 'cidClient'].entries()) {
      await enqueue(database.db, { platform: 'dingtalk', conversationId: conv, payload: { text: `提醒 ${i}：请今天提交。\n@李四`, mentions: ['lisi01'] }, dedupeKey: `nl-dt-${i}`, now: clock() });
    }
    await worker.drain();
    const sent = dingtalk.delivered(DINGTALK_PATHS.groupSend).map((r) => [(r.body as { openConversationId: string }).openConversationId, contentOf(r)] as const);
    expect(sent.map(([c, t]) => [c, t.split('\n')[0]])).toEqual([
      [g, '提醒 0：请今天提交。'],
      [g, '提醒 1：请今天提交。'],
      ['cidClient', '提醒 2：请今天提交。'],
    ]);
    // The first reminder in the internal group carries the note, once; the name stays as text; the client group gets none.
    expect(sent[0]![1]).toContain('@李四');
    expect(sent[0]![1]).toContain('加签');
    expect(sent[0]![1]).toContain('/群 机器人=');
    expect(sent[1]![1]).not.toContain('加签');
    expect(sent[2]![1]).not.toContain('加签');
    const marks = await database.db.select().from(outbox).where(eq(outbox.dedupeKey, `mention-gap:dingtalk:${g}`));
    expect(marks.map((m) => m.status)).toEqual(['sent']);
    const rows = await database.db.select().from(outbox).where(and(eq(outbox.platform, 'dingtalk'), eq(outbox.conversationId, 'cidClient')));
    expect(rows).toHaveLength(1);
  });
});
