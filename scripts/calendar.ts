/**
 * `npm run calendar -- import notice.txt` / `npm run calendar -- confirm <编号>`: bring a State Council
 * holiday notice into the calendar from a shell (README: 导入国务院节假日通知). Uses the configured
 * database (DATABASE_URL, or the embedded one in DATA_DIR — stop the bot first: one process only).
 */
import { userInfo } from 'node:os';
import { runCalendarCli } from '../src/calendar-cli';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/client';
import { loadPlaybooks } from '../src/domain/playbooks';

const config = loadConfig();
const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATABASE_URL ? undefined : config.DATA_DIR });
await database.migrate();
const [start, end] = config.WORKING_HOURS.split('-') as [string, string];
let code = 1;
try {
  code = await runCalendarCli(process.argv.slice(2), {
    database,
    playbook: loadPlaybooks(config.PLAYBOOK_FILE ? { overridePath: config.PLAYBOOK_FILE } : {}),
    timeZone: config.TIMEZONE,
    workingHours: { start, end },
    userid: `shell:${userInfo().username}`,
    out: (line) => console.log(line),
  });
} finally {
  await database.close();
}
process.exit(code);
