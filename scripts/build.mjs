// Builds what `npm start` runs: src/main.ts bundled into one ES module with esbuild (the compiler tsx
// itself uses), plus the two files the code reads beside itself at run time. Running compiled
// JavaScript instead of `node --import tsx` keeps tsx's compiler and its cache out of the long-running
// process: about 50 MiB less idle memory (docs/benchmarks.md, issue 9 #11). Takes well under a second.
//
// Output: dist/src/main.mjs. It sits at the same depth as the sources (src/db/…), so paths the code
// resolves from its own location (the drizzle/ migrations folder) still point at the right place.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const outDir = path.join(root, 'dist', 'src');

// Runtime packages stay in node_modules (PGlite loads its WebAssembly beside itself); chinese-days is
// bundled because the code imports its JSON data file, which Node's ESM loader would refuse without
// an import attribute.
const external = Object.keys(pkg.dependencies).filter((name) => name !== 'chinese-days');

mkdirSync(outDir, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  outfile: path.join(outDir, 'main.mjs'),
  sourcemap: true,
  logLevel: 'warning',
});
for (const file of ['src/platforms/sandbox/sandbox-page.html', 'src/db/pglite-init.mjs']) {
  copyFileSync(path.join(root, file), path.join(outDir, path.basename(file)));
}
