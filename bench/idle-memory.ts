import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServerDatabase } from '../test/helpers/databases';
import type { BenchModule } from './run';

/**
 * Idle RSS of the real start command (`npm start` = node --import tsx src/main.ts) right after the
 * first start, on embedded PGlite (fresh data directory) and on PostgreSQL (fresh database), side by
 * side. Read from /proc/<pid>/status after /healthz answers and 3 s of idling.
 */
const ROOT = new URL('..', import.meta.url).pathname;

async function idleRss(env: Record<string, string>): Promise<number> {
  const port = 40_000 + Math.floor(Math.random() * 10_000);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
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

const idleMemory: BenchModule = {
  name: 'idle-memory',
  async run(ctx) {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-idle-'));
    let pglite: number;
    try {
      pglite = await idleRss({ DATA_DIR: dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    let postgres: number | null = null;
    const adminUrl = ctx.options['database-url'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const server = await createServerDatabase(adminUrl).catch(() => null);
    if (server) {
      try {
        postgres = await idleRss({ DATABASE_URL: server.url });
      } finally {
        await server.drop();
      }
    } else ctx.note(`no PostgreSQL at ${adminUrl}: PostgreSQL figure skipped`);
    ctx.report({ figure: 'idle RSS after first start (MiB)', pglite, postgres });
    ctx.note(`idle RSS: PGlite ${pglite} MiB | PostgreSQL ${postgres ?? '—'} MiB`);
  },
};

export default idleMemory;
