import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client';
import { describeTables, foreignKeyOrder } from '../../src/db/copy';
import { rowsOf } from '../../src/db/rows';
import { people } from '../../src/db/schema';
import { post, startTestApp } from '../helpers/app';
import { createServerDatabase, TEST_DATABASE_URL } from '../helpers/databases';

const run = promisify(execFile);
const ROOT = path.join(import.meta.dirname, '../..');

async function counts(db: Database): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of await describeTables(db.db)) {
    const [r] = rowsOf<{ n: string | number }>(await db.db.execute(sql.raw(`select count(*) as n from "${t.name}"`)));
    out[t.name] = Number(r!.n);
  }
  return out;
}

/** `npm run db -- copy` as an operator runs it: the CLI in its own process, DATA_DIR from the environment. */
const copyCli = (dataDir: string, to: string) =>
  run(process.execPath, ['--import', 'tsx', 'src/db/db-cli.ts', 'copy', '--to', to], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
    timeout: 120_000,
  });

describe('foreign-key order', () => {
  it('puts parents first and refuses a circle', () => {
    const t = (name: string, refersTo: string[]) => ({ name, columns: ['id'], primaryKey: ['id'], refersTo, selfColumns: [] });
    expect(foreignKeyOrder([t('c', ['b']), t('b', ['a']), t('a', [])]).map((x) => x.name)).toEqual(['a', 'b', 'c']);
    expect(() => foreignKeyOrder([t('a', ['b']), t('b', ['a'])])).toThrow(/环/);
  });
});

describe.skipIf(!TEST_DATABASE_URL)('npm run db -- copy: PGlite → PostgreSQL', () => {
  let dataDir: string;
  let target: { url: string; drop(): Promise<void> };

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'bot-copy-'));
    // A small real database: the demo organisation plus a few commands (orders, timers, audit, outbox).
    const app = await startTestApp({ DATA_DIR: dataDir }, { loops: false });
    const say = (id: string, from: string, text: string) => post(`${app.url}/sandbox/api/messages`, { group: 'copy-g', from, text, id });
    expect((await say('c1', 'wang', '/单 新建 客户=复制科技 类型=专利 业务员=@王业务 截止=2026-12-31')).status).toBe(200);
    expect((await say('c2', 'wang', '/单 新建 客户=迁移科技 类型=商标 业务员=@王业务 截止=2026-12-30')).status).toBe(200);
    expect((await say('c3', 'liu', '/派单 D1 @张工')).status).toBe(200);
    await app.close();
    target = await createServerDatabase(TEST_DATABASE_URL!);
  }, 120_000);
  afterAll(async () => {
    await target?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('copies every table with equal row counts and moves the sequences past the copied ids', async () => {
    const { stdout } = await copyCli(dataDir, target.url);
    expect(stdout).toMatch(/完成：\d+ 张表/);
    // The password never printed (there is none here, but the URL is shown masked the same way).
    expect(stdout).toContain('people:');

    const source = await openDatabase({ dataDir });
    const copy = await openDatabase({ url: target.url, max: 2 });
    try {
      const before = await counts(source);
      const after = await counts(copy);
      expect(Object.keys(before).length).toBeGreaterThan(15);
      expect(after).toEqual(before);
      expect(before.people).toBeGreaterThan(3);
      expect(before.orders).toBe(2);
      expect(before.timers).toBeGreaterThan(0);
      // The printed counts are the copied ones.
      for (const [name, n] of Object.entries(after)) expect(stdout).toContain(`${name}: ${n} → ${n}`);

      // A new row after the copy takes a fresh id (the sequence was moved), not one already copied.
      const [top] = rowsOf<{ max: number }>(await copy.db.execute(sql`select max(id)::int as max from people`));
      const [added] = await copy.db.insert(people).values({ userid: 'after-copy', name: '新同事', role: 'sales' }).returning({ id: people.id });
      expect(added!.id).toBe(top!.max + 1);
      // Same for every column a sequence feeds: its next value is above the highest copied one.
      const seqs = rowsOf<{ t: string; c: string; seq: string }>(
        await copy.db.execute(sql`
          select table_name as t, column_name as c, pg_get_serial_sequence(format('%I.%I', table_schema, table_name), column_name) as seq
          from information_schema.columns
          where table_schema = 'public' and pg_get_serial_sequence(format('%I.%I', table_schema, table_name), column_name) is not null`),
      );
      expect(seqs.length).toBeGreaterThan(10);
      for (const s of seqs) {
        const [r] = rowsOf<{ max: string | null; next: string }>(
          await copy.db.execute(sql.raw(`select (select max("${s.c}") from "${s.t}")::text as max, nextval('${s.seq}')::text as next`)),
        );
        expect(BigInt(r!.next), `${s.t}.${s.c}`).toBeGreaterThan(BigInt(r!.max ?? '0'));
      }
    } finally {
      await copy.close();
      await source.close();
    }
  }, 180_000);

  it('refuses a target that is not empty, and changes nothing there', async () => {
    const copy = await openDatabase({ url: target.url, max: 2 });
    const before = await counts(copy);
    await copy.close();
    const failed = await copyCli(dataDir, target.url).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('目标库不是空的');
    const again = await openDatabase({ url: target.url, max: 2 });
    expect(await counts(again)).toEqual(before);
    await again.close();
  }, 180_000);
});
