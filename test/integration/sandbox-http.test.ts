import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { chatLog, inboundMessages, orders } from '../../src/db/schema';
import { post, startTestApp } from '../helpers/app';
import { createServerDatabase, drivers, TEST_DATABASE_URL } from '../helpers/databases';

describe.each(drivers)('sandbox HTTP API on a real server ($name)', (driver) => {
  let app: App;
  let api: string;
  beforeAll(async () => {
    const database = await driver.open();
    app = await startTestApp({}, { database, loops: false });
    api = `${app.url}/sandbox/api/messages`;
    // startApp leaves a database it was given open; close it with the app.
    const close = app.close;
    app.close = async () => {
      await close();
      await database.close();
    };
  });
  afterAll(async () => app?.close());

  const say = async (from: string, text: string, group = 'e2e-group') => {
    const r = await post(api, { group, from, text });
    expect(r.status).toBe(200);
    return (r.json.replies as { text: string; mentions: string[] }[]).map((x) => x.text).join('\n');
  };

  it('serves /healthz and the sandbox page', async () => {
    const h = await fetch(`${app.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ ok: true, database: 'reachable' });
    const page = await fetch(`${app.url}/sandbox/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('服务助手 · 沙盒');
  });

  it('creates, assigns, pauses, resumes, transfers and approves an order, then shows its history', async () => {
    const created = await say('wang', '/单 新建 客户=端到端科技 类型=软件 业务员=@王业务 截止=2026-12-31');
    const d = /D\d+/.exec(created)![0];
    const r = await post(api, { group: 'e2e-group', from: 'sun', text: `/派单 ${d} @周工`, mentions: ['zhou'] });
    expect(r.json.replies[0].text).toContain('已派给 @周工');
    expect(r.json.replies[0].mentions).toEqual(['zhou', 'wang']);
    expect(await say('zhou', `/暂停 ${d} 等客户资料`)).toContain('已暂停');
    expect(await say('zhou', `/恢复 ${d}`)).toContain('已恢复');
    expect(await say('zhou', `/转交 ${d} @赵工 客户希望更换负责人`)).toContain('项目移交申请');
    expect(await say('sun', `/批准 ${d}`)).toContain('现由 @赵工 负责');
    const shown = await say('sun', `/查 ${d}`);
    expect(shown).toMatch(/新建[\s\S]*派单[\s\S]*暂停：等客户资料[\s\S]*恢复[\s\S]*申请转交[\s\S]*批准转交/);

    const res = await fetch(`${api}?group=e2e-group`);
    const { messages } = (await res.json()) as { messages: { from: string; text: string; id: number }[] };
    expect(messages.length).toBe(14);
    expect(messages[0]!.from).toBe('wang');
    expect(messages[1]!.from).toBe('bot');
    expect(messages.map((m) => m.id)).toEqual([...messages.map((m) => m.id)].sort((a, b) => a - b));
  });

  it('refuses bad input with 4xx, stores nothing, and stays up', async () => {
    const db = app.database.db;
    const before = {
      log: (await db.select({ n: count() }).from(chatLog))[0]!.n,
      inbound: (await db.select({ n: count() }).from(inboundMessages))[0]!.n,
      orders: (await db.select({ n: count() }).from(orders))[0]!.n,
    };
    expect((await post(api, '{not json')).status).toBe(400);
    expect((await post(api, { group: 'g' })).status).toBe(400);
    expect((await post(api, { group: 'g', from: 'wang', text: '' })).status).toBe(400);
    expect((await post(api, { group: 'g', from: 'wang', card: '/派单 D1 zhang' })).status).toBe(400); // a command is not a token
    expect((await post(api, { group: 'has space', from: 'wang', text: 'x' })).status).toBe(400);
    expect((await post(api, { group: 'g', from: 'wang', text: '/帮助' }, { 'content-type': 'text/plain' })).status).toBe(415);
    const big = await post(api, JSON.stringify({ group: 'g', from: 'wang', text: 'x'.repeat(2 * 1024 * 1024) }));
    expect(big.status).toBe(413);
    const badUtf8 = await fetch(api, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.concat([Buffer.from('{"group":"g","from":"w","text":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    });
    expect(badUtf8.status).toBe(400);
    expect((await fetch(`${api}?group=`)).status).toBe(400);
    const after = {
      log: (await db.select({ n: count() }).from(chatLog))[0]!.n,
      inbound: (await db.select({ n: count() }).from(inboundMessages))[0]!.n,
      orders: (await db.select({ n: count() }).from(orders))[0]!.n,
    };
    expect(after).toEqual(before);
    // A malformed command is answered politely, not with an HTTP error.
    expect(await say('wang', '/单 新建 客户=')).toContain('正确格式');
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });

  it('answers a re-posted message id once', async () => {
    const body = { group: 'e2e-dup', from: 'wang', text: '/单 新建 客户=重发客户 类型=专利 业务员=wang', id: 'client-msg-1' };
    const a = await post(api, body);
    const b = await post(api, body);
    expect(a.json.replies).toHaveLength(1);
    expect(b.json.replies).toHaveLength(0);
    const res = await fetch(`${api}?group=e2e-dup`);
    expect(((await res.json()) as { messages: unknown[] }).messages).toHaveLength(2);
  });
});

describe('persistence', () => {
  it('keeps data across a restart on embedded PGlite', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bot-pg-'));
    try {
      let app = await startTestApp({ DATA_DIR: dir }, { loops: false });
      expect(app.database.kind).toBe('pglite');
      const r = await post(`${app.url}/sandbox/api/messages`, { group: 'g1', from: 'wang', text: '/单 新建 客户=持久科技 类型=专利 业务员=wang' });
      const d = /D\d+/.exec(r.json.replies[0].text)![0];
      await app.close();
      app = await startTestApp({ DATA_DIR: dir }, { loops: false });
      expect(app.seeded).toBe(false);
      const shown = await post(`${app.url}/sandbox/api/messages`, { group: 'g1', from: 'liu', text: `/查 ${d}` });
      expect(shown.json.replies[0].text).toContain('持久科技');
      await app.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(TEST_DATABASE_URL)('works the same with DATABASE_URL pointing at the PostgreSQL server', async () => {
    const tmp = await createServerDatabase(TEST_DATABASE_URL!);
    try {
      let app = await startTestApp({ DATABASE_URL: tmp.url }, { loops: false });
      expect(app.database.kind).toBe('postgres');
      const r = await post(`${app.url}/sandbox/api/messages`, { group: 'g1', from: 'wang', text: '/单 新建 客户=服务器科技 类型=专利 业务员=wang' });
      const d = /D\d+/.exec(r.json.replies[0].text)![0];
      await app.close();
      app = await startTestApp({ DATABASE_URL: tmp.url }, { loops: false });
      const shown = await post(`${app.url}/sandbox/api/messages`, { group: 'g1', from: 'liu', text: `/查 ${d}` });
      expect(shown.json.replies[0].text).toContain('服务器科技');
      await app.close();
    } finally {
      await tmp.drop();
    }
  });
});
