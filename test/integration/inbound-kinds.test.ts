import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEDIA_HINT, WELCOME } from '../../src/core/chat';
import type { InboundMessage } from '../../src/core/types';
import type { Database } from '../../src/db/client';
import { chatLog, outbox } from '../../src/db/schema';
import { decodeRobotMessage } from '../../src/platforms/dingtalk/dingtalk-callback';
import { decodeCardCallback, decodeGroupJoinEvent } from '../../src/platforms/dingtalk/dingtalk-stream';
import { decodeAibotJson, decodeAppCallback } from '../../src/platforms/wecom/wecom-callback';
import { buildWecomXml } from '../../src/platforms/wecom/wecom-xml';
import { sealMessage } from '../../src/platforms/wecom/wecom-crypto';
import { demoBot, fakeClock } from '../helpers/bot';
import { drivers } from '../helpers/databases';

const now = new Date('2026-12-01T02:00:00Z');
const msgOf = (d: ReturnType<typeof decodeAibotJson>): InboundMessage => {
  if (!d.ok || d.kind !== 'message') throw new Error(`not a message: ${JSON.stringify(d)}`);
  return d.message;
};

describe('what people send: WeCom AI bot payloads (docs path/100719)', () => {
  const base = { msgid: 'm1', aibotid: 'AIBOTID', chatid: 'CHAT', chattype: 'group', from: { userid: 'wang' }, response_url: 'https://x/r' };

  it('voice: the recognised text is the message', () => {
    const m = msgOf(decodeAibotJson({ ...base, msgtype: 'voice', voice: { content: '/日历' } }, now, '服务助手'));
    expect(m.text).toBe('/日历');
    expect(m.attachment).toBeUndefined();
  });

  it('mixed: the text parts joined, pictures skipped; pictures only is an attachment', () => {
    const mixed = {
      msg_item: [
        { msgtype: 'text', text: { content: '@服务助手 /查 D12' } },
        { msgtype: 'image', image: { url: 'https://x/img' } },
        { msgtype: 'text', text: { content: '请看图' } },
      ],
    };
    const m = msgOf(decodeAibotJson({ ...base, msgtype: 'mixed', mixed }, now, '服务助手'));
    expect(m.text).toBe('/查 D12\n请看图');
    const pics = msgOf(decodeAibotJson({ ...base, msgtype: 'mixed', mixed: { msg_item: [{ msgtype: 'image', image: { url: 'u' } }] } }, now));
    expect(pics.attachment).toBe('image');
    expect(pics.text).toBe('');
  });

  it('image and file are attachments; a quote is kept as the quoted text', () => {
    expect(msgOf(decodeAibotJson({ ...base, msgtype: 'image', image: { url: 'https://x/i' } }, now)).attachment).toBe('image');
    expect(msgOf(decodeAibotJson({ ...base, msgtype: 'file', file: { url: 'https://x/f' } }, now)).attachment).toBe('file');
    const q = msgOf(decodeAibotJson({ ...base, msgtype: 'text', text: { content: '@服务助手 /投诉' }, quote: { msgtype: 'text', text: { content: '报告还没收到' } } }, now, '服务助手'));
    expect(q.quotedText).toBe('报告还没收到');
  });

  it('enter_chat is a welcome in the one-to-one chat; a stream refresh asks for that stream (never a message)', () => {
    const w = msgOf(decodeAibotJson({ msgid: 'e1', create_time: 1700000000, aibotid: 'A', from: { userid: 'zhang' }, msgtype: 'event', event: { eventtype: 'enter_chat' } }, now));
    expect(w).toMatchObject({ event: 'welcome', conversationId: 'zhang', conversationType: 'single', text: '' });
    const s = decodeAibotJson({ ...base, msgtype: 'stream', stream: { id: 'S1' } }, now);
    expect(s).toMatchObject({ ok: true, kind: 'stream-refresh', streamId: 'S1' });
  });
});

describe('what people send: WeCom self-built app (docs path/90239)', () => {
  const keys = { token: 'tok', encodingAesKey: 'a'.repeat(43), receiveId: 'ww1' };
  const post = (fields: Record<string, string | number>) => {
    const env = sealMessage(keys, buildWecomXml(fields), String(now.getTime() / 1000), 'n1');
    return decodeAppCallback(
      keys,
      { query: { msg_signature: env.msgsignature, timestamp: env.timestamp, nonce: env.nonce }, body: buildWecomXml({ ToUserName: 'ww1', Encrypt: env.encrypt }) },
      now,
    );
  };
  const common = { ToUserName: 'ww1', FromUserName: 'zhang', CreateTime: now.getTime() / 1000, AgentID: 1000002 };

  it('voice with Recognition is its text; an image is an attachment', () => {
    const v = msgOf(post({ ...common, MsgType: 'voice', MediaId: 'M', Format: 'amr', Recognition: '/日历', MsgId: '11' }));
    expect(v.text).toBe('/日历');
    const i = msgOf(post({ ...common, MsgType: 'image', PicUrl: 'https://x', MediaId: 'M', MsgId: '12' }));
    expect(i.attachment).toBe('image');
  });
});

