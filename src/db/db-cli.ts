import { describeValue, loadConfig } from '../config';
import { openDatabase } from './client';
import { copyDatabase } from './copy';

/**
 * `npm run db -- <command>`:
 *   migrate                   apply the migrations to the configured database (as a start does)
 *   copy --to postgres://…    copy the embedded database in DATA_DIR into an empty PostgreSQL database
 *                             (migrated first, under the same advisory lock as a start); run it with the bot stopped
 */
const USAGE = '用法：npm run db -- migrate ｜ npm run db -- copy --to postgres://用户:密码@主机:5432/数据库';

async function main(argv: string[]): Promise<number> {
  const config = loadConfig();
  const [command, ...rest] = argv;
  if (command === 'migrate') {
    const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATABASE_URL ? undefined : config.DATA_DIR });
    await database.migrate();
    await database.close();
    console.log(`migrations applied (${database.kind})`);
    return 0;
  }
  if (command === 'copy') {
    const i = rest.indexOf('--to');
    const to = i >= 0 ? rest[i + 1] : rest.find((a) => a.startsWith('--to='))?.slice(5);
    if (!to || !/^postgres(ql)?:\/\//.test(to)) {
      console.error(`copy 需要目标库：--to postgres://…\n${USAGE}`);
      return 2;
    }
    if (config.DATABASE_URL) {
      console.error('copy 从内嵌数据库（DATA_DIR）复制：请不要同时设置 DATABASE_URL。');
      return 2;
    }
    console.log(`从 ${config.DATA_DIR} 复制到 ${describeValue('DATABASE_URL', to)}`);
    // The data directory's lock (data-dir-lock.ts) refuses a copy while the bot has it open.
    const source = await openDatabase({ dataDir: config.DATA_DIR });
    const target = await openDatabase({ url: to, max: 2 });
    try {
      await source.migrate();
      await target.migrate();
      const report = await copyDatabase({ source, target, progress: (line) => console.log(`  ${line}`) });
      const wrong = report.tables.filter((t) => t.source !== t.target);
      const rows = report.tables.reduce((n, t) => n + t.target, 0);
      console.log(`完成：${report.tables.length} 张表、${rows} 行，${report.sequences} 个序列已调整。`);
      if (wrong.length) {
        console.error(`行数不一致：${wrong.map((t) => `${t.name} ${t.source}→${t.target}`).join('，')}`);
        return 1;
      }
      return 0;
    } finally {
      await target.close();
      await source.close();
    }
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`失败：${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
