import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAcceptBatcher } from '../../src/core/accept-batcher';
import { cleanText } from '../../src/core/clean-text';
import type { InboundMessage } from '../../src/core/types';
import type { Database } from '../../src/db/client';
import { chatLog, inboundMessages } from '../../src/db/schema';
import { post, startTestApp } from '../helpers/app';
import { drivers } from '../helpers/databases';
import { startPlatformApp, type PlatformApp } from '../helpers/platform-app';

/**
 * NUL (U+0000) and lone UTF-16 surrogates cannot be stored in PostgreSQL text or jsonb. One such
 * character must not fail its message forever, nor the grouped insert of the messages beside it.
 */

const BAD = ['含\u0000空字符', '孤立\uD800代理', '孤立\uDFFF低位', '\u0000\uDC00'];

describe('cleanText', () => {
  it('drops NUL and lone surrogates and keeps everything else, including real surrogate pairs', () => {
    expect(cleanText('a\u0000b')).toBe('ab');
    expect(cleanText('x\uD800y\uDFFFz')).toBe('xyz');
    expect(cleanText('表情😀好')).toBe('表情😀好');
    expect(cleanText('\uD83D\uD83D\uDE00')).toBe('😀');
  });
});

describe.each(drivers)('unstorable characters ($name)', (driver) => {
  let database: Database;
  beforeAll(async () => {
    database = await driver.open();
  });
  afterAll(async () => database?.close());

  const msg = (id: string, text = '你好', extra: Partial<InboundMessage> = {}): InboundMessage => ({
    platform: 'dingtalk',
    conversationId: 'g-nul',
    senderId: 'u',
    messageId: id,
    text,
    mentions: [],
    receivedAt: new Date('2026-12-01T02:00:00Z'),
    ...extra,
  });

  it('a grouped insert with NUL/surrogate messages and unstorable rows commits every valid message', async () => {
    const accept = createAcceptBatcher(database.db);
    const messages: InboundMessage[] = [];
    for (let i = 0; i < 60; i++) {
      if (i % 15 === 3) {
        const bad = BAD[(i / 15) | 0]!;
        messages.push(msg(`nul-${i}`, bad, { senderName: bad, mentions: [bad], route: { sessionWebhook: bad } }));
      } else messages.push(msg(`ok-${i}`));
    }
    // Two rows no cleaning can save: an id too large for the unique index (PostgreSQL refuses the row).
    messages.splice(10, 0, msg(`huge-${randomBytes(12_000).toString('base64')}`));
    messages.splice(40, 0, msg(`huge-${randomBytes(12_000).toString('base64')}`));
    const results = await Promise.allSettled(messages.map((m) => accept(m)));
    const outcome = (id: string) => results[messages.findIndex((m) => m.messageId === id)]!;
    for (const m of messages) {
      const r = outcome(m.messageId);
      if (m.messageId.startsWith('huge-')) expect(r.status).toBe('rejected');
      else expect(r, m.messageId).toEqual({ status: 'fulfilled', value: 'accepted' });
    }
    const rows = await database.db.select().from(inboundMessages);
    expect(rows.map((r) => r.messageId).sort()).toEqual(messages.map((m) => m.messageId).filter((id) => !id.startsWith('huge-')).sort());
    const nul = rows.find((r) => r.messageId === 'nul-3')!;
    expect((nul.payload as { text: string }).text).toBe('含空字符');
  });
});

describe.each(drivers)('routes keep a message with a NUL or a lone surrogate ($name)', (driver) => {
  let database: Database;
  let p: PlatformApp;
  beforeAll(async () => {
    database = await driver.open();
    p = await startPlatformApp({ database });
  });
  afterAll(async () => {
    await p?.close();
    await database?.close();
  });

  it('WeCom and DingTalk answer 200 (not 503 for ever) and the command runs without the bad characters', async () => {
    const wx = await p.wecomMessage({ from: 'wang', chatid: 'nul-wx', text: '/单 新建 客户=空\u0000字\uD800符 类型=专利 业务员=wang' });
    expect(wx.status).toBe(200);
    const again = await p.wecomMessage({ from: 'wang', chatid: 'nul-wx', text: '/单 新建 客户=空\u0000字\uD800符 类型=专利 业务员=wang', msgid: wx.msgid });
    expect(again.status).toBe(200);
    const dt = await p.dingtalkMessage({ from: 'wang', conversationId: 'nul-dt', text: '/帮助\u0000\uDFFF' });
    expect(dt.status).toBe(200);
    await p.settle();
    expect(await p.count('inbound_messages', `status = 'done'`)).toBe(2);
    const log = await database.db.select().from(chatLog);
    expect(log.some((r) => r.direction === 'in' && r.text.includes('客户=空字符'))).toBe(true);
    expect(log.filter((r) => r.direction === 'out' && r.conversationId === 'nul-wx')[0]?.text).toContain('空字符');
  });
});

describe('the sandbox keeps a message with a NUL or a lone surrogate', () => {
  it('answers 200 with the reply, never 500', async () => {
    const app = await startTestApp();
    try {
      for (const text of ['/帮助\u0000', '/帮助\uD800', '\u0000']) {
        const r = await post(`${app.url}/sandbox/api/messages`, { group: 'nul-sb', from: 'liu', text });
        expect(r.status, JSON.stringify(text)).toBe(200);
      }
      const quoted = await post(`${app.url}/sandbox/api/messages`, { group: 'nul-sb', from: 'liu\u0000', text: '你好', quote: '\uDC00引用' });
      expect(quoted.status).toBeLessThan(500);
    } finally {
      await app.close();
    }
  });
});
