// Creates a PGlite data directory (initdb) and exits. Run in a child process by openDatabase on the
// first start: initdb's own WebAssembly instance takes ~400 MiB that a long-running process would keep
// (issue 9 #11); in a child it is returned to the system when the child exits.
// Plain JavaScript so it runs without tsx. Usage: node pglite-init.mjs <dataDir> <startParams JSON>
import { PGlite } from '@electric-sql/pglite';

const [dataDir, params] = process.argv.slice(2);
const db = new PGlite(dataDir, { startParams: JSON.parse(params) });
await db.waitReady;
await db.close();
