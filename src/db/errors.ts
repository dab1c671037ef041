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
