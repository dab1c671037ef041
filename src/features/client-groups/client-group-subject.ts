import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clientQuestions, clients, groups, orders, people } from '../../db/schema';
import { formatInstantInChinese, type WorkCalendar } from '../../domain/calendar';
import { orderCode } from '../../domain/orders';
import { buildReminderText, type MentionRole } from '../../domain/playbooks';
import { type TimerRow } from '../../core/clocks/clock-store';
import { departmentHold, loadStaff } from '../roster';
import type { TimerSubject } from '../../core/clocks/scheduler';
import { groupName, noticeRoute, type NoticeRoute } from '../roster';
import { CLIENT_GROUP_PREFIX, lastStaffContacts, parseSubject } from './client-group-clocks';
import type { ClientGroupRuleId, ClientGroupRules } from './client-group-rules';

type Person = typeof people.$inferSelect;
type Order = typeof orders.$inferSelect;
type Group = typeof groups.$inferSelect;

/** Where an order's internal notices go: its bound internal group, else its department's route. */
export async function orderNoticeRoute(tx: Db, o: Pick<Order, 'id' | 'departmentId'>): Promise<NoticeRoute> {
  const [own] = await tx
    .select()
    .from(groups)
    .where(and(eq(groups.orderId, o.id), eq(groups.kind, 'internal')))
    .limit(1);
  return own ? { kind: 'department', group: own } : noticeRoute(tx, o.departmentId);
}

/** Whom a role names on an order: its handler, the handler's supervisor; nobody found → the department heads. */
export function orderMentions(roles: readonly MentionRole[], o: Order, staff: Person[]): Person[] {
  const byId = new Map(staff.map((p) => [p.id, p]));
  const inDept = (role: Person['role']) => staff.filter((p) => p.active && p.departmentId === o.departmentId && p.role === role);
  const out = new Map<number, Person>();
  const add = (p: Person | undefined) => p && p.active && out.set(p.id, p);
  const handler = o.handlerId ? byId.get(o.handlerId) : undefined;
  for (const role of roles) {
    if (role === 'handler') add(handler);
    else if (role === 'supervisor') {
      const sup = handler?.supervisorId ? byId.get(handler.supervisorId) : undefined;
      if (sup) add(sup);
      else inDept('supervisor').forEach(add);
    } else if (role === 'head') inDept('head').forEach(add);
    else if (role === 'sales') add(o.salespersonId ? byId.get(o.salespersonId) : undefined);
    else if (role === 'management') staff.filter((p) => p.role === 'management').forEach(add);
  }
  if (!out.size) inDept('head').forEach(add);
  return [...out.values()];
}

const clip = (s: string, n = 60) => (s.length > n ? `${s.slice(0, n)}…` : s);

/**
 * The scheduler's view of the 讨论组 clocks: every step goes to the order's internal group (or its
 * department's 部门群), never to a client group; the due step @-mentions the handler, the escalation
 * the supervisor (rule data). Wording: the shared reminder text plus what is waiting and how to stop it.
 */
