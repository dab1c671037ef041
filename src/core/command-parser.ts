/**
 * Pure command parser (STYLE.md #4): text in, `{ ok: true, command, args } | { ok: false, … }` out.
 * Chinese command names with English aliases; arguments checked per command, and every error
 * tells the user the right form.
 */

import { SLASHES, scanTokens, type Token } from './tokenize';
export { halfWidth, stripInvisible, tokenize, type Token } from './tokenize';

export interface RawArgs {
  positional: Token[];
  named: Map<string, string>;
  flags: Set<string>;
  /** The command text after the command words (for free-text arguments). */
  text: string;
}

/**
 * A positional argument's kind: the parser's own (`text`, `word`, `ref`, `date`) or one a feature
 * registers (Feature.argKinds, e.g. a record number), checked by that kind's `parse`.
 */
export type ArgKindName = 'text' | 'word' | 'ref' | 'date' | (string & {});

/** A feature's argument kind: turns the typed word into the argument's value, or says why it cannot. */
export interface ArgKind {
  parse(value: string): { ok: true; value: string | number } | { ok: false; why: string };
}

/** The registered argument kinds by name (src/core/registry.ts collects the features'). */
export type ArgKinds = ReadonlyMap<string, ArgKind>;

export interface ArgSpec {
  positional?: { name: string; label: string; kind: ArgKindName; optional?: boolean; choices?: string[] }[];
  /** Free text after the positional arguments (a note, a reason). */
  rest?: { name: string; label: string; optional?: boolean };
  /** `kind: 'date'` is checked; any other kind is free text here (a feature's handler resolves it). */
  named?: { key: string; names: string[]; label: string; required?: boolean; kind?: ArgKindName; choices?: string[] }[];
  flags?: { key: string; names: string[] }[];
}

export interface CommandSpec {
  id: string;
  /** Command words, Chinese first: e.g. ['单', '新建']. */
  zh: string[];
  en: string[];
  /** Extra accepted spellings, as word lists. */
  aliases?: string[][];
  summary: string;
  usage: string;
  example: string;
  args: ArgSpec;
}

export type ParsedArgs = {
  [name: string]: string | number | boolean | undefined;
};

export type ParseResult =
  | { ok: true; command: CommandSpec; args: ParsedArgs }
  | { ok: false; reason: 'not_command' }
  | { ok: false; reason: 'unknown'; message: string; suggestion?: CommandSpec }
  | { ok: false; reason: 'invalid'; message: string; command: CommandSpec };

/** What the user typed, shortened for an error message. */
function clip(s: string, max = 30): string {
  const cps = [...s.slice(0, max * 2)];
  return cps.length > max ? `${cps.slice(0, max).join('')}…` : s;
}

export const DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;

