import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDatabase, type Database } from '../../src/db/client';

/**
 * One shared suite, two drivers (as drizzle's own tests do): embedded PGlite always, and the real
 * PostgreSQL server when TEST_DATABASE_URL is set. Each suite gets its own fresh database.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || undefined;

export interface Driver {
  name: 'pglite' | 'postgres';
  /** A fresh, migrated database; `close` also drops it. */
  open(): Promise<Database>;
}

export const pgliteDriver: Driver = {
  name: 'pglite',
  async open() {
    const d = await openDatabase({});
    await d.migrate();
    return d;
  },
};

/** Creates a throw-away database on the server so suites running in parallel never meet. */
export async function createServerDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${name}" with (force)`);
      await a.end();
    },
  };
}

export const postgresDriver: Driver | null = TEST_DATABASE_URL
  ? {
      name: 'postgres',
      async open() {
        const tmp = await createServerDatabase(TEST_DATABASE_URL!);
        const d = await openDatabase({ url: tmp.url, max: 10 });
        await d.migrate();
        return {
          ...d,
          close: async () => {
            await d.close();
            await tmp.drop();
          },
        };
      },
    }
  : null;

export const drivers: Driver[] = [pgliteDriver, ...(postgresDriver ? [postgresDriver] : [])];

/**
 * Two handles on one fresh database, as two app instances would have: on PostgreSQL two separate
 * connection pools; on PGlite (one process, one embedded server) the same handle twice.
 */
export async function openTwoInstances(driver: Driver): Promise<{ a: Database; b: Database; close(): Promise<void> }> {
  if (driver.name === 'pglite') {
    const d = await driver.open();
    return { a: d, b: d, close: () => d.close() };
  }
  const tmp = await createServerDatabase(TEST_DATABASE_URL!);
  const a = await openDatabase({ url: tmp.url, max: 5 });
  await a.migrate();
  const b = await openDatabase({ url: tmp.url, max: 5 });
  return {
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      await tmp.drop();
    },
  };
}
