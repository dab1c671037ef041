import { readFileSync } from 'node:fs';
import defaultPlaybooksJson from './default-playbooks.json';
import {
  playbookFileSchema,
  playbookOverrideSchema,
  ruleSchema,
  type Playbook,
  type PlaybookRule,
} from './playbook-schema';

/**
 * Playbooks are data: `default-playbooks.json` ships with the code, and the firm may point config at an
 * override file that changes numbers without a release. An override rule with an existing id is merged
 * over the default field by field (so `{ "id": "patent.assign", "duration": { "amount": 3, "unit":
 * "workingDays" } }` is enough); a new id adds a rule; `"enabled": false` switches one off.
 *
 * Exceptions of the standards that are not clocks (3.5.1, 3.5.3, 3.5.5 …) are listed under
 * `exceptions` in the data with the reason; 3.5.2 (unpaid → paused) is `pausesWithOrder`.
 */

export class PlaybookError extends Error {
  readonly code = 'playbook';
  constructor(readonly problems: string[]) {
    super(`流程配置有误 / invalid playbook:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PlaybookError';
  }
}

function issuesOf(where: string, error: { issues: { path: PropertyKey[]; message: string }[] }): string[] {
  return error.issues.map((i) => `${where}${i.path.length ? `.${i.path.map(String).join('.')}` : ''}: ${i.message}`);
}

/** Pure: validates the default document, applies an override document, resolves ladders. */
export function parsePlaybooks(base: unknown, override?: unknown): Playbook {
  const file = playbookFileSchema.safeParse(base);
  if (!file.success) throw new PlaybookError(issuesOf('playbook', file.error));

  const problems: string[] = [];
  let defaultLadder = file.data.defaults.ladder;
  const raw = file.data.rules.map((r) => (typeof r === 'object' && r !== null ? { ...(r as object) } : r)) as Record<string, unknown>[];

  if (override !== undefined) {
    const o = playbookOverrideSchema.safeParse(override);
    if (!o.success) throw new PlaybookError(issuesOf('override', o.error));
    if (o.data.defaults?.ladder) defaultLadder = o.data.defaults.ladder;
    for (const patch of o.data.rules) {
      const at = raw.findIndex((r) => r.id === patch.id);
      if (at >= 0) raw[at] = { ...raw[at], ...patch };
      else raw.push({ ...patch });
    }
  }

  const rules: PlaybookRule[] = [];
  const seen = new Set<string>();
  raw.forEach((candidate, index) => {
    const name = typeof candidate?.id === 'string' ? candidate.id : `#${index}`;
    const parsed = ruleSchema.safeParse(candidate);
    if (!parsed.success) {
      problems.push(...issuesOf(`rules[${name}]`, parsed.error));
      return;
    }
    if (seen.has(parsed.data.id)) {
      problems.push(`rules[${name}]: duplicate id`);
      return;
    }
    seen.add(parsed.data.id);
    if (parsed.data.enabled) rules.push({ ...parsed.data, ladder: parsed.data.ladder ?? defaultLadder });
  });
  if (problems.length) throw new PlaybookError(problems);

  return {
    defaults: { ladder: defaultLadder },
    rules,
    byId: new Map(rules.map((r) => [r.id, r])),
    exceptions: file.data.exceptions,
  };
}

export const DEFAULT_PLAYBOOKS_DOCUMENT: unknown = defaultPlaybooksJson;

/**
 * The thin I/O shell: reads the override file the caller names (from config), if any.
 * A missing or unreadable file is an error, not a silent fallback: the firm asked for its numbers.
 */
export function loadPlaybooks(options: { overridePath?: string } = {}): Playbook {
  if (!options.overridePath) return parsePlaybooks(DEFAULT_PLAYBOOKS_DOCUMENT);
  let text: string;
  try {
    text = readFileSync(options.overridePath, 'utf8');
  } catch (cause) {
    throw new PlaybookError([`cannot read override file ${options.overridePath}: ${(cause as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new PlaybookError([`override file ${options.overridePath} is not valid JSON: ${(cause as Error).message}`]);
  }
  return parsePlaybooks(DEFAULT_PLAYBOOKS_DOCUMENT, json);
}
