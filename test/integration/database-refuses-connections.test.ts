import { Writable } from 'node:stream';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client';
import { RETRY_AFTER_SECONDS } from '../../src/db/outage';
import { createLinkSigner } from '../../src/core/signed-link';
import { createLogger } from '../../src/log';
import { post } from '../helpers/app';
import { createServerDatabase, TEST_DATABASE_URL } from '../helpers/databases';
import { startPlatformApp, type PlatformApp } from '../helpers/platform-app';

/**
 * Issue 28: the database refuses connections (`ALTER DATABASE … ALLOW_CONNECTIONS false`, its sessions
 * ended by pg_terminate_backend: 57P01, then 55000 `database is not accepting connections` on every
 * reconnect). Every route answers 503 with Retry-After, never 500; the log says so once for the whole
 * outage, and once when the database is back.
 */
describe.runIf(TEST_DATABASE_URL)('a PostgreSQL database that refuses connections', () => {
  let tmp: Awaited<ReturnType<typeof createServerDatabase>>;
  let name: string;
  let database: Database;
  let p: PlatformApp;
  let admin: postgres.Sql;
  const LINK_SECRET = 'k'.repeat(40);
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];

  beforeAll(async () => {
    tmp = await createServerDatabase(TEST_DATABASE_URL!);
    name = new URL(tmp.url).pathname.slice(1);
    database = await openDatabase({ url: tmp.url, max: 4 });
    await database.migrate();
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l));
        cb();
      },
    });
    p = await startPlatformApp({ database, env: { SANDBOX: 'on', LINK_SECRET, REQUEST_TIMEOUT_MS: '1000' }, log: createLogger('info', destination) });
    admin = postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await admin?.unsafe(`alter database "${name}" allow_connections true`).catch(() => {});
    await admin?.end();
    await p?.close();
    await database?.close();
    await tmp?.drop();
  });

  const say = (text: string) => post(`${p.app.url}/sandbox/api/messages`, { group: 'refused', from: 'liu', text });
  const sayRaw = (text: string) => fetch(`${p.app.url}/sandbox/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ group: 'refused', from: 'liu', text }) });
  const outageLines = () => lines.filter((l) => l.msg.startsWith('database unavailable'));
  const recoveryLines = () => lines.filter((l) => l.msg === 'database available again');

  it('answers 503 with Retry-After on every route, logs the outage once and the recovery once', { timeout: 60_000 }, async () => {
    expect((await say('/帮助')).status).toBe(200);
    expect((await p.wecomMessage({ from: 'liu', chatid: 'refused-wx', text: '/帮助' })).status).toBe(200);
    expect(outageLines()).toHaveLength(0);

    await admin.unsafe(`alter database "${name}" allow_connections false`);
    const ended = await admin`select pg_terminate_backend(pid) as ok from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`;
    expect(ended.length).toBeGreaterThan(0);

    const retryAfter = String(RETRY_AFTER_SECONDS);
    // Signed links (the key is configured, so signing needs no database); checking one reads the revocations.
    const signer = createLinkSigner({ secret: LINK_SECRET });
    const link = (purpose: string) => signer.sign(database.db, { purpose, userid: 'liu', scope: { kind: '分配单', month: '2026-11', dept: 'all' }, ttlMs: 3_600_000, now: p.clock() });
    const exportToken = await link('export');
    const kanbanToken = await link('kanban');
    for (let i = 0; i < 5; i++) {
      const s = await sayRaw('/帮助');
      expect(s.status).toBe(503);
      expect(s.headers.get('retry-after')).toBe(retryAfter);
      expect(((await s.json()) as { error: string }).error).toMatch(/数据库暂时无法访问/);

      const list = await fetch(`${p.app.url}/sandbox/api/messages?group=refused`);
      expect(list.status).toBe(503);
      expect(list.headers.get('retry-after')).toBe(retryAfter);

      const wx = await p.wecomMessage({ from: 'liu', chatid: 'refused-wx', text: `/帮助 ${i}` });
      expect(wx.status).toBe(503);
      expect(wx.retryAfter).toBe(retryAfter);
      const dt = await p.dingtalkMessage({ from: 'liu', conversationId: 'refused-dt', text: `/帮助 ${i}` });
      expect(dt.status).toBe(503);
      expect(dt.retryAfter).toBe(retryAfter);

      for (const path of [`/exports/${exportToken}`, `/kanban?k=${kanbanToken}`, '/sandbox/', '/healthz']) {
        const r = await fetch(`${p.app.url}${path}`);
        if (path === '/sandbox/') {
          // The page itself needs no database: it still loads (and then polls the API, answered 503).
          expect(r.status).toBe(200);
          continue;
        }
        expect(r.status, path).toBe(503);
        expect(r.headers.get('retry-after'), path).toBe(retryAfter);
      }
    }

    // 5 rounds of 7 refused requests: one warning, which names the refusal, and no 500, no per-request error line.
    expect(outageLines()).toHaveLength(1);
    expect(outageLines()[0]!.level).toBe(40);
    expect(JSON.stringify(outageLines()[0])).toMatch(/57P01|55000|not accepting connections|terminating connection|CONNECTION_CLOSED|CONNECTION_ENDED|CONNECTION_DESTROYED|CONNECT_TIMEOUT|ECONNRESET|EPIPE|DATABASE_TIMEOUT/);
    expect(lines.filter((l) => l.msg === 'request failed' || l.msg.startsWith('onInbound failed'))).toEqual([]);
    expect(lines.filter((l) => l.status === 500)).toEqual([]);
    expect(lines.filter((l) => l.level >= 40).length).toBe(1 + lines.filter((l) => l.level >= 40 && l.msg === 'callback rejected').length);

    // Connections allowed again: the next requests work, and the recovery is logged once.
    await admin.unsafe(`alter database "${name}" allow_connections true`);
    expect(recoveryLines()).toHaveLength(0);
    expect((await say('/帮助')).status).toBe(200);
    expect((await p.wecomMessage({ from: 'liu', chatid: 'refused-wx', text: '/帮助 again' })).status).toBe(200);
    expect((await p.dingtalkMessage({ from: 'liu', conversationId: 'refused-dt', text: '/帮助 again' })).status).toBe(200);
    const h = await fetch(`${p.app.url}/healthz`);
    expect(h.status).toBe(200);
    expect(h.headers.get('retry-after')).toBeNull();
    expect(recoveryLines()).toHaveLength(1);
    expect(recoveryLines()[0]).toMatchObject({ level: 30 });
    expect(recoveryLines()[0]!.refused).toBeGreaterThanOrEqual(5 * 6);
    expect(outageLines()).toHaveLength(1);
  });
});
