import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/** One job per file: no TypeScript file in src/ over this many lines (data files, .json, aside). */
const MAX_LINES = 400;
/** Files allowed over the limit, with the reason beside each. None today. */
const ALLOWED: Record<string, string> = {};

const ROOT = join(import.meta.dirname, '..');
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

describe('file size', () => {
  it(`no .ts file in src/ is over ${MAX_LINES} lines`, () => {
    const files = filesUnder(join(ROOT, 'src'));
    expect(files.length).toBeGreaterThan(50);
    const over = files
      .map((f) => ({ f: relative(ROOT, f), n: readFileSync(f, 'utf8').split('\n').length }))
      .filter(({ f, n }) => n > MAX_LINES && !(f in ALLOWED))
      .map(({ f, n }) => `${f}: ${n} lines`);
    expect(over).toEqual([]);
  });
});
