import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, people, visits } from '../../db/schema';
import { formatInstantInChinese, type WorkCalendar } from '../../domain/calendar';
import type { MentionRole } from '../../domain/playbooks';
import { type CalendarProvider, type TimerRow } from '../../core/clocks/clock-store';
import { departmentHold, loadStaff } from '../roster';
import type { TimerSubject } from '../../core/clocks/scheduler';
import { noticeRoute, type NoticeRoute } from '../roster';
import type { Person } from '../../core/records';
import { METHOD_NAMES } from './schedule';
import type { VisitPlaybook } from './visit-playbook';
import { assigneesOf, loadClientFacts, syncDueVisits, visitCode } from './visit-store';

const idOf = (row: Pick<TimerRow, 'subject'>) => Number(row.subject.split(':')[1]);

/** Whom a ladder step names, given the people the visit is assigned to. */
function mentionsFor(roles: readonly MentionRole[], assigned: Person[], departmentId: number | null, staff: Person[]): Person[] {
  const out = new Map<number, Person>();
  const add = (p: Person | undefined) => p && p.active && out.set(p.id, p);
  const byId = new Map(staff.map((p) => [p.id, p]));
  const inDept = (role: Person['role']) => staff.filter((p) => p.departmentId === departmentId && p.role === role);
  for (const role of roles) {
    if (role === 'handler') assigned.forEach(add);
    else if (role === 'supervisor') {
      const sups = assigned.map((p) => (p.supervisorId ? byId.get(p.supervisorId) : undefined)).filter((p): p is Person => !!p);
      (sups.length ? sups : inDept('supervisor').length ? inDept('supervisor') : inDept('head')).forEach(add);
    } else if (role === 'head') inDept('head').forEach(add);
    else if (role === 'management') staff.filter((p) => p.role === 'management').forEach(add);
  }
  if (!out.size) inDept('head').forEach(add);
  return [...out.values()];
}

function routed(route: NoticeRoute, text: string, departmentId: number | null) {
  return {
    target: route.kind === 'unrouted' ? null : { platform: route.group.platform, conversationId: route.group.conversationId, internal: true },
    ...(route.kind === 'unrouted' ? { hold: departmentHold(departmentId) } : {}),
    text: route.kind === 'fallback' ? `${text}\n${route.note}` : text,
  };
}

const late = (step: string) => step.startsWith('overdue');

/**
 * Due-visit clocks (`visit-due:<clientId>`): reminded in the department's internal group to whoever
 * visits (the handler, or the head for 优质客户), then up the ladder. Housekeeping keeps the clocks in
 * line with clients and orders (at most every `syncEveryMs`; commands sync their own client at once).
 */
export function dueVisitSubject(pb: VisitPlaybook, calendar: CalendarProvider, syncEveryMs = 15 * 60_000): TimerSubject {
  let nextSync = 0;
  return {
    prefix: 'visit-due',
    rule: (id) => (pb.scheduleById.has(id) ? pb.byId.get(id) : undefined),
    async housekeeping(db: Db, now: Date) {
      if (now.getTime() < nextSync) return 0;
      nextSync = now.getTime() + syncEveryMs;
      const cal = await calendar(db);
      return db.transaction((tx) => syncDueVisits(tx, pb, now, cal));
    },
    async prepare(tx: Db, rows: TimerRow[], now: Date, cal: WorkCalendar) {
      const facts = await loadClientFacts(tx, [...new Set(rows.map(idOf))]);
      const byClient = new Map(facts.map((f) => [f.client.id, f]));
      const deptIds = [...new Set(rows.map((r) => r.departmentId).filter((d): d is number => d !== null))];
      const staff = await loadStaff(tx, facts.flatMap((f) => (f.latestOrder?.handlerId ? [f.latestOrder.handlerId] : [])), deptIds);
      const supIds = staff.map((p) => p.supervisorId).filter((x): x is number => x !== null && !staff.some((s) => s.id === x));
      if (supIds.length) staff.push(...(await tx.select().from(people).where(inArray(people.id, supIds))));
      const routes = new Map<number | null, NoticeRoute>();
      for (const d of new Set(rows.map((r) => r.departmentId))) routes.set(d, await noticeRoute(tx, d));
      return {
        render(row, rule, step, t) {
          const f = byClient.get(idOf(row));
          if (!f) return { target: null, text: '', mentions: [] };
          const s = pb.scheduleById.get(row.ruleId)!;
          const assigned = assigneesOf(pb, f, staff);
          const who = mentionsFor(step.mention, assigned, row.departmentId, staff);
          const methods = s.methods.map((m) => METHOD_NAMES[m]).join('或');
          const premium = f.client.kind === 'premium' ? `（优质客户，由经理及以上负责人回访，${pb.premium.clause}）` : '';
          const text =
            `【回访${late(step.step) ? '逾期' : step.step === 'due' ? '到期' : '提醒'}】${f.client.name}：${s.step}${premium}，` +
            `期限 ${formatInstantInChinese(t.dueAt, cal, { now })}（${rule.clause}）。` +
            `请${assigned.map((p) => p.name).join('、') || '负责人'}以${methods}方式回访，完成后发送 /回访 记录 ${f.client.name} 结果=…，谢谢！`;
          return { ...routed(routes.get(row.departmentId)!, text, row.departmentId), mentions: who.map((p) => ({ userid: p.userid, name: p.name })) };
        },
      };
    },
  };
}

