import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { createLinkSigner } from '../../src/core/signed-link';
import { departments, people } from '../../src/db/schema';
import { createLogger, redactUrl } from '../../src/log';
import { startTestApp } from '../helpers/app';
import { fakeClock } from '../helpers/bot';

/**
 * Issue 28: a link's token is its credential. `GET /exports/<token>` carries it in the path, the 看板
 * (`/kanban…?k=<key>`) in the query; the request log writes neither, after a 4xx or at debug level.
 * A link refused for the holder's rights is spent: an export link never opens afterwards, and a 看板
 * refusal revokes the person's 看板 links.
 */

describe('redactUrl', () => {
  const token = `${'e'.repeat(40)}.${'S'.repeat(43)}`;
  it('hides the export token, token-shaped segments and every query value; keeps the rest', () => {
    expect(redactUrl(`/exports/${token}`)).toBe('/exports/***');
    expect(redactUrl('/exports/short')).toBe('/exports/***');
    expect(redactUrl(`/kanban/people?k=${token}&dept=2`)).toBe('/kanban/people?k=***&dept=***');
    expect(redactUrl(`/kanban/${token}`)).toBe('/kanban/***');
    expect(redactUrl(`/kanban/orders/12?token=a&t=b&sig=c&sig=d`)).toBe('/kanban/orders/12?token=***&t=***&sig=***');
    expect(redactUrl('/sandbox/api/messages')).toBe('/sandbox/api/messages');
    expect(redactUrl(`https://bot.example.com/exports/${token}?x=1#frag`)).toBe('https://bot.example.com/exports/***?x=***');
    expect(redactUrl('https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wk-secret')).toBe('https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***');
    expect(redactUrl('not a url')).toBe('(invalid url)');
  });
});

describe('link tokens on the running bot', () => {
  const LINK_SECRET = 'k'.repeat(40);
  const clock = fakeClock('2026-11-23T02:00:00Z');
  const lines: string[] = [];
  let app: App;
  const signer = createLinkSigner({ secret: LINK_SECRET });

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    // debug: every request is logged, not only the 4xx ones.
    app = await startTestApp({ LINK_SECRET }, { loops: false, clock, log: createLogger('debug', destination) });
  }, 180_000);
  afterAll(async () => app?.close());

  const say = async (from: string, text: string) =>
    (await app.chat.handleNow({ platform: 'sandbox', conversationId: 'demo-internal', senderId: from, messageId: `m-${Math.random()}`, text, mentions: [], receivedAt: clock() })).replies
      .map((r) => r.text)
      .join('\n');
  const get = (path: string) => fetch(`${app.url}${path}`).then(async (r) => ({ status: r.status, text: await r.text() }));
  const httpLines = () => lines.map((l) => JSON.parse(l) as { msg: string; path?: string; status?: number }).filter((l) => l.msg === 'http');

  it('writes no link token to the request log, after a 4xx or at debug level', async () => {
    const exportUrl = /\/exports\/[A-Za-z0-9_.-]+/.exec(await say('boss', '/导出 分配单'))?.[0];
    const kanbanUrl = /\/kanban\?k=[A-Za-z0-9_.-]+/.exec(await say('boss', '/看板'))?.[0];
    expect(exportUrl).toBeDefined();
    expect(kanbanUrl).toBeDefined();
    const exportToken = exportUrl!.slice('/exports/'.length);
    const key = kanbanUrl!.slice('/kanban?k='.length);
    const before = httpLines().length;

    expect((await get(exportUrl!)).status).toBe(200); // logged at debug
    expect((await get(exportUrl!)).status).toBe(410); // spent
    expect((await get(`${exportUrl}?token=${exportToken}&sig=${exportToken}&t=${key}`)).status).toBe(410);
    expect((await get(`/exports/${exportToken.slice(0, 40)}`)).status).toBe(403); // a cut-off link
    expect((await get(kanbanUrl!)).status).toBe(200);
    expect((await get(`/kanban/people?k=${key}&dept=1`)).status).toBe(200);
    expect((await get(`/kanban?k=${key.slice(0, -2)}xx`)).status).toBe(403); // forged
    expect((await get(`/kanban/${key}`)).status).toBe(404); // pasted into the path

    const logged = httpLines().slice(before);
    expect(logged.map((l) => l.status)).toEqual([200, 410, 410, 403, 200, 200, 403, 404]);
    expect(logged.map((l) => l.path)).toEqual([
      '/exports/***',
      '/exports/***',
      '/exports/***?token=***&sig=***&t=***',
      '/exports/***',
      '/kanban?k=***',
      '/kanban/people?k=***&dept=***',
      '/kanban?k=***',
      '/kanban/***',
    ]);
    // No piece of either token anywhere in the log: neither the claims part nor the signature.
    const all = lines.join('');
    for (const secret of [exportToken, key]) {
      const [body, sig] = secret.split('.') as [string, string];
      expect(all).not.toContain(body.slice(0, 24));
      expect(all).not.toContain(sig.slice(0, 24));
    }
  });

  it('spends an export link refused for missing rights: it does not open once the rights are there', async () => {
    const [patents] = await app.database.db.select().from(departments).where(eq(departments.name, '专利部'));
    const link = (now: Date) => signer.sign(app.database.db, { purpose: 'export', userid: 'wang', scope: { kind: '分配单', month: '2026-11', dept: String(patents!.id) }, ttlMs: 86_400_000, now });
    const refused = await link(clock());
    // 王业务 is sales: no export rights.
    const r = await get(`/exports/${refused}`);
    expect(r.status).toBe(403);
    expect(r.text).toContain('没有查看这些数据的权限');

    // Made head of 专利部, the same link stays spent; a new one opens.
    await app.database.db.update(people).set({ role: 'head', departmentId: patents!.id }).where(eq(people.userid, 'wang'));
    const again = await get(`/exports/${refused}`);
    expect(again.status).toBe(410);
    expect(again.text).toContain('链接已使用过');
    expect((await get(`/exports/${await link(clock())}`)).status).toBe(200);
  });

  it('a 看板 link refused for missing rights revokes the person’s 看板 links: they do not open once the role is back', async () => {
    const sign = () => signer.sign(app.database.db, { purpose: 'kanban', userid: 'zhang', ttlMs: 3_600_000, now: clock() });
    const refused = await sign();
    clock.advance(1000);
    const other = await sign(); // a second link of 张工, issued earlier than the refusal
    clock.advance(1000);
    const r = await get(`/kanban?k=${refused}`);
    expect(r.status).toBe(403);
    expect(r.text).toContain('看板链接已一并作废');

    await app.database.db.update(people).set({ role: 'supervisor' }).where(eq(people.userid, 'zhang'));
    for (const k of [refused, other]) {
      const again = await get(`/kanban?k=${k}`);
      expect(again.status).toBe(403);
      expect(again.text).toContain('链接已注销');
    }
    clock.advance(1000);
    expect((await get(`/kanban?k=${await sign()}`)).status).toBe(200);
  });
});
