import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, complaintEvents, complaints, people, timers } from '../../db/schema';
import { formatInstantInChinese } from '../../domain/calendar';
import { complaintCode, type ComplaintPlaybook } from '../../domain/complaints';
import { ladder, markStepsSent } from '../../domain/timers';
import { activeTimers, fromRow, toRow, type CalendarProvider } from '../../core/clocks/clock-store';
import type { EventContext } from '../../core/events';
import { enqueue, writeAudit } from '../../core/records';
import { holdNotice, mention, noticeRoute } from '../roster';
import { complaintSubject } from './complaint-clocks';
import { recordBreach } from './complaint-subject';
import type { ClientFollowUpInput } from './events';

type Person = typeof people.$inferSelect;

/** The complaint's side of a suggestion's life: a client's follow-up attached, a confirmed suggestion's clock continued. */
export function createContinuation(deps: { playbook: ComplaintPlaybook; calendar: CalendarProvider }) {
  const { playbook: pb } = deps;

  async function attachClientMessage(ctx: EventContext, input: ClientFollowUpInput): Promise<{ id: number; code: string } | null> {
    const { tx, now } = ctx;
    if (!input.complaintIds.length) return null;
    const open = await tx
      .select({ c: complaints, clientName: clients.name })
      .from(complaints)
      .innerJoin(clients, eq(clients.id, complaints.clientId))
      .where(and(inArray(complaints.id, input.complaintIds), eq(complaints.status, 'open')));
    const found = input.complaintIds.map((id) => open.find((o) => o.c.id === id)).find((o) => !!o);
    if (!found) return null;
    const { c, clientName } = found;
    const code = complaintCode(c.id);
    const m = input.message;
    // The same client message (a model's second reading of it) is one entry, one notice.
    const [seen] = await tx
      .select({ id: complaintEvents.id })
      .from(complaintEvents)
      .where(and(eq(complaintEvents.complaintId, c.id), eq(complaintEvents.kind, 'client_message'), sql`${complaintEvents.data}->>'messageId' = ${m.id}`))
      .limit(1);
    if (seen) return { id: c.id, code };
    const text = m.text.slice(0, 500);
    await tx.insert(complaintEvents).values({ complaintId: c.id, at: now, kind: 'client_message', note: `${m.senderName ?? '客户'}：${text}`, data: { messageId: m.id, at: m.at.toISOString() } });
    await writeAudit(tx, { at: now, actor: ctx.actor, action: 'complaint.client_message', subject: complaintSubject(c.id), data: { messageId: m.id } });

    // Its handler (the replacement when there is one; none named: the supervisor), and its owner.
    const ids = [...new Set([c.replacementId ?? c.handlerId ?? c.supervisorId, c.ownerId].filter((v): v is number => v !== null))];
    const rows = ids.length ? await tx.select().from(people).where(and(inArray(people.id, ids), eq(people.active, true))) : [];
    const who = ids.map((id) => rows.find((p) => p.id === id)).filter((p): p is Person => !!p);
    const cal = await deps.calendar(tx);
    const lines = [
      `投诉 ${code}（${clientName}）客户追加消息：「${text}」`,
      `发消息的客户：${m.senderName ?? '客户'}　时间：${formatInstantInChinese(m.at, cal, { now })}`,
      `已记入 ${code} 的投诉记录，请负责人跟进并回复客户（/查 ${code} 可看全部记录）。谢谢！`,
    ];
    const tags = who.map(mention).join(' ');
    const route = await noticeRoute(tx, c.departmentId);
    const payload = { text: `${lines.join('\n')}${route.kind === 'fallback' ? `\n${route.note}` : ''}${tags ? `\n${tags}` : ''}`, mentions: who.map((p) => p.userid), internal: true };
    const key = `complaint:${c.id}:client-message:${m.id}`;
    if (route.kind === 'unrouted') await holdNotice(tx, c.departmentId, payload, now, key);
    else await enqueue(tx, { platform: route.group.platform, conversationId: route.group.conversationId, payload, dedupeKey: key, now });
    return { id: c.id, code };
  }

  async function continueTriageClock(ctx: EventContext, p: { complaintId: number; toldUntil: Date; suggestion: string }) {
    const { tx, now } = ctx;
    const cal = await deps.calendar(tx);
    for (const row of await activeTimers(tx, complaintSubject(p.complaintId))) {
      const rule = pb.byId.get(row.ruleId);
      if (!rule || rule.timer.trigger.kind === 'schedule') continue;
      const t = fromRow(row);
      const told = ladder(t, rule.timer, cal).filter((s) => s.at.getTime() <= p.toldUntil.getTime() && !t.stepsSent.includes(s.step));
      if (!told.length) continue;
      const next = markStepsSent(t, told);
      await tx.update(timers).set({ ...toRow(next, rule.timer, cal, now), updatedAt: now }).where(eq(timers.id, row.id));
      const steps = told.map((s) => s.step);
      await tx.insert(complaintEvents).values({
        complaintId: p.complaintId,
        at: now,
        kind: 'triage_told',
        note: `「${rule.step}」的提醒在疑似投诉 ${p.suggestion} 阶段已发出，不再重复`,
        data: { rule: rule.id, steps, timer: row.id },
      });
      if (rule.breach && steps.includes('due')) await recordBreach(tx, p.complaintId, rule, t.dueAt, now, cal, row.id);
    }
  }

  return { attachClientMessage, continueTriageClock };
}
