import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { openDatabase, type Database } from '../../src/db/client';
import { post, startTestApp } from '../helpers/app';
import { createServerDatabase, TEST_DATABASE_URL } from '../helpers/databases';
import { pgliteReadOnly, serverReadOnly, type ReadOnlyDb } from '../helpers/read-only';
import { startTcpProxy } from '../helpers/tcp-proxy';

/**
 * The database goes away (a network partition, a closed port) or refuses writes (read-only):
 * /healthz says 503 within a second, and the sandbox answers 503 within the platform routes' 4 s
 * budget instead of 500 or hanging.
 */

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { ms: performance.now() - t0, value };
}

const health = (app: App) => timed(async () => {
  const res = await fetch(`${app.url}/healthz`);
  return { status: res.status, body: (await res.json()) as { ok: boolean; database: string } };
});
const say = (app: App, text: string) => timed(() => post(`${app.url}/sandbox/api/messages`, { group: 'outage', from: 'liu', text }));

describe.runIf(TEST_DATABASE_URL)('PostgreSQL out of reach behind a loopback proxy', () => {
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let database: Database;
  let app: App;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const tmp = await createServerDatabase(TEST_DATABASE_URL!);
    drop = tmp.drop;
    const direct = new URL(tmp.url);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const viaProxy = new URL(tmp.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    database = await openDatabase({ url: viaProxy.toString(), max: 4 });
    app = await startTestApp({}, { database, loops: false });
  });
  afterAll(async () => {
    await proxy?.restore();
    await app?.close();
    await database?.close();
    await proxy?.close();
    await drop?.();
  });

  it('answers /healthz 503 within 1 s and the sandbox 503 within 4 s, then recovers', { timeout: 60_000 }, async () => {
    expect((await health(app)).value).toEqual({ status: 200, body: { ok: true, database: 'reachable' } });
    expect((await say(app, '/帮助')).value.status).toBe(200);

    // A partition: connections stay open, nothing comes back.
    proxy.blackhole();
    const h1 = await health(app);
    expect(h1.value).toEqual({ status: 503, body: { ok: false, database: 'unreachable' } });
    expect(h1.ms).toBeLessThan(1000);
    const s1 = await say(app, '/帮助');
    expect(s1.value.status).toBe(503);
    expect(s1.value.json.error).toMatch(/数据库暂时无法访问/);
    expect(s1.ms).toBeLessThan(4_800);

    // The port is gone: connection refused.
    await proxy.refuse();
    const h2 = await health(app);
    expect(h2.value.status).toBe(503);
    expect(h2.ms).toBeLessThan(1000);
    const s2 = await say(app, '/帮助');
    expect(s2.value.status).toBe(503);
    expect(s2.ms).toBeLessThan(4_800);

    await proxy.restore();
    let back = 0;
    for (let i = 0; i < 40 && back !== 200; i++) {
      back = (await health(app)).value.status;
      if (back !== 200) await new Promise((r) => setTimeout(r, 250)); // real reconnection, not a clock
    }
    expect(back).toBe(200);
    expect((await say(app, '/帮助')).value.status).toBe(200);
  });
});

const readOnlySetups = [{ name: 'pglite', open: pgliteReadOnly }, ...(TEST_DATABASE_URL ? [{ name: 'postgres', open: () => serverReadOnly(TEST_DATABASE_URL!) }] : [])];

describe.each(readOnlySetups)('a read-only database ($name)', (setup) => {
  let ro: ReadOnlyDb;
  let app: App;
  beforeAll(async () => {
    ro = await setup.open();
    app = await startTestApp({}, { database: ro.database, loops: false });
  });
  afterAll(async () => {
    await app?.close();
    await ro?.close();
  });

  it('/healthz says 503 read-only, the sandbox answers 503 (not 500), and both recover', async () => {
    expect((await health(app)).value.status).toBe(200);
    await ro.setReadOnly(true);
    try {
      const h = await health(app);
      expect(h.value).toEqual({ status: 503, body: { ok: false, database: 'read-only' } });
      expect(h.ms).toBeLessThan(1000);
      const s = await say(app, '/帮助');
      expect(s.value.status).toBe(503);
      expect(s.value.json.error).toMatch(/数据库暂时无法访问/);
    } finally {
      await ro.setReadOnly(false);
    }
    expect((await health(app)).value.status).toBe(200);
    expect((await say(app, '/帮助')).value.status).toBe(200);
  });
});
