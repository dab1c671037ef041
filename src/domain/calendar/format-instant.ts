const WEEKDAYS = ['日', '一', '二', '三', '四', '五', '六'];

/**
 * "11月22日(周日) 14:05" in the firm's time zone. Asia/Shanghai has had no DST since 1991, so a fixed
 * +08:00 offset is exact; other zones go through Intl.
 */
export function formatInstant(d: Date, timeZone = 'Asia/Shanghai'): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
      hourCycle: 'h23',
    })
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  );
  const wd = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday ?? '');
  return `${parts.month}月${parts.day}日(周${WEEKDAYS[wd] ?? '?'}) ${parts.hour}:${parts.minute}`;
}
