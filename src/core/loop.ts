import type { Logger } from '../log';

/**
 * Runs `fn` repeatedly with `intervalMs` between the end of one run and the start of the next
 * (never overlapping). `poke()` asks for a run as soon as possible: at once when idle, or right
 * after the run in flight (several pokes during one run make one extra run, not several).
 * `stop()` resolves once the run in flight has finished.
 */
export function startLoop(name: string, fn: () => Promise<unknown>, intervalMs: number, log: Logger) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let inFlight = false;
  let again = false;

  const schedule = (delayMs: number) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(tick, delayMs);
  };

  function tick() {
    timer = undefined;
    if (stopped) return;
    inFlight = true;
    running = (async () => {
      try {
        await fn();
      } catch (err) {
        log.error({ err, loop: name }, 'loop run failed');
      }
    })().then(() => {
      inFlight = false;
      if (stopped) return;
      const delay = again ? 0 : intervalMs;
      again = false;
      schedule(delay);
    });
  }
  schedule(0);

  return {
    /** Run again as soon as the current run ends (e.g. new work was just queued). */
    poke() {
      if (stopped) return;
      if (inFlight) again = true;
      else schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
