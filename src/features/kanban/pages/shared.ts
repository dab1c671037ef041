import { inArray } from 'drizzle-orm';
import type { Db } from '../../../db/client';
import { people } from '../../../db/schema';
import { formatInstantInChinese, type WorkCalendar } from '../../../domain/calendar';
import { visibleDepartments, visiblePeople, type Viewer } from '../access';
import type { Filters, Rules } from '../data';
import { html, raw, type Raw, type Table } from '../html';

/** What several 看板 pages share: the page context and shape, time cells, the filters form, small lookups. */

export class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly text: string,
  ) {
    super(text);
  }
}

export interface PageCtx {
  tx: Db;
  v: Viewer;
  now: Date;
  cal: WorkCalendar;
  f: Filters;
  rules: Rules;
  /** The signed key from the link (kept in every link and form of the page). */
  key: string;
  /** A link to a 看板 path with the viewer's key (and, with `keepFilters`, the current filters). */
  href(path: string, params?: Record<string, string | number | undefined>, keepFilters?: boolean): string;
}

export interface Page {
  title: string;
  nav: 'overview' | 'people' | 'calendar' | null;
  blocks: (Raw | Table)[];
}

export const when = (p: PageCtx, t: Date | null | undefined) => (t ? formatInstantInChinese(t, p.cal, { now: p.now }) : '—');
export const sortTime = (t: Date | null | undefined) => (t ? t.toISOString() : '');

export function filtersForm(p: PageCtx, action: string, depts: { id: number; name: string }[], staff: { id: number; name: string }[], types: string[]): Raw {
  const opt = (value: string | number, label: string, on: boolean) => html`<option value="${value}"${on ? raw(' selected') : ''}>${label}</option>`;
  return html`<form class="filters card" method="get" action="${action}">
  <input type="hidden" name="k" value="${p.key}">
  <select name="dept" aria-label="部门">${opt('', '全部部门', !p.f.dept)}${depts.map((d) => opt(d.id, d.name, p.f.dept === d.id))}</select>
  <select name="person" aria-label="人员">${opt('', '全部人员', !p.f.person)}${staff.map((s) => opt(s.id, s.name, p.f.person === s.id))}</select>
  <select name="type" aria-label="业务类型">${opt('', '全部类型', !p.f.type)}${types.map((t) => opt(t, t, p.f.type === t))}</select>
  <input type="date" name="from" value="${p.f.from ?? ''}" aria-label="从"> – <input type="date" name="to" value="${p.f.to ?? ''}" aria-label="到">
  <button type="submit">筛选</button>
</form>`;
}

export async function filterChoices(p: PageCtx) {
  const depts = await visibleDepartments(p.tx, p.v);
  const staff = (await visiblePeople(p.tx, p.v)).filter((x) => x.role === 'handler' || x.role === 'supervisor' || x.role === 'head');
  const types = [...new Set(depts.flatMap((d) => d.services))];
  return { depts, staff, types };
}

export const kv = (pairs: [string, unknown][]) => html`<section class="card"><div class="kv">${pairs.map(([k, v]) => html`<b>${k}</b><span>${v}</span>`)}</div></section>`;

export function notVisible(what: string) {
  return new PageError(403, '无法查看', `抱歉，${what}不在您可以查看的范围内（或不存在）。`);
}

export async function namesOf(tx: Db, ids: (number | null)[]): Promise<Map<number | null, string>> {
  const list = ids.filter((x): x is number => x !== null);
  if (!list.length) return new Map();
  const rows = await tx.select({ id: people.id, name: people.name }).from(people).where(inArray(people.id, list));
  return new Map(rows.map((r) => [r.id, r.name]));
}
