import type { WorkCalendar } from '../calendar';
import type { RateReview } from './complaint-playbook';

/**
 * 4.4.3 (审计 3.4.5, 项目 5.4.5): a unit whose complaints in a year exceed the threshold (10%) of the
 * clients it served → the department head's year-end review (年终总结检讨). The rate is a year's figure:
 * it is evaluated once a year at the review time (playbook `rate.review`), and shown on request; a
 * running figure early in the year (one complaint among two clients) raises no alert.
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

/** When `year`'s review is due: the n-th working day of the review month (negative: counted from its end), at its time. */
export function rateReviewAt(year: number, review: RateReview, cal: WorkCalendar): Date {
  const mm = String(review.month).padStart(2, '0');
  let date: string;
  if (review.workingDay > 0) {
    date = cal.workingDayOnOrAfter(`${year}-${mm}-01`);
    for (let i = 1; i < review.workingDay; i++) date = cal.workingDayOnOrAfter(cal.shiftDate(date, 1, 'days'));
  } else {
    const last = cal.shiftDate(cal.shiftDate(`${year}-${mm}-01`, 1, 'months'), -1, 'days');
    date = cal.workingDayOnOrBefore(last);
    for (let i = -1; i > review.workingDay; i--) date = cal.workingDayOnOrBefore(cal.shiftDate(date, -1, 'days'));
  }
  return cal.at(date, review.time);
}