/**
 * The clocks after a visit (`visit:<id>`): the next-day report by the visitor (7.3.1) and the
 * supervisor's review (7.3.2), reminded in the department's internal group.
 */
export function visitClockSubject(pb: VisitPlaybook): TimerSubject {
  return {
    prefix: 'visit',
    rule: (id) => (id === pb.clocks.report.id || id === pb.clocks.review.id ? pb.byId.get(id) : undefined),
    async prepare(tx: Db, rows: TimerRow[], now: Date, cal: WorkCalendar) {
      const ids = [...new Set(rows.map(idOf))];
      const vs = await tx.select({ v: visits, clientName: clients.name }).from(visits).innerJoin(clients, eq(clients.id, visits.clientId)).where(inArray(visits.id, ids));
      const byId = new Map(vs.map((x) => [x.v.id, x]));
      const deptIds = [...new Set(vs.map((x) => x.v.departmentId).filter((d): d is number => d !== null))];
      const staff = await loadStaff(tx, vs.flatMap((x) => (x.v.visitorId ? [x.v.visitorId] : [])), deptIds);
      const supIds = staff.map((p) => p.supervisorId).filter((x): x is number => x !== null && !staff.some((s) => s.id === x));
      if (supIds.length) staff.push(...(await tx.select().from(people).where(inArray(people.id, supIds))));
      const routes = new Map<number | null, NoticeRoute>();
      for (const x of vs) if (!routes.has(x.v.departmentId)) routes.set(x.v.departmentId, await noticeRoute(tx, x.v.departmentId));
      return {
        render(row, rule, step, t) {
          const x = byId.get(idOf(row));
          if (!x) return { target: null, text: '', mentions: [] };
          const visitor = staff.find((p) => p.id === x.v.visitorId);
          const who = mentionsFor(step.mention, visitor ? [visitor] : [], x.v.departmentId, staff);
          const how = rule.id === pb.clocks.report.id ? `/回访 报告 ${visitCode(x.v.id)} <内容>` : `/回访 审阅 ${visitCode(x.v.id)} [意见]`;
          const text =
            `【回访${late(step.step) ? '逾期' : '提醒'}】${visitCode(x.v.id)} ${x.clientName}（${METHOD_NAMES[x.v.method]}回访${visitor ? '，' + visitor.name : ''}）：${rule.step}，` +
            `期限 ${formatInstantInChinese(t.dueAt, cal, { now })}（${rule.clause}）。完成后请发送 ${how}，谢谢！`;
          return { ...routed(routes.get(x.v.departmentId)!, text, x.v.departmentId), mentions: who.map((p) => ({ userid: p.userid, name: p.name })) };
        },
      };
    },
  };
}
