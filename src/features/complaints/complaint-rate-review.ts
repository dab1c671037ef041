import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { rowsOf } from '../../db/rows';
import { complaints, departments, events, groups, orders, outbox, people } from '../../db/schema';
import { formatInstantInChinese, type WorkCalendar } from '../../domain/calendar';
import { complaintRate, formatRate, rateReviewAt, type ComplaintPlaybook, type ComplaintRate } from '../../domain/complaints';
import type { CalendarProvider } from '../../core/clocks/clock-store';
import { enqueue, writeAudit } from '../../core/context';
import { departmentGroup } from './complaint-subject';

/** 4.4.3 for one department over [from, to): complaints ÷ distinct clients served (orders active in the span, plus complainants); voided complaints count in neither. */
export async function rateOf(tx: Db, departmentId: number, from: Date, to: Date, threshold: number): Promise<ComplaintRate> {
  const since = from.toISOString();
  const until = to.toISOString();
  const [row] = rowsOf<{ complaints: number; served: number }>(await tx.execute(sql`
    select
      (select count(*)::int from ${complaints} where department_id = ${departmentId} and status <> 'voided'
         and received_at >= ${since}::timestamptz and received_at < ${until}::timestamptz) as complaints,
      (select count(*)::int from (
        select client_id from ${orders} where department_id = ${departmentId}
          and created_at < ${until}::timestamptz
          and (updated_at >= ${since}::timestamptz or status in ('new', 'assigned', 'paused'))
        union
        select client_id from ${complaints} where department_id = ${departmentId} and status <> 'voided'
          and received_at >= ${since}::timestamptz and received_at < ${until}::timestamptz
      ) s) as served`));
  return complaintRate(Number(row?.complaints ?? 0), Number(row?.served ?? 0), threshold);
}

/** The span [from, to) a year's figure covers at `now`: the whole year once it is over, else up to and including now. */
export function rateSpan(year: number, now: Date, cal: WorkCalendar): { from: Date; to: Date; complete: boolean } {
  const from = cal.at(`${year}-01-01`, '00:00');
  const end = cal.at(`${year + 1}-01-01`, '00:00');
  return now.getTime() >= end.getTime() ? { from, to: end, complete: true } : { from, to: new Date(now.getTime() + 1), complete: false };
}

/** The firm's management group(s): internal groups of a department whose members include 总经办. */
export async function managementGroups(tx: Db) {
  return tx
    .selectDistinct({ platform: groups.platform, conversationId: groups.conversationId, departmentId: groups.departmentId, title: groups.title })
    .from(groups)
    .innerJoin(people, and(eq(people.departmentId, groups.departmentId), eq(people.role, 'management')))
    .where(eq(groups.kind, 'internal'));
}

export const rateReviewSubject = (year: number) => `complaint-rate:${year}`;

/** The span a year's review covers: from 1 January up to its review time (the same figures whenever it runs). */
export function reviewSpan(year: number, at: Date, cal: WorkCalendar): { from: Date; to: Date } {
  return { from: cal.at(`${year}-01-01`, '00:00'), to: at };
}

/**
 * Whether the bot holds any of `year`'s complaint data before its review time: a client served (an
 * order active in the span) or a complaint received. A first start late in the year (after the review
 * date, on an empty or new database) has none: the year is not reviewed, and not marked reviewed.
 */
export async function yearHasData(tx: Db, from: Date, to: Date): Promise<boolean> {
  const since = from.toISOString();
  const until = to.toISOString();
  const [row] = rowsOf<{ n: number }>(await tx.execute(sql`
    select (
      exists (select 1 from ${orders} where created_at < ${until}::timestamptz
        and (updated_at >= ${since}::timestamptz or status in ('new', 'assigned', 'paused')))
      or exists (select 1 from ${complaints} where received_at >= ${since}::timestamptz and received_at < ${until}::timestamptz)
    )::int as n`));
  return Number(row?.n ?? 0) > 0;
}

