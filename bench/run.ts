/**
 * `npm run bench`: runs each benchmark module in turn; each prints one JSON line per figure.
 * Add a module by exporting `{ name, run }` (see BenchModule) and listing it below.
 * Options: --only=<name> runs one module; modules read their own `--key=value` options.
 */
import idleMemory from './idle-memory';
import timers from './timers-bench';
import wecomCallbacks from './wecom-callbacks';
import wecomReplies from './wecom-replies';

import type { BenchModule } from './types';

export type { BenchContext, BenchModule } from './types';

const MODULES: BenchModule[] = [wecomCallbacks, wecomReplies, timers, idleMemory];

const options = Object.fromEntries(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith('--'))
    .map((a) => {
      const [k, ...v] = a.slice(2).split('=');
      return [k!, v.join('=') || 'true'];
    }),
);

for (const m of MODULES) {
  if (options.only && options.only !== m.name) continue;
  const started = Date.now();
  process.stderr.write(`bench ${m.name}…\n`);
  await m.run({
    options,
    report: (figure) => process.stdout.write(`${JSON.stringify({ bench: m.name, ...figure })}\n`),
    note: (text) => process.stderr.write(`  ${text}\n`),
  });
  process.stderr.write(`bench ${m.name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
