import { loadConfig } from '../config';
import { openDatabase } from './client';

// `npm run db:migrate` (same as `npm run db -- migrate`).
const config = loadConfig();
const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATABASE_URL ? undefined : config.DATA_DIR });
await database.migrate();
await database.close();
console.log(`migrations applied (${database.kind})`);
