import { sql } from 'drizzle-orm';
import type { Database, Db } from './client';
import { rowsOf } from './rows';

/**
 * `npm run db -- copy --to postgres://…`: every table of the current schema, from the embedded
 * database (PGlite) to an empty PostgreSQL database that has the same migrations applied. Tables go in
 * foreign-key order, each in one transaction on the target (its rows in batches of BATCH); a table
 * that refers to itself gets those columns filled in a second statement of the same transaction.
 * Identity and serial sequences are moved past the copied ids. A target with any row is refused.
 */

const BATCH = 1000;

export interface TableInfo {
  name: string;
  columns: string[];
  primaryKey: string[];
  /** Tables this one refers to (foreign keys), itself excluded. */
  refersTo: string[];
  /** Columns that refer to this same table. */
  selfColumns: string[];
}

export interface CopyReport {
  tables: { name: string; source: number; target: number }[];
  sequences: number;
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** The tables of schema public (drizzle's own bookkeeping lives in schema drizzle), with columns and keys. */
export async function describeTables(db: Db): Promise<TableInfo[]> {
  const cols = rowsOf<{ table_name: string; column_name: string }>(
    await db.execute(sql`
      select c.table_name, c.column_name from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = 'public' and t.table_type = 'BASE TABLE' and c.is_generated = 'NEVER'
      order by c.table_name, c.ordinal_position`),
  );
  const keys = rowsOf<{ table_name: string; column_name: string }>(
    await db.execute(sql`
      select kcu.table_name, kcu.column_name from information_schema.table_constraints tc
      join information_schema.key_column_usage kcu on kcu.constraint_name = tc.constraint_name and kcu.table_schema = tc.table_schema
      where tc.table_schema = 'public' and tc.constraint_type = 'PRIMARY KEY'
      order by kcu.table_name, kcu.ordinal_position`),
  );
  const fks = rowsOf<{ from_table: string; to_table: string; column_name: string }>(
    await db.execute(sql`
      select c.conrelid::regclass::text as from_table, c.confrelid::regclass::text as to_table, a.attname as column_name
      from pg_constraint c
      join pg_namespace n on n.oid = c.connamespace
      join lateral unnest(c.conkey) as k(attnum) on true
      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
      where c.contype = 'f' and n.nspname = 'public'`),
  );
  const unquote = (s: string) => s.replace(/^"|"$/g, '');
  const byName = new Map<string, TableInfo>();
  for (const c of cols) {
    const t = byName.get(c.table_name) ?? { name: c.table_name, columns: [], primaryKey: [], refersTo: [], selfColumns: [] };
    t.columns.push(c.column_name);
    byName.set(c.table_name, t);
  }
  for (const k of keys) byName.get(k.table_name)?.primaryKey.push(k.column_name);
  for (const f of fks) {
    const from = byName.get(unquote(f.from_table));
    const to = unquote(f.to_table);
    if (!from) continue;
    if (to === from.name) from.selfColumns.push(f.column_name);
    else if (!from.refersTo.includes(to)) from.refersTo.push(to);
  }
  return [...byName.values()];
}

/** Parents before children; a circle between two tables (none in this schema) is refused. */
export function foreignKeyOrder(tables: TableInfo[]): TableInfo[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const out: TableInfo[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (t: TableInfo, path: string[]) => {
    if (state.get(t.name) === 'done') return;
    if (state.get(t.name) === 'visiting') throw new Error(`外键形成了环：${[...path, t.name].join(' → ')}`);
    state.set(t.name, 'visiting');
    for (const p of t.refersTo) {
      const parent = byName.get(p);
      if (parent) visit(parent, [...path, t.name]);
    }
    state.set(t.name, 'done');
    out.push(t);
  };
  for (const t of [...tables].sort((a, b) => a.name.localeCompare(b.name))) visit(t, []);
  return out;
}

async function countOf(db: Db, table: string): Promise<number> {
  const [r] = rowsOf<{ n: number | string }>(await db.execute(sql.raw(`select count(*) as n from ${ident(table)}`)));
  return Number(r?.n ?? 0);
}

/** The migrations applied (drizzle's journal): source and target must be at the same one. */
async function migrationsOf(db: Db): Promise<string[]> {
  const rows = rowsOf<{ hash: string }>(await db.execute(sql`select hash from drizzle.__drizzle_migrations order by id`));
  return rows.map((r) => r.hash);
}

export async function copyDatabase(opts: {
  source: Database;
  target: Database;
  /** One line per table as it is copied (the CLI prints them). */
  progress?: (line: string) => void;
}): Promise<CopyReport> {
  const { source, target } = opts;
  const say = opts.progress ?? (() => {});
  if (target.kind !== 'postgres') throw new Error('目标必须是 PostgreSQL 服务器（postgres://…）');
  const [from, to] = [await migrationsOf(source.db), await migrationsOf(target.db)];
  if (from.join() !== to.join()) throw new Error(`源库和目标库的迁移版本不同（${from.length} 与 ${to.length}）：请先把两边都迁移到最新`);

  const tables = foreignKeyOrder(await describeTables(source.db));
  const targetTables = new Set((await describeTables(target.db)).map((t) => t.name));
  const missing = tables.filter((t) => !targetTables.has(t.name)).map((t) => t.name);
  if (missing.length) throw new Error(`目标库缺少表 ${missing.join('、')}：是否已经迁移？`);
  const nonEmpty: string[] = [];
  for (const t of tables) if ((await countOf(target.db, t.name)) > 0) nonEmpty.push(t.name);
  if (nonEmpty.length) throw new Error(`目标库不是空的（${nonEmpty.join('、')} 中已有数据）：只能复制到一个空的、已迁移的数据库`);

  const report: CopyReport = { tables: [], sequences: 0 };
  for (const t of tables) {
    const cols = t.columns.map(ident).join(', ');
    const order = t.primaryKey.length ? t.primaryKey.map(ident).join(', ') : 'ctid';
    const selected = t.columns.map((c) => (t.selfColumns.includes(c) ? 'null' : ident(c))).join(', ');
    const total = await countOf(source.db, t.name);
    const batch = async (offset: number) => {
      const [r] = rowsOf<{ rows: string }>(
        await source.db.execute(sql.raw(`select coalesce(json_agg(x), '[]')::text as rows from (select ${cols} from ${ident(t.name)} order by ${order} limit ${BATCH} offset ${offset}) x`)),
      );
      return r?.rows ?? '[]';
    };
    const from = `json_populate_recordset(null::${ident(t.name)}, `;
    await target.db.transaction(async (tx) => {
      // json_populate_recordset reads every column back with the table's own types (jsonb, timestamptz, arrays …).
      for (let offset = 0; offset < total; offset += BATCH) {
        await tx.execute(sql`${sql.raw(`insert into ${ident(t.name)} (${cols}) overriding system value select ${selected} from ${from}`)}${await batch(offset)}::json${sql.raw(')')}`);
      }
      if (!t.selfColumns.length) return;
      // Its references to itself once every row is there (a row may refer to one of a later batch).
      const on = t.primaryKey.map((k) => `d.${ident(k)} = s.${ident(k)}`).join(' and ');
      if (!on) throw new Error(`表 ${t.name} 引用自身但没有主键，无法复制`);
      const set = t.selfColumns.map((c) => `${ident(c)} = s.${ident(c)}`).join(', ');
      for (let offset = 0; offset < total; offset += BATCH) {
        await tx.execute(sql`${sql.raw(`update ${ident(t.name)} d set ${set} from ${from}`)}${await batch(offset)}::json${sql.raw(`) s where ${on}`)}`);
      }
    });
    const copied = await countOf(target.db, t.name);
    report.tables.push({ name: t.name, source: total, target: copied });
    say(`${t.name}: ${total} → ${copied}`);
  }

  // Every sequence a column owns (serial, bigserial, identity): past the highest copied value.
  const seqs = rowsOf<{ table_name: string; column_name: string; seq: string }>(
    await target.db.execute(sql`
      select c.table_name, c.column_name, pg_get_serial_sequence(format('%I.%I', c.table_schema, c.table_name), c.column_name) as seq
      from information_schema.columns c
      where c.table_schema = 'public' and pg_get_serial_sequence(format('%I.%I', c.table_schema, c.table_name), c.column_name) is not null`),
  );
  for (const s of seqs) {
    await target.db.execute(
      sql.raw(`select setval('${s.seq.replace(/'/g, "''")}', coalesce((select max(${ident(s.column_name)}) from ${ident(s.table_name)}), 0) + 1, false)`),
    );
    report.sequences++;
  }
  return report;
}
