/**
 * 4.4.3 (审计 3.4.5, 项目 5.4.5): a unit whose complaints in a year exceed the threshold (10%) of the
 * clients it served → the department head's year-end review. The bot tells the head and 总经办 as
 * soon as the year's rate goes over.
 */
export interface ComplaintRate {
  complaints: number;
  clientsServed: number;
  /** null when no client was served (nothing to divide by). */
  rate: number | null;
  over: boolean;
}

export function complaintRate(complaints: number, clientsServed: number, threshold: number): ComplaintRate {
  const rate = clientsServed > 0 ? complaints / clientsServed : null;
  return { complaints, clientsServed, rate, over: rate !== null && rate > threshold };
}

export function formatRate(r: ComplaintRate): string {
  return r.rate === null ? '—' : `${(r.rate * 100).toFixed(1)}%`;
}
