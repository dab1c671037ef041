import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../src/db/client';
import { createServerDatabase, TEST_DATABASE_URL } from '../helpers/databases';

/**
 * Instances started together on an empty PostgreSQL: each runs the migrations at start. Three real
 * processes (the production `db:migrate` entry point) at once, on fresh databases, must all succeed.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'src/db/migrate-cli.ts');

function migrateProcess(url: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', DATABASE_URL: url, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe.runIf(TEST_DATABASE_URL)('concurrent first start on an empty PostgreSQL', () => {
  it('three processes migrating one empty database at once all succeed (two trials)', { timeout: 120_000 }, async () => {
    const expected = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).length;
    for (let trial = 0; trial < 2; trial++) {
      const tmp = await createServerDatabase(TEST_DATABASE_URL!);
      try {
        const results = await Promise.all([0, 1, 2].map(() => migrateProcess(tmp.url)));
        for (const r of results) expect(r, r.output).toMatchObject({ code: 0 });
        const check = postgres(tmp.url, { max: 1, onnotice: () => {} });
        const [row] = await check<{ n: string }[]>`select count(*)::text as n from drizzle.__drizzle_migrations`;
        const tables = await check`select 1 from information_schema.tables where table_schema = 'public' and table_name in ('chat_log', 'outbox', 'inbound_messages')`;
        await check.end();
        expect(Number(row!.n)).toBe(expected);
        expect(tables).toHaveLength(3);
      } finally {
        await tmp.drop();
      }
    }
  });
});