export function clientGroupTimerSubject(rules: ClientGroupRules): TimerSubject {
  const ruleOf = (id: string) => rules.byId.get(id as ClientGroupRuleId);
  return {
    prefix: CLIENT_GROUP_PREFIX,
    rule: (id) => ruleOf(id)?.timer,
    async prepare(tx: Db, rows: TimerRow[], now: Date, cal: WorkCalendar) {
      const orderIds = [...new Set(rows.map((r) => r.orderId).filter((x): x is number => x !== null))];
      const list = orderIds.length
        ? await tx.select({ o: orders, clientName: clients.name }).from(orders).innerJoin(clients, eq(clients.id, orders.clientId)).where(inArray(orders.id, orderIds))
        : [];
      const byOrder = new Map(list.map((x) => [x.o.id, x]));
      const handlerIds = list.flatMap((x) => [x.o.handlerId, x.o.salespersonId]).filter((x): x is number => x !== null);
      const deptIds = [...new Set(list.map((x) => x.o.departmentId).filter((x): x is number => x !== null))];
      const staff = await loadStaff(tx, handlerIds, deptIds);
      const extra = staff.map((p) => p.supervisorId).filter((x): x is number => x !== null && !staff.some((s) => s.id === x));
      if (extra.length) staff.push(...(await tx.select().from(people).where(inArray(people.id, extra))));
      const parsed = rows.map((r) => parseSubject(r.subject));
      const questionIds = parsed.filter((p) => p?.kind === 'question').map((p) => p!.id);
      const groupIds = parsed.filter((p) => p?.kind === 'group').map((p) => p!.id);
      const questions = questionIds.length ? await tx.select().from(clientQuestions).where(inArray(clientQuestions.id, questionIds)) : [];
      const waiting = groupIds.length
        ? await tx
            .select()
            .from(clientQuestions)
            .where(and(inArray(clientQuestions.groupId, groupIds), eq(clientQuestions.kind, 'asked'), eq(clientQuestions.state, 'waiting')))
        : [];
      const groupRows = groupIds.length ? await tx.select().from(groups).where(inArray(groups.id, groupIds)) : [];
      const contacts = await lastStaffContacts(tx, orderIds);
      const routes = new Map<number, NoticeRoute>();
      for (const x of list) routes.set(x.o.id, await orderNoticeRoute(tx, x.o));
      const when = (d: Date) => formatInstantInChinese(d, cal, { now });

      function detail(row: TimerRow, o: Order): string {
        const s = parseSubject(row.subject);
        const code = orderCode(o.id);
        switch (row.ruleId as ClientGroupRuleId) {
          case 'client-group.answer': {
            const g = groupRows.find((x) => x.id === s?.id);
            const q = waiting.find((x) => x.groupId === s?.id);
            const asked = q ? `“${clip(q.text)}”（${q.askedBy ?? '客户'}，${when(q.createdAt)}${q.followUps ? `，之后又追问 ${q.followUps} 次` : ''}）` : '';
            return `客户在「${g ? groupName(g) : '客户群'}」里的提问${asked}还没有同事回复。请尽快在群里回复；已私下回复的，请在该群发送 /已私聊 <备注>。`;
          }
          case 'client-group.resolve': {
            const q = questions.find((x) => x.id === s?.id);
            return `待解决问题 Q${s?.id}：${q ? clip(q.text) : ''}。解决后请发送 /已解决 Q${s?.id} <结果>，机器人会在客户群告知客户。`;
          }
          case 'client-group.weekly-contact': {
            const last = contacts.get(o.id);
            return `最近一次联系客户：${last ? when(last) : '没有记录'}。在客户群里回复客户，或发送 /联系 ${code} <电话|上门|邮件|微信> <备注> 登记后重新计时。`;
          }
          case 'client-group.materials-report':
            return `请发送 /材料进度 ${code} <内容>，机器人会把材料进度发到客户群，并重新计时。`;
          case 'client-group.create-group':
            return `请与客户建立讨论组，把项目经理（负责人）拉进群，并在该群里发送 /绑定 ${code}。`;
        }
        return '';
      }

      return {
        render(row, rule, step, t) {
          const x = row.orderId ? byOrder.get(row.orderId) : undefined;
          if (!x) return { target: null, text: '', mentions: [] };
          const o = x.o;
          const handler = staff.find((p) => p.id === o.handlerId);
          const base = buildReminderText({
            rule,
            step: step.step,
            dueAt: t.dueAt,
            calendar: cal,
            now,
            order: { code: orderCode(o.id), clientName: x.clientName, handlerName: handler?.name, fields: o.fields },
          });
          const route = routes.get(o.id)!;
          const text = `${base}\n${detail(row, o)}${route.kind === 'fallback' ? `\n${route.note}` : ''}`;
          const who = orderMentions(step.mention, o, staff);
          return {
            target: route.kind === 'unrouted' ? null : { platform: route.group.platform, conversationId: route.group.conversationId, internal: true },
            ...(route.kind === 'unrouted' ? { hold: departmentHold(o.departmentId) } : {}),
            text,
            mentions: who.map((p) => ({ userid: p.userid, name: p.name })),
          };
        },
      };
    },
  };
}
