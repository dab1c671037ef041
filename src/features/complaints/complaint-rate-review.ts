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

/**
 * The year-end review of 4.4.3, run by the scheduler's tick: once the review time of the year has come
 * (playbook `rate.review`, first working day of December by default), each department over the
 * threshold is told — its head and 总经办, in the department's group and the 总经办 group — once.
 * The review is marked in the audit trail (`complaint.rate_review`, subject `complaint-rate:<year>`);
 * the outbox keys make each notice exactly-once even when two instances review at the same moment.
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
    if (reviewed === year || now.getTime() < at.getTime()) {
      nextLook = Math.min(now.getTime() + 3_600_000, reviewed === year ? Infinity : at.getTime());
      return 0;
    }
    const sent = await db.transaction(async (tx) => {
      const [done] = await tx
        .select({ id: events.id })
        .from(events)
        .where(and(eq(events.subject, rateReviewSubject(year)), eq(events.action, 'complaint.rate_review')))
        .limit(1);
      if (done) return 0;
      const { from, to } = rateSpan(year, now, cal);
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
          `【投诉率年终检讨】${d.name} ${year} 年截至 ${formatInstantInChinese(now, cal)} 共收到投诉 ${rate.complaints} 件，服务客户 ${rate.clientsServed} 家，` +
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
      await writeAudit(tx, { at: now, action: 'complaint.rate_review', subject: rateReviewSubject(year), data: { year, reviewAt: at.toISOString(), figures } });
      return posted;
    });
    reviewed = year;
    return sent;
  };
}
