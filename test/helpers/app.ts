import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config';
import { startApp, type App, type AppOptions } from '../../src/app';
import type { Database } from '../../src/db/client';
import { silentLog } from './bot';

/**
 * A real listening server on a random loopback port. Without DATA_DIR / DATABASE_URL / a database,
 * it gets a fresh PGlite directory of its own (removed on close), never the developer's ./data.
 */
export async function startTestApp(env: Record<string, string> = {}, opts: Partial<AppOptions> = {}) {
  const ownDir = !env.DATA_DIR && !env.DATABASE_URL && !opts.database ? mkdtempSync(path.join(tmpdir(), 'bot-test-')) : null;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    SANDBOX: 'on',
    LOG_LEVEL: 'silent',
    ...(ownDir ? { DATA_DIR: ownDir } : {}),
    ...env,
  });
  const app = await startApp({ config, log: silentLog, ...opts });
  if (ownDir) {
    const close = app.close;
    app.close = async () => {
      await close();
      rmSync(ownDir, { recursive: true, force: true });
    };
  }
  return app;
}

export async function post(url: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** A message in a sandbox group, as GET /sandbox/api/messages lists it. */
export interface SandboxMsg {
  id: number;
  from: string;
  text: string;
  mentions: string[];
  at: string;
}

/** The sandbox chat API of a running app: read a group's messages, say something and get the replies. */
export function sandboxChat(app: () => { url: string }) {
  return {
    async messages(group: string): Promise<SandboxMsg[]> {
      const r = await fetch(`${app().url}/sandbox/api/messages?group=${group}`);
      if (r.status !== 200) throw new Error(`GET messages: ${r.status}`);
      return ((await r.json()) as { messages: SandboxMsg[] }).messages;
    },
    async say(group: string, from: string, text: string, extra: Record<string, unknown> = {}): Promise<string> {
      const r = await post(`${app().url}/sandbox/api/messages`, { group, from, text, ...extra });
      if (r.status !== 200) throw new Error(`POST message: ${r.status} ${r.text}`);
      return (r.json.replies as { text: string }[]).map((x) => x.text).join('\n');
    },
  };
}

/**
 * For a suite run per database driver: opens the driver's database and starts a test app on it before
 * the suite, closes both after; `use` receives the app.
 */
export function appOnDriver(
  driver: { open(): Promise<Database> },
  env: Record<string, string>,
  opts: Partial<AppOptions>,
  use: (app: App) => void,
): void {
  let app: App | undefined;
  let database: Database | undefined;
  beforeAll(async () => {
    database = await driver.open();
    app = await startTestApp(env, { database, ...opts });
    use(app);
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });
}
