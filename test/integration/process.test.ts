import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('the bot process', () => {
  it('starts from the npm start entry point, serves /healthz, and exits 0 within 5 s of SIGTERM', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bot-proc-'));
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    try {
      const until = Date.now() + 40_000;
      let ok = false;
      while (!ok && Date.now() < until) {
        ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
        if (!ok) await new Promise((r) => setTimeout(r, 200));
      }
      expect(ok, out).toBe(true);
      // The log line is written after listen(); the pipe may deliver it a moment after /healthz answers.
      const logUntil = Date.now() + 10_000;
      while (!out.includes('/sandbox/') && Date.now() < logUntil) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('/sandbox/');
      const stopped = Date.now();
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      expect(code).toBe(0);
      expect(Date.now() - stopped).toBeLessThan(5_000);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`npm start`: SIGTERM to the npm process stops the server (no orphaned node keeps answering)', { timeout: 120_000 }, async () => {
    // Before the fix, npm forwarded SIGTERM to its `sh -c`, which died and left tsx/node serving.
    const dir = mkdtempSync(path.join(tmpdir(), 'bot-npm-'));
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    npm.stdout.on('data', (c) => (out += c));
    npm.stderr.on('data', (c) => (out += c));
    const health = () => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    try {
      const until = Date.now() + 90_000;
      let ok = false;
      while (!ok && Date.now() < until) {
        ok = await health();
        if (!ok) await new Promise((r) => setTimeout(r, 200));
      }
      expect(ok, out).toBe(true);
      const stopped = Date.now();
      npm.kill('SIGTERM');
      await new Promise((r) => npm.once('exit', r));
      // The server (whatever process held the port) is gone within a few seconds, and it shut down
      // gracefully: the data directory's lock was released.
      let closed = false;
      while (!closed && Date.now() - stopped < 6_000) {
        closed = !(await health());
        if (!closed) await new Promise((r) => setTimeout(r, 200));
      }
      expect(closed, out).toBe(true);
      expect(out).toContain('shutting down');
      expect(existsSync(path.join(dir, 'service-bot.lock'))).toBe(false);
    } finally {
      if (npm.exitCode === null) npm.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a wrong configuration with exit code 1, naming the variable', { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, PORT: 'not-a-port', DATABASE_URL: 'mysql://u:secretpw@h/db' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(out).toContain('PORT');
    expect(out).toContain('DATABASE_URL');
    expect(out).not.toContain('secretpw');
  });
});
