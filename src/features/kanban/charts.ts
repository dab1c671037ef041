import { esc, raw, type Raw } from './html';

/**
 * Small SVG charts drawn on the server: no front-end build, legible on a phone, printable. Every chart
 * carries its numbers as text too (labels on the bars, <title> on hover) so nothing is colour-only.
 */

export const PALETTE = ['#1f4e79', '#2e7d32', '#b26a00', '#6a1b9a', '#00838f', '#c62828', '#5d4037', '#455a64'];
export const LEVEL_COLORS: Record<string, string> = { A: '#90caf9', B: '#42a5f5', C: '#ef6c00', D: '#c62828', 未定级: '#bdbdbd' };

export interface Series {
  name: string;
  color: string;
  values: (number | null)[];
}

/** Columns per category (months), grouped or stacked; `percent` scales 0–100 %; an optional threshold line. */
export function columnChart(opts: {
  title: string;
  categories: string[];
  series: Series[];
  stacked?: boolean;
  percent?: boolean;
  threshold?: { value: number; label: string };
}): Raw {
  const W = 520;
  const H = 220;
  const left = 34;
  const bottom = 40;
  const top = 14;
  const plotH = H - top - bottom;
  const plotW = W - left - 8;
  const totals = opts.categories.map((_, i) =>
    opts.stacked ? opts.series.reduce((s, x) => s + (x.values[i] ?? 0), 0) : Math.max(0, ...opts.series.map((x) => x.values[i] ?? 0)),
  );
  // Counts get whole-number gridlines (0, max/2, max with max even).
  const top0 = Math.max(2, Math.ceil(Math.max(...totals, opts.threshold?.value ?? 0)));
  const max = opts.percent ? 100 : top0 + (top0 % 2);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const band = plotW / Math.max(1, opts.categories.length);
  const parts: string[] = [];
  // Axis with three gridlines.
  for (const f of [0, 0.5, 1]) {
    const v = max * f;
    parts.push(`<line x1="${left}" x2="${W - 8}" y1="${y(v)}" y2="${y(v)}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${left - 4}" y="${y(v) + 4}" font-size="10" text-anchor="end" fill="#666">${opts.percent ? `${Math.round(v)}%` : Math.round(v * 10) / 10}</text>`);
  }
  opts.categories.forEach((c, i) => {
    const x0 = left + i * band;
    parts.push(`<text x="${x0 + band / 2}" y="${H - bottom + 14}" font-size="10" text-anchor="middle" fill="#444">${esc(c)}</text>`);
    if (opts.stacked) {
      let acc = 0;
      const w = Math.min(36, band * 0.6);
      for (const s of opts.series) {
        const v = s.values[i] ?? 0;
        if (v <= 0) continue;
        parts.push(
          `<rect x="${x0 + (band - w) / 2}" y="${y(acc + v)}" width="${w}" height="${y(acc) - y(acc + v)}" fill="${s.color}"><title>${esc(`${c} ${s.name}：${v}`)}</title></rect>`,
        );
        acc += v;
      }
      if (acc > 0) parts.push(`<text x="${x0 + band / 2}" y="${y(acc) - 3}" font-size="10" text-anchor="middle">${acc}</text>`);
    } else {
      const n = Math.max(1, opts.series.length);
      const w = Math.min(22, (band * 0.8) / n);
      opts.series.forEach((s, k) => {
        const v = s.values[i];
        if (v === null || v === undefined) return;
        const x = x0 + (band - w * n) / 2 + k * w;
        const label = opts.percent ? `${Math.round(v)}%` : String(v);
        parts.push(`<rect x="${x}" y="${y(v)}" width="${w - 1}" height="${Math.max(0.5, y(0) - y(v))}" fill="${s.color}"><title>${esc(`${c} ${s.name}：${label}`)}</title></rect>`);
        if (n <= 3) parts.push(`<text x="${x + w / 2}" y="${y(v) - 2}" font-size="9" text-anchor="middle">${esc(label)}</text>`);
      });
    }
  });
  if (opts.threshold) {
    const ty = y(opts.threshold.value);
    parts.push(`<line x1="${left}" x2="${W - 8}" y1="${ty}" y2="${ty}" stroke="#c62828" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${W - 10}" y="${ty - 3}" font-size="10" text-anchor="end" fill="#c62828">${esc(opts.threshold.label)}</text>`);
  }
  const legend = opts.series
    .map((s, k) => `<rect x="${left + k * 90}" y="${H - 16}" width="10" height="10" fill="${s.color}"/><text x="${left + k * 90 + 14}" y="${H - 7}" font-size="11">${esc(s.name)}</text>`)
    .join('');
  return raw(
    `<figure class="card"><h2>${esc(opts.title)}</h2><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(opts.title)}">${parts.join('')}${legend}</svg></figure>`,
  );
}

/** Horizontal bars (one per row), with an optional red share (e.g. overdue) and a threshold line. */
export function barChart(opts: {
  title: string;
  rows: { label: string; value: number; red?: number; text?: string }[];
  max?: number;
  threshold?: { value: number; label: string };
  empty?: string;
}): Raw {
  if (!opts.rows.length) return raw(`<figure class="card"><h2>${esc(opts.title)}</h2><p class="muted">${esc(opts.empty ?? '暂无数据。')}</p></figure>`);
  const W = 520;
  const labelW = 110;
  const rowH = 22;
  const H = opts.rows.length * rowH + 20;
  const plotW = W - labelW - 60;
  const max = Math.max(opts.max ?? 0, opts.threshold?.value ?? 0, ...opts.rows.map((r) => r.value), 1e-9);
  const x = (v: number) => labelW + (v / max) * plotW;
  const parts: string[] = [];
  opts.rows.forEach((r, i) => {
    const y0 = 6 + i * rowH;
    parts.push(`<text x="${labelW - 6}" y="${y0 + 13}" font-size="12" text-anchor="end">${esc(r.label)}</text>`);
    parts.push(`<rect x="${labelW}" y="${y0 + 2}" width="${Math.max(0.5, x(r.value) - labelW)}" height="${rowH - 8}" fill="#1f4e79"><title>${esc(`${r.label}：${r.text ?? r.value}`)}</title></rect>`);
    if (r.red) parts.push(`<rect x="${labelW}" y="${y0 + 2}" width="${x(r.red) - labelW}" height="${rowH - 8}" fill="#c62828"/>`);
    parts.push(`<text x="${x(r.value) + 4}" y="${y0 + 13}" font-size="11">${esc(r.text ?? String(r.value))}</text>`);
  });
  if (opts.threshold) {
    const tx = x(opts.threshold.value);
    parts.push(`<line x1="${tx}" x2="${tx}" y1="2" y2="${H - 14}" stroke="#c62828" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${tx}" y="${H - 3}" font-size="10" text-anchor="middle" fill="#c62828">${esc(opts.threshold.label)}</text>`);
  }
  return raw(`<figure class="card"><h2>${esc(opts.title)}</h2><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(opts.title)}">${parts.join('')}</svg></figure>`);
}
