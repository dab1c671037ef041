/**
 * Wall-clock ↔ instant conversion for an IANA time zone, independent of the host's TZ setting
 * (servers and containers usually run in UTC, so Date#getHours would be wrong here).
 *
 * Why Intl and not a hard-coded +08:00: the zone is configurable (config TIMEZONE), and Intl gives the
 * offset of any IANA zone without a dependency. Asia/Shanghai has had a fixed +08:00 offset with no
 * daylight saving since 1991, so for it every conversion is exact; the offset is cached per UTC hour,
 * so after warm-up a lookup is a Map hit. For zones with daylight saving, wall times that do not exist
 * or occur twice (the switch hour) resolve to one of the candidates; working hours are assumed not to
 * straddle a switch.
 */

const HOUR_MS = 3_600_000;
const CACHE_LIMIT = 50_000;

export interface TimeZoneOffsets {
  readonly timeZone: string;
  /** Offset of local wall time from UTC, in milliseconds, at the given instant. */
  offsetMsAt(utcMs: number): number;
  /** Wall-clock milliseconds (as if UTC) → instant in UTC milliseconds. */
  localToUtc(localMs: number): number;
  /** Instant in UTC milliseconds → wall-clock milliseconds (as if UTC). */
  utcToLocal(utcMs: number): number;
}

const FIXED = /^(?:UTC|Etc\/UTC|GMT|([+-])(\d{2}):(\d{2}))$/;

export function createTimeZoneOffsets(timeZone: string): TimeZoneOffsets {
  const fixed = FIXED.exec(timeZone);
  if (fixed) {
    const sign = fixed[1] === '-' ? -1 : 1;
    const offset = fixed[1] ? sign * (Number(fixed[2]) * 60 + Number(fixed[3])) * 60_000 : 0;
    return {
      timeZone,
      offsetMsAt: () => offset,
      localToUtc: (localMs) => localMs - offset,
      utcToLocal: (utcMs) => utcMs + offset,
    };
  }

  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new RangeError(`unknown time zone: ${JSON.stringify(timeZone)}`);
  }

  const cache = new Map<number, number>();
  const offsetMsAt = (utcMs: number): number => {
    const bucket = Math.floor(utcMs / HOUR_MS);
    const hit = cache.get(bucket);
    if (hit !== undefined) return hit;
    const probe = bucket * HOUR_MS;
    const parts: Record<string, number> = {};
    for (const p of format.formatToParts(new Date(probe))) {
      if (p.type !== 'literal') parts[p.type] = Number(p.value);
    }
    const asUtc = Date.UTC(
      parts.year ?? 1970,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    );
    const offset = asUtc - probe;
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(bucket, offset);
    return offset;
  };

  return {
    timeZone,
    offsetMsAt,
    utcToLocal: (utcMs) => utcMs + offsetMsAt(utcMs),
    localToUtc: (localMs) => {
      const first = localMs - offsetMsAt(localMs);
      const second = localMs - offsetMsAt(first);
      return second;
    },
  };
}
