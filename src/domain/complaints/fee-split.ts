import type { FeeShareRatio } from './complaint-playbook';

/**
 * 4.4.2: the official fees of a service gifted after a complaint caused by our own mistake are borne
 * by the person at fault, their supervisor and the department head, 3:4:3 (项目中心 5.4.2: the
 * department manager alone). Amounts are whole fen; the shares always add up to the total. Rounding:
 * each share is rounded down, and the fen left over go one by one to the largest remainders (ties: the
 * person at fault first, then the supervisor, then the head).
 */
export interface FeeShares {
  fault: number;
  supervisor: number;
  head: number;
}

const ORDER = ['fault', 'supervisor', 'head'] as const;

export function splitOfficialFee(totalFen: number, ratio: Pick<FeeShareRatio, 'fault' | 'supervisor' | 'head'>): FeeShares {
  if (!Number.isSafeInteger(totalFen) || totalFen < 0) throw new RangeError('total must be a whole, non-negative number of fen');
  const parts = ratio.fault + ratio.supervisor + ratio.head;
  if (parts <= 0) throw new RangeError('ratio must have a positive part');
  const exact = ORDER.map((k) => ({ k, num: totalFen * ratio[k] }));
  const shares: FeeShares = { fault: 0, supervisor: 0, head: 0 };
  let given = 0;
  for (const e of exact) {
    shares[e.k] = Math.floor(e.num / parts);
    given += shares[e.k];
  }
  const byRemainder = [...exact].sort((a, b) => (b.num % parts) - (a.num % parts) || ORDER.indexOf(a.k) - ORDER.indexOf(b.k));
  for (let i = 0; given < totalFen; i++, given++) shares[byRemainder[i % 3]!.k] += 1;
  return shares;
}

/** "1234.5" / "1,234.50" / "1234.56元" → fen; null when not a money amount with at most two decimals. */
export function parseYuan(raw: string): number | null {
  const s = raw.trim().replace(/[,，]/g, '').replace(/元$/, '');
  const m = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

export function formatFen(fen: number): string {
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')} 元`;
}
