import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOC, renderTables, withTables } from '../../scripts/service-rules-tables';
import { loadComplaintPlaybook } from '../../src/domain/complaints';
import { loadPlaybooks } from '../../src/domain/playbooks';

const doc = readFileSync(DOC, 'utf8');
const ruleIds = new Set([...loadPlaybooks().rules.map((r) => r.id), ...loadComplaintPlaybook().rules.map((r) => r.id)]);

describe('docs/service-rules.md', () => {
  it('has the rule tables exactly as generated from the playbooks (npx tsx scripts/service-rules-tables.ts)', () => {
    expect(withTables(doc)).toBe(doc);
    expect(doc).toContain(renderTables());
  });

  it('names every playbook rule id, each with its clause', () => {
    for (const id of ruleIds) expect(doc, id).toMatch(new RegExp('\\| `' + id.replace(/[.]/g, '\\.') + '` \\|.*\\| [^|]*\\d'));
  });

  it('names no rule id that the playbooks do not have', () => {
    const named = [
      ...[...doc.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!),
      ...[...doc.matchAll(/规则 `([^`]+)`/g)].map((m) => m[1]!),
      ...[...doc.matchAll(/、`([a-z-]+\.[a-z-]+)`/g)].map((m) => m[1]!),
    ];
    expect(named.length).toBeGreaterThan(ruleIds.size);
    for (const id of named) expect(ruleIds.has(id), id).toBe(true);
  });

  it('is what the README cites, not a file outside the repository', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain('docs/service-rules.md');
    expect(readme).not.toContain('SERVICE-RULES.md');
    expect(readme).not.toContain('../shared');
  });
});
