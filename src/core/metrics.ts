import { sql } from 'drizzle-orm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/client';
import { rowsOf } from '../db/rows';
import { outbox, timers } from '../db/schema';

/**
 * The engine's Prometheus metrics (GET /metrics, src/http/metrics-route.ts), on a Registry of the app's
 * own: several apps in one process (tests) never share a series. Hot paths only increment counters
 * and observe histograms (a map lookup each: no database call, no await); what needs the database
 * (outbox backlog, timers due) is read by one query when Prometheus scrapes.
 * Label values are the platforms', the timers' and the features' own names: the engine names no product.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Callbacks and pushes in: outcome accepted | duplicate | rejected (reason: the refusal's code) | failed. */
  readonly inbound: Counter<'platform' | 'outcome' | 'reason'>;
  /** One inbound message handled (its transaction), in seconds; outcome done | retry | failed. */
  readonly handling: Histogram<'platform' | 'outcome'>;
  /** Messages handed to a platform, by the channel used (webhook, response_url, stream, passive …); result sent | retry | failed. */
  readonly sends: Counter<'platform' | 'channel' | 'result'>;
  /** Timer rows a scheduler tick claimed. */
  readonly timersClaimed: Counter<'kind'>;
  /** How late a claimed timer's step was (now − next_step_at), in seconds. */
  readonly timerLateness: Histogram<'kind'>;
  /** Ladder steps posted (reminders, escalations): kind is the timer's subject prefix; result posted | held | dropped. */
  readonly timerSteps: Counter<'kind' | 'step' | 'result'>;
  /** Whatever a feature counts through Engine.count (e.g. suggestions made, confirmed, dismissed). */
  readonly featureEvents: Counter<'feature' | 'event'>;
}

/** Histogram buckets in seconds: a message is handled in milliseconds; a timer is late by seconds to hours. */
const HANDLING_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LATENESS_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600];

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop, GC) on this registry: only when /metrics is served. */
  processMetrics?: boolean;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    inbound: new Counter({ name: 'bot_inbound_total', help: 'Inbound callbacks and pushes by platform and outcome (rejected: by reason).', labelNames: ['platform', 'outcome', 'reason'], registers }),
    handling: new Histogram({ name: 'bot_message_handling_seconds', help: 'Time to handle one inbound message (its transaction).', labelNames: ['platform', 'outcome'], buckets: HANDLING_BUCKETS, registers }),
    sends: new Counter({ name: 'bot_sends_total', help: 'Messages handed to a platform by channel and result.', labelNames: ['platform', 'channel', 'result'], registers }),
    timersClaimed: new Counter({ name: 'bot_timers_claimed_total', help: 'Timer rows claimed by scheduler ticks, by subject kind.', labelNames: ['kind'], registers }),
    timerLateness: new Histogram({ name: 'bot_timer_lateness_seconds', help: 'How late a claimed timer step was, in seconds.', labelNames: ['kind'], buckets: LATENESS_BUCKETS, registers }),
    timerSteps: new Counter({ name: 'bot_timer_steps_total', help: 'Reminder and escalation steps by subject kind, step and result.', labelNames: ['kind', 'step', 'result'], registers }),
    featureEvents: new Counter({ name: 'bot_feature_events_total', help: 'Events the features count (Engine.count).', labelNames: ['feature', 'event'], registers }),
  };
}

interface Snapshot {
  outbox: { platform: string; status: string; n: number; age: number }[];
  timersDue: number;
  timersOldestDue: number;
}

/**
 * Gauges read at scrape time by one query: the outbox backlog (pending and unrouted rows, and the age
 * of the oldest, per platform) and the running timers already due. Every gauge of one scrape shares
 * the one query. `pool` reports the pool's size where the driver tells it.
 */
export function watchDatabase(m: Metrics, deps: { db: Db; clock: () => Date; pool?: () => { max: number } | null }): void {
  const registers = [m.registry];
  let inFlight: Promise<Snapshot | null> | null = null;
  const snapshot = () =>
    (inFlight ??= read(deps.db, deps.clock())
      .catch(() => null)
      .finally(() => (inFlight = null)));

  const up = new Gauge({ name: 'bot_metrics_database_up', help: '1 when the scrape-time database query answered.', registers });
  const pending = new Gauge({ name: 'bot_outbox_messages', help: 'Outbox rows waiting, by platform and status (pending, unrouted).', labelNames: ['platform', 'status'], registers });
  const oldest = new Gauge({ name: 'bot_outbox_oldest_pending_seconds', help: 'Age of the oldest pending outbox row, by platform.', labelNames: ['platform'], registers });
  const due = new Gauge({ name: 'bot_timers_due', help: 'Running timers whose next step is due and not yet claimed.', registers });
  const dueAge = new Gauge({ name: 'bot_timers_oldest_due_seconds', help: 'How long the oldest due timer step has waited, in seconds.', registers });
  // One collect fills every gauge (prom-client starts every metric's collect in one pass, so they share the query).
  const fill = async () => {
    const s = await snapshot();
    up.set(s ? 1 : 0);
    if (!s) return;
    pending.reset();
    oldest.reset();
    for (const r of s.outbox) {
      pending.set({ platform: r.platform, status: r.status }, r.n);
      if (r.status === 'pending') oldest.set({ platform: r.platform }, Math.max(0, r.age));
    }
    due.set(s.timersDue);
    dueAge.set(Math.max(0, s.timersOldestDue));
  };
  for (const g of [up, pending, oldest, due, dueAge]) (g as unknown as { collect: () => Promise<void> }).collect = fill;

  const size = deps.pool?.();
  if (size) new Gauge({ name: 'bot_db_pool_max', help: 'Connections the database pool may open.', registers }).set(size.max);
}

async function read(db: Db, now: Date): Promise<Snapshot> {
  const at = now.toISOString();
  const rows = rowsOf<{ what: string; platform: string; status: string; n: number | string; age: number | string | null }>(
    await db.execute(sql`
      select 'outbox' as what, platform, status, count(*) as n,
        extract(epoch from (${at}::timestamptz - min(created_at))) as age
      from ${outbox} where status in ('pending', 'unrouted') group by platform, status
      union all
      select 'timers', '', '', count(*), extract(epoch from (${at}::timestamptz - min(next_step_at)))
      from ${timers} where state = 'running' and next_step_at is not null and next_step_at <= ${at}::timestamptz`),
  );
  const t = rows.find((r) => r.what === 'timers');
  return {
    outbox: rows.filter((r) => r.what === 'outbox').map((r) => ({ platform: r.platform || 'unrouted', status: r.status, n: Number(r.n), age: Number(r.age ?? 0) })),
    timersDue: Number(t?.n ?? 0),
    timersOldestDue: Number(t?.age ?? 0),
  };
}
