import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServerDatabase } from '../test/helpers/databases';
import type { BenchModule } from './types';

/**
 * Idle RSS of the real start command (`npm start` = scripts/build.mjs, then node dist/src/main.mjs)
 * right after the first start, on embedded PGlite (fresh data directory) and on PostgreSQL (fresh
 * database), side by side; beside them the same start through tsx (the former start command). Read
 * from /proc/<pid>/status after /healthz answers and 3 s of idling; the median of three starts, as
 * garbage collection timing moves a single reading by some 40 MiB.
 */
const ROOT = new URL('..', import.meta.url).pathname;

const COMPILED = ['--enable-source-maps', 'dist/src/main.mjs'];
const THROUGH_TSX = ['--import', 'tsx', 'src/main.ts'];

async function idleRss(env: Record<string, string>, args = COMPILED): Promise<number> {
  const port = 40_000 + Math.floor(Math.random() * 10_000);
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: 'ignore',
  });
  try {
    const until = Date.now() + 120_000;
    while (!(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false))) {
      if (Date.now() > until || child.exitCode !== null) throw new Error('the bot did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 3_000));
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]);
    return Math.round(kb / 1024);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** First start on a fresh PGlite data directory. */
async function pgliteFirstStart(args = COMPILED): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-idle-'));
  try {
    return await idleRss({ DATA_DIR: dir }, args);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const idleMemory: BenchModule = {
  name: 'idle-memory',
  async run(ctx) {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
    const pgliteRuns: number[] = [];
    for (let i = 0; i < 3; i++) pgliteRuns.push(await pgliteFirstStart());
    const pglite = median(pgliteRuns);
    const pgliteTsx = await pgliteFirstStart(THROUGH_TSX);
    let postgres: number | null = null;
    const adminUrl = ctx.options['database-url'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const postgresRuns: number[] = [];
    for (let i = 0; i < 3; i++) {
      const server = await createServerDatabase(adminUrl).catch(() => null);
      if (!server) break;
      try {
        postgresRuns.push(await idleRss({ DATABASE_URL: server.url }));
      } finally {
        await server.drop();
      }
    }
    if (postgresRuns.length) postgres = median(postgresRuns);
    else ctx.note(`no PostgreSQL at ${adminUrl}: PostgreSQL figure skipped`);
    ctx.report({ figure: 'idle RSS after first start (MiB, median of 3)', pglite, postgres, pgliteRuns, postgresRuns, pgliteThroughTsx: pgliteTsx });
    ctx.note(
      `idle RSS: PGlite ${pglite} MiB (runs ${pgliteRuns.join(', ')}; goal < 250) | PostgreSQL ${postgres ?? '—'} MiB` +
        ` | PGlite started through tsx ${pgliteTsx} MiB`,
    );
  },
};

export default idleMemory;
