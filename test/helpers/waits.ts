/**
 * Waiting on what a test does not time itself (a request reaching a fake server over real HTTP): these
 * never stand in for the fake clock, they only bound how long a wrong implementation can hang a test.
 */

/** Waits until `cond()` holds; fails after `ms` of real time. */
export async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Whether `p` settles within `ms` of real time (e.g. a command that must not wait behind another's transaction). */
export async function settlesWithin<T>(p: Promise<T>, ms: number): Promise<{ settled: true; value: T } | { settled: false }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<{ settled: false }>((r) => (timer = setTimeout(() => r({ settled: false }), ms)));
  try {
    return await Promise.race([p.then((value) => ({ settled: true as const, value })), guard]);
  } finally {
    clearTimeout(timer);
  }
}
