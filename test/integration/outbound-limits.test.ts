import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PartialDeliveryError } from '../../src/core/errors';
import type { OutboundMessage, OutboundTarget, PlatformSender } from '../../src/core/types';
import type { DingtalkSender } from '../../src/platforms/dingtalk/dingtalk-sender';
import type { WecomSender } from '../../src/platforms/wecom/wecom-sender';
import { DINGTALK_PATHS, type FakeDingtalkApi } from '../fakes/fake-dingtalk-api';
import type { RecordedRequest } from '../fakes/fake-http-server';
import { WECOM_PATHS, type FakeWecomApi } from '../fakes/fake-wecom-api';
import { startFakePlatforms } from '../helpers/fake-platforms';
import { fixedClock } from '../helpers/platform-test-kit';

/**
 * Every outbound channel against the fakes: each part, label "(i/n)" included, within the channel's
 * real byte limit; nothing cut or dropped (the parts put back together are the message); a reply
 * longer than the single-use AI-bot response_url allows continues on the next channel, or is kept.
 */

const NOW = Date.UTC(2026, 10, 23, 2, 0, 0);
const KEY = 'limits-webhook-key-01';
const DT_TOKEN = 'limitsaccesstoken00000001';
const DT_SECRET = 'SEClimitssecret000000000000001';
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
/** Chinese (3 bytes), an emoji (4), JSON-escaped characters and line breaks: the awkward cases. */
const LINE = '本周项目进度：需求评审已完成，设计稿待客户确认"引号"\\反斜杠，开发排期顺延两天。😀\n';
const long = (n: number) => LINE.repeat(n).trimEnd();
const LABEL = /^\((\d+)\/(\d+)\)\n/;

/** The contents sent, checked: labelled 1..n in order, each within `limit`, no broken character. */
function checkParts(contents: string[], limit: number): string {
  expect(contents.length).toBeGreaterThan(1);
  contents.forEach((c, i) => {
    expect(bytes(c), `part ${i + 1}`).toBeLessThanOrEqual(limit);
    const m = LABEL.exec(c);
    expect(m, c.slice(0, 20)).not.toBeNull();
    expect([Number(m![1]), Number(m![2])]).toEqual([i + 1, contents.length]);
    expect(c).not.toContain('\uFFFD');
    expect(c).not.toContain('未能发送');
  });
  return contents.map((c) => c.replace(LABEL, '')).join('\n');
}
/** Splitting may drop the line break it cuts at; nothing else. */
const same = (a: string, b: string) => expect(a.replace(/\n/g, '')).toBe(b.replace(/\n/g, ''));

const contentOf = (r: RecordedRequest): string => {
  const b = r.body as { text?: { content: string }; markdown?: { content?: string; text?: string }; msgParam?: string };
  if (b.msgParam) {
    const p = JSON.parse(b.msgParam) as { content?: string; text?: string };
    return p.content ?? p.text ?? '';
  }
  return b.text?.content ?? b.markdown?.content ?? b.markdown?.text ?? '';
};

