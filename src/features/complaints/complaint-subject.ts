import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, complaintEvents, complaints, events, groups, people } from '../../db/schema';
import type { WorkCalendar } from '../../domain/calendar';
import { buildComplaintReminder, complaintCode, type ComplaintPlaybook, type ComplaintRule } from '../../domain/complaints';
import { formatInstantInChinese } from '../../domain/calendar';
import type { MentionRole } from '../../domain/playbooks';
import { type TimerRow } from '../../core/clocks/clock-store';
import { departmentHold, loadStaff } from '../roster';
import type { TimerSubject } from '../../core/clocks/scheduler';
import { writeAudit } from '../../core/context';
import { departmentGroup, groupName, noticeRoute, type NoticeRoute } from '../roster';
import { LADDER_STEP_NAMES } from '../../domain/playbooks/ladder-step-names';
import type { LadderStepName } from '../../domain/playbooks';

type Person = typeof people.$inferSelect;
type Complaint = typeof complaints.$inferSelect;

/** Where a department's complaint notices go: its one 部门群 (the roster feature's department-group.ts). */
export { departmentGroup };

/** The internal group a complaint was logged in (from the audit trail of its `received` event). */
async function loggedInGroups(tx: Db, ids: number[]) {
  if (!ids.length) return new Map<number, typeof groups.$inferSelect>();
  const rows = await tx
    .select({ subject: events.subject, g: groups })
    .from(events)
    .innerJoin(groups, and(eq(groups.platform, events.platform), eq(groups.conversationId, events.conversationId)))
    .where(and(eq(events.action, 'complaint.received'), inArray(events.subject, ids.map((id) => `complaint:${id}`))));
  return new Map(rows.map((r) => [Number(r.subject!.split(':')[1]), r.g]));
}

/** Whom a mention role names on a complaint. Nobody found → the department heads, so no step goes unheard. */
export function complaintMentions(
  roles: readonly MentionRole[],
  c: Complaint,
  staff: { byId: Map<number, Person>; heads: Person[]; supervisors: Person[]; management: Person[]; salesId: number | null },
): Person[] {
  const out = new Map<number, Person>();
  const add = (p: Person | undefined | null) => p && p.active && out.set(p.id, p);
  for (const role of roles) {
    if (role === 'handler') add(c.handlerId ? staff.byId.get(c.handlerId) : null);
    else if (role === 'supervisor') {
      const sup = c.supervisorId ? staff.byId.get(c.supervisorId) : undefined;
      if (sup) add(sup);
      else staff.supervisors.forEach(add);
    } else if (role === 'head') staff.heads.forEach(add);
    else if (role === 'sales') add(staff.salesId ? staff.byId.get(staff.salesId) : null);
    else if (role === 'management') staff.management.forEach(add);
  }
  if (!out.size) staff.heads.forEach(add);
  return [...out.values()];
}

/**
 * The scheduler's view of complaint timers: target = the complaint department's internal group,
 * mentions per ladder step, wording from the pure builder. Reaching the due time of a clock whose rule
 * says `breach` records the breach on the complaint's timeline and in the audit trail.
 */
