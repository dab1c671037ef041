import type { WorkCalendar } from '../calendar';

/**
 * When the complaint was actually received (`时间=`): "HH:MM" (today, in the firm's time zone) or
 * "YYYY-MM-DD HH:MM" (seconds optional). The 30-minute clock starts there. A time in the future, or more than a day
 * back, is refused: the first is a typo, the second is too late to be a clock.
 */
export type ReceivedAt = { ok: true; at: Date } | { ok: false; why: string };

const MAX_BACK_MS = 24 * 3_600_000;

export function parseReceivedAt(raw: string, now: Date, cal: WorkCalendar): ReceivedAt {
  const s = raw.trim().replace('T', ' ').replace(/：/g, ':').replace(/\s+/g, ' ');
  const m = /^(?:(\d{4})-(\d{1,2})-(\d{1,2}) )?(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  const form = '请写「时间=HH:MM」（今天）或「时间="YYYY-MM-DD HH:MM"」。';
  if (!m) return { ok: false, why: `「${raw}」不是有效的时间。${form}` };
  const [hh, mm, ss] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (hh > 23 || mm > 59 || ss > 59) return { ok: false, why: `「${raw}」不是有效的时间。${form}` };
  let date = cal.dateOf(now);
  if (m[1]) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const dt = new Date(Date.UTC(y, mo - 1, d));
    if (dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d) return { ok: false, why: `「${raw}」不是有效的日期。${form}` };
    date = `${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  }
  const at = new Date(cal.at(date, `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}`).getTime() + ss * 1000);
  if (at.getTime() > now.getTime()) {
    return { ok: false, why: `接到投诉的时间（${raw}）晚于现在，请核对后重新登记；如果是昨天接到的，请写上日期。` };
  }
  if (now.getTime() - at.getTime() > MAX_BACK_MS) {
    return { ok: false, why: `接到投诉的时间（${raw}）已超过一天，不能再按 30 分钟时限登记。请写接到投诉的准确时间，或不写时间按现在登记并在内容里注明。` };
  }
  return { ok: true, at };
}
