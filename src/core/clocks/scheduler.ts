import { and, asc, eq, inArray, isNotNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { groups, outbox, people, timers } from '../../db/schema';
import { routeRemindersPrivately } from '../reminder-mode';
import type { WorkCalendar } from '../../domain/calendar';
import type { PlaybookRule } from '../../domain/playbooks';
import { completeTimer, dueSteps, markStepsSent, nextOccurrence, nextWakeUp, startTimer, type LadderStep, type Timer } from '../../domain/timers';
import type { Logger } from '../../log';
import { fromRow, toRow, type CalendarProvider, type TimerRow } from './clock-store';
import type { ClockChange, OrderChange } from './order-clocks';
import { enqueue, type Actor } from '../records';

export interface SchedulerOptions {
  db: Db;
  calendar: CalendarProvider;
  log: Logger;
  clock: () => Date;
  /** Timers claimed per transaction. */
  batch?: number;
  /** Every kind of timer the scheduler runs (the features' subjects: orders, departments, complaints…). */
  subjects: TimerSubject[];
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
  /**
   * Subjects whose timers are bound to orders (timers.order_id): told of the order's events and of a group
   * bound to it, in the command's transaction; the changes are listed in the command's reply. Such timers
   * pause, resume and stop with the order and show in `/查 D12` (OrderClocks.ruleOf finds their rules).
   */
  onOrder?(tx: Db, change: OrderChange, now: Date, actor: Actor | null): Promise<ClockChange[]>;
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
   * null target: nowhere to post. With `hold`, the notice is kept as an `unrouted` outbox row for that
   * department (shown by `/发送失败 全部`, sent when `/部门群` sets a group); without, it is dropped.
   */
  render(row: TimerRow, rule: PlaybookRule, step: LadderStep, t: Timer): {
    target: { platform: string; conversationId: string; internal?: boolean } | null;
    hold?: { departmentId: number | null };
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

interface OutRow {
  platform: string;
  conversationId: string;
  payload: { text: string; mentions: string[]; markdown?: string; internal?: boolean };
  dedupeKey: string;
  /** 'unrouted': held for `departmentId` (platform and conversation are ''). */
  status?: 'pending' | 'unrouted';
  departmentId?: number | null;
}

/**
 * The scheduler is a thin shell around the pure ladder (STYLE.md #12). A tick claims due timers with
 * `FOR UPDATE SKIP LOCKED` and, in the same transaction, writes one outbox row per ladder step with the
 * unique key `timer:<id>:<step>`: no step can be sent twice, even across instances or after a crash.
 */
export function createScheduler(opts: SchedulerOptions) {
  const { db, log, clock, subjects } = opts;
  const batch = opts.batch ?? 500;
  /** Uncovered years already logged by this scheduler (one per process). */
  const loggedUncovered = new Set<number>();
  const byPrefix = new Map(subjects.map((s) => [s.prefix, s]));
  if (byPrefix.size !== subjects.length) throw new Error('two timer subjects share a prefix');
  const subjectOf = (row: Pick<TimerRow, 'subject'>) => byPrefix.get(row.subject.slice(0, row.subject.indexOf(':')));
  // Only timers some subject runs are claimed: a timer of a feature no longer installed stays as it was.
  const prefixes = [...byPrefix.keys()];

  async function processBatch(tx: Db, rows: TimerRow[], now: Date, cal: WorkCalendar) {
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
          (r.more ?? []).forEach((m, i) =>
            out.push({
              platform: r.target!.platform,
              conversationId: r.target!.conversationId,
              payload: { ...m, mentions: [], ...(r.target!.internal ? { internal: true } : {}) },
              dedupeKey: `${dedupeKey}:${i + 1}`,
            }),
          );
        } else if (r.hold) {
          out.push({ platform: '', conversationId: '', payload, dedupeKey, status: 'unrouted', departmentId: r.hold.departmentId });
          (r.more ?? []).forEach((m, i) =>
            out.push({ platform: '', conversationId: '', payload: { ...m, mentions: [] }, dedupeKey: `${dedupeKey}:${i + 1}`, status: 'unrouted', departmentId: r.hold!.departmentId }),
          );
          log.warn({ timer: row.id, rule: rule.id, subject: row.subject }, 'no group to post a reminder in; kept as unrouted until /部门群 sets one');
        } else {
          log.warn({ timer: row.id, rule: rule.id, subject: row.subject }, 'no internal group to post a reminder in; set one with /部门群');
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

    // Reminders for one person who asked for them privately (/提醒方式 私聊) go to their private chat.
    const routed = await routeRemindersPrivately(tx, out, now);
    // One statement each, the rows passed as one JSON parameter (no thousands of bind parameters).
    // Stamped with the app's clock, not the database's now(): the outbox worker compares with the same clock.
    if (routed.length) {
      await tx.execute(sql`
        insert into ${outbox} (platform, conversation_id, payload, dedupe_key, status, department_id, next_attempt_at, created_at)
        select platform, conversation_id, payload, dedupe_key, coalesce(status, 'pending'), department_id,
          ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
        from jsonb_to_recordset(${JSON.stringify(
          routed.map((o) => ({
            platform: o.platform,
            conversation_id: o.conversationId,
            payload: o.payload,
            dedupe_key: o.dedupeKey,
            status: o.status ?? null,
            department_id: o.departmentId ?? null,
          })),
        )}::jsonb)
          as x(platform text, conversation_id text, payload jsonb, dedupe_key text, status text, department_id integer)
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
      await tx
        .insert(timers)
        .values({ ...toRow(next, rule, cal), subject: row.subject, orderId: row.orderId, departmentId: row.departmentId, createdAt: now, updatedAt: now })
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
          return { n: full.length, sent: await processBatch(tx, full, now, cal) };
        });
        claimed += r.n;
        sent += r.sent;
        if (r.n < batch) break;
      }
      return { claimed, sent };
    },

    /** Each subject's slower upkeep (see TimerSubject.maintain); returns the timers started. */
    async maintain(): Promise<number> {
      let started = 0;
      for (const s of subjects) if (s.maintain) started += await s.maintain(db, clock(), opts.calendar);
      return started;
    },

    /**
     * A year the holiday data does not cover is computed from weekends and fixed-date holidays only:
     * tell the admins (总经办's groups) once per year, until an override or a package update fills it.
     */
    async warnUncoveredYears(): Promise<number[]> {
      const now = clock();
      const cal = await opts.calendar(db);
      const years = [...new Set([now, new Date(now.getTime() + 60 * 86_400_000)].map((d) => Number(cal.dateOf(d).slice(0, 4))))];
      const uncovered = years.filter((y) => cal.coverage(y) === 'fallback');
      if (!uncovered.length) return [];
      const targets = await db
        .select({ platform: groups.platform, conversationId: groups.conversationId })
        .from(groups)
        .innerJoin(people, and(eq(people.departmentId, groups.departmentId), eq(people.role, 'management')))
        .where(eq(groups.kind, 'internal'));
      const unique = [...new Map(targets.map((t) => [`${t.platform}|${t.conversationId}`, t])).values()];
      const admins = await db.select().from(people).where(and(eq(people.active, true), or(eq(people.isAdmin, true), eq(people.role, 'management'))));
      for (const year of uncovered) {
        // Housekeeping runs every minute: the log line once per process and year (the notice is deduplicated in the outbox).
        if (!loggedUncovered.has(year)) log.warn({ year }, 'holiday data does not cover this year; using weekends and fixed-date holidays');
        loggedUncovered.add(year);
        for (const t of unique) {
          await enqueue(db, {
            ...t,
            payload: {
              text:
                `【日历提醒】节假日数据尚未包含 ${year} 年的国务院放假安排，目前按“周末 + 元旦、劳动节、国庆固定日期”计算工作日。` +
                `请管理员在通知发布后用 /日历 调整 <日期> 上班|休息 补充，或升级节假日数据。${admins.map((a) => '@' + a.name).join(' ')}`,
              mentions: admins.map((a) => a.userid),
            },
            dedupeKey: `notice:calendar-fallback:${year}:${t.platform}:${t.conversationId}`,
            now,
          });
        }
      }
      return uncovered;
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