export function complaintTimerSubject(pb: ComplaintPlaybook): TimerSubject {
  return {
    prefix: 'complaint',
    rule: (id) => pb.byId.get(id)?.timer,
    async prepare(tx: Db, rows: TimerRow[], now: Date, cal: WorkCalendar) {
      const ids = [...new Set(rows.map((r) => Number(r.subject.split(':')[1])))].filter(Number.isInteger);
      const list = ids.length
        ? await tx
            .select({ c: complaints, clientName: clients.name, salesId: clients.salespersonId })
            .from(complaints)
            .innerJoin(clients, eq(clients.id, complaints.clientId))
            .where(inArray(complaints.id, ids))
        : [];
      const byComplaint = new Map(list.map((x) => [x.c.id, x]));
      const deptIds = [...new Set(list.map((x) => x.c.departmentId).filter((d): d is number => d !== null))];
      const personIds = list.flatMap((x) => [x.c.handlerId, x.c.supervisorId, x.c.ownerId, x.salesId]).filter((v): v is number => v !== null);
      const staff = await loadStaff(tx, personIds, deptIds);
      const byId = new Map(staff.map((p) => [p.id, p]));
      // One route per complaint, decided here so the post and the timeline entry agree (0c).
      const logged = await loggedInGroups(tx, ids);
      const routes = new Map<number, NoticeRoute>();
      for (const x of list) routes.set(x.c.id, await noticeRoute(tx, x.c.departmentId, { loggedIn: logged.get(x.c.id) ?? null }));
      const mentioned = new Map<number, { step: string; mentions: string[]; route: NoticeRoute }>();
      return {
        render(row, _rule, step, t) {
          const x = byComplaint.get(Number(row.subject.split(':')[1]));
          const rule = pb.byId.get(row.ruleId)!;
          if (!x) return { target: null, text: '', mentions: [] };
          const c = x.c;
          const active = staff.filter((p) => p.active && p.departmentId === c.departmentId);
          const who = complaintMentions(step.mention, c, {
            byId,
            heads: active.filter((p) => p.role === 'head'),
            supervisors: active.filter((p) => p.role === 'supervisor'),
            management: staff.filter((p) => p.active && p.role === 'management'),
            salesId: x.salesId,
          });
          const route = routes.get(c.id)!;
          mentioned.set(row.id, { step: step.step, mentions: who.map((p) => p.userid), route });
          const text = buildComplaintReminder({
            rule,
            step: step.step,
            dueAt: t.dueAt,
            calendar: cal,
            now,
            complaint: {
              id: c.id,
              clientName: x.clientName,
              channel: c.channel,
              level: c.level,
              content: c.content,
              handlerName: c.handlerId ? byId.get(c.handlerId)?.name : null,
              ownerName: c.ownerId ? byId.get(c.ownerId)?.name : null,
            },
          });
          return {
            target: route.kind === 'unrouted' ? null : { platform: route.group.platform, conversationId: route.group.conversationId, internal: true },
            ...(route.kind === 'unrouted' ? { hold: departmentHold(c.departmentId) } : {}),
            text: route.kind === 'fallback' ? `${text}\n${route.note}` : text,
            mentions: who.map((p) => ({ userid: p.userid, name: p.name })),
          };
        },
        async afterSteps(row, _timerRule, steps, t) {
          const complaintId = Number(row.subject.split(':')[1]);
          const rule = pb.byId.get(row.ruleId);
          if (!rule || !byComplaint.has(complaintId)) return;
          const sent = mentioned.get(row.id);
          if (sent) {
            // The timeline says what was queued, and where: never a reminder that went nowhere.
            const r = sent.route;
            await tx.insert(complaintEvents).values({
              complaintId,
              at: now,
              kind: r.kind === 'unrouted' ? 'reminder_held' : 'reminder',
              note:
                r.kind === 'unrouted'
                  ? `${rule.step}（${LADDER_STEP_NAMES[sent.step as LadderStepName] ?? sent.step}）未能发出：${r.departmentName}还没有部门群，已保留，设置 /部门群 后补发`
                  : `${rule.step}（${LADDER_STEP_NAMES[sent.step as LadderStepName] ?? sent.step}），发到「${groupName(r.group)}」${r.kind === 'fallback' ? '（本部门还没有部门群）' : ''}`,
              data: {
                rule: rule.id,
                step: sent.step,
                mentions: sent.mentions,
                timer: row.id,
                group: r.kind === 'unrouted' ? null : { platform: r.group.platform, conversationId: r.group.conversationId },
              },
            });
          }
          if (rule.breach && steps.some((s) => s.step === 'due')) await recordBreach(tx, complaintId, rule, t.dueAt, now, cal, row.id);
        },
      };
    },
  };
}

/**
 * A clock whose rule says `breach` reached its due time without the obligation met: the breach on the
 * complaint's timeline, its callback breach time, and the audit trail.
 */
export async function recordBreach(tx: Db, complaintId: number, rule: ComplaintRule, dueAt: Date, now: Date, cal: WorkCalendar, timerId: number) {
  const due = formatInstantInChinese(dueAt, cal, { now });
  await tx.insert(complaintEvents).values({
    complaintId,
    at: now,
    kind: 'breach',
    note: `「${rule.step}」超过期限 ${due}（${rule.clause}）`,
    data: { rule: rule.id, dueAt: dueAt.toISOString(), timer: timerId },
  });
  if (rule.id === 'complaint.callback' || rule.id === 'complaint.callback-head') {
    await tx
      .update(complaints)
      .set({ breachedAt: sql`coalesce(${complaints.breachedAt}, ${now.toISOString()}::timestamptz)` })
      .where(eq(complaints.id, complaintId));
  }
  await writeAudit(tx, {
    at: now,
    action: 'complaint.breach',
    subject: `complaint:${complaintId}`,
    data: { code: complaintCode(complaintId), rule: rule.id, clause: rule.clause, dueAt: dueAt.toISOString() },
  });
}
