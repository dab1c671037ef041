/** Node error codes of SQLSTATE shape (five capitals), which are not SQLSTATEs. */
const NODE_ERRNO = new Set(['EPIPE', 'EPERM', 'EBUSY', 'EIDRM', 'ENXIO', 'EROFS']);

/** The PostgreSQL SQLSTATE of a database error, looking through drizzle's wrapper (its `cause`). */
export function sqlStateOf(err: unknown): string | null {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !NODE_ERRNO.has(code)) return code;
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

/**
 * Node network errors and postgres.js connection errors for a database that cannot be reached, or a
 * connection or pool that timed out. Checked before the SQLSTATE: `EPIPE` has the shape of one.
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'DATABASE_TIMEOUT',
]);

/**
 * Database work that did not finish within a route's budget. postgres.js 3.4.9 can leave a query
 * waiting forever while it reconnects to a server that refuses the session at startup (porsager/postgres
 * #1193): a budget is the only bound, and running out of it counts as the database being unavailable.
 */
export class DatabaseTimeoutError extends Error {
  readonly code = 'DATABASE_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`the database did not answer within ${timeoutMs} ms`);
    this.name = 'DatabaseTimeoutError';
  }
}

/** The work's result, or DatabaseTimeoutError once `deadline` (epoch ms) passes (the work itself is not cancelled). */
export async function withinBudget<T>(deadline: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const ms = Math.max(0, deadline - Date.now());
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseTimeoutError(ms)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Pool and connect timeouts that carry no code (other drivers and pools say it in words). */
const TIMEOUT_MESSAGE = /timeout exceeded when trying to connect|timed out (?:while )?(?:acquiring|waiting for) (?:a )?(?:connection|client)/i;

/**
 * SQLSTATEs of a database that cannot take the request now, whatever the request: 08 connection
 * exception; 57P0x shutting down, starting up, dropped; 53 out of resources (too many connections,
 * disk full); 28 login refused; 3D000 no such database; 55000 `database is not accepting connections`
 * (ALLOW_CONNECTIONS false); 25006 read-only (a standby, or default_transaction_read_only).
 */
export function isUnavailableState(state: string): boolean {
  return /^(08|53|28)/.test(state) || /^57P0/.test(state) || state === '3D000' || state === '55000' || state === '25006';
}

/**
 * True when the database cannot take the request now: unreachable, refusing connections, shutting
 * down, out of connections, or refusing writes (read-only, standby). Such a request is answered 503
 * with Retry-After (try again later), not 500. Looks through drizzle's wrapper (its `cause`).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && TIMEOUT_MESSAGE.test(message)) return true;
  }
  const state = sqlStateOf(err);
  return state !== null && isUnavailableState(state);
}