describe('what people send: DingTalk robot payloads', () => {
  const base = {
    msgId: 'd1',
    conversationId: 'cid1',
    conversationType: '2',
    senderStaffId: 'wang',
    senderNick: '王业务',
    chatbotUserId: 'bot',
    sessionWebhook: 'https://x/s',
    sessionWebhookExpiredTime: now.getTime() + 5400_000,
    robotCode: 'rc',
  };

  it('audio: the recognition is the message', () => {
    const m = msgOf(decodeRobotMessage({ ...base, msgtype: 'audio', content: { duration: 2000, downloadCode: 'x', recognition: '/日历' } }, now));
    expect(m.text).toBe('/日历');
  });

  it('richText: the text parts joined, pictures skipped', () => {
    const content = { richText: [{ text: '/查 D12' }, { type: 'picture', downloadCode: 'p', pictureDownloadCode: 'p' }, { text: '谢谢' }] };
    const m = msgOf(decodeRobotMessage({ ...base, msgtype: 'richText', content }, now));
    expect(m.text).toBe('/查 D12\n谢谢');
    const pics = msgOf(decodeRobotMessage({ ...base, msgtype: 'richText', content: { richText: [{ type: 'picture', downloadCode: 'p' }] } }, now));
    expect(pics.attachment).toBe('image');
  });

  it('picture and file are attachments; a reply keeps the quoted message', () => {
    expect(msgOf(decodeRobotMessage({ ...base, msgtype: 'picture', content: { downloadCode: 'x', pictureDownloadCode: 'y' } }, now)).attachment).toBe('image');
    expect(msgOf(decodeRobotMessage({ ...base, msgtype: 'file', content: { downloadCode: 'x', fileName: 'a.pdf' } }, now)).attachment).toBe('file');
    const r = msgOf(
      decodeRobotMessage({ ...base, msgtype: 'text', text: { content: ' /投诉', isReplyMsg: true, repliedMsg: { msgType: 'text', msgId: 'o', content: { text: '报告还没收到' } } } }, now),
    );
    expect(r).toMatchObject({ text: '/投诉', quotedText: '报告还没收到' });
  });
});

describe('DingTalk group join (Stream event chat_add_member)', () => {
  const push = (eventType: string, data: unknown) => ({
    specVersion: '1.0',
    type: 'EVENT',
    headers: { appId: 'a', connectionId: 'c', contentType: 'application/json', messageId: 'sm1', time: '0', topic: '*', eventType, eventId: 'ev-9' },
    data: JSON.stringify(data),
  });
  it('is a welcome in the group the person joined', () => {
    const m = decodeGroupJoinEvent(push('chat_add_member', { OpenConversationId: 'cidG1', UserId: ['newbie'], Operator: 'liu', ChatId: 'chat1' }), now);
    expect(m).toMatchObject({ platform: 'dingtalk', conversationId: 'cidG1', senderId: 'newbie', messageId: 'join:ev-9', event: 'welcome' });
  });
  it('other events and incomplete ones are not', () => {
    expect(decodeGroupJoinEvent(push('chat_remove_member', { OpenConversationId: 'cidG1', UserId: ['x'] }), now)).toBeNull();
    expect(decodeGroupJoinEvent(push('chat_add_member', { UserId: ['x'] }), now)).toBeNull();
  });
});

