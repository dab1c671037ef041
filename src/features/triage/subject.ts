import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, people, triageSuggestions } from '../../db/schema';
import { formatInstantInChinese, type WorkCalendar } from '../../domain/calendar';
import type { MentionRole } from '../../domain/playbooks';
import type { TimerRow } from '../../core/clocks/clock-store';
import type { TimerSubject } from '../../core/clocks/scheduler';
import { departmentHold, loadStaff } from '../roster';
import { routeOf, suggestionCode, type Suggestion, type TriageEnv } from './shared';

type Person = typeof people.$inferSelect;

/** Whom a mention role names on a suggestion; nobody found → the department heads, else 总经办, so no rung goes unheard. */
function suggestionMentions(roles: readonly MentionRole[], s: Suggestion, staff: Person[]): Person[] {
  const active = staff.filter((p) => p.active);
  const inDept = active.filter((p) => s.departmentId !== null && p.departmentId === s.departmentId);
  const out = new Map<number, Person>();
  const add = (p: Person | undefined) => p && out.set(p.id, p);
  for (const role of roles) {
    if (role === 'handler') add(active.find((p) => p.id === s.handlerId));
    else if (role === 'supervisor') {
      const sup = active.find((p) => p.id === s.supervisorId);
      if (sup) add(sup);
      else inDept.filter((p) => p.role === 'supervisor').forEach(add);
    } else if (role === 'head') inDept.filter((p) => p.role === 'head').forEach(add);
    else if (role === 'management') active.filter((p) => p.role === 'management').forEach(add);
  }
  if (!out.size) inDept.filter((p) => p.role === 'head').forEach(add);
  if (!out.size) active.filter((p) => p.role === 'management').forEach(add);
  return [...out.values()];
}

/**
 * The clock of an open suggestion, counted from the client's message: the reminder to the supervisor,
 * then the department head and 总经办 at the complaint playbook's minutes (triage-playbook.ts). Deciding
 * the suggestion (confirm or dismiss) stops it.
 */
export function triageTimerSubject(env: TriageEnv): TimerSubject {
  const { rule } = env;

  return {
    prefix: 'triage',
    rule: (id) => (id === rule.id ? rule : undefined),
    async prepare(tx: Db, rows: TimerRow[], now: Date, cal: WorkCalendar) {
      const ids = rows.map((r) => Number(r.subject.split(':')[1])).filter(Number.isInteger);
      const list = ids.length ? await tx.select().from(triageSuggestions).where(inArray(triageSuggestions.id, ids)) : [];
      const byId = new Map(list.map((s) => [s.id, s]));
      const routes = new Map<number, Awaited<ReturnType<typeof routeOf>>>();
      const names = new Map<number, string>();
      const open = list.filter((s) => s.status === 'open');
      for (const s of open) {
        routes.set(s.id, await routeOf(tx, s));
        if (s.clientId) names.set(s.id, (await tx.select({ n: clients.name }).from(clients).where(eq(clients.id, s.clientId)))[0]?.n ?? '客户');
      }
      const staff = await loadStaff(
        tx,
        open.flatMap((s) => [s.handlerId, s.supervisorId]).filter((v): v is number => v !== null),
        open.map((s) => s.departmentId).filter((v): v is number => v !== null),
      );
      return {
        render(row, _rule, step, t) {
          const s = byId.get(Number(row.subject.split(':')[1]));
          const route = s ? routes.get(s.id) : undefined;
          if (!s || !route) return { target: null, text: '', mentions: [] };
          const code = suggestionCode(s.id);
          const minutes = Math.round((step.at.getTime() - t.startedAt.getTime()) / 60_000);
          const about = `疑似投诉 ${code}（${names.get(s.id) ?? '客户'}「${s.evidenceQuote}」，客户 ${formatInstantInChinese(s.firstAt, cal, { now })} 发的消息）`;
          const decide = `/投诉 确认 ${code}　或　/投诉 忽略 ${code} <原因>`;
          const text =
            step.step === 'overdue_management'
              ? `【疑似投诉超时·报总经办】${about}已 ${minutes} 分钟无人确认或忽略，部门负责人也未处理，特报总经办知悉。请尽快安排回电客户：${decide}。依据：服务标准 ${rule.clause}。`
              : step.step === 'overdue_head'
                ? `【疑似投诉超时·请部门负责人处理】${about}已 ${minutes} 分钟未确认，30 分钟回电期限已到。请部门负责人立即了解情况、安排回电客户：${decide}。依据：服务标准 ${rule.clause}。`
                : `提醒：${about}已 ${minutes} 分钟未确认。30 分钟回电期限从客户发消息时算起，请尽快判断：${decide}。谢谢！`;
          const who = suggestionMentions(step.mention, s, staff);
          return {
            target: route.kind === 'unrouted' ? null : { platform: route.group.platform, conversationId: route.group.conversationId, internal: true },
            ...(route.kind === 'unrouted' ? { hold: departmentHold(s.departmentId) } : {}),
            text: route.kind === 'fallback' ? `${text}\n${route.note}` : text,
            mentions: who.map((p) => ({ userid: p.userid, name: p.name })),
          };
        },
      };
    },
  };
}
