import { and, asc, eq, inArray, isNotNull, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { outbox, timers } from '../../db/schema';
import type { WorkCalendar } from '../../domain/calendar';
import type { PlaybookRule } from '../../domain/playbooks';
import { completeTimer, dueSteps, markStepsSent, nextOccurrence, nextWakeUp, startTimer, type LadderStep, type Timer } from '../../domain/timers';
import type { Logger } from '../../log';
import { fromRow, toRow, type CalendarProvider, type TimerRow } from './clock-store';
import type { OutboundHook, OutboundRow } from '../outbound-hook';
import type { Metrics } from '../metrics';

export interface SchedulerOptions {
  db: Db;
  calendar: CalendarProvider;
  log: Logger;
  clock: () => Date;
  /** Timers claimed per transaction. */
  batch?: number;
  /** Every kind of timer the scheduler runs (the features' subjects). */
  subjects: TimerSubject[];
  /** The features' rewrites of the rows a tick writes to the outbox (Feature.outbound), in order. */
  outbound?: OutboundHook[];
  /** The features' minute-level upkeep outside any timer (Feature.maintain), run after the subjects'. */
  upkeep?: ((ctx: { db: Db; now: Date; calendar: CalendarProvider; log: Logger }) => Promise<unknown>)[];
  /** Claimed timers, their lateness and the steps posted, counted once the tick's transaction commits. */
  metrics?: Metrics;
}

/**
 * A kind of timer subject: it names its rules, and for each batch says where a step goes, whom it
 * mentions and what it says. The scheduler keeps claiming, marking and the outbox key
 * `timer:<id>:<step>`, so exactly-once holds for every subject alike; it knows no subject by name.
 */
export interface TimerSubject {
  /** Subjects `<prefix>:<id>` are this kind's. */
  prefix: string;
  rule(id: string): PlaybookRule | undefined;
  prepare(tx: Db, rows: TimerRow[], now: Date, cal: WorkCalendar): Promise<TimerSubjectBatch>;
  /** Work due by the calendar rather than by a timer row (e.g. a yearly review), run at the start of each tick. */
  housekeeping?(db: Db, now: Date): Promise<unknown>;
  /**
   * Slower upkeep the scheduler loop runs about once a minute (e.g. keep a recurring series running);
   * returns how many timers it started.
   */
  maintain?(db: Db, now: Date, calendar: CalendarProvider): Promise<number>;
}

export interface TimerSubjectBatch {
  /**
   * null target: nowhere to post. With `hold`, the notice is kept as an `unrouted` outbox row under the
   * subject's hold key, until the feature that owns the key releases it; without, it is dropped.
   */
  render(row: TimerRow, rule: PlaybookRule, step: LadderStep, t: Timer): {
    target: { platform: string; conversationId: string; internal?: boolean } | null;
    hold?: { key: string | null };
    text: string;
    /** Optional markdown rendering of the same notice (platforms that have it); the mentions follow it too. */
    markdown?: string;
    mentions: { userid: string; name: string }[];
    /** Continuation messages sent right after this one, to the same place (keys `timer:<id>:<step>:<i>`). */
    more?: { text: string; markdown?: string }[];
  };
  /** Called once per timer whose steps were marked in this tick, in the tick's transaction. */
  afterSteps?(row: TimerRow, rule: PlaybookRule, steps: LadderStep[], t: Timer): Promise<void>;
  /**
   * The next occurrence of a recurring (`schedule`) rule once this one reached its due step, from
   * `after` on; default: the rule's pattern alone. null: the series ends.
   */
  nextTimer?(row: TimerRow, rule: PlaybookRule, after: Date): Timer | null;
}

type OutRow = OutboundRow;

/**
 * The scheduler is a thin shell around the pure ladder (STYLE.md #12). A tick claims due timers with
 * `FOR UPDATE SKIP LOCKED` and, in the same transaction, writes one outbox row per ladder step with the
 * unique key `timer:<id>:<step>`: no step can be sent twice, even across instances or after a crash.
 */
export function createScheduler(opts: SchedulerOptions) {
  const { db, log, clock, subjects } = opts;
  const batch = opts.batch ?? 500;
  const byPrefix = new Map(subjects.map((s) => [s.prefix, s]));
  if (byPrefix.size !== subjects.length) throw new Error('two timer subjects share a prefix');
  const subjectOf = (row: Pick<TimerRow, 'subject'>) => byPrefix.get(row.subject.slice(0, row.subject.indexOf(':')));
  // Only timers some subject runs are claimed: a timer of a feature no longer installed stays as it was.
  const prefixes = [...byPrefix.keys()];
  const kindOf = (row: Pick<TimerRow, 'subject'>) => row.subject.slice(0, row.subject.indexOf(':'));
  type StepCount = { kind: string; step: string; result: 'posted' | 'held' | 'dropped' };

  async function processBatch(tx: Db, rows: TimerRow[], now: Date, cal: WorkCalendar, counted: StepCount[]) {
    const batches = new Map<TimerSubject, TimerSubjectBatch>();
    for (const s of subjects) {
      const mine = rows.filter((r) => subjectOf(r) === s);
      if (mine.length) batches.set(s, await s.prepare(tx, mine, now, cal));
    }
    const out: OutRow[] = [];
    const updates: { id: number; t: Timer; nextStepAt: Date | null }[] = [];
    const rolls: { row: TimerRow; rule: PlaybookRule; t: Timer; batch: TimerSubjectBatch }[] = [];
    let sent = 0;
    for (const row of rows) {
      const subject = subjectOf(row)!;
      const batchOf = batches.get(subject)!;
      const rule = subject.rule(row.ruleId);
      let t = fromRow(row);
      if (!rule) {
        log.warn({ timer: row.id, rule: row.ruleId }, 'timer names a rule the playbook no longer has; cancelled');
        updates.push({ id: row.id, t: { ...t, state: 'cancelled', endedAt: now }, nextStepAt: null });
        continue;
      }
      const steps = dueSteps(t, rule, now, cal);
      if (steps.length) {
        // After a long pause or outage several steps may be due at once: send the most escalated, mark all.
        const step: LadderStep = steps[steps.length - 1]!;
        const r = batchOf.render(row, rule, step, t);
        const tags = r.mentions.map((p) => `@${p.name}`).join(' ');
        const payload = {
          text: tags ? `${r.text}\n${tags}` : r.text,
          mentions: r.mentions.map((p) => p.userid),
          ...(r.markdown !== undefined ? { markdown: tags ? `${r.markdown}\n\n${tags}` : r.markdown } : {}),
        };
        const dedupeKey = `timer:${row.id}:${step.step}`;
        if (r.target) {
          out.push({
            platform: r.target.platform,
            conversationId: r.target.conversationId,
            payload: { ...payload, ...(r.target.internal ? { internal: true } : {}) },
            dedupeKey,
          });
          sent++;
          counted.push({ kind: kindOf(row), step: step.step, result: 'posted' });
          (r.more ?? []).forEach((m, i) =>
            out.push({
              platform: r.target!.platform,
              conversationId: r.target!.conversationId,
              payload: { ...m, mentions: [], ...(r.target!.internal ? { internal: true } : {}) },
              dedupeKey: `${dedupeKey}:${i + 1}`,
            }),
          );
        } else if (r.hold) {
          out.push({ platform: '', conversationId: '', payload, dedupeKey, status: 'unrouted', holdKey: r.hold.key });
          (r.more ?? []).forEach((m, i) =>
            out.push({ platform: '', conversationId: '', payload: { ...m, mentions: [] }, dedupeKey: `${dedupeKey}:${i + 1}`, status: 'unrouted', holdKey: r.hold!.key }),
          );
          counted.push({ kind: kindOf(row), step: step.step, result: 'held' });
          log.warn({ timer: row.id, rule: rule.id, subject: row.subject }, 'no group to post a reminder in; kept as unrouted until a group is set for it');
        } else {
          counted.push({ kind: kindOf(row), step: step.step, result: 'dropped' });
          log.warn({ timer: row.id, rule: rule.id, subject: row.subject }, 'no internal group to post a reminder in; the notice is dropped');
        }
        t = markStepsSent(t, steps);
        await batchOf.afterSteps?.(row, rule, steps, t);
      }
      // A recurring occurrence ends at its due step; the next occurrence starts in its place.
      if (rule.trigger.kind === 'schedule' && t.stepsSent.includes('due')) {
        rolls.push({ row, rule, t: completeTimer(t, now), batch: batchOf });
        continue;
      }
      updates.push({ id: row.id, t, nextStepAt: nextWakeUp(t, rule, cal, now) });
    }

    // The features' outbound hooks (e.g. a reminder for one person who asked for it privately).
    let routed = out;
    for (const hook of opts.outbound ?? []) routed = await hook(tx, routed, now);
    // One statement each, the rows passed as one JSON parameter (no thousands of bind parameters).
    // Stamped with the app's clock, not the database's now(): the outbox worker compares with the same clock.
    if (routed.length) {
      await tx.execute(sql`
        insert into ${outbox} (platform, conversation_id, payload, dedupe_key, status, hold_key, next_attempt_at, created_at)
        select platform, conversation_id, payload, dedupe_key, coalesce(status, 'pending'), hold_key,
          ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
        from jsonb_to_recordset(${JSON.stringify(
          routed.map((o) => ({
            platform: o.platform,
            conversation_id: o.conversationId,
            payload: o.payload,
            dedupe_key: o.dedupeKey,
            status: o.status ?? null,
            hold_key: o.holdKey ?? null,
          })),
        )}::jsonb)
          as x(platform text, conversation_id text, payload jsonb, dedupe_key text, status text, hold_key text)
        on conflict (dedupe_key) do nothing`);
    }
    if (updates.length) {
      await tx.execute(sql`
        update ${timers} as t set
          data = v.data,
          state = v.state,
          next_step_at = v.next_step_at,
          updated_at = ${now.toISOString()}::timestamptz
        from jsonb_to_recordset(${JSON.stringify(updates.map((u) => ({ id: u.id, data: u.t, state: u.t.state, next_step_at: u.nextStepAt })))}::jsonb)
          as v(id bigint, data jsonb, state text, next_step_at timestamptz)
        where t.id = v.id`);
    }
    for (const { row, rule, t, batch: b } of rolls) {
      await tx.update(timers).set({ ...toRow(t, rule, cal), updatedAt: now }).where(eq(timers.id, row.id));
      const after = new Date(Math.max(now.getTime(), t.startedAt.getTime()) + 1000);
      let next: Timer | null;
      if (b.nextTimer) next = b.nextTimer(row, rule, after);
      else {
        const occurrence = nextOccurrence(rule, after, cal);
        next = occurrence ? startTimer(rule, { occurrence }, now, cal) : null;
      }
      if (!next) continue;
      // The next occurrence belongs to the same owner: every column but the scheduler's own is copied.
      const { id: _id, ruleId: _r, state: _s, dueAt: _d, nextStepAt: _n, data: _data, createdAt: _c, updatedAt: _u, ...owner } = row;
      await tx
        .insert(timers)
        .values({ ...owner, ...toRow(next, rule, cal), createdAt: now, updatedAt: now })
        .onConflictDoNothing();
    }
    return sent;
  }

  return {
    /** One tick: claim and process due timers until none are left (or `maxBatches`). Returns steps sent. */
    async tick(maxBatches = 20): Promise<{ claimed: number; sent: number }> {
      let claimed = 0;
      let sent = 0;
      for (const s of subjects) await s.housekeeping?.(db, clock());
      for (let b = 0; b < maxBatches; b++) {
        const now = clock();
        const counted: StepCount[] = [];
        const late: { kind: string; s: number }[] = [];
        const r = await db.transaction(async (tx) => {
          const full = await tx
            .select()
            .from(timers)
            // Literal predicate, matching the partial index timers_due_idx (a bound parameter would let a
            // generic plan fall back to scanning every future timer).
            .where(
              and(
                sql`${timers.state} = 'running'`,
                isNotNull(timers.nextStepAt),
                lte(timers.nextStepAt, now),
                inArray(sql`split_part(${timers.subject}, ':', 1)`, prefixes.length ? prefixes : ['']),
              ),
            )
            .orderBy(asc(timers.nextStepAt))
            .limit(batch)
            .for('update', { skipLocked: true });
          if (full.length === 0) return { n: 0, sent: 0 };
          const cal = await opts.calendar(tx);
          counted.length = 0;
          late.length = 0;
          for (const row of full) late.push({ kind: kindOf(row), s: (now.getTime() - (row.nextStepAt?.getTime() ?? now.getTime())) / 1000 });
          return { n: full.length, sent: await processBatch(tx, full, now, cal, counted) };
        });
        // Committed: count what the tick did (a rolled-back tick throws before this and counts nothing).
        if (opts.metrics) {
          for (const l of late) {
            opts.metrics.timersClaimed.inc({ kind: l.kind });
            opts.metrics.timerLateness.observe({ kind: l.kind }, Math.max(0, l.s));
          }
          for (const c of counted) opts.metrics.timerSteps.inc(c);
        }
        claimed += r.n;
        sent += r.sent;
        if (r.n < batch) break;
      }
      return { claimed, sent };
    },

    /** Each subject's slower upkeep (see TimerSubject.maintain), then the features' own; returns the timers started. */
    async maintain(): Promise<number> {
      let started = 0;
      for (const s of subjects) if (s.maintain) started += await s.maintain(db, clock(), opts.calendar);
      for (const task of opts.upkeep ?? []) await task({ db, now: clock(), calendar: opts.calendar, log });
      return started;
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
