import { and, asc, eq, inArray, isNotNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, departments, groups, orders, outbox, people, timers } from '../../db/schema';
import type { WorkCalendar } from '../../domain/calendar';
import { orderCode } from '../../domain/orders';
import {
  appliesToService,
  buildReminderText,
  isClientStep,
  scheduleRules,
  type MentionRole,
  type Playbook,
  type PlaybookRule,
} from '../../domain/playbooks';
import { completeTimer, dueSteps, markStepsSent, nextOccurrence, nextWakeUp, startTimer, type LadderStep, type Timer } from '../../domain/timers';
import type { Logger } from '../../log';
import { noticeRoute, type NoticeRoute } from '../department-group';
import { fromRow, loadStaff, ruleById, toRow, type CalendarProvider, type TimerRow } from './clock-store';

type Person = typeof people.$inferSelect;
type Group = typeof groups.$inferSelect;

export interface SchedulerOptions {
  db: Db;
  playbook: Playbook;
  calendar: CalendarProvider;
  log: Logger;
  clock: () => Date;
  /** Timers claimed per transaction. */
  batch?: number;
  /** Timers of other subjects (e.g. `complaint:7`), each with its own rules, wording and targets. */
  subjects?: TimerSubject[];
}

/**
 * A kind of timer subject besides orders and department series: it names its rules, and for each batch
 * says where a step goes, whom it mentions and what it says. The scheduler keeps claiming, marking and
 * the outbox key `timer:<id>:<step>`, so exactly-once holds for every subject alike.
 */
export interface TimerSubject {
  /** Subjects `<prefix>:<id>` are this kind's. */
  prefix: string;
  rule(id: string): PlaybookRule | undefined;
  prepare(tx: Db, rows: TimerRow[], now: Date, cal: WorkCalendar): Promise<TimerSubjectBatch>;
  /** Work due by the calendar rather than by a timer row (e.g. a yearly review), run at the start of each tick. */
  housekeeping?(db: Db, now: Date): Promise<unknown>;
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
  const { db, playbook, log, clock } = opts;
  const batch = opts.batch ?? 500;
  /** Uncovered years already logged by this scheduler (one per process). */
  const loggedUncovered = new Set<number>();

  /** Resolves who is @-mentioned and where a reminder goes, for one batch, in a few queries. */
  async function loadContext(tx: Db, rows: TimerRow[]) {
    const orderIds = [...new Set(rows.map((r) => r.orderId).filter((x): x is number => x !== null))];
    const orderRows = orderIds.length
      ? await tx
          .select({ o: orders, clientName: clients.name })
          .from(orders)
          .innerJoin(clients, eq(clients.id, orders.clientId))
          .where(inArray(orders.id, orderIds))
      : [];
    const ordersById = new Map(orderRows.map((r) => [r.o.id, r]));
    const deptIds = [
      ...new Set([...rows.map((r) => r.departmentId), ...orderRows.map((r) => r.o.departmentId)].filter((x): x is number => x !== null)),
    ];
    const handlerIds = orderRows.flatMap((r) => [r.o.handlerId, r.o.salespersonId]).filter((x): x is number => x !== null);
    const staff = await loadStaff(tx, handlerIds, deptIds);
    const extraSupervisorIds = staff.map((p) => p.supervisorId).filter((x): x is number => x !== null && !staff.some((s) => s.id === x));
    if (extraSupervisorIds.length) staff.push(...(await tx.select().from(people).where(inArray(people.id, extraSupervisorIds))));
    const byId = new Map(staff.map((p) => [p.id, p]));
    const clientIds = orderRows.map((r) => r.o.clientId);
    const groupRows = await tx
      .select()
      .from(groups)
      .where(
        or(
          orderIds.length ? inArray(groups.orderId, orderIds) : sql`false`,
          deptIds.length ? inArray(groups.departmentId, deptIds) : sql`false`,
          clientIds.length ? and(inArray(groups.clientId, clientIds), eq(groups.kind, 'client')) : sql`false`,
        ),
      );
    return { ordersById, byId, staff, groupRows };
  }

