import type { Logger } from '../log';

/**
 * Runs `fn` repeatedly with `intervalMs` between the end of one run and the start of the next
 * (never overlapping). `stop()` resolves once the run in flight has finished.
 */
export function startLoop(name: string, fn: () => Promise<unknown>, intervalMs: number, log: Logger) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let wake: (() => void) | undefined;

  const tick = () => {
    if (stopped) return;
    running = (async () => {
      try {
        await fn();
      } catch (err) {
        log.error({ err, loop: name }, 'loop run failed');
      }
    })();
    running.then(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };
  timer = setTimeout(tick, 0);

  return {
    /** Run again as soon as the current run ends (e.g. new work was just queued). */
    poke() {
      if (stopped || !timer) return;
      clearTimeout(timer);
      timer = setTimeout(tick, 0);
      wake?.();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
