import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../../src/db/data-dir-lock';

const ROOT = new URL('../..', import.meta.url).pathname;

function startBot(dataDir: string, port: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { text: '' };
  child.stdout!.on('data', (c) => (out.text += c));
  child.stderr!.on('data', (c) => (out.text += c));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { child, out, exited };
}

async function healthy(port: number, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

const kill = (c: ChildProcess) => {
  if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
};

/** A pid that certainly belongs to no process any more: a child that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('one owner per PGlite data directory (issue 9 #2)', () => {
  it('a second process on the same DATA_DIR is refused with exit 1 and a Chinese message; the first keeps serving', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bot-lock-'));
    const portA = 20_000 + Math.floor(Math.random() * 20_000);
    const a = startBot(dir, portA);
    let b: ReturnType<typeof startBot> | undefined;
    try {
      expect(await healthy(portA, 60_000), a.out.text).toBe(true);
      const lock = JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8'));
      expect(lock.pid).toBe(a.child.pid);

      b = startBot(dir, portA + 1);
      const code = await b.exited;
      expect(code).toBe(1);
      expect(b.out.text).toContain('正被另一个服务助手进程使用');
      expect(b.out.text).toContain(`进程号 ${a.child.pid}`);
      expect(await fetch(`http://127.0.0.1:${portA + 1}/healthz`).then(() => true, () => false)).toBe(false);
      expect(await healthy(portA, 5_000)).toBe(true);

      // Released on graceful shutdown.
      a.child.kill('SIGTERM');
      expect(await a.exited).toBe(0);
      expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    } finally {
      kill(a.child);
      if (b) kill(b.child);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a stale lock (its process is gone) is taken over, and the data is there', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bot-lock-'));
    try {
      const first = await openDatabase({ dataDir: dir });
      await first.db.execute('create table kept (v int)');
      await first.db.execute('insert into kept values (42)');
      await first.close();
      // A crashed owner: the lock file stays behind with a pid that is no longer running.
      const stale = { pid: deadPid(), host: hostname(), procStart: null, startedAt: '2026-01-01T00:00:00.000Z', token: 'crashed' };
      writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(stale));

      const second = await openDatabase({ dataDir: dir });
      try {
        const lock = JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8'));
        expect(lock.pid).toBe(process.pid);
        expect(lock.token).not.toBe('crashed');
        const rows = (await second.db.execute('select v from kept')) as unknown as { rows: { v: number }[] };
        expect(rows.rows).toEqual([{ v: 42 }]);
      } finally {
        await second.close();
      }
      expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a lock left with this very pid by a former life (pid 1 in a container) is stale; one held now is not', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bot-lock-'));
    try {
      writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, host: hostname(), procStart: null, startedAt: 'x', token: 'old' }));
      const held = lockDataDir(dir);
      expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
      held.release();
      expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a live lock of another host is refused, naming the file to delete once that host is stopped', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bot-lock-'));
    try {
      writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: 'other-host', procStart: null, startedAt: 'x', token: 't' }));
      expect(() => lockDataDir(dir)).toThrow(/主机 other-host[\s\S]*请删除 .*service-bot\.lock/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
