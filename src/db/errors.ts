/** The PostgreSQL SQLSTATE of a database error, looking through drizzle's wrapper (its `cause`). */
export function sqlStateOf(err: unknown): string | null {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return null;
}

/**
 * True when the error comes from the data of one row (bad characters, a value too large for an index)
 * rather than from the database being unreachable or refusing writes: retrying the rows one by one
 * then lets the others through. Errors thrown before the query (an invalid date) count as data too.
 */
export function isRowDataError(err: unknown): boolean {
  const state = sqlStateOf(err);
  if (state) return state.startsWith('22') || state.startsWith('54');
  return err instanceof RangeError || err instanceof TypeError;
}

/** postgres.js and Node network error codes for a database that cannot be reached. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/**
 * True when the database cannot take the request now, whatever the request: unreachable, shutting
 * down, out of connections, or refusing writes (read-only, standby). Such a request is answered 503
 * (try again later), not 500.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const state = sqlStateOf(err);
  if (state) return state.startsWith('08') || state.startsWith('53') || state.startsWith('57P') || state === '25006';
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  }
  return false;
}
