import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Prompts are Markdown files in the top-level prompts/ folder: a header (name, version), the system
 * text with {{variables}}, then `<!-- user -->` and the user text. The version is recorded with every
 * decision a prompt informed.
 */

export interface PromptTemplate {
  name: string;
  version: string;
  system: string;
  user: string;
}

export interface FilledPrompt {
  name: string;
  /** `<name>@<version>`, as recorded in the audit trail. */
  id: string;
  system: string;
  user: string;
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** src/llm → the repository root (also right for the bundled dist/src/… layout). */
export const PROMPTS_DIR = join(HERE, '..', '..', 'prompts');

export function parsePrompt(text: string, file = 'prompt'): PromptTemplate {
  const m = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text.replace(/\r\n/g, '\n'));
  if (!m) throw new Error(`${file}: missing the --- header (name, version)`);
  const header = Object.fromEntries(
    m[1]!.split('\n').map((l) => {
      const i = l.indexOf(':');
      return [l.slice(0, i).trim(), l.slice(i + 1).trim()];
    }),
  );
  if (!header.name || !header.version) throw new Error(`${file}: the header needs name and version`);
  const [system, user] = m[2]!.split(/^<!-- user -->$/m);
  if (user === undefined) throw new Error(`${file}: missing the <!-- user --> line`);
  return { name: header.name, version: header.version, system: system!.trim(), user: user.trim() };
}

const cache = new Map<string, PromptTemplate>();

export function loadPrompt(name: string, dir = PROMPTS_DIR): PromptTemplate {
  const key = `${dir}/${name}`;
  let t = cache.get(key);
  if (!t) {
    const file = join(dir, `${name}.md`);
    t = parsePrompt(readFileSync(file, 'utf8'), file);
    cache.set(key, t);
  }
  return t;
}

/** Fills {{name}} variables; a missing or unknown variable is an error, never an empty hole. */
export function fillPrompt(t: PromptTemplate, vars: Record<string, string>): FilledPrompt {
  const used = new Set<string>();
  const fill = (s: string) =>
    s.replace(/\{\{(\w+)\}\}/g, (_, v: string) => {
      if (!(v in vars)) throw new Error(`prompt ${t.name}: no value for {{${v}}}`);
      used.add(v);
      return vars[v]!;
    });
  const out = { name: t.name, id: `${t.name}@${t.version}`, system: fill(t.system), user: fill(t.user) };
  for (const v of Object.keys(vars)) if (!used.has(v)) throw new Error(`prompt ${t.name}: {{${v}}} is not in the template`);
  return out;
}