describe('card clicks are commands from the clicker', () => {
  it('WeCom template_card_event with one of our keys; other keys are ignored', () => {
    const ev = (key: string) => ({ msgid: 'c1', aibotid: 'A', chatid: 'G', chattype: 'group', from: { userid: 'liu' }, msgtype: 'event', event: { eventtype: 'template_card_event', template_card_event: { card_type: 'button_interaction', event_key: key, task_id: 't1' } } });
    expect(msgOf(decodeAibotJson(ev('cmd:/批准 D12'), now))).toMatchObject({ text: '/批准 D12', senderId: 'liu', conversationId: 'G' });
    expect(decodeAibotJson(ev('other-key'), now)).toMatchObject({ ok: true, kind: 'ignored' });
  });
  it('DingTalk card callback: the button token from actionIds, never a command or a group from the callback', () => {
    const push = (data: unknown) => ({ specVersion: '1.0', type: 'CALLBACK', headers: { appId: 'a', connectionId: 'c', contentType: 'application/json', messageId: 'cb-7', time: '0', topic: '/v1.0/card/instances/callback' }, data: JSON.stringify(data) });
    const content = (actionIds: unknown, params: unknown = {}) => JSON.stringify({ cardPrivateData: { actionIds, params } });
    expect(decodeCardCallback(push({ outTrackId: 'o1', userId: 'liu', spaceId: '', content: content(['bQ2xY_-9aZ8kLmNoP']) }), now)).toMatchObject({
      platform: 'dingtalk', senderId: 'liu', messageId: 'card:cb-7', cardToken: 'bQ2xY_-9aZ8kLmNoP', text: '',
    });
    // A command in params (or as the action id) is not taken: only our tokens' shape is.
    expect(decodeCardCallback(push({ outTrackId: 'o1', userId: 'liu', openConversationId: 'cidG', content: content(['approve'], { cmd: '/批准 D12' }) }), now)).toBeNull();
    expect(decodeCardCallback(push({ outTrackId: 'o1', userId: 'liu', content: content(['/批准 D12']) }), now)).toBeNull();
    expect(decodeCardCallback(push({ outTrackId: 'o1', content: content(['bQ2xY_-9aZ8kLmNoP']) }), now)).toBeNull();
    expect(decodeCardCallback({ ...push({}), data: '{not json' }, now)).toBeNull();
  });
});

describe.each(drivers)('what people send, answered by the chat core on $name', (driver) => {
  let database: Database;
  let a: Awaited<ReturnType<typeof demoBot>>;
  let b: Awaited<ReturnType<typeof demoBot>>;
  const clock = fakeClock('2026-12-01T02:00:00Z');
  let seq = 0;
  beforeAll(async () => {
    database = await driver.open();
    // Two chat cores on one database: two instances of the bot.
    a = await demoBot(database.db, { clock });
    b = await demoBot(database.db, { clock });
  });
  afterAll(async () => database?.close());

  const send = (bot: typeof a, m: Partial<InboundMessage>) =>
    bot.chat.handleNow({ platform: 'wecom', conversationId: 'g-media', senderId: 'client1', messageId: `k${++seq}`, text: '', mentions: [], receivedAt: clock(), ...m });

  it('answers pictures and files once per group per hour, across instances; a voice command runs', async () => {
    const first = await send(a, { attachment: 'image' });
    expect(first.replies.map((r) => r.text)).toEqual([MEDIA_HINT]);
    expect((await send(b, { attachment: 'image' })).replies).toEqual([]);
    expect((await send(a, { attachment: 'file' })).replies).toEqual([]);
    // Another group has its own hour.
    expect((await send(b, { attachment: 'image', conversationId: 'g-other' })).replies.map((r) => r.text)).toEqual([MEDIA_HINT]);
    clock.advance(59 * 60_000);
    expect((await send(b, { attachment: 'video' })).replies).toEqual([]);
    clock.advance(2 * 60_000);
    expect((await send(b, { attachment: 'image' })).replies.map((r) => r.text)).toEqual([MEDIA_HINT]);
    const logged = await database.db.select().from(chatLog).where(and(eq(chatLog.conversationId, 'g-media'), eq(chatLog.direction, 'in')));
    expect(logged.map((l) => l.text)).toContain('[图片]');
    // Text read from a voice message is a command like any other.
    const voice = await send(a, { senderId: 'liu', text: '/帮助' });
    expect(voice.replies[0]!.text).toContain('/帮助');
  });

  it('welcomes once per arrival with /帮助, and holds a reply while the callback may answer it', async () => {
    const w = await send(a, { event: 'welcome', conversationId: 'zhang', conversationType: 'single', senderId: 'zhang' });
    expect(w.replies.map((r) => r.text)).toEqual([WELCOME]);
    expect(WELCOME).toContain('/帮助');
    const hold = clock().getTime() + 4000;
    const h = await send(a, { event: 'welcome', conversationId: 'zhao', conversationType: 'single', senderId: 'zhao', replyHoldUntil: hold, messageId: 'held-1' });
    expect(h.replies).toHaveLength(1);
    const [row] = await database.db.select().from(outbox).where(eq(outbox.replyTo, 'held-1'));
    expect(row!.nextAttemptAt.getTime()).toBe(hold);
  });
});
