/**
 * Timer benchmarks, all on the same PostgreSQL server in one run:
 * 1. claiming 10,000 due timers into outbox rows (our scheduler tick) beside pg-boss fetching and
 *    completing 10,000 jobs — the ratio (target ≥ 1.0);
 * 2. a tick with 1,000,000 future timers in the table (target ≤ 10 ms: an index range, not a scan);
 * 3. reminder lateness p50/p99 over a sustained run with the production loop (target p99 ≤ 5 s).
 * Prints one JSON line per figure.
 */
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import PgBoss from 'pg-boss';
import pino from 'pino';
import { createCalendarProvider } from '../src/core/clocks/clock-store';
import { createScheduler } from '../src/core/clocks/scheduler';
import { orderTimerSubjects } from '../src/features/orders/order-subjects';
import { startSchedulerLoop } from '../src/core/clocks/scheduler-loop';
import { openDatabase, type Database } from '../src/db/client';
import { rowsOf } from '../src/db/rows';
import { departments, groups, people } from '../src/db/schema';
import { loadPlaybooks } from '../src/domain/playbooks';
import { createServerDatabase } from '../test/helpers/databases';

const log = pino({ level: 'silent' });
const N = 10_000;

import type { BenchModule } from './types';

interface TimersBenchContext {
  adminUrl: string;
  print(figure: Record<string, unknown>): void;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function seedOrg(db: Database['db']) {
  const [d] = await db.insert(departments).values({ name: '基准部', services: [] }).returning();
  await db.insert(people).values([
    { userid: 'b-head', name: '基准经理', role: 'head', departmentId: d!.id },
    { userid: 'b-sup', name: '基准主管', role: 'supervisor', departmentId: d!.id },
  ]);
  await db.insert(groups).values({ platform: 'sandbox', conversationId: 'bench', kind: 'internal', departmentId: d!.id });
  return d!.id;
}

/**
 * Inserts timers of the one-minute test rule whose due step falls at `dueExpr` (an SQL expression of i),
 * as department timers (`dept:<prefix>-<i>`: the orders feature's department subject runs them).
 */
async function insertTimers(db: Database['db'], deptId: number, n: number, dueExpr: string, prefix: string) {
  await db.execute(
    sql.raw(`
    insert into timers (subject, department_id, rule_id, state, due_at, next_step_at, data, created_at, updated_at)
    select 'dept:${prefix}-' || i, ${deptId}, 'test.minute', 'running', due, due,
           jsonb_build_object('ruleId', 'test.minute', 'startedAt', due - interval '1 minute', 'dueAt', due,
                              'state', 'running', 'clock', 'wall', 'lengthMs', 60000, 'stepsSent', '[]'::jsonb),
           now(), now()
    from (select i, ${dueExpr} as due from generate_series(1, ${n}) as i) s`),
  );
}

export async function runTimersBench(ctx: TimersBenchContext) {
  const tmp = await createServerDatabase(ctx.adminUrl);
  const database = await openDatabase({ url: tmp.url, max: 10 });
  try {
    await database.migrate();
    const db = database.db;
    const deptId = await seedOrg(db);
    const playbook = loadPlaybooks({ overridePath: fileURLToPath(new URL('../test/fixtures/load-playbook.json', import.meta.url)) });
    const calendar = createCalendarProvider({ timeZone: 'Asia/Shanghai', workingHours: { start: '09:00', end: '18:00' } });
    const clock = () => new Date();
    const scheduler = createScheduler({ db, calendar, log, clock, batch: 1000, subjects: orderTimerSubjects(playbook) });

    // 1. Claim 10,000 due timers into outbox rows, three runs.
    const ours: number[] = [];
    for (let run = 0; run < 3; run++) {
      await db.execute(sql`truncate timers, outbox restart identity`);
      await insertTimers(db, deptId, N, `now() - interval '1 second'`, `claim${run}`);
      await db.execute(sql`analyze timers`);
      const t0 = performance.now();
      const r = await scheduler.tick(1000);
      const ms = performance.now() - t0;
      if (r.claimed !== N || r.sent !== N) throw new Error(`claimed ${r.claimed}, sent ${r.sent}`);
      ours.push(ms);
    }
    const [{ n: outboxRows }] = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from outbox`)) as [{ n: number }];
    if (outboxRows !== N) throw new Error(`expected ${N} outbox rows, got ${outboxRows}`);

    // pg-boss on the same server: fetch and complete 10,000 jobs, in batches like ours.
    const boss = new PgBoss({ connectionString: tmp.url, schema: 'pgboss', supervise: false, schedule: false, max: 10 });
    boss.on('error', () => {});
    await boss.start();
    await boss.createQueue('bench');
    const theirs: number[] = [];
    for (let run = 0; run < 3; run++) {
      await boss.insert(Array.from({ length: N }, (_, i) => ({ name: 'bench', data: { i } })));
      const t0 = performance.now();
      let done = 0;
      for (;;) {
        const jobs = await boss.fetch('bench', { batchSize: 1000 });
        if (!jobs.length) break;
        await boss.complete('bench', jobs.map((j) => j.id));
        done += jobs.length;
      }
      const ms = performance.now() - t0;
      if (done !== N) throw new Error(`pg-boss completed ${done}`);
      theirs.push(ms);
    }
    await boss.stop({ graceful: false, close: true });
    const oursPerS = N / (median(ours) / 1000);
    const theirsPerS = N / (median(theirs) / 1000);
    ctx.print({
      figure: 'claim-10k-vs-pgboss',
      ours_ms: Math.round(median(ours)),
      ours_per_s: Math.round(oursPerS),
      pgboss_ms: Math.round(median(theirs)),
      pgboss_per_s: Math.round(theirsPerS),
      ratio: Number((oursPerS / theirsPerS).toFixed(2)),
      target: '>= 1.0',
    });

    // 2. A tick with 1,000,000 future timers in the table.
    await db.execute(sql`truncate timers, outbox restart identity`);
    await insertTimers(db, deptId, 1_000_000, `now() + (i % 43200) * interval '1 minute' + interval '1 hour'`, 'future');
    await db.execute(sql`analyze timers`);
    const ticks: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      const r = await scheduler.tick();
      ticks.push(performance.now() - t0);
      if (r.claimed !== 0) throw new Error('a future timer was claimed');
    }
    const plan = rowsOf<Record<string, string>>(
      await db.execute(sql`explain select id from timers where state = 'running' and next_step_at is not null and next_step_at <= now() order by next_step_at limit 500 for update skip locked`),
    )
      .map((r) => Object.values(r)[0])
      .join(' | ');
    ctx.print({
      figure: 'tick-with-1m-future-timers',
      p50_ms: Number(median(ticks).toFixed(2)),
      p99_ms: Number(percentile(ticks, 99).toFixed(2)),
      uses_index: /timers_due_idx/.test(plan),
      target: 'p50 <= 10 ms',
    });

    // 3. Lateness: 6,000 timers falling due over 60 s (100 a second), production loop (cron every 5 s +
    // precise wake-ups), with the million future timers still in the table.
    await insertTimers(db, deptId, 6_000, `now() + interval '3 seconds' + i * interval '10 milliseconds'`, 'late');
    const loop = startSchedulerLoop({ db, scheduler, cron: '*/5 * * * * *', log, clock });
    const until = Date.now() + 72_000;
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const [{ n }] = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from outbox where dedupe_key like 'timer:%:due'`)) as [{ n: number }];
      if (n >= 6_000 || Date.now() > until) break;
    }
    await loop.stop();
    const late = rowsOf<{ ms: number }>(
      await db.execute(sql`
        select extract(epoch from (o.created_at - t.due_at)) * 1000 as ms
        from outbox o join timers t on o.dedupe_key = 'timer:' || t.id || ':due'
        where t.subject like 'dept:late-%'`),
    ).map((r) => Number(r.ms));
    ctx.print({
      figure: 'reminder-lateness',
      reminders: late.length,
      p50_ms: Math.round(percentile(late, 50)),
      p99_ms: Math.round(percentile(late, 99)),
      max_ms: Math.round(Math.max(...late)),
      target: 'p99 <= 5000 ms',
    });
  } finally {
    await database.close();
    await tmp.drop();
  }
}

const timersBench: BenchModule = {
  name: 'timers',
  async run(ctx) {
    const adminUrl = ctx.options['database-url'] ?? 'postgres://postgres@127.0.0.1:5432/test';
    ctx.note('claim 10,000 due timers vs pg-boss; tick with 1,000,000 future timers; lateness over ~60 s…');
    await runTimersBench({ adminUrl, print: (f) => ctx.report(f) });
  },
};

export default timersBench;
