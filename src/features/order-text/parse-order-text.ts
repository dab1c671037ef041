import { SERVICE_TYPES, type ServiceType } from '../../domain/service-types';
import { halfWidth } from '../../core/command-parser';

/**
 * Rule-based reading of a free-text order ("星河科技的发明专利，业务员孙业务，12月20号截止"): pure, from
 * the text and today's date in the firm's time zone. It reads the common shapes only; what it cannot
 * read stays empty, and the reply shows the exact `/单 新建 …` command to complete.
 */
export interface OrderFields {
  client: string | null;
  serviceType: ServiceType | null;
  salesperson: string | null;
  /** YYYY-MM-DD */
  deadline: string | null;
  department: string | null;
  paid: boolean;
}

/** Type words as people say them → the firm's service type (most specific first). */
const TYPE_WORDS: [RegExp, ServiceType][] = [
  [/集成电路|布图/, '集成电路布图'],
  [/专利(年费|变更|转让|流程|事务|续费)|年费|著录项目变更/, '专利流程事务'],
  [/发明专利|实用新型|外观设计|专利/, '专利'],
  [/软著|软件著作权|软件/, '软件'],
  [/商标/, '商标'],
  [/审计/, '审计'],
  [/财税|代账|记账|代理记账|税务/, '财税'],
  [/高新|高企/, '高新'],
  [/资助|补贴|补助|专项资金/, '资助'],
];

const WEEKDAYS: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 日: 0, 天: 0 };

const pad = (n: number) => String(n).padStart(2, '0');
function isoOf(y: number, m: number, d: number): string | null {
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d) return null;
  return `${y}-${pad(m)}-${pad(d)}`;
}
function addDays(today: string, n: number): string {
  const t = new Date(`${today}T00:00:00Z`).getTime() + n * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** 12月20号 / 12月20日 / 2026-12-20 / 2026年12月20日 / 下周五 / 本周五 / 明天 / 后天 → YYYY-MM-DD. */
export function readDate(text: string, today: string): string | null {
  const [ty, tm] = today.split('-').map(Number) as [number, number];
  let m = /(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?/.exec(text);
  if (m) return isoOf(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?/.exec(text);
  if (m) {
    const mo = Number(m[1]);
    const d = Number(m[2]);
    // A month already past this year means next year (12月 said in November is this year; 1月 is next).
    const y = mo < tm ? ty + 1 : ty;
    return isoOf(y, mo, d);
  }
  m = /(下下|下|本|这)(?:个)?(?:周|星期|礼拜)([一二三四五六日天])/.exec(text);
  if (m) {
    const dow = new Date(`${today}T00:00:00Z`).getUTCDay();
    const target = WEEKDAYS[m[2]!]!;
    // Weeks start on Monday: days from today to this week's target day.
    const toTarget = ((target + 6) % 7) - ((dow + 6) % 7);
    const weeks = m[1] === '下' ? 1 : m[1] === '下下' ? 2 : 0;
    return addDays(today, toTarget + 7 * weeks);
  }
  if (/大后天/.test(text)) return addDays(today, 3);
  if (/后天/.test(text)) return addDays(today, 2);
  if (/明天/.test(text)) return addDays(today, 1);
  return null;
}

/**
 * Date-shaped words in the text that name no day (「2月30号」, 「2026-13-01」): the reply names them
 * instead of leaving the deadline out without a word.
 */
export function impossibleDates(text: string): string[] {
  const t = halfWidth(text);
  const out: string[] = [];
  for (const m of t.matchAll(/(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?/g)) {
    if (!m[1] && !/月/.test(m[0])) continue; // 「3.5」 alone is not a date
    const y = m[1] ? Number(m[1]) : 2024; // a leap year: 2月29日 without a year may be a day
    if (!isoOf(y, Number(m[2]), Number(m[3]))) out.push(m[0].trim());
  }
  return out;
}

export function parseOrderText(text: string, opts: { today: string; departments?: string[]; people?: string[] }): OrderFields {
  // Read at half width (full-width digits as an input method types them); the stored text is as sent.
  const t = halfWidth(text).replace(/\s+/g, ' ').trim();
  let serviceType: ServiceType | null = null;
  let typeAt = -1;
  for (const [re, type] of TYPE_WORDS) {
    const m = re.exec(t);
    if (m) {
      serviceType = type;
      typeAt = m.index;
      break;
    }
  }
  let client: string | null = null;
  const named = /客户(?:是|为|[:：=])?\s*([^\s，,。；;、@]{2,30})/.exec(t);
  if (named) client = named[1]!.replace(/的$/, '');
  else {
    // "<客户>的<业务>" or "<客户><业务>" at the start.
    const lead = /^([^\s，,。；;、@的]{2,30}?)(?:的|(?=发明|实用|外观|专利|软著|软件|商标|审计|财税|代账|高新|资助|集成电路|布图))/.exec(t);
    if (lead && (typeAt < 0 || lead.index! <= typeAt)) client = lead[1]!;
  }
  if (client) client = client.replace(/^(帮|给|为|替|新建|新单)/, '').replace(/(做|办|申请|注册|办理|的)$/, '') || null;
  let salesperson: string | null = null;
  const at = /[@＠]([^\s，,。；;、@＠]{2,10})/.exec(t);
  const s = /(?:业务员|市场人员|销售)(?:是|为|[:：=])?\s*([^\s，,。；;、@＠]{2,10}?)(?=[\s，,。；;、]|$|负责|跟进|对接)/.exec(t);
  if (at) salesperson = at[1]!;
  else if (s) salesperson = s[1]!;
  else salesperson = [...(opts.people ?? [])].sort((a, b) => b.length - a.length).find((n) => n.length >= 2 && t.includes(n)) ?? null;
  const deadlineText = /([^，,。；;]*?)(截止|之前|以前|前完成|到期|交付)/.exec(t)?.[1] ?? t;
  const deadline = readDate(deadlineText, opts.today) ?? (/(截止|之前|以前|到期)/.test(t) ? readDate(t, opts.today) : null);
  const department = (opts.departments ?? []).find((d) => t.includes(d)) ?? null;
  const paid = /(已付款|已付|付过款|已收款|已经付|款已到)/.test(t) && !/未付|没付|还没付/.test(t);
  return { client, serviceType, salesperson, deadline, department, paid };
}

/** The exact `/单 新建 …` command for the fields (null when a required field is missing). */
export function orderCommand(f: OrderFields): string | null {
  if (!f.client || !f.serviceType || !f.salesperson) return null;
  const q = (v: string) => (/\s/.test(v) ? `"${v}"` : v);
  return [
    '/单 新建',
    `客户=${q(f.client)}`,
    `类型=${f.serviceType}`,
    `业务员=@${q(f.salesperson)}`,
    ...(f.deadline ? [`截止=${f.deadline}`] : []),
    ...(f.department ? [`部门=${q(f.department)}`] : []),
    ...(f.paid ? ['已付款'] : []),
  ].join(' ');
}

export const SERVICE_TYPE_LIST = SERVICE_TYPES.join('|');