  function mentionsFor(roles: readonly MentionRole[], ctx: Awaited<ReturnType<typeof loadContext>>, o: typeof orders.$inferSelect | null, departmentId: number | null): Person[] {
    const out = new Map<number, Person>();
    const add = (p: Person | undefined | null) => p && out.set(p.id, p);
    const inDept = (role: Person['role']) => ctx.staff.filter((p) => p.departmentId === departmentId && p.role === role);
    const handler = o?.handlerId ? ctx.byId.get(o.handlerId) : undefined;
    for (const role of roles) {
      if (role === 'handler') {
        if (o) add(handler);
        else inDept('handler').forEach(add);
      } else if (role === 'supervisor') {
        const sup = handler?.supervisorId ? ctx.byId.get(handler.supervisorId) : undefined;
        if (sup) add(sup);
        else inDept('supervisor').forEach(add);
      } else if (role === 'head') inDept('head').forEach(add);
      else if (role === 'sales') add(o?.salespersonId ? ctx.byId.get(o.salespersonId) : undefined);
      else if (role === 'management') ctx.staff.filter((p) => p.role === 'management').forEach(add);
    }
    return [...out.values()];
  }

  function targetFor(client: boolean, ctx: Awaited<ReturnType<typeof loadContext>>, o: typeof orders.$inferSelect | null, departmentId: number | null): Group | undefined {
    const g = ctx.groupRows;
    if (client && o) {
      return g.find((x) => x.orderId === o.id && x.kind === 'client') ?? g.find((x) => x.clientId === o.clientId && x.kind === 'client');
    }
    return (
      (o ? g.find((x) => x.orderId === o.id && x.kind === 'internal') : undefined) ??
      g.find((x) => x.departmentId === departmentId && x.kind === 'internal')
    );
  }

  const subjects = opts.subjects ?? [];
  const subjectOf = (row: Pick<TimerRow, 'subject'>) => subjects.find((s) => row.subject.startsWith(`${s.prefix}:`));

