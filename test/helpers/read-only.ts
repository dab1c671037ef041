import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { openDatabase, type Database } from '../../src/db/client';
import { rowsOf } from '../../src/db/rows';
import { createServerDatabase } from './databases';

/** A fresh, migrated test database that a test can make refuse every write, and accept them again. */
export interface ReadOnlyDb {
  database: Database;
  setReadOnly(on: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function pgliteReadOnly(): Promise<ReadOnlyDb> {
  const database = await openDatabase({});
  await database.migrate();
  return {
    database,
    // One embedded session: its default is what every later transaction gets.
    setReadOnly: async (on) => {
      await database.db.execute(sql.raw(`set session characteristics as transaction ${on ? 'read only' : 'read write'}`));
    },
    close: () => database.close(),
  };
}

export async function serverReadOnly(adminUrl: string): Promise<ReadOnlyDb> {
  const tmp = await createServerDatabase(adminUrl);
  const name = new URL(tmp.url).pathname.slice(1);
  const database = await openDatabase({ url: tmp.url, max: 4 });
  await database.migrate();
  return {
    database,
    // As an operator would: the database's default, then every session reconnects and gets it.
    setReadOnly: async (on) => {
      const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await admin.unsafe(`alter database "${name}" set default_transaction_read_only = ${on ? 'on' : 'off'}`);
      await admin.unsafe(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}' and pid <> pg_backend_pid()`);
      await admin.end();
      for (let i = 0; i < 20; i++) {
        try {
          const rows = rowsOf<{ transaction_read_only: string }>(await database.db.execute(sql`show transaction_read_only`));
          if (rows[0]?.transaction_read_only === (on ? 'on' : 'off')) return;
        } catch {
          // a pooled connection that was terminated: the next try reconnects
        }
      }
      throw new Error('read-only switch did not take effect');
    },
    close: async () => {
      await database.close();
      await tmp.drop();
    },
  };
}

