import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client';
import { people, timers } from '../../db/schema';
import type { WorkCalendar } from '../../domain/calendar';
import type { ComplaintPlaybook } from '../../domain/complaints';
import { ruleSchema, type PlaybookRule } from '../../domain/playbooks';
import { nextOccurrence, startTimer } from '../../domain/timers';
import { toRow, type CalendarProvider, type TimerRow } from '../../core/clocks/clock-store';
import type { TimerSubject } from '../../core/clocks/scheduler';
import { departmentHold, managementGroup, noticeRoute, type NoticeRoute } from '../roster';
import { writeAudit, type Person } from '../../core/records';
import type { VisitPlaybook } from '../visits';
import { monthFigures, serviceDepartments } from './figures';
import { renderMonthly } from './monthly';
import rulesJson from './report-rules.json';
import { renderWeekly, weeklySummary, type RenderedPart } from './weekly';

const scheduleSchema = z.object({
  id: z.string(),
  step: z.string().min(1),
  clause: z.string().min(1),
  cron: z.string(),
  nonWorkingDay: z.enum(['next', 'previous', 'keep']),
  note: z.string().optional(),
});
export const reportRulesSchema = z.object({
  weekly: scheduleSchema,
  monthly: scheduleSchema,
  export: z.object({ ttlHours: z.number().positive(), note: z.string().optional() }),
});
export type ReportRules = z.infer<typeof reportRulesSchema>;
export const REPORT_RULES: ReportRules = reportRulesSchema.parse(rulesJson);

/** A report's schedule as a recurring timer rule: one occurrence at a time, rolled by the scheduler. */
function scheduleRule(s: ReportRules['weekly']): PlaybookRule {
  const r = ruleSchema.parse({
    id: s.id,
    services: 'all',
    step: s.step,
    clause: s.clause,
    trigger: { kind: 'schedule', cron: s.cron, nonWorkingDay: s.nonWorkingDay, scope: 'department' },
    duration: { amount: 0, unit: 'minutes' },
    pausesWithOrder: false,
    mention: ['supervisor'],
    ladder: { headsUp: null, overdue: [] },
    ...(s.note ? { note: s.note } : {}),
  });
  return { ...r, ladder: r.ladder! };
}

export const weeklySubject = (deptId: number) => `report:weekly:${deptId}`;
export const MONTHLY_SUBJECT = 'report:monthly:all';

/** The month before the one `at` lies in: 'YYYY-MM' and its span. */
export function previousMonth(at: Date, cal: WorkCalendar) {
  const first = `${cal.dateOf(at).slice(0, 7)}-01`;
  const start = cal.shiftDate(first, -1, 'months');
  return { month: start.slice(0, 7), from: cal.at(start, '00:00'), to: cal.at(first, '00:00') };
}

/**
 * The weekly summary and the monthly report as timers of the existing scheduler (subjects
 * `report:weekly:<deptId>` and `report:monthly:all`): each occurrence is a timer row that one instance
 * claims (FOR UPDATE SKIP LOCKED), so a report goes out exactly once however many instances run. The
 * first part is the timer's own `due` notice (outbox key `timer:<id>:due`); the continuation parts are
 * keyed `report:<timer>:<i>` in the same transaction.
 */
