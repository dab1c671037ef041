/**
 * Server-rendered HTML of the 看板: one escaping helper (`html` tagged template; `raw` marks trusted
 * markup), a page layout that reads well on a phone and prints cleanly, tables that sort on a click
 * (a few lines of inline JS) and carry their CSV link, and small SVG charts drawn on the server.
 */

export class Raw {
  constructor(readonly value: string) {}
  toString() {
    return this.value;
  }
}

export const raw = (s: string) => new Raw(s);

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** The one escaping helper: every interpolated value is escaped unless it is Raw (or an array of them). */
export function esc(v: unknown): string {
  if (v instanceof Raw) return v.value;
  if (Array.isArray(v)) return v.map(esc).join('');
  if (v === null || v === undefined || v === false) return '';
  return String(v).replace(/[&<>"']/g, (c) => ESC[c]!);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += esc(values[i]) + strings[i + 1]!;
  return new Raw(out);
}

export interface Cell {
  text: string;
  href?: string;
  /** `late` paints the cell red (overdue clocks); `wrap` lets long text wrap (at least 12em wide). */
  cls?: 'late' | 'soon' | 'muted' | 'wrap';
  /** Sort key when the text does not sort right (dates, numbers). */
  sort?: string | number;
}

export type CellInput = Cell | string | number | null | undefined;

export const cell = (c: CellInput): Cell =>
  c === null || c === undefined ? { text: '' } : typeof c === 'object' ? c : typeof c === 'number' ? { text: String(c), sort: c } : { text: c };

export interface Table {
  id: string;
  title: string;
  columns: string[];
  rows: CellInput[][];
  /** Shown when there are no rows. */
  empty?: string;
  note?: string;
}

/** Rows a page shows of one table (a phone cannot scroll through thousands); the CSV has them all. */
export const PAGE_ROWS = 200;

export function renderTable(t: Table, csvHref: string): Raw {
  const rows = t.rows.slice(0, PAGE_ROWS).map((r) => r.map(cell));
  const cut = t.rows.length - rows.length;
  return html`<section class="card">
  <div class="head"><h2>${t.title}</h2><a class="csv" href="${csvHref}">CSV</a></div>
  ${t.note ? html`<p class="note">${t.note}</p>` : ''}
  ${cut > 0 ? html`<p class="note">共 ${t.rows.length} 行，这里显示前 ${rows.length} 行（排序只在这些行内）；全部请下载 <a href="${csvHref}">CSV</a>，或用上面的筛选缩小范围。</p>` : ''}
  ${
    rows.length === 0
      ? html`<p class="muted">${t.empty ?? '暂无。'}</p>`
      : html`<div class="scroll"><table class="sortable" id="${t.id}">
    <thead><tr>${t.columns.map((c) => html`<th>${c}</th>`)}</tr></thead>
    <tbody>${rows.map(
      (r) =>
        html`<tr>${r.map(
          (c) =>
            html`<td${c.cls ? raw(` class="${c.cls}"`) : ''}${c.sort !== undefined ? raw(` data-sort="${esc(c.sort)}"`) : ''}>${
              c.href ? html`<a href="${c.href}">${c.text}</a>` : c.text
            }</td>`,
        )}</tr>`,
    )}</tbody>
  </table></div>`
  }
</section>`;
}

const CSS = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 -apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:#1f2328;background:#f5f6f8}
header{background:#1f4e79;color:#fff;padding:10px 14px}header h1{margin:0;font-size:18px}header .who{font-size:13px;opacity:.85}
nav{display:flex;flex-wrap:wrap;gap:6px;padding:8px 14px;background:#fff;border-bottom:1px solid #ddd}nav a{padding:4px 10px;border-radius:14px;background:#eef2f7;color:#1f4e79;text-decoration:none}nav a.on{background:#1f4e79;color:#fff}
main{padding:10px;max-width:1100px;margin:0 auto}.card{background:#fff;border-radius:8px;padding:10px 12px;margin:0 0 12px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.head{display:flex;justify-content:space-between;align-items:baseline;gap:8px}h2{font-size:16px;margin:0 0 6px}.csv{font-size:12px;color:#1f4e79}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}table{border-collapse:collapse;width:100%;font-size:14px}th,td{padding:5px 6px;border-bottom:1px solid #eee;text-align:left;white-space:nowrap}td:last-child{white-space:normal}td.wrap{white-space:pre-line;min-width:12em}
th{cursor:pointer;background:#f0f3f7;position:sticky;top:0}th.asc::after{content:" ▲"}th.desc::after{content:" ▼"}
td.late,.late{color:#c62828;font-weight:600}td.soon{color:#b26a00}.muted,td.muted{color:#888}.note{font-size:13px;color:#555;margin:0 0 6px}
form.filters{display:flex;flex-wrap:wrap;gap:6px;align-items:center;font-size:14px}form.filters select,form.filters input{font-size:14px;padding:3px;max-width:9.5em}form.filters button{padding:4px 12px}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;font-size:14px}.kv b{font-weight:500;color:#555}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:12px}svg{max-width:100%;height:auto;font-family:inherit}
.months{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:10px}.month table{font-size:12px}.month td{text-align:center;padding:2px;white-space:nowrap}
.d-off{background:#fde7e7;color:#c62828}.d-make{background:#fff1d6;color:#8a5300;font-weight:600}.d-ovr{outline:2px solid #1f4e79;outline-offset:-2px}.d-wk{color:#999}
.legend span{display:inline-block;padding:0 6px;margin-right:6px;border-radius:3px;font-size:12px}
.refused{max-width:520px;margin:60px auto;background:#fff;padding:24px;border-radius:8px;text-align:center}
@media print{nav,form.filters,.csv{display:none}body{background:#fff}.card{box-shadow:none;border:1px solid #ccc;break-inside:avoid}header{background:#fff;color:#000}}
`;

/** Click a header to sort by it (numbers by value, the rest by their text); click again to reverse. */
const SORT_JS = `document.querySelectorAll('table.sortable th').forEach(function(th){th.addEventListener('click',function(){var i=th.cellIndex,t=th.closest('table'),b=t.tBodies[0],d=th.classList.contains('asc')?-1:1;t.querySelectorAll('th').forEach(function(x){x.classList.remove('asc','desc')});th.classList.add(d>0?'asc':'desc');var k=function(r){var c=r.cells[i];return c?(c.dataset.sort!==undefined?c.dataset.sort:c.textContent):''};Array.from(b.rows).sort(function(x,y){var a=k(x),z=k(y),na=parseFloat(a),nz=parseFloat(z);if(!isNaN(na)&&!isNaN(nz)&&String(na)===a&&String(nz)===z)return (na-nz)*d;return a.localeCompare(z,'zh')*d}).forEach(function(r){b.appendChild(r)})})});`;

export function layout(opts: { title: string; who: string; nav: { href: string; label: string; on: boolean }[]; body: Raw | Raw[] }): string {
  return `<!doctype html>${html`<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">
<title>${opts.title}｜看板</title><style>${raw(CSS)}</style></head><body>
<header><h1>${opts.title}</h1><div class="who">${opts.who}</div></header>
<nav>${opts.nav.map((n) => html`<a href="${n.href}"${n.on ? raw(' class="on"') : ''}>${n.label}</a>`)}</nav>
<main>${opts.body}</main><script>${raw(SORT_JS)}</script></body></html>`.value}`;
}

/** A refusal (expired, forged, revoked link; nothing to see): a clear page, no data. */
export function refusalPage(title: string, text: string): string {
  return `<!doctype html>${html`<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${title}</title><style>${raw(CSS)}</style></head>
<body><div class="refused"><h1>${title}</h1><p>${text}</p><p class="muted">在群里发送 /看板 可以获取新的链接。</p></div></body></html>`.value}`;
}