describe('every channel: parts with labels within the real byte limit, nothing lost', () => {
  let wecom: FakeWecomApi;
  let dingtalk: FakeDingtalkApi;
  const clock = fixedClock(NOW);
  let ws: WecomSender;
  let ds: DingtalkSender;

  let close = async () => {};
  beforeAll(async () => {
    ({ wecom, dingtalk, ws, ds, close } = await startFakePlatforms({ clock, webhookKey: KEY, dingtalkRobot: { token: DT_TOKEN, secret: DT_SECRET }, wecomUsers: ['zhangsan'], dingtalkStaff: ['lisi01'] }));
  });
  afterAll(async () => close());
  afterEach(() => {
    wecom.requests.length = 0;
    dingtalk.requests.length = 0;
    wecom.truncated.length = 0;
  });

  const aibot = (code: string) => ({ kind: 'wecom', responseUrl: wecom.responseUrl(code), responseUrlExpiresAt: NOW + 3_600_000 });
  const reply = (conversationId: string, route: Record<string, unknown>, code: string): OutboundTarget => ({
    platform: 'wecom',
    conversationId,
    route: { ...route, ...aibot(code) },
    replyTo: `m-${code}`,
    replyRoute: aibot(code),
  });

  type Case = {
    name: string;
    sender: () => PlatformSender;
    target: () => OutboundTarget;
    message: OutboundMessage;
    path: string;
    fake: () => FakeWecomApi | FakeDingtalkApi;
    /** Bytes the measured thing may hold. */
    limit: number;
    /** DingTalk limits the whole JSON body, WeCom the content. */
    measure: 'content' | 'body';
  };
  const CASES: Case[] = [
    { name: 'WeCom webhook text (2048)', sender: () => ws, target: () => ({ platform: 'wecom', conversationId: 'g-w1', route: { kind: 'wecom', webhookKey: KEY } }), message: { text: long(60), mentions: [] }, path: WECOM_PATHS.webhook, fake: () => wecom, limit: 2048, measure: 'content' },
    { name: 'WeCom webhook markdown (4096)', sender: () => ws, target: () => ({ platform: 'wecom', conversationId: 'g-w2', route: { kind: 'wecom', webhookKey: KEY } }), message: { text: 'x', markdown: long(120), mentions: [] }, path: WECOM_PATHS.webhook, fake: () => wecom, limit: 4096, measure: 'content' },
    { name: 'WeCom appchat text (2048)', sender: () => ws, target: () => ({ platform: 'wecom', conversationId: 'g-w3', route: { kind: 'wecom', appChatId: 'appchat-3' } }), message: { text: long(60), mentions: [] }, path: WECOM_PATHS.appchat, fake: () => wecom, limit: 2048, measure: 'content' },
    { name: 'WeCom appchat markdown (2048)', sender: () => ws, target: () => ({ platform: 'wecom', conversationId: 'g-w4', route: { kind: 'wecom', appChatId: 'appchat-4' } }), message: { text: 'x', markdown: long(60), mentions: [] }, path: WECOM_PATHS.appchat, fake: () => wecom, limit: 2048, measure: 'content' },
    { name: 'WeCom app message/send (2048)', sender: () => ws, target: () => ({ platform: 'wecom', conversationId: 'zhangsan', route: { kind: 'wecom', privateUserId: 'zhangsan' } }), message: { text: long(60), mentions: [] }, path: WECOM_PATHS.messageSend, fake: () => wecom, limit: 2048, measure: 'content' },
    { name: 'DingTalk custom robot (20000-byte body)', sender: () => ds, target: () => ({ platform: 'dingtalk', conversationId: 'cid-d1', route: { kind: 'dingtalk', webhookAccessToken: DT_TOKEN, webhookSecret: DT_SECRET } }), message: { text: long(400), mentions: [] }, path: DINGTALK_PATHS.robotSend, fake: () => dingtalk, limit: 20000, measure: 'body' },
    { name: 'DingTalk sessionWebhook (20000-byte body)', sender: () => ds, target: () => ({ platform: 'dingtalk', conversationId: 'cid-d2', route: { kind: 'dingtalk', sessionWebhook: dingtalk.sessionWebhook('s-2'), sessionWebhookExpiresAt: NOW + 5_400_000 } }), message: { text: 'x', markdown: long(400), mentions: [] }, path: DINGTALK_PATHS.sessionSend, fake: () => dingtalk, limit: 20000, measure: 'body' },
    { name: 'DingTalk OpenAPI group send (20000-byte body)', sender: () => ds, target: () => ({ platform: 'dingtalk', conversationId: 'cid-d3', route: { kind: 'dingtalk', robotCode: 'dingrobot' } }), message: { text: long(400), mentions: [] }, path: DINGTALK_PATHS.groupSend, fake: () => dingtalk, limit: 20000, measure: 'body' },
    { name: 'DingTalk private batchSend (20000-byte body)', sender: () => ds, target: () => ({ platform: 'dingtalk', conversationId: 'cid-private-1', route: { kind: 'dingtalk', robotCode: 'dingrobot', privateUserId: 'lisi01' } }), message: { text: long(400), mentions: [] }, path: DINGTALK_PATHS.otoSend, fake: () => dingtalk, limit: 20000, measure: 'body' },
  ];

  it.each(CASES)('$name', async (c) => {
    await c.sender().send(c.target(), c.message);
    const reqs = c.fake().requestsTo(c.path);
    expect(c.fake().delivered(c.path)).toHaveLength(reqs.length);
    const contents = reqs.map(contentOf);
    if (c.measure === 'body') reqs.forEach((r) => expect(r.bodyBytes).toBeLessThanOrEqual(c.limit));
    const joined = checkParts(contents, c.measure === 'content' ? c.limit : Infinity);
    same(joined, c.message.markdown ?? c.message.text);
    if (c.fake() === wecom) expect(wecom.truncated).toEqual([]);
  });

  it('the issue\'s 4,124-byte reply: part 1 on the AI-bot response_url, part 2 on the group robot, both whole', async () => {
    // Exactly the failing size: over 4096 by a little, so the old "…后续部分未能发送" suffix pushed it over.
    let text = '';
    while (bytes(text) < 4124) text += '管理命令说明：/成员 添加、/部门、/群 类型=客户。\n';
    expect(bytes(text)).toBeGreaterThanOrEqual(4124);
    expect(bytes(text)).toBeLessThan(4200);
    await ws.send(reply('g-aibot-1', { kind: 'wecom', webhookKey: KEY }, 'rc-limits-1'), { text, mentions: [] });
    const viaUrl = wecom.delivered(WECOM_PATHS.aibotResponse).map(contentOf);
    const viaHook = wecom.delivered(WECOM_PATHS.webhook).map(contentOf);
    expect(viaUrl).toHaveLength(1);
    expect(viaHook).toHaveLength(1);
    same(checkParts([...viaUrl, ...viaHook], 4096), text);
  });

  it('continuing on appchat, every part of the reply fits appchat\'s 2048 bytes, the first one included', async () => {
    const text = long(70);
    await ws.send(reply('g-aibot-2', { kind: 'wecom', appChatId: 'appchat-9' }, 'rc-limits-2'), { text, mentions: [] });
    const all = [...wecom.delivered(WECOM_PATHS.aibotResponse), ...wecom.delivered(WECOM_PATHS.appchat)].map(contentOf);
    expect(wecom.delivered(WECOM_PATHS.aibotResponse)).toHaveLength(1);
    same(checkParts(all, 2048), text);
    expect(wecom.truncated).toEqual([]);
  });

  it('with no other channel, the first part goes out and the rest is handed back, labelled, to be kept (not retryable)', async () => {
    const text = long(120);
    const err = await ws.send(reply('g-aibot-3', { kind: 'wecom' }, 'rc-limits-3'), { text, mentions: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartialDeliveryError);
    const p = err as PartialDeliveryError;
    expect(p.delivered).toBe(1);
    expect(p.retryable).toBe(false);
    const first = wecom.delivered(WECOM_PATHS.aibotResponse).map(contentOf);
    expect(first).toHaveLength(1);
    same(checkParts([...first, ...p.remaining], 4096), text);
  });

  it('a private reply longer than the response_url allows continues through the app\'s message/send', async () => {
    const text = long(70);
    const target = { ...reply('zhangsan', { kind: 'wecom', privateUserId: 'zhangsan' }, 'rc-limits-4') };
    await ws.send(target, { text, mentions: [] });
    const all = [...wecom.delivered(WECOM_PATHS.aibotResponse), ...wecom.delivered(WECOM_PATHS.messageSend)].map(contentOf);
    expect(wecom.delivered(WECOM_PATHS.messageSend).length).toBeGreaterThan(0);
    same(checkParts(all, 2048), text);
  });

  it('a failure after the first part hands back exactly the parts not delivered (retryable); kept parts are re-fitted, never cut', async () => {
    const text = long(60);
    const target: OutboundTarget = { platform: 'wecom', conversationId: 'g-w9', route: { kind: 'wecom', webhookKey: KEY } };
    wecom.fail(WECOM_PATHS.webhook, 1, 'pass');
    wecom.fail(WECOM_PATHS.webhook, 1, 'http500');
    const err = await ws.send(target, { text, mentions: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartialDeliveryError);
    const p = err as PartialDeliveryError;
    expect(p.delivered).toBe(1);
    expect(p.retryable).toBe(true);
    const first = wecom.delivered(WECOM_PATHS.webhook).map(contentOf);
    expect(first).toHaveLength(1);
    same(checkParts([...first, ...p.remaining], 2048), text);

    // The kept parts, sent later through appchat (same limit) arrive as they are, labels intact.
    wecom.requests.length = 0;
    await ws.send({ platform: 'wecom', conversationId: 'g-w9', route: { kind: 'wecom', appChatId: 'appchat-9' } }, { text: p.remaining.join('\n'), mentions: [], parts: p.remaining });
    expect(wecom.delivered(WECOM_PATHS.appchat).map(contentOf)).toEqual(p.remaining);
  });
});
