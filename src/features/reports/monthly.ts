import { formatRate } from '../../domain/complaints';
import { byteLength } from '../../platforms/split-by-bytes';
import type { MonthFigures } from './figures';
import { SUMMARY_MAX_BYTES, type RenderedPart } from './weekly';

/**
 * 服务督导月报 to 总经办 (003 制度8): per department, orders opened and finished, clocks met on time vs
 * late, complaints by level and the complaint rate against the line (4.4.3), visits done vs due.
 */

const pct = (p: number | null) => (p === null ? '—' : `${p}%`);

/** Pure: one block of lines per department. */
export function monthBlock(f: MonthFigures, threshold: number): string[] {
  const levels = Object.entries(f.complaintsByLevel)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([l, n]) => `${l.length === 1 ? l + ' 级' : l} ${n}`)
    .join('，');
  const line = Math.round(threshold * 100);
  return [
    `${f.departmentName}`,
    `- 分配单：新开 ${f.opened}，完成 ${f.finished}`,
    `- 计时：按时 ${f.clocks.onTime}，超时 ${f.clocks.late}，按时率 ${pct(f.clocks.percentOnTime)}`,
    `- 投诉：${f.rate.complaints} 件${levels ? `（${levels}）` : ''}；投诉率 ${f.rate.complaints}/${f.rate.clientsServed} = ${formatRate(f.rate)}，${f.rate.over ? `超过 ${line}% 警戒线` : `未超过 ${line}%`}` +
      `；今年累计 ${f.rateYear.complaints}/${f.rateYear.clientsServed} = ${formatRate(f.rateYear)}${f.rateYear.over ? `，超过 ${line}%` : ''}`,
    `- 回访：应回访 ${f.visitsDue}，按期完成 ${f.visitsDueDone}；本月共回访 ${f.visitsDone} 次`,
  ];
}

/** Pure: the report as messages of at most `maxBytes`, split between departments (never inside one). */
export function renderMonthly(month: string, figures: MonthFigures[], threshold: number, clause: string, opts: { complete: boolean; maxBytes?: number }): RenderedPart[] {
  const budget = (opts.maxBytes ?? SUMMARY_MAX_BYTES) - 16;
  const [y, m] = month.split('-');
  const head = `服务督导月报｜${y}年${Number(m)}月${opts.complete ? '' : '（截至目前）'}`;
  const intro = `各部门本月服务情况如下（投诉率 = 投诉数 ÷ 服务客户数，${clause}），请总经办审阅。`;
  const parts: RenderedPart[] = [];
  let md = [`### ${head}`, intro];
  let txt = [head, intro];
  let base = 2;
  for (const f of figures) {
    const lines = monthBlock(f, threshold);
    const bmd = [`**${lines[0]}**`, ...lines.slice(1)];
    const btxt = [`【${lines[0]}】`, ...lines.slice(1)];
    const fits = byteLength([...md, ...bmd].join('\n')) <= budget && byteLength([...txt, ...btxt].join('\n')) <= budget;
    if (!fits && md.length > base) {
      parts.push({ markdown: md.join('\n'), text: txt.join('\n') });
      md = [`### ${head}（续）`];
      txt = [`${head}（续）`];
      base = 1;
    }
    md.push(...bmd);
    txt.push(...btxt);
  }
  if (!figures.length) {
    md.push('还没有承接业务的部门。');
    txt.push('还没有承接业务的部门。');
  }
  parts.push({ markdown: md.join('\n'), text: txt.join('\n') });
  if (parts.length > 1) return parts.map((p, i) => ({ markdown: `${p.markdown}\n（${i + 1}/${parts.length}）`, text: `${p.text}\n（${i + 1}/${parts.length}）` }));
  return parts;
}
