import { MAKEUP_MARK, WEEKDAY_NAMES } from '../../../domain/calendar';
import { html, raw, type Raw, type Table } from '../html';
import type { Page, PageCtx } from './shared';

/** 日历: the working-day calendar of a year with holidays, make-up days and the company's overrides. */
export async function calendarPage(p: PageCtx, yearParam: unknown): Promise<Page> {
  const thisYear = Number(p.cal.dateOf(p.now).slice(0, 4));
  const year = typeof yearParam === 'string' && /^\d{4}$/.test(yearParam) && Number(yearParam) >= 2000 && Number(yearParam) <= 2100 ? Number(yearParam) : thisYear;
  const months: Raw[] = [];
  const special: Table['rows'] = [];
  let workingDays = 0;
  for (let m = 1; m <= 12; m++) {
    const first = `${year}-${String(m).padStart(2, '0')}-01`;
    const lead = (p.cal.explainDay(first).weekday + 6) % 7; // Monday first
    const cells: Raw[] = Array.from({ length: lead }, () => html`<td></td>`);
    for (let d = first; d.startsWith(first.slice(0, 8)); d = p.cal.shiftDate(d, 1, 'days')) {
      const e = p.cal.explainDay(d);
      if (e.working) workingDays++;
      const override = e.reason === 'override-work' || e.reason === 'override-off';
      const cls = [
        !e.working && (e.reason === 'holiday' || e.reason === 'fallback-holiday' || e.reason === 'override-off') ? 'd-off' : '',
        e.makeup ? 'd-make' : '',
        override ? 'd-ovr' : '',
        !e.working && (e.reason === 'weekend' || e.reason === 'fallback-weekend') ? 'd-wk' : '',
      ]
        .filter(Boolean)
        .join(' ');
      const tip = e.holidayName ?? e.note ?? '';
      cells.push(html`<td${cls ? raw(` class="${cls}"`) : ''}${tip ? raw(` title="${tip.replace(/[&<>"']/g, '')}"`) : ''}>${Number(d.slice(8))}${e.makeup ? '班' : ''}</td>`);
      const reasons: Record<string, string> = {
        holiday: `法定节假日（${e.holidayName ?? ''}）`,
        makeup: `调休补班（${e.holidayName ?? ''}）`,
        'override-work': `公司安排上班${e.note ? `（${e.note}）` : ''}`,
        'override-off': `公司安排休息${e.note ? `（${e.note}）` : ''}`,
        'fallback-holiday': '固定日期节日（该年度安排尚未收录）',
      };
      if (reasons[e.reason]) {
        special.push([{ text: d, sort: d }, WEEKDAY_NAMES[e.weekday]!, e.working ? `上班${e.makeup ? MAKEUP_MARK : ''}` : '休息', reasons[e.reason]!]);
      }
    }
    const weeks: Raw[] = [];
    for (let i = 0; i < cells.length; i += 7) weeks.push(html`<tr>${cells.slice(i, i + 7)}</tr>`);
    months.push(html`<div class="month"><b>${m}月</b><table><thead><tr>${['一', '二', '三', '四', '五', '六', '日'].map((w) => html`<th>${w}</th>`)}</tr></thead><tbody>${weeks}</tbody></table></div>`);
  }
  const coverage = p.cal.coverage(year);
  return {
    title: `${year} 年工作日历`,
    nav: 'calendar',
    blocks: [
      html`<section class="card"><div class="head"><h2>${year} 年：${workingDays} 个工作日</h2><span><a href="${p.href('/calendar', { year: year - 1 })}">‹ ${year - 1}</a>　<a href="${p.href('/calendar', { year: year + 1 })}">${year + 1} ›</a></span></div>
<p class="legend"><span class="d-off">休</span>法定节假日、公司安排休息　<span class="d-make">班</span>调休补班　<span class="d-ovr">框</span>公司安排（/日历 调整）</p>
${coverage === 'fallback' ? html`<p class="late">该年度的法定节假日安排尚未收录，仅按周末和元旦、劳动节、国庆固定日期计算。</p>` : ''}
<div class="months">${months}</div></section>`,
      { id: 'special-days', title: '节假日、补班日和公司安排', columns: ['日期', '星期', '上班/休息', '原因'], rows: special, empty: '没有。' },
    ],
  };
}