  async function processBatch(tx: Db, allRows: TimerRow[], now: Date, cal: WorkCalendar) {
    const rows = allRows.filter((r) => !subjectOf(r));
    const ctx = await loadContext(tx, rows);
    const fallbacks = new Map<number | null, Promise<NoticeRoute>>();
    const managementFallback = async (deptId: number | null) => {
      if (!fallbacks.has(deptId)) fallbacks.set(deptId, noticeRoute(tx, deptId));
      const r = await fallbacks.get(deptId)!;
      return r.kind === 'fallback' ? r : undefined;
    };
    const batches = new Map<TimerSubject, TimerSubjectBatch>();
    for (const s of subjects) {
      const mine = allRows.filter((r) => subjectOf(r) === s);
      if (mine.length) batches.set(s, await s.prepare(tx, mine, now, cal));
    }
    const out: OutRow[] = [];
    const updates: { id: number; t: Timer; nextStepAt: Date | null }[] = [];
    const rolls: { row: TimerRow; rule: PlaybookRule; t: Timer }[] = [];
    let sent = 0;
    for (const row of allRows) {
      const subject = subjectOf(row);
      const rule = subject ? subject.rule(row.ruleId) : ruleById(playbook, row.ruleId);
      let t = fromRow(row);
      if (!rule) {
        log.warn({ timer: row.id, rule: row.ruleId }, 'timer names a rule the playbook no longer has; cancelled');
        updates.push({ id: row.id, t: { ...t, state: 'cancelled', endedAt: now }, nextStepAt: null });
        continue;
      }
      const steps = dueSteps(t, rule, now, cal);
      const batchOf = subject ? batches.get(subject) : undefined;
      if (steps.length && batchOf) {
        const step: LadderStep = steps[steps.length - 1]!;
        const r = batchOf.render(row, rule, step, t);
        const tags = r.mentions.map((p) => `@${p.name}`).join(' ');
        const payload = {
          text: tags ? `${r.text}\n${tags}` : r.text,
          mentions: r.mentions.map((p) => p.userid),
          ...(r.markdown !== undefined ? { markdown: tags ? `${r.markdown}\n\n${tags}` : r.markdown } : {}),
        };
        if (r.target) {
          out.push({
            platform: r.target.platform,
            conversationId: r.target.conversationId,
            payload: { ...payload, ...(r.target.internal ? { internal: true } : {}) },
            dedupeKey: `timer:${row.id}:${step.step}`,
          });
          sent++;
          (r.more ?? []).forEach((m, i) =>
            out.push({
              platform: r.target!.platform,
              conversationId: r.target!.conversationId,
              payload: { ...m, mentions: [], ...(r.target!.internal ? { internal: true } : {}) },
              dedupeKey: `timer:${row.id}:${step.step}:${i + 1}`,
            }),
          );
        } else if (r.hold) {
          out.push({ platform: '', conversationId: '', payload, dedupeKey: `timer:${row.id}:${step.step}`, status: 'unrouted', departmentId: r.hold.departmentId });
          (r.more ?? []).forEach((m, i) =>
            out.push({ platform: '', conversationId: '', payload: { ...m, mentions: [] }, dedupeKey: `timer:${row.id}:${step.step}:${i + 1}`, status: 'unrouted', departmentId: r.hold!.departmentId }),
          );
        } else {
          log.warn({ timer: row.id, rule: rule.id, subject: row.subject }, 'no internal group to post a reminder in; set one with /部门群');
        }
        t = markStepsSent(t, steps);
        await batchOf.afterSteps?.(row, rule, steps, t);
      } else if (steps.length) {
        // After a long pause or outage several steps may be due at once: send the most escalated, mark all.
        const step: LadderStep = steps[steps.length - 1]!;
        const o = row.orderId ? (ctx.ordersById.get(row.orderId) ?? null) : null;
        const deptId = o?.o.departmentId ?? row.departmentId;
        const client = isClientStep(rule, step.step);
        const handler = o?.o.handlerId ? ctx.byId.get(o.o.handlerId) : undefined;
        const text = buildReminderText({
          rule,
          step: step.step,
          dueAt: t.dueAt,
          calendar: cal,
          now,
          ...(o ? { order: { code: orderCode(o.o.id), clientName: o.clientName, handlerName: handler?.name, fields: o.o.fields } } : {}),
        });
        const who = client ? [] : mentionsFor(step.mention, ctx, o?.o ?? null, deptId);
        const own = targetFor(client, ctx, o?.o ?? null, deptId) ?? (client ? targetFor(false, ctx, o?.o ?? null, deptId) : undefined);
        // No group of its own: 总经办's group, saying why; else kept as unrouted until /部门群 (never lost).
        const fallback = own ? undefined : await managementFallback(deptId);
        const target = own ?? fallback?.group;
        const tags = who.map((p) => `@${p.name}`).join(' ');
        const body = fallback && target ? `${text}\n${fallback.note}` : text;
        const payload = { text: tags ? `${body}\n${tags}` : body, mentions: who.map((p) => p.userid) };
        if (target) {
          out.push({
            platform: target.platform,
            conversationId: target.conversationId,
            payload: { ...payload, ...(target.kind === 'internal' ? { internal: true } : {}) },
            dedupeKey: `timer:${row.id}:${step.step}`,
          });
          sent++;
        } else {
          out.push({ platform: '', conversationId: '', payload, dedupeKey: `timer:${row.id}:${step.step}`, status: 'unrouted', departmentId: deptId });
          log.warn({ timer: row.id, rule: rule.id, order: row.orderId }, 'no group to post a reminder in; kept as unrouted until /部门群 sets one');
        }
        t = markStepsSent(t, steps);
      }
      // A recurring occurrence ends at its due step; the next occurrence starts in its place.
      if (rule.trigger.kind === 'schedule' && t.stepsSent.includes('due')) {
        rolls.push({ row, rule, t: completeTimer(t, now) });
        continue;
      }
      updates.push({ id: row.id, t, nextStepAt: nextWakeUp(t, rule, cal, now) });
    }

    // One statement each, the rows passed as one JSON parameter (no thousands of bind parameters).
    if (out.length) {
      await tx.execute(sql`
        insert into ${outbox} (platform, conversation_id, payload, dedupe_key, status, department_id)
        select platform, conversation_id, payload, dedupe_key, coalesce(status, 'pending'), department_id
        -- In array order: a notice's continuation parts get later ids, so they are sent after it.
        from jsonb_to_recordset(${JSON.stringify(
          out.map((o) => ({
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
    for (const { row, rule, t } of rolls) {
      await tx.update(timers).set({ ...toRow(t, rule, cal), updatedAt: now }).where(eq(timers.id, row.id));
      const o = row.orderId ? ctx.ordersById.get(row.orderId) : undefined;
      const occurrence = nextOccurrence(rule, new Date(Math.max(now.getTime(), t.startedAt.getTime()) + 1000), cal, o?.o.fields);
      if (!occurrence) continue;
      const next = startTimer(rule, { occurrence, ...(o ? { order: { serviceType: o.o.serviceType, paid: o.o.paid, fields: o.o.fields } } : {}) }, now, cal);
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
            .where(and(sql`${timers.state} = 'running'`, isNotNull(timers.nextStepAt), lte(timers.nextStepAt, now)))
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

    /** Keeps one running occurrence of each department-scope recurring rule per department that it concerns. */
    async ensureDepartmentSeries(): Promise<number> {
      const now = clock();
      return db.transaction(async (tx) => {
        const cal = await opts.calendar(tx);
        const depts = await tx.select().from(departments);
        const existing = await tx
          .select({ subject: timers.subject, ruleId: timers.ruleId })
          .from(timers)
          .where(and(isNotNull(timers.departmentId), inArray(timers.state, ['running', 'paused']), sql`${timers.subject} like 'dept:%'`));
        const have = new Set(existing.map((e) => `${e.subject}|${e.ruleId}`));
        let started = 0;
        for (const rule of scheduleRules(playbook, 'department')) {
          for (const d of depts) {
            const concerns = d.services.some((s) => appliesToService(rule, s));
            if (!concerns || have.has(`dept:${d.id}|${rule.id}`)) continue;
            const occurrence = nextOccurrence(rule, now, cal);
            const t = occurrence ? startTimer(rule, { occurrence }, now, cal) : null;
            if (!t) continue;
            await tx
              .insert(timers)
              .values({ ...toRow(t, rule, cal), subject: `dept:${d.id}`, departmentId: d.id, createdAt: now, updatedAt: now })
              .onConflictDoNothing();
            started++;
          }
        }
        return started;
      });
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
          await db
            .insert(outbox)
            .values({
              ...t,
              payload: {
                text:
                  `【日历提醒】节假日数据尚未包含 ${year} 年的国务院放假安排，目前按“周末 + 元旦、劳动节、国庆固定日期”计算工作日。` +
                  `请管理员在通知发布后用 /日历 调整 <日期> 上班|休息 补充，或升级节假日数据。${admins.map((a) => '@' + a.name).join(' ')}`,
                mentions: admins.map((a) => a.userid),
              },
              dedupeKey: `notice:calendar-fallback:${year}:${t.platform}:${t.conversationId}`,
            })
            .onConflictDoNothing({ target: outbox.dedupeKey });
        }
      }
      return uncovered;
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
