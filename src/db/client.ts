import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { lockDataDir } from './data-dir-lock';
import * as schema from './schema';

export type Schema = typeof schema;
/** A database or a transaction: data functions take this, so tests can pass a real test database. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Connections the pool may open (postgres.js does not say how many are in use). */
  poolSize?: number;
  migrate(): Promise<void>;
  /**
   * PostgreSQL only: LISTEN on `channel` over the pool's one listening connection (postgres.js reconnects
   * it); `onPayload` gets each NOTIFY's payload. PGlite has a single process, so nothing to listen for.
   */
  listen?(channel: string, onPayload: (payload: string) => void): Promise<void>;
  /** Can the database take a write: 'read-only' for a standby or a database set read-only. */
  health(): Promise<DatabaseHealth>;
  close(): Promise<void>;
}

export type DatabaseHealth = 'ok' | 'read-only' | 'unreachable';

/** One round trip that also says whether writes would be refused (standby, or read-only by default). */
const HEALTH_SQL = `select (pg_is_in_recovery() or current_setting('transaction_read_only') = 'on') as read_only`;
const healthOf = (rows: readonly { read_only: boolean }[]): DatabaseHealth => (rows[0]?.read_only ? 'read-only' : 'ok');

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');

/** The advisory lock migrations run under (any constant; the other advisory locks are hashed keys of the outbox budget). */
const MIGRATION_LOCK_KEY = 7_361_204_881;

export interface OpenOptions {
  /** postgres://… for a server; otherwise PGlite. */
  url?: string;
  /** PGlite data directory; undefined → in memory. */
  dataDir?: string;
  /** Pool size for a server connection. */
  max?: number;
}

/**
 * PGlite's own start parameters plus smaller buffers: PostgreSQL's default shared_buffers (128 MB) is
 * sized for a server; the bot's working set is a few MB, and every buffer touched stays resident in the
 * WebAssembly heap. 16 MB keeps idle RSS near 250 MiB instead of ~350 (docs/benchmarks.md).
 * Durability settings are PGlite's defaults, unchanged.
 */
const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB', '-c', 'wal_buffers=1MB'];

/** initdb in a child process (pglite-init.mjs): its memory goes back to the system when the child exits. */
async function initDataDir(dataDir: string): Promise<void> {
  const script = fileURLToPath(new URL('./pglite-init.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, dataDir, JSON.stringify(PGLITE_START_PARAMS)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`creating the embedded database in ${dataDir} failed (exit ${code}): ${stderr.slice(-2000)}`);
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.url) {
    const sqlClient = postgres(opts.url, { max: opts.max ?? 10, onnotice: () => {} });
    const db = drizzlePostgres(sqlClient, { schema }) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      poolSize: opts.max ?? 10,
      migrate: async () => {
        // Instances started together on an empty database would each run CREATE TABLE/TYPE and collide
        // (duplicate key in pg_type): one migrates under a session advisory lock, the others wait for
        // it and then find every migration applied.
        // One connection of its own (the pool may have a single one): lock, migrate, unlock.
        const lock = postgres(opts.url!, { max: 1, onnotice: () => {} });
        try {
          await lock`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
          await migratePostgres(drizzlePostgres(lock), { migrationsFolder: MIGRATIONS_DIR });
          await lock`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
        } finally {
          // Closing the session also releases the lock if the migration failed.
          await lock.end({ timeout: 3 });
        }
      },
      listen: async (channel, onPayload) => {
        await sqlClient.listen(channel, onPayload);
      },
      health: async () => {
        try {
          return healthOf(await sqlClient.unsafe<{ read_only: boolean }[]>(HEALTH_SQL));
        } catch {
          return 'unreachable';
        }
      },
      close: () => sqlClient.end({ timeout: 3 }),
    };
  }
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  // One owner per directory (data-dir-lock.ts): a second process is refused before PGlite opens it.
  const lock = opts.dataDir ? lockDataDir(opts.dataDir) : null;
  let client: PGlite;
  try {
    if (opts.dataDir && !existsSync(path.join(opts.dataDir, 'PG_VERSION'))) await initDataDir(opts.dataDir);
    client = new PGlite(opts.dataDir, { startParams: PGLITE_START_PARAMS });
    await client.waitReady;
  } catch (err) {
    lock?.release();
    throw err;
  }
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    poolSize: 1,
    migrate: () => migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS_DIR }),
    health: async () => {
      try {
        return healthOf((await client.query<{ read_only: boolean }>(HEALTH_SQL)).rows);
      } catch {
        return 'unreachable';
      }
    },
    close: async () => {
      try {
        if (!client.closed) await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}
