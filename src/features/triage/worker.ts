import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { triageJobs } from '../../db/schema';
import { safeErrorMessage, type Logger } from '../../log';
import type { FeatureWorker } from '../../core/feature';

export type TriageJob = typeof triageJobs.$inferSelect;

export interface TriageWorkerOptions {
  db: Db;
  clock: () => Date;
  log: Logger;
  /**
   * Reads the message with the model (no transaction open), then applies the answer with `commit`:
   * one short transaction that also marks the job done, and only if this claim still holds the job.
   */
  process(job: TriageJob, commit: (apply: (tx: Db) => Promise<string>) => Promise<boolean>): Promise<void>;
  /** Jobs claimed per round. */
  batch?: number;
  /** How long a claimed job stays invisible to other rounds and instances (longer than a model call with its retries). */
  leaseMs?: number;
  /** Claims before a job is given up (the rule result stands). */
  maxAttempts?: number;
}

/**
 * The triage jobs' worker, like src/core/outbox-worker.ts: jobs are claimed under FOR UPDATE SKIP LOCKED
 * and leased (next_attempt_at = the lease's end, the claim's fencing token). The model is called with no
 * transaction open; the answer is applied in one short transaction that re-checks the lease under a row
 * lock and marks the job done, so a job's answer is applied at most once even when a slow call outlives
 * its lease and another round re-claims the job. A crash mid-call loses nothing: the lease runs out and
 * the job is claimed again.
 */
export function createTriageWorker(opts: TriageWorkerOptions) {
  const { db, clock, log } = opts;
  const batch = opts.batch ?? 10;
  const leaseMs = opts.leaseMs ?? 120_000;
  const maxAttempts = opts.maxAttempts ?? 3;

  /** Claims due jobs for one lease; jobs claimed too often are given up (the rules' result stands). */
  async function claim(): Promise<TriageJob[]> {
    const now = clock();
    return db.transaction(async (tx) => {
      const due = await tx
        .select()
        .from(triageJobs)
        .where(and(eq(triageJobs.status, 'pending'), lte(triageJobs.nextAttemptAt, now)))
        .orderBy(asc(triageJobs.id))
        .limit(batch)
        .for('update', { skipLocked: true });
      const spent = due.filter((j) => j.attempts >= maxAttempts);
      if (spent.length) {
        await tx
          .update(triageJobs)
          .set({ status: 'failed', outcome: 'rules-stand', doneAt: now })
          .where(inArray(triageJobs.id, spent.map((j) => j.id)));
        for (const j of spent) log.warn({ triageJob: j.id, attempts: j.attempts, lastError: j.lastError }, 'model triage given up after repeated attempts; the rule-based triage result stands');
      }
      const taken = due.filter((j) => j.attempts < maxAttempts);
      if (!taken.length) return [];
      const leaseUntil = new Date(now.getTime() + leaseMs);
      return tx
        .update(triageJobs)
        .set({ nextAttemptAt: leaseUntil, attempts: sqlIncrement() })
        .where(inArray(triageJobs.id, taken.map((j) => j.id)))
        .returning();
    });
  }

  /** Applies `apply` and marks the job done, if the claim (its lease) still holds; false when it was lost. */
  function committer(job: TriageJob) {
    return async (apply: (tx: Db) => Promise<string>): Promise<boolean> =>
      db.transaction(async (tx) => {
        const [row] = await tx.select().from(triageJobs).where(eq(triageJobs.id, job.id)).for('update');
        if (!row || row.status !== 'pending' || row.nextAttemptAt.getTime() !== job.nextAttemptAt.getTime()) {
          log.info({ triageJob: job.id }, 'triage job lease lost or job already done: this answer is not applied');
          return false;
        }
        const outcome = await apply(tx as unknown as Db);
        await tx.update(triageJobs).set({ status: 'done', outcome, doneAt: clock() }).where(eq(triageJobs.id, job.id));
        return true;
      });
  }

  async function run(job: TriageJob) {
    try {
      await opts.process(job, committer(job));
    } catch (err) {
      // Left pending: claimed again when its lease runs out (at most maxAttempts claims).
      const message = safeErrorMessage(err);
      log.warn({ triageJob: job.id, error: message }, 'triage job failed; it will be retried after its lease');
      await db
        .update(triageJobs)
        .set({ lastError: message.slice(0, 500) })
        .where(and(eq(triageJobs.id, job.id), eq(triageJobs.nextAttemptAt, job.nextAttemptAt)));
    }
  }

  const worker = {
    name: 'triage',
    claim,
    /** Processes one claimed job (tests use claim + process to act out a crash or a slow call). */
    process: run,
    async runOnce(): Promise<number> {
      const jobs = await claim();
      // One at a time: a model endpoint is usually the bottleneck, and a batch is small.
      for (const j of jobs) await run(j);
      return jobs.length;
    },
  };
  return worker satisfies FeatureWorker;
}

export type TriageWorker = ReturnType<typeof createTriageWorker>;

const sqlIncrement = () => sql`${triageJobs.attempts} + 1`;
