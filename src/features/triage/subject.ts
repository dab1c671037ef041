import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, triageSuggestions } from '../../db/schema';
import type { TimerRow } from '../../core/clocks/clock-store';
import type { TimerSubject } from '../../core/clocks/scheduler';
import type { Person } from '../../core/context';
import { departmentHold } from '../roster';
import { personById, routeOf, suggestionCode, type TriageEnv } from './shared';

/** The reminder clock of an open suggestion: one reminder to the supervisor if nobody decides it in time. */
export function triageTimerSubject(env: TriageEnv): TimerSubject {
  const { rule } = env;

  return {
    prefix: 'triage',
    rule: (id) => (id === rule.id ? rule : undefined),
    async prepare(tx: Db, rows: TimerRow[]) {
      const ids = rows.map((r) => Number(r.subject.split(':')[1])).filter(Number.isInteger);
      const list = ids.length ? await tx.select().from(triageSuggestions).where(inArray(triageSuggestions.id, ids)) : [];
      const byId = new Map(list.map((s) => [s.id, s]));
      const routes = new Map<number, Awaited<ReturnType<typeof routeOf>>>();
      const sups = new Map<number, Person | null>();
      const names = new Map<number, string>();
      for (const s of list) {
        if (s.status !== 'open') continue;
        routes.set(s.id, await routeOf(tx, s));
        sups.set(s.id, await personById(tx, s.supervisorId));
        if (s.clientId) names.set(s.id, (await tx.select({ n: clients.name }).from(clients).where(eq(clients.id, s.clientId)))[0]?.n ?? '客户');
      }
      return {
        render(row) {
          const s = byId.get(Number(row.subject.split(':')[1]));
          const route = s ? routes.get(s.id) : undefined;
          if (!s || !route) return { target: null, text: '', mentions: [] };
          const sup = sups.get(s.id);
          const code = suggestionCode(s.id);
          const text =
            `提醒：疑似投诉 ${code}（${names.get(s.id) ?? '客户'}「${s.evidenceQuote}」）已 10 分钟未确认。` +
            `30 分钟回电期限从客户发消息时算起，请尽快判断：/投诉 确认 ${code}　或　/投诉 忽略 ${code} <原因>。谢谢！`;
          return {
            target: route.kind === 'unrouted' ? null : { platform: route.group.platform, conversationId: route.group.conversationId, internal: true },
            ...(route.kind === 'unrouted' ? { hold: departmentHold(s.departmentId) } : {}),
            text,
            mentions: sup ? [{ userid: sup.userid, name: sup.name }] : [],
          };
        },
      };
    },
  };
}
