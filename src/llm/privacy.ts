/**
 * Privacy mode (LLM_PRIVACY=on): client and person names are replaced by placeholders (客户1, 人员1…)
 * before a prompt leaves the bot, and restored in the answer. Longest names first, so 华星科技有限公司
 * is replaced whole before 华星科技.
 */
export interface Redaction {
  text(s: string): string;
  restore(s: string): string;
  restoreDeep<T>(v: T): T;
}

export function createRedaction(names: { clients: string[]; people: string[] }, enabled: boolean): Redaction {
  if (!enabled) return { text: (s) => s, restore: (s) => s, restoreDeep: (v) => v };
  const pairs: [string, string][] = [];
  const add = (list: string[], label: string) => {
    [...new Set(list.filter((n) => n && n.trim().length >= 2))].forEach((n, i) => pairs.push([n, `〔${label}${i + 1}〕`]));
  };
  add(names.clients, '客户');
  add(names.people, '人员');
  pairs.sort((a, b) => b[0].length - a[0].length);
  const replaceAll = (s: string, from: (p: [string, string]) => string, to: (p: [string, string]) => string) =>
    pairs.reduce((acc, p) => acc.split(from(p)).join(to(p)), s);
  const restore = (s: string) => replaceAll(s, (p) => p[1], (p) => p[0]);
  const restoreDeep = <T>(v: T): T => {
    if (typeof v === 'string') return restore(v) as T;
    if (Array.isArray(v)) return v.map(restoreDeep) as T;
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, restoreDeep(x)])) as T;
    return v;
  };
  return { text: (s) => replaceAll(s, (p) => p[0], (p) => p[1]), restore, restoreDeep };
}
