import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client';
import { departments, groups, people } from '../../src/db/schema';
import { createServerDatabase, TEST_DATABASE_URL } from '../helpers/databases';

/**
 * Several scheduler + outbox processes on one real PostgreSQL, delivering to a fake platform server over
 * real HTTP. Real time passes here (timers fall due over the next minute), bounded by the test timeouts.
 */
const WORKER = new URL('./workers/clock-worker.ts', import.meta.url).pathname;
const GROUPS = 20;

interface Fake {
  server: Server;
  url: string;
  received: { key: string; pid: number }[];
}

async function startFake(): Promise<Fake> {
  const received: Fake['received'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const b = JSON.parse(body) as { key: string; pid: number };
      received.push({ key: b.key, pid: b.pid });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"errcode":0}');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/send`, received };
}

function spawnWorker(dbUrl: string, fakeUrl: string, leaseMs: number): Promise<ChildProcess> {
  const child = fork(WORKER, [dbUrl, fakeUrl, String(leaseMs)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });
}

/** Inserts `n` department timers of the test rule, due at random moments in the next `spreadMs`. */
async function seedTimers(db: Database['db'], n: number, spreadMs: number) {
  const [dept] = await db.insert(departments).values({ name: '负载部', services: [] }).returning();
  await db.insert(people).values([
    { userid: 'load-head', name: '负载经理', role: 'head', departmentId: dept!.id },
    { userid: 'load-sup', name: '负载主管', role: 'supervisor', departmentId: dept!.id },
  ]);
  // Departments get one group each; spreading timers over several departments lets instances share the work.
  const depts = [dept!];
  for (let g = 1; g < GROUPS; g++) {
    const [d] = await db.insert(departments).values({ name: `负载部${g}`, services: [] }).returning();
    depts.push(d!);
  }
  await db.insert(groups).values(depts.map((d) => ({ platform: 'sandbox', conversationId: `load-${d.id}`, kind: 'internal' as const, departmentId: d.id })));
  const now = Date.now();
  await db.execute(sql`
    insert into timers (subject, department_id, rule_id, state, due_at, next_step_at, data, created_at, updated_at)
    select 'dept:load-' || i,
           (array[${sql.raw(depts.map((d) => d.id).join(','))}])[1 + (i % ${GROUPS})],
           'test.minute', 'running', due, due,
           jsonb_build_object('ruleId', 'test.minute', 'startedAt', due - interval '1 minute', 'dueAt', due,
                              'state', 'running', 'clock', 'wall', 'lengthMs', 60000, 'stepsSent', '[]'::jsonb),
           now(), now()
    from (select i, to_timestamp((${now}::bigint + 2000 + floor(random() * ${spreadMs}))::double precision / 1000) as due
          from generate_series(1, ${n}) as i) s`);
}

async function stopAll(ws: ChildProcess[]) {
  await Promise.all(
    ws.splice(0).map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.exitCode !== null || w.signalCode !== null) return resolve();
          w.once('exit', () => resolve());
          w.kill('SIGTERM');
        }),
    ),
  );
}

async function waitFor(cond: () => boolean, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
}

describe.runIf(TEST_DATABASE_URL)('several instances on one PostgreSQL (real server)', () => {
  let tmp: Awaited<ReturnType<typeof createServerDatabase>>;
  let database: Database;
  let fake: Fake;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    tmp = await createServerDatabase(TEST_DATABASE_URL!);
    database = await openDatabase({ url: tmp.url });
    await database.migrate();
    fake = await startFake();
  });
  afterAll(async () => {
    await stopAll(workers);
    fake?.server.close();
    await database?.close();
    await tmp?.drop();
  });

  it('three schedulers deliver every ladder step of 10,000 timers exactly once', { timeout: 240_000 }, async () => {
    await seedTimers(database.db, 10_000, 60_000);
    const expected = 20_000; // due + overdue step of each timer
    for (let i = 0; i < 3; i++) workers.push(await spawnWorker(tmp.url, fake.url, 30_000));
    await waitFor(() => fake.received.length >= expected, 200_000);
    await new Promise((r) => setTimeout(r, 1500)); // anything extra would arrive now
    const keys = fake.received.map((r) => r.key);
    const unique = new Set(keys);
    expect(unique.size).toBe(expected); // 0 lost
    expect(keys.length).toBe(expected); // 0 duplicated
    expect(new Set(fake.received.map((r) => r.pid)).size).toBe(3); // all three took part
    const [row] = (await database.db.execute(sql`select count(*)::int as n from outbox where status <> 'sent'`)) as unknown as { n: number }[];
    expect(row!.n).toBe(0);
    await stopAll(workers);
  });

  it('a scheduler killed with SIGKILL mid-burst loses nothing and duplicates at most one message', { timeout: 180_000 }, async () => {
    await database.db.execute(sql`truncate timers, outbox, robot_sends, groups, people, departments restart identity cascade`);
    fake.received.length = 0;
    await seedTimers(database.db, 3_000, 10_000);
    const expected = 6_000;
    const leaseMs = 3_000;
    for (let i = 0; i < 3; i++) workers.push(await spawnWorker(tmp.url, fake.url, leaseMs));
    await waitFor(() => fake.received.length >= expected / 3, 60_000);
    const victim = workers[0]!;
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('exit', r));
    workers[0] = await spawnWorker(tmp.url, fake.url, leaseMs); // start it again
    await waitFor(() => new Set(fake.received.map((r) => r.key)).size >= expected, 120_000);
    await new Promise((r) => setTimeout(r, leaseMs + 1500));
    const keys = fake.received.map((r) => r.key);
    expect(new Set(keys).size).toBe(expected); // nothing lost
    expect(keys.length - expected).toBeLessThanOrEqual(1); // at most one duplicate for the one crash
    await stopAll(workers);
  });
});
