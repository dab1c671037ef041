import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadComplaintPlaybook } from '../src/domain/complaints';
import { loadPlaybooks, type PlaybookRule } from '../src/domain/playbooks';

/**
 * The rule tables of docs/service-rules.md, generated from the playbooks so the document cannot drift
 * from what the bot enforces. `npx tsx scripts/service-rules-tables.ts` rewrites the generated part;
 * test/docs/service-rules.test.ts fails when it is out of date.
 */

export const BEGIN = '<!-- generated: scripts/service-rules-tables.ts (begin) -->';
export const END = '<!-- generated: scripts/service-rules-tables.ts (end) -->';
export const DOC = fileURLToPath(new URL('../docs/service-rules.md', import.meta.url));

const UNITS: Record<string, string> = { workingDays: '个工作日', calendarDays: '天', weeks: '周', months: '个月', minutes: '分钟' };
const amount = (d: { amount: number; unit: string }) => `${d.amount} ${UNITS[d.unit] ?? d.unit}`;
const cell = (s: string) => s.replace(/\|/g, '\\|');

function when(rule: PlaybookRule): string {
  const t = rule.trigger;
  switch (t.kind) {
    case 'event':
      return `事件 \`${t.event}\` 后 ${amount(rule.duration)}`;
    case 'date':
      return `「${t.field}」${t.direction === 'before' ? '前' : '后'} ${amount(rule.duration)}`;
    case 'schedule':
      return `定期（cron \`${t.cron}\`），${rule.duration.amount ? `${amount(rule.duration)}内完成` : '当天完成'}`;
    default:
      return amount(rule.duration);
  }
}

export function renderTables(): string {
  const orders = loadPlaybooks();
  const complaints = loadComplaintPlaybook();
  const lines = [BEGIN, '', '### 分配单的时限（`src/domain/playbooks/default-playbooks.json`）', ''];
  lines.push('| 规则 id | 业务 | 步骤 | 时限 | 条款 | 发给 |', '|---|---|---|---|---|---|');
  for (const r of orders.rules) {
    const services = Array.isArray(r.services) ? r.services.join('、') : '全部';
    lines.push(`| \`${r.id}\` | ${services} | ${cell(r.step)} | ${when(r)} | ${cell(r.clause)} | ${r.audience === 'client' ? '客户群' : '内部'} |`);
  }
  lines.push('', '### 投诉的时限（`src/domain/complaints/complaint-playbook.json`）', '');
  lines.push('| 规则 id | 步骤 | 时限 | 开始于 | 条款 |', '|---|---|---|---|---|');
  for (const r of complaints.rules) {
    lines.push(`| \`${r.id}\` | ${cell(r.step)} | ${r.timer.trigger.kind === 'schedule' ? '每周' : amount(r.timer.duration)} | ${r.startsOn.map((e) => `\`${e}\``).join('、')} | ${cell(r.clause)} |`);
  }
  lines.push('', END);
  return lines.join('\n');
}

export function withTables(doc: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${DOC}: generated markers missing`);
  return doc.slice(0, a) + renderTables() + doc.slice(b + END.length);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(DOC, withTables(readFileSync(DOC, 'utf8')));
  console.log(`updated ${DOC}`);
}
