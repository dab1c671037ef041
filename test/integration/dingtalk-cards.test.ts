import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { DINGTALK_PATHS, type FakeCard } from '../fakes/fake-dingtalk-api';
import { drivers } from '../helpers/databases';
import { startPlatformApp, type PlatformApp } from '../helpers/platform-app';

const TEMPLATE = 'tpl-service-card-1.schema';
const GROUP = 'cidCardGroup1==';

/**
 * DingTalk interactive cards end to end, in Stream mode against the fake DingTalk (gateway, WebSocket
 * and OpenAPI on loopback): a reply with buttons goes out as one card (卡片平台 createAndDeliver,
 * callbackType STREAM); a click comes back on /v1.0/card/instances/callback carrying only the button's
 * token, and runs the command the bot offered as the clicker, with the same permission checks.
 */
describe.each(drivers)('DingTalk interactive cards on $name', (driver) => {
  let database: Database;
  let p: PlatformApp;
  let seq = 0;
  beforeAll(async () => {
    database = await driver.open();
    p = await startPlatformApp({
      database,
      env: { DINGTALK_MODE: 'stream', DINGTALK_CARD_TEMPLATE_ID: TEMPLATE },
      dingtalkCardTemplates: [TEMPLATE],
    });
    await p.dingtalk.streamConnected();
  });
  afterAll(async () => {
    await p?.close();
    await database?.close();
  });

  /** A robot message pushed over the Stream connection, as DingTalk sends it; resolves once acknowledged. */
  const say = async (from: string, text: string) => {
    const now = p.clock().getTime();
    const msgId = `msg-card-${++seq}`;
    const ack = await p.dingtalk.streamPush('/v1.0/im/bot/messages/get', `push-${msgId}`, {
      msgtype: 'text',
      msgId,
      conversationId: GROUP,
      conversationType: '2',
      conversationTitle: '卡片测试群',
      senderId: `$:LWCP_v1:$${from}`,
      senderStaffId: from,
      senderNick: from,
      chatbotUserId: '$:LWCP_v1:$bot',
      atUsers: [{ dingtalkId: '$:LWCP_v1:$bot' }],
      text: { content: ` ${text}` },
      sessionWebhook: p.dingtalk.sessionWebhook(`session-${GROUP}`),
      sessionWebhookExpiredTime: now + 90 * 60_000,
      robotCode: p.secrets.dingAppKey,
      createAt: now,
    });
    expect(ack.code).toBe(200);
    await p.settle();
  };
  /** A click on a card button: DingTalk reports the clicker and the button's actionId, nothing else of ours. */
  const click = async (card: FakeCard, actionId: string, userId: string, streamId: string) => {
    const content = JSON.stringify({ cardPrivateData: { actionIds: [actionId], params: {} } });
    const ack = await p.dingtalk.streamPush('/v1.0/card/instances/callback', streamId, {
      extension: '{}',
      corpId: 'dingcorp',
      spaceType: '',
      userIdType: 1,
      type: 'actionCallback',
      userId,
      content,
      spaceId: '',
      outTrackId: card.outTrackId,
      value: content,
    });
    expect(ack.code).toBe(200);
    await p.settle();
  };
  const sessionTexts = () => p.dingtalk.requestsTo(DINGTALK_PATHS.sessionSend).map((r) => JSON.stringify(r.body));

  it('a reply with buttons is one card in the group (no text copy), with the head @-ed and one button per person', async () => {
    const before = sessionTexts().length;
    await say('wang', '/单 新建 客户=钉钉卡片客户 类型=专利 业务员=wang');
    const cards = [...p.dingtalk.cards.values()];
    expect(cards).toHaveLength(1);
    const card = cards[0]!;
    expect(card.openSpaceId).toBe(`dtv1.card//IM_GROUP.${GROUP}`);
    expect(card.cardParamMap.markdown).toMatch(/已新建分配单 D\d+/);
    expect(card.cardParamMap.markdown).toContain('/派单');
    // The head is @-ed by userId, shown with the roster name (the outbox worker adds the names).
    expect(card.atUserIds).toEqual({ liu: '刘经理' });
    const buttons = JSON.parse(card.cardParamMap.buttons!) as { label: string; actionId: string }[];
    expect(buttons.map((b) => b.label)).toContain('派给 张工');
    // The action ids are opaque tokens: no command, no group in what DingTalk carries back.
    for (const b of buttons) expect(b.actionId).toMatch(/^b[A-Za-z0-9_-]{16}$/);
    const req = p.dingtalk.requestsTo(DINGTALK_PATHS.cardCreateAndDeliver).at(-1)!;
    expect(req.body).toMatchObject({ cardTemplateId: TEMPLATE, callbackType: 'STREAM', userIdType: 1, imGroupOpenDeliverModel: { robotCode: p.secrets.dingAppKey } });
    // The card is the reply: the same text is not also sent through the session webhook.
    expect(sessionTexts().length).toBe(before);
  });

  it('a click runs the offered command as the clicker: refused for the salesperson, done for the head, once even if DingTalk re-sends it', async () => {
    const card = [...p.dingtalk.cards.values()][0]!;
    const toZhang = (JSON.parse(card.cardParamMap.buttons!) as { label: string; actionId: string }[]).find((b) => b.label === '派给 张工')!;
    const code = /D(\d+)/.exec(card.cardParamMap.markdown!)![1]!;

    await click(card, toZhang.actionId, 'wang', 'cb-wang-1');
    expect(sessionTexts().at(-1)).toMatch(/抱歉/);
    expect(await p.count('orders', `id = ${code} and handler_id is null`)).toBe(1);

    await click(card, toZhang.actionId, 'liu', 'cb-liu-1');
    expect(sessionTexts().at(-1)).toContain(`D${code} 已派给`);
    expect(await p.count('orders', `id = ${code} and handler_id = (select id from people where userid = 'zhang')`)).toBe(1);
    const assigned = await p.count('events', `action = 'order.assigned'`);
    const replies = sessionTexts().length;

    // DingTalk re-sends a push it thinks unacknowledged: the same stream message id has no second effect.
    await click(card, toZhang.actionId, 'liu', 'cb-liu-1');
    expect(await p.count('events', `action = 'order.assigned'`)).toBe(assigned);
    expect(sessionTexts().length).toBe(replies);
  });

  it('a click on a button the bot never offered is acknowledged and does nothing', async () => {
    const card = [...p.dingtalk.cards.values()][0]!;
    const replies = sessionTexts().length;
    const events = await p.count('events');
    await click(card, 'bAAAAAAAAAAAAAAAA', 'liu', 'cb-forged-1');
    await click(card, '/派单 D1 zhang', 'liu', 'cb-forged-2');
    expect(sessionTexts().length).toBe(replies);
    expect(await p.count('events')).toBe(events);
  });
});