export function reportSubject(deps: { calendar: CalendarProvider; complaintPlaybook: ComplaintPlaybook; visitPlaybook: VisitPlaybook; syncEveryMs?: number }): TimerSubject {
  const weekly = scheduleRule(REPORT_RULES.weekly);
  const monthly = scheduleRule(REPORT_RULES.monthly);
  const rules = new Map([weekly, monthly].map((r) => [r.id, r]));
  let nextSync = 0;

  /** Keeps one running occurrence per service department (weekly) and one monthly. Safe on two instances. */
  async function ensure(db: Db, now: Date) {
    const cal = await deps.calendar(db);
    const depts = await serviceDepartments(db);
    const wanted = [...depts.map((d) => ({ subject: weeklySubject(d.id), rule: weekly, departmentId: d.id as number | null })), { subject: MONTHLY_SUBJECT, rule: monthly, departmentId: null }];
    const have = new Set(
      (await db.select({ subject: timers.subject }).from(timers).where(and(sql`${timers.subject} like 'report:%'`, inArray(timers.state, ['running', 'paused'])))).map((r) => r.subject),
    );
    let started = 0;
    for (const w of wanted) {
      if (have.has(w.subject)) continue;
      const occurrence = nextOccurrence(w.rule, now, cal);
      const t = occurrence ? startTimer(w.rule, { occurrence }, now, cal) : null;
      if (!t) continue;
      const ins = await db
        .insert(timers)
        .values({ ...toRow(t, w.rule, cal, now), subject: w.subject, departmentId: w.departmentId, createdAt: now, updatedAt: now })
        .onConflictDoNothing()
        .returning({ id: timers.id });
      started += ins.length;
    }
    return started;
  }

  return {
    prefix: 'report',
    rule: (id) => rules.get(id),
    async housekeeping(db: Db, now: Date) {
      if (now.getTime() < nextSync) return 0;
      nextSync = now.getTime() + (deps.syncEveryMs ?? 10 * 60_000);
      return ensure(db, now);
    },
    async prepare(tx: Db, rows: TimerRow[], now: Date, cal: WorkCalendar) {
      const made = new Map<number, { parts: RenderedPart[]; route: NoticeRoute | { kind: 'management'; group: Awaited<ReturnType<typeof managementGroup>> }; mentions: Person[]; departmentId: number | null; audit: Record<string, unknown> }>();
      for (const row of rows) {
        if (row.ruleId === weekly.id && row.departmentId !== null) {
          const [dept] = await serviceDepartments(tx, row.departmentId);
          if (!dept) continue;
          const s = await weeklySummary(tx, dept, now, deps.visitPlaybook);
          made.set(row.id, {
            parts: renderWeekly(s, cal, now, deps.visitPlaybook),
            route: await noticeRoute(tx, dept.id),
            mentions: s.supervisors,
            departmentId: dept.id,
            audit: { department: dept.id, handlers: s.handlers.length },
          });
        } else if (row.ruleId === monthly.id) {
          const { month, from, to } = previousMonth(now, cal);
          const figures = [];
          const yearStart = cal.at(`${month.slice(0, 4)}-01-01`, '00:00');
          for (const d of await serviceDepartments(tx)) figures.push(await monthFigures(tx, d, from, to, now, deps.complaintPlaybook.rate.threshold, yearStart));
          const mgmt = await tx.select().from(people).where(and(eq(people.role, 'management'), eq(people.active, true))).orderBy(asc(people.id));
          made.set(row.id, {
            parts: renderMonthly(month, figures, deps.complaintPlaybook.rate.threshold, deps.complaintPlaybook.rate.clause, { complete: true }),
            route: { kind: 'management', group: await managementGroup(tx) },
            mentions: mgmt,
            departmentId: null,
            audit: { month, figures },
          });
        }
      }
      const targetOf = (r: NonNullable<ReturnType<typeof made.get>>['route']) =>
        r.kind === 'unrouted' || !('group' in r) || !r.group ? null : { platform: r.group.platform, conversationId: r.group.conversationId, internal: true };
      return {
        render(row) {
          const m = made.get(row.id);
          if (!m || !m.parts.length) return { target: null, text: '', mentions: [] };
          const target = targetOf(m.route);
          const note = m.route.kind === 'fallback' ? `\n${m.route.note}` : '';
          return {
            target,
            ...(target ? {} : { hold: departmentHold(m.departmentId) }),
            text: m.parts[0]!.text + note,
            markdown: m.parts[0]!.markdown + note,
            mentions: m.mentions.map((p) => ({ userid: p.userid, name: p.name })),
            more: m.parts.slice(1),
          };
        },
        async afterSteps(row, rule) {
          const m = made.get(row.id);
          if (!m) return;
          await writeAudit(tx, { at: now, action: `${rule.id}.sent`, subject: row.subject, data: { ...m.audit, parts: m.parts.length, timer: row.id } });
        },
      };
    },
  };
}
