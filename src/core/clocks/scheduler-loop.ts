import cron from 'node-cron';
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { rowsOf } from '../../db/rows';
import { timers } from '../../db/schema';
import type { Logger } from '../../log';
import type { Scheduler } from './scheduler';

/**
 * Runs the scheduler: a node-cron tick (default every 5 s, never overlapping) as the safety net, plus a
 * precise wake-up at the next due step when it comes sooner, so reminders are not up to a tick late.
 * Upkeep (the subjects' and the features' maintain hooks) runs once a minute.
 */
export function startSchedulerLoop(opts: {
  db: Db;
  scheduler: Scheduler;
  cron: string;
  log: Logger;
  clock: () => Date;
  /** Called when a tick queued messages (e.g. to wake the outbox worker). */
  onSent?: () => void;
  /** Longest precise wait; the cron tick covers anything later. */
  maxWaitMs?: number;
}) {
  const { scheduler, log, clock } = opts;
  const maxWait = opts.maxWaitMs ?? 5_000;
  let stopped = false;
  let running: Promise<void> | null = null;
  let wake: NodeJS.Timeout | undefined;
  let lastHousekeeping = -Infinity;

  const nextDue = async (): Promise<Date | null> => {
    const [row] = rowsOf<{ at: string | Date | null }>(
      await opts.db.execute(sql`select min(next_step_at) as at from ${timers} where state = 'running' and next_step_at is not null`),
    );
    return row?.at ? new Date(row.at) : null;
  };

  const run = async () => {
    if (stopped) return;
    try {
      if (clock().getTime() - lastHousekeeping >= 60_000) {
        lastHousekeeping = clock().getTime();
        await scheduler.maintain();
      }
      const r = await scheduler.tick();
      if (r.sent) opts.onSent?.();
      const next = await nextDue();
      if (wake) clearTimeout(wake);
      if (next && !stopped) {
        const delay = next.getTime() - clock().getTime();
        if (delay < maxWait) wake = setTimeout(() => void trigger(), Math.max(0, delay));
      }
    } catch (err) {
      log.error({ err }, 'scheduler tick failed');
    }
  };
  const trigger = () => (running ??= run().finally(() => (running = null)));
  const task = cron.schedule(opts.cron, () => trigger(), { noOverlap: true, name: 'scheduler' });
  void trigger();

  return {
    trigger,
    async stop() {
      stopped = true;
      if (wake) clearTimeout(wake);
      await task.destroy();
      await running;
    },
  };
}
