/**
 * Pure command parser (STYLE.md #4): text in, `{ ok: true, command, args } | { ok: false, … }` out.
 * Chinese command names with English aliases; arguments checked per command, and every error
 * tells the user the right form.
 */

export interface Token {
  /** The token with quotes removed. */
  value: string;
  /** Where the raw token starts in the command text (for "rest of the line" arguments). */
  start: number;
}

export interface RawArgs {
  positional: Token[];
  named: Map<string, string>;
  flags: Set<string>;
  /** The command text after the command words (for free-text arguments). */
  text: string;
}

export interface ArgSpec {
  positional?: { name: string; label: string; kind: 'order' | 'person' | 'text' | 'ref' | 'date' | 'word'; optional?: boolean; choices?: string[] }[];
  /** Free text after the positional arguments (a note, a reason). */
  rest?: { name: string; label: string; optional?: boolean };
  named?: { key: string; names: string[]; label: string; required?: boolean; kind?: 'person' | 'date' | 'word' | 'text'; choices?: string[] }[];
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

const SLASHES = /^[/／]/;
const WS = /[\s\u3000]+/;
const QUOTES: Record<string, string> = { '"': '"', '“': '”', '「': '」', "'": "'" };

export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (WS.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    let value = '';
    while (i < input.length && !WS.test(input[i]!)) {
      const c = input[i]!;
      const close = QUOTES[c];
      if (close) {
        const end = input.indexOf(close, i + 1);
        if (end > i) {
          value += input.slice(i + 1, end);
          i = end + 1;
          continue;
        }
      }
      value += c;
      i++;
    }
    tokens.push({ value, start });
  }
  return tokens;
}

export const ORDER_CODE = /^[Dd](\d{1,9})$/;
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

function matchWords(words: string[], tokens: Token[]): boolean {
  if (tokens.length < words.length) return false;
  return words.every((w, i) => tokens[i]!.value.toLowerCase() === w.toLowerCase());
}

/** Parse one message. `specs` is the command table. */
export function parseCommand(text: string, specs: readonly CommandSpec[]): ParseResult {
  const trimmed = text.trim();
  if (!SLASHES.test(trimmed)) return { ok: false, reason: 'not_command' };
  const body = trimmed.replace(SLASHES, '');
  const tokens = tokenize(body);
  if (tokens.length === 0) return { ok: false, reason: 'not_command' };

  // Longest command-word match wins (so "/单 列表" beats a one-word "/单").
  let best: { spec: CommandSpec; words: number } | undefined;
  for (const spec of specs) {
    for (const words of [spec.zh, spec.en, ...(spec.aliases ?? [])]) {
      if (matchWords(words, tokens) && (!best || words.length > best.words)) best = { spec, words: words.length };
    }
  }
  if (!best) {
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
      message: `抱歉，没有找到命令「/${tokens[0]!.value}」。${hint}发送 /帮助 可以查看您能用的全部命令。`,
    };
  }
  const rest = tokens.slice(best.words);
  // Token offsets are relative to body, so the free-text rest is sliced from it.
  return bindArgs(best.spec, rest, body);
}

function bindArgs(spec: CommandSpec, tokens: Token[], text: string): ParseResult {
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
      if (named.has(key)) return fail(`「${kv[1]}」写了两次。`);
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
    if (kv) return fail(`不认识参数「${kv[1]}」。`);
    return fail(`多了一个参数「${t.value}」。`);
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
      case 'order': {
        const m = ORDER_CODE.exec(v);
        if (!m) return fail(`「${v}」不是分配单编号（应为 D 加数字，如 D12）。`);
        args[p.name] = Number(m[1]);
        break;
      }
      case 'ref': {
        if (!/^[A-Za-z]\d{1,9}$/.test(v)) return fail(`「${v}」不是有效的编号（如 D12）。`);
        args[p.name] = v.toUpperCase();
        break;
      }
      case 'date': {
        const d = normaliseDate(v);
        if (!d) return fail(`「${v}」不是有效日期（应为 YYYY-MM-DD）。`);
        args[p.name] = d;
        break;
      }
      case 'word':
        if (p.choices && !p.choices.includes(v)) return fail(`${p.label}只能是 ${p.choices.join('、')}。`);
        args[p.name] = v;
        break;
      default:
        args[p.name] = v;
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
      if (!d) return fail(`「${v}」不是有效日期（应为 YYYY-MM-DD）。`);
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
  let best: { spec: CommandSpec; d: number } | undefined;
  for (const spec of specs) {
    for (const words of [spec.zh, spec.en, ...(spec.aliases ?? [])]) {
      const name = words.join(' ').toLowerCase();
      const d = Math.min(editDistance(typed.toLowerCase(), name), editDistance(first.toLowerCase(), words[0]!.toLowerCase()) + (words.length > 1 ? 1 : 0));
      if (!best || d < best.d) best = { spec, d };
    }
  }
  if (!best) return undefined;
  const limit = Math.max(1, Math.floor([...first].length / 2));
  return best.d <= limit ? best.spec : undefined;
}
