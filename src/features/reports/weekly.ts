import type { Db } from '../../db/client';
import { formatInstantInChinese, type WorkCalendar } from '../../domain/calendar';
import { complaintCode } from '../../domain/complaints';
import { orderCode, STATUS_NAMES } from '../../domain/orders';
import type { OrderStatus } from '../../db/schema';
import { byteLength } from '../../platforms/split-by-bytes';
import type { Person } from '../../core/records';
import type { VisitPlaybook } from '../visits';
import { assigneesOf, loadClientFacts, runningDueVisits } from '../visits';
import { departmentStaff, groupByHandler, openComplaints, openOrders, type HandlerWeek } from './figures';

/**
 * 每周汇总 (跟进汇总表, 审计 2.1.1, 项目 3.1.1, 003 制度8): per department, each handler's open orders
 * with the current step, the next due date and overdue clocks, open complaints and visits due.
 */

/**
 * Longest message of a summary, in UTF-8 bytes: WeCom's text limit is 2048 (markdown 4096), and the
 * @-mentions are appended after the body; so the body stays well under the smaller limit.
 */
export const SUMMARY_MAX_BYTES = 1800;

export interface WeeklySummary {
  departmentId: number;
  departmentName: string;
  handlers: HandlerWeek[];
  /** Whom the post @-mentions: the department's supervisors (its heads when it has none). */
  supervisors: Person[];
}

const VISIT_HORIZON_MS = 7 * 86_400_000;

export async function weeklySummary(tx: Db, dept: { id: number; name: string }, now: Date, visitPb: VisitPlaybook): Promise<WeeklySummary> {
  const staff = await departmentStaff(tx, dept.id);
  const os = await openOrders(tx, dept.id, now);
  const cs = await openComplaints(tx, dept.id);
  const due = (await runningDueVisits(tx, { departmentId: dept.id })).filter(({ t }) => t.dueAt.getTime() < now.getTime() + VISIT_HORIZON_MS);
  const facts = await loadClientFacts(tx, [...new Set(due.map((d) => d.client.id))]);
  const vs = due.map(({ t, client }) => {
    const f = facts.find((x) => x.client.id === client.id);
    return { clientName: client.name, ruleId: t.ruleId, dueAt: t.dueAt, assigneeIds: f ? assigneesOf(visitPb, f, staff).map((p) => p.id) : [] };
  });
  const sups = staff.filter((p) => p.role === 'supervisor');
  return {
    departmentId: dept.id,
    departmentName: dept.name,
    handlers: groupByHandler(staff, os, cs, vs),
    supervisors: sups.length ? sups : staff.filter((p) => p.role === 'head'),
  };
}

export interface RenderedPart {
  text: string;
  markdown: string;
}

/** One handler's block: markdown and text lines (never split inside a line). */
function handlerLines(w: HandlerWeek, cal: WorkCalendar, now: Date, visitPb: VisitPlaybook): { title: string; lines: string[] } {
  const when = (d: Date) => formatInstantInChinese(d, cal, { now });
  const lines: string[] = [];
  for (const o of w.orders) {
    lines.push(
      `- ${orderCode(o.id)} ${o.clientName}｜${o.serviceType}｜${STATUS_NAMES[o.status as OrderStatus] ?? o.status}` +
        `｜当前：${o.lastStep ?? '—'}｜下一期限：${o.nextDue ? when(o.nextDue) : '—'}${o.overdue ? `｜逾期计时 ${o.overdue} 项` : ''}`,
    );
  }
  for (const c of w.complaints) lines.push(`- 投诉 ${complaintCode(c.id)} ${c.clientName}｜${c.level ? c.level + ' 级' : '待定级'}｜未结案`);
  for (const v of w.visits) {
    const late = v.dueAt.getTime() < now.getTime() ? '（已逾期）' : '';
    lines.push(`- 回访 ${v.clientName}｜${visitPb.scheduleById.get(v.ruleId)?.step ?? v.ruleId}｜期限 ${when(v.dueAt)}${late}`);
  }
  const overdue = w.orders.reduce((n, o) => n + o.overdue, 0);
  const title =
    `${w.person?.name ?? '未分配'}：在办 ${w.orders.length} 单` +
    (overdue ? `，逾期计时 ${overdue} 项` : '') +
    (w.complaints.length ? `，未结投诉 ${w.complaints.length} 件` : '') +
    (w.visits.length ? `，待回访 ${w.visits.length} 项` : '');
  if (!lines.length) lines.push('- 本周没有在办事项');
  return { title, lines };
}

/**
 * Pure: the summary as messages of at most `maxBytes` each (markdown and text alike), split between
 * handlers — a handler whose block alone is too long continues in the next message ("（续）"), split
 * between lines. Nothing is ever cut.
 */
export function renderWeekly(s: WeeklySummary, cal: WorkCalendar, now: Date, visitPb: VisitPlaybook, maxBytes = SUMMARY_MAX_BYTES): RenderedPart[] {
  const head = `每周汇总｜${s.departmentName}｜${formatInstantInChinese(now, cal, { now, dateOnly: true })}`;
  const intro = `本周跟进汇总表（审计 2.1.1、项目 3.1.1），请各位主管查阅，辛苦了！`;
  type Block = { md: string[]; txt: string[] };
  const blocks: Block[] = [];
  for (const w of s.handlers) {
    const { title, lines } = handlerLines(w, cal, now, visitPb);
    blocks.push({ md: [`**${title}**`, ...lines], txt: [`【${title}】`, ...lines] });
  }
  if (!blocks.length) blocks.push({ md: ['本部门目前没有在办事项。'], txt: ['本部门目前没有在办事项。'] });
  const parts: RenderedPart[] = [];
  // Room for the "（i/n）" label added when there is more than one part.
  const budget = maxBytes - 16;
  let md: string[] = [`### ${head}`, intro];
  let txt: string[] = [head, intro];
  let base = md.length;
  const fits = (a: string[], b: string[]) => byteLength(a.join('\n')) <= budget && byteLength(b.join('\n')) <= budget;
  const flush = () => {
    parts.push({ markdown: md.join('\n'), text: txt.join('\n') });
    md = [`### ${head}（续）`];
    txt = [`${head}（续）`];
    base = 1;
  };
  for (const b of blocks) {
    if (!fits([...md, ...b.md], [...txt, ...b.txt]) && md.length > base) flush();
    if (fits([...md, ...b.md], [...txt, ...b.txt])) {
      md.push(...b.md);
      txt.push(...b.txt);
      continue;
    }
    // Too long even alone: line by line, the handler's title repeated on each continuation.
    md.push(b.md[0]!);
    txt.push(b.txt[0]!);
    for (let i = 1; i < b.md.length; i++) {
      if (!fits([...md, b.md[i]!], [...txt, b.txt[i]!])) {
        flush();
        md.push(`${b.md[0]}（续）`);
        txt.push(`${b.txt[0]}（续）`);
      }
      md.push(b.md[i]!);
      txt.push(b.txt[i]!);
    }
  }
  if (md.length > base || !parts.length) parts.push({ markdown: md.join('\n'), text: txt.join('\n') });
  if (parts.length > 1) return parts.map((p, i) => ({ markdown: `${p.markdown}\n（${i + 1}/${parts.length}）`, text: `${p.text}\n（${i + 1}/${parts.length}）` }));
  return parts;
}
