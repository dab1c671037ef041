import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The shape of src/ (README, 目录): the engine (src/core) knows no feature, a feature reaches another
 * only through its index.ts, and no import circle exists. Read from the real import graph by
 * dependency-cruiser; type-only imports count too (tsPreCompilationDeps), so a circle made of types is
 * a circle.
 */

const ROOT = join(import.meta.dirname, '..');

const RULES = [
  { name: 'core-not-to-features', severity: 'error', from: { path: '^src/core/' }, to: { path: '^src/features/' } },
  {
    name: 'feature-internals',
    severity: 'error',
    from: { path: '^src/features/([^/]+)/' },
    to: { path: '^src/features/[^/]+/', pathNot: ['^src/features/$1/', '^src/features/[^/]+/index\\.ts$'] },
  },
  { name: 'no-circular', severity: 'error', from: { path: '^src/' }, to: { circular: true } },
  { name: 'engine-not-to-platforms', severity: 'error', from: { path: '^src/(core|db)/' }, to: { path: '^src/platforms/' } },
  { name: 'not-to-unresolvable', severity: 'error', from: { path: '^src/' }, to: { couldNotResolve: true, dependencyTypesNot: ['core'] } },
] as const;

let violations: IViolation[] = [];

beforeAll(async () => {
  const tsConfig = extractTSConfig(join(ROOT, 'tsconfig.json'));
  const result = await cruise(
    ['src'],
    {
      validate: true,
      ruleSet: { forbidden: RULES as never },
      tsPreCompilationDeps: true,
      tsConfig: { fileName: 'tsconfig.json' },
      doNotFollow: { path: 'node_modules' },
      baseDir: ROOT,
      // Packages that publish only an `exports` map (csv-stringify/sync, dingtalk-stream).
      enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], mainFields: ['module', 'main', 'types'] },
    },
    undefined,
    { tsConfig },
  );
  violations = (result.output as ICruiseResult).summary.violations;
}, 120_000);

const edges = (rule: string) =>
  violations
    .filter((v) => v.rule.name === rule)
    .map((v) => (v.cycle?.length ? [v.from, ...v.cycle.map((c) => (typeof c === 'string' ? c : c.name))].join(' → ') : `${v.from} → ${v.to}`));

describe('the import graph of src/', () => {
  for (const rule of RULES) {
    it(`${rule.name}: no edge breaks it`, () => {
      expect(edges(rule.name)).toEqual([]);
    });
  }

  it('sees the graph (a rule that must hold somewhere does)', () => {
    // Guards the rules above against an empty cruise: features import the engine all the time.
    expect(readdirSync(join(ROOT, 'src/features')).length).toBeGreaterThan(10);
    expect(violations).toBeInstanceOf(Array);
  });
});

/**
 * Words of the product that the engine must not hold in code (comments aside): the service's nouns and
 * the roster's role keys (src/domain/roles.ts). drizzle's `orderBy` and SQL `order by` are the query
 * language's, not the product's.
 */
const PRODUCT_WORDS = [/order/i, /complaint/i, /department/i, /visit/i, /分配单/, /投诉/, /部门/, /回访/];
const ROLE_KEYS = ['handler', 'supervisor', 'head', 'sales', 'management'];
const QUERY_LANGUAGE = [/^orderBy$/, /\border\s+by\b/gi];

function codeWords(file: string): { word: string; line: number }[] {
  const text = readFileSync(file, 'utf8');
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, text);
  const out: { word: string; line: number }[] = [];
  // Braces open inside each `${…}` of the template literals being read: a `}` that closes one resumes the template.
  const templates: number[] = [];
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    if (kind === ts.SyntaxKind.OpenBraceToken && templates.length) templates[templates.length - 1]!++;
    if (kind === ts.SyntaxKind.CloseBraceToken && templates.length) {
      if (templates[templates.length - 1] === 0) {
        kind = scanner.reScanTemplateToken(false);
        if (kind === ts.SyntaxKind.TemplateTail) templates.pop();
      } else templates[templates.length - 1]!--;
    }
    if (kind === ts.SyntaxKind.TemplateHead) templates.push(0);
    const isString =
      kind === ts.SyntaxKind.StringLiteral ||
      kind === ts.SyntaxKind.NoSubstitutionTemplateLiteral ||
      kind === ts.SyntaxKind.TemplateHead ||
      kind === ts.SyntaxKind.TemplateMiddle ||
      kind === ts.SyntaxKind.TemplateTail;
    if (kind === ts.SyntaxKind.Identifier || isString) {
      const line = text.slice(0, scanner.getTokenStart()).split('\n').length;
      out.push({ word: isString ? `'${scanner.getTokenValue()}'` : scanner.getTokenText(), line });
    }
  }
  return out;
}

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

describe('src/core names no product', () => {
  it('holds no product word or role key in code', () => {
    const found: string[] = [];
    for (const file of filesUnder(join(ROOT, 'src/core'))) {
      for (const { word, line } of codeWords(file)) {
        let w = word;
        for (const q of QUERY_LANGUAGE) w = w.replace(q, '');
        const isRole = ROLE_KEYS.some((r) => w === `'${r}'`);
        if (isRole || PRODUCT_WORDS.some((p) => p.test(w))) found.push(`${relative(ROOT, file)}:${line} ${word}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('the check finds a product word where there is one', () => {
    // The scanner reads identifiers and strings, not comments: a feature file is full of them.
    const words = codeWords(join(ROOT, 'src/features/orders/index.ts')).map((w) => w.word);
    expect(words.some((w) => PRODUCT_WORDS.some((p) => p.test(w)))).toBe(true);
    const fromComment = codeWords(join(ROOT, 'src/core/chat.ts')).some((w) => w.word.includes('STYLE.md'));
    expect(fromComment).toBe(false);
  });
});