/**
 * The year-end review of 4.4.3, run by the scheduler's tick. It is due at the year's review time
 * (playbook `rate.review`, first working day of December by default): before that time a tick only
 * waits for it (a start before the review date schedules it). From that time on, once the year's
 * complaint data exist (yearHasData over 1 January → review time), it figures each department over that
 * span and tells each department over the threshold — its head and 总经办, in the department's group
 * and the 总经办 group — once. A start after the review date with none of the year's data (a first
 * start late in the year) reviews nothing and marks nothing: the next review is next year's.
 * The review is marked in the audit trail (`complaint.rate_review`, subject `complaint-rate:<year>`),
 * under a transaction-scoped advisory lock on that subject: two instances ticking at the same moment
 * review once (the second waits, then sees the mark); the outbox keys make each notice exactly-once too.
 */
export function createRateReview(deps: { playbook: ComplaintPlaybook; calendar: CalendarProvider }) {
  const pb = deps.playbook;
  let reviewed: number | null = null;
  // Ticks come every few seconds: look at the calendar again at most hourly (calendar overrides may move the day).
  let nextLook = 0;

  return async function reviewRates(db: Db, now: Date): Promise<number> {
    if (now.getTime() < nextLook) return 0;
    const cal = await deps.calendar(db);
    const year = Number(cal.dateOf(now).slice(0, 4));
    const at = rateReviewAt(year, pb.rate.review, cal);
    const hourLater = now.getTime() + 3_600_000;
    if (reviewed === year) {
      nextLook = cal.at(`${year + 1}-01-01`, '00:00').getTime();
      return 0;
    }
    if (now.getTime() < at.getTime()) {
      nextLook = Math.min(hourLater, at.getTime());
      return 0;
    }
    const outcome = await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${rateReviewSubject(year)}))`);
      const [done] = await tx
        .select({ id: events.id })
        .from(events)
        .where(and(eq(events.subject, rateReviewSubject(year)), eq(events.action, 'complaint.rate_review')))
        .limit(1);
      if (done) return { done: true, posted: 0 };
      const { from, to } = reviewSpan(year, at, cal);
      // No data of the year yet: nothing reviewed, nothing marked (looked at again hourly: data may be entered late).
      if (!(await yearHasData(tx, from, to))) return { done: false, posted: 0 };
      const mgmtGroups = await managementGroups(tx);
      const mgmt = await tx.select().from(people).where(and(eq(people.role, 'management'), eq(people.active, true))).orderBy(asc(people.id));
      const figures: Record<string, unknown>[] = [];
      let posted = 0;
      for (const d of await tx.select().from(departments).orderBy(asc(departments.id))) {
        const rate = await rateOf(tx, d.id, from, to, pb.rate.threshold);
        figures.push({ department: d.id, ...rate });
        if (!rate.over) continue;
        const heads = await tx
          .select()
          .from(people)
          .where(and(eq(people.departmentId, d.id), eq(people.role, 'head'), eq(people.active, true)))
          .orderBy(asc(people.id));
        const who = [...heads, ...mgmt];
        const text =
          `【投诉率年终检讨】${d.name} ${year} 年截至 ${formatInstantInChinese(at, cal)} 共收到投诉 ${rate.complaints} 件，服务客户 ${rate.clientsServed} 家，` +
          `投诉率 ${formatRate(rate)}，超过 ${Math.round(pb.rate.threshold * 100)}%。按服务标准 ${pb.rate.clause}，请部门负责人在年终总结中检讨，并请总经办知悉。谢谢！\n` +
          who.map((p) => `@${p.name}`).join(' ');
        const targets = [await departmentGroup(tx, d.id), ...mgmtGroups].filter((g): g is NonNullable<typeof g> => !!g && g.platform !== undefined);
        const seen = new Set<string>();
        for (const g of targets) {
          const k = `${g.platform}:${g.conversationId}`;
          if (seen.has(k)) continue;
          seen.add(k);
          const inserted = await enqueue(tx, {
            platform: g.platform,
            conversationId: g.conversationId,
            payload: { text, mentions: who.map((p) => p.userid) },
            dedupeKey: `notice:complaint-rate:${d.id}:${year}:${k}`,
            now,
          });
          if (inserted) posted++;
        }
      }
      await writeAudit(tx, {
        at: now,
        action: 'complaint.rate_review',
        subject: rateReviewSubject(year),
        data: { year, reviewAt: at.toISOString(), span: { from: from.toISOString(), to: to.toISOString() }, figures },
      });
      return { done: true, posted };
    });
    if (outcome.done) {
      reviewed = year;
      nextLook = cal.at(`${year + 1}-01-01`, '00:00').getTime();
    } else nextLook = hourLater;
    return outcome.posted;
  };
}