export function normaliseDate(s: string): string | null {
  const m = DATE.exec(s.replace(/[./年月]/g, '-').replace(/日$/, ''));
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d) return null;
  return `${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

function formHint(spec: CommandSpec): string {
  return `正确格式：${spec.usage}\n例如：${spec.example}`;
}

/** Tokens read before matching command words (the longest command has two words; a glued one, one). */
const HEAD_TOKENS = 4;

/** The first few tokens, lower-cased once (a pasted page is never lower-cased per command). */
function headWords(tokens: Token[]): string[] {
  return tokens.map((t) => (t.value.length <= 64 ? t.value.toLowerCase() : '\u0000'));
}

function matchWords(words: string[], heads: string[]): boolean {
  if (heads.length < words.length) return false;
  return words.every((w, i) => heads[i] === w.toLowerCase());
}

const NO_KINDS: ArgKinds = new Map();

/** Parse one message. `specs` is the command table; `kinds` the features' argument kinds. */
export function parseCommand(text: string, specs: readonly CommandSpec[], kinds: ArgKinds = NO_KINDS): ParseResult {
  const trimmed = text.trim();
  if (!SLASHES.test(trimmed)) return { ok: false, reason: 'not_command' };
  const body = trimmed.replace(SLASHES, '');
  const scan = scanTokens(body);
  // The command words are among the first few tokens; the rest is read only as far as needed.
  const tokens: Token[] = [];
  // next(), not for…of: breaking out of a for…of would close the generator.
  while (tokens.length < HEAD_TOKENS) {
    const r = scan.next();
    if (r.done) break;
    tokens.push(r.value);
  }
  if (tokens.length === 0) return { ok: false, reason: 'not_command' };

  // Longest command-word match wins (so "/单 列表" beats a one-word "/单").
  let best: { spec: CommandSpec; words: number; tokens: number } | undefined;
  const heads = headWords(tokens);
  for (const spec of specs) {
    for (const words of [spec.zh, spec.en, ...(spec.aliases ?? [])]) {
      if (matchWords(words, heads) && (!best || words.length > best.words)) best = { spec, words: words.length, tokens: words.length };
    }
  }
  // A group name run together with its sub-command ("/单新建" for "/单 新建"): one token, two words.
  if (!best) {
    for (const spec of specs) {
      for (const words of [spec.zh, spec.en, ...(spec.aliases ?? [])]) {
        if (words.length > 1 && heads[0] === words.join('').toLowerCase()) best = { spec, words: words.length, tokens: 1 };
      }
    }
  }
  if (!best) {
    const group = groupCommands(heads[0]!, specs);
    if (group.length > 0) {
      // "/单" alone: the group exists, only the sub-command is missing.
      return {
        ok: false,
        reason: 'unknown',
        message:
          `「/${clip(tokens[0]!.value)}」后面还需要写具体要做什么，可以用：\n` +
          group.map((c) => `· ${c.usage}\n  ${c.summary}，例：${c.example}`).join('\n'),
      };
    }
    const typed = tokens
      .slice(0, 2)
      .map((t) => t.value)
      .join(' ');
    const suggestion = closestCommand(typed, tokens[0]!.value, specs);
    const hint = suggestion ? `您是不是想用「${suggestion.usage}」？` : '';
    return {
      ok: false,
      reason: 'unknown',
      suggestion,
      message: `抱歉，没有找到命令「/${clip(tokens[0]!.value)}」。${hint}发送 /帮助 可以查看您能用的全部命令。`,
    };
  }
  const head = tokens.slice(best.tokens);
  const rest = (function* () {
    yield* head;
    yield* scan;
  })();
  // Token offsets are relative to body, so the free-text rest is sliced from it.
  return bindArgs(best.spec, rest, body, kinds);
}

function bindArgs(spec: CommandSpec, tokens: Iterable<Token>, text: string, kinds: ArgKinds): ParseResult {
  const a = spec.args;
  const named = new Map<string, string>();
  const flags = new Set<string>();
  const positional: Token[] = [];
  const keyOf = new Map<string, string>();
  for (const n of a.named ?? []) for (const name of n.names) keyOf.set(name.toLowerCase(), n.key);
  const flagOf = new Map<string, string>();
  for (const f of a.flags ?? []) for (const name of f.names) flagOf.set(name.toLowerCase(), f.key);

  const fail = (why: string): ParseResult => ({
    ok: false,
    reason: 'invalid',
    command: spec,
    message: `抱歉，${why}\n${formHint(spec)}`,
  });

  // Free text (a note or reason) begins after the positional arguments; key=value pairs and flags
  // are only read before it, so a note may contain "=" freely.
  const nPositional = a.positional?.length ?? 0;
  let restStart: number | undefined;
  for (const t of tokens) {
    if (restStart !== undefined) break;
    const kv = /^([^=＝:：]+)[=＝:：](.*)$/.exec(t.value);
    if (kv && keyOf.has(kv[1]!.toLowerCase())) {
      const key = keyOf.get(kv[1]!.toLowerCase())!;
      if (named.has(key)) return fail(`「${clip(kv[1]!)}」写了两次。`);
      named.set(key, kv[2]!.trim());
      continue;
    }
    if (flagOf.has(t.value.toLowerCase())) {
      flags.add(flagOf.get(t.value.toLowerCase())!);
      continue;
    }
    if (positional.length < nPositional) {
      positional.push(t);
      continue;
    }
    if (a.rest) {
      restStart = t.start;
      break;
    }
    if (kv) return fail(`不认识参数「${clip(kv[1]!)}」。`);
    return fail(`多了一个参数「${clip(t.value)}」。`);
  }

  const args: ParsedArgs = {};
  const specs = a.positional ?? [];
  for (let i = 0; i < specs.length; i++) {
    const p = specs[i]!;
    const tok = positional[i];
    if (!tok) {
      if (p.optional) continue;
      return fail(`缺少${p.label}。`);
    }
    const v = tok.value;
    switch (p.kind) {
      case 'ref': {
        if (!/^[A-Za-z]\d{1,9}$/.test(v)) return fail(`「${clip(v)}」不是有效的编号（如 D12）。`);
        args[p.name] = v.toUpperCase();
        break;
      }
      case 'date': {
        const d = normaliseDate(v);
        if (!d) return fail(`「${clip(v)}」不是有效日期（应为 YYYY-MM-DD）。`);
        args[p.name] = d;
        break;
      }
      case 'word':
        if (p.choices && !p.choices.includes(v)) return fail(`${p.label}只能是 ${p.choices.join('、')}。`);
        args[p.name] = v;
        break;
      default: {
        const kind = kinds.get(p.kind);
        if (!kind) {
          args[p.name] = v;
          break;
        }
        const r = kind.parse(v);
        if (!r.ok) return fail(r.why.replaceAll('{value}', clip(v)));
        args[p.name] = r.value;
      }
    }
  }

  if (a.rest) {
    const restText = restStart !== undefined ? text.slice(restStart).trim() : '';
    if (!restText && !a.rest.optional) return fail(`缺少${a.rest.label}。`);
    if (restText.length > 2000) return fail(`${a.rest.label}太长了（最多 2000 字）。`);
    if (restText) args[a.rest.name] = restText;
  }

  for (const n of a.named ?? []) {
    const v = named.get(n.key);
    if (v === undefined || v === '') {
      if (n.required) return fail(`缺少「${n.names[0]}=${n.label}」。`);
      continue;
    }
    if (n.kind === 'date') {
      const d = normaliseDate(v);
      if (!d) return fail(`「${clip(v)}」不是有效日期（应为 YYYY-MM-DD）。`);
      args[n.key] = d;
      continue;
    }
    if (n.choices && !n.choices.includes(v)) return fail(`${n.names[0]}只能是 ${n.choices.join('、')}。`);
    if (v.length > 200) return fail(`「${n.names[0]}」太长了。`);
    args[n.key] = v;
  }
  for (const f of a.flags ?? []) if (flags.has(f.key)) args[f.key] = true;
  return { ok: true, command: spec, args };
}

/** The commands whose first word is `word` and that have a second word (the sub-commands of a group). */
function groupCommands(word: string, specs: readonly CommandSpec[]): CommandSpec[] {
  return specs.filter((spec) =>
    [spec.zh, spec.en, ...(spec.aliases ?? [])].some((words) => words.length > 1 && words[0]!.toLowerCase() === word),
  );
}

/** Levenshtein distance over code points (Chinese command words are short). */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  const dp = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= y.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (x[i - 1] === y[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[y.length]!;
}

function closestCommand(typed: string, first: string, specs: readonly CommandSpec[]): CommandSpec | undefined {
  // Command words are a few characters: a word of 64+ code units is never within half its length of
  // one, and is not counted character by character (a pasted page must not cost seconds).
  if (first.length > 64) return undefined;
  const firstLen = [...first].length;
  const typedLen = typed.length > 128 ? Infinity : [...typed].length;
  const typedLower = typed.toLowerCase();
  const firstLower = first.toLowerCase();
  const limit = Math.max(1, Math.floor(firstLen / 2));
  // The distance is at least the difference in length: a long word is never compared in full.
  const within = (a: string, aLen: number, b: string, extra = 0): number =>
    Math.abs(aLen - [...b].length) + extra > limit ? Infinity : editDistance(a, b) + extra;
  let best: { spec: CommandSpec; d: number } | undefined;
  for (const spec of specs) {
    for (const words of [spec.zh, spec.en, ...(spec.aliases ?? [])]) {
      const name = words.join(' ').toLowerCase();
      const d = Math.min(
        within(typedLower, typedLen, name),
        within(firstLower, firstLen, words[0]!.toLowerCase(), words.length > 1 ? 1 : 0),
      );
      if (!best || d < best.d) best = { spec, d };
    }
  }
  return best && best.d <= limit ? best.spec : undefined;
}
