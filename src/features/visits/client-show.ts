import { and, count, desc, eq, not, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { complaints, orders, people, visits } from '../../db/schema';
import { formatInstantInChinese, type WorkCalendar } from '../../domain/calendar';
import { complaintCode } from '../../domain/complaints';
import { orderCode, STATUS_NAMES } from '../../domain/orders';
import type { ParsedArgs } from '../../core/command-parser';
import type { CalendarProvider } from '../../core/clocks/clock-store';
import type { ChatContext } from '../../core/context';
import { PermissionError } from '../../core/errors';
import { formatInstant } from '../../domain/calendar/format-instant';
import { accessScope, canSee, clientRefusalText, COMPLAINT_FACTS, ORDER_FACTS, readerOf, scopeInWords, scopeWhere, VISIT_FACTS } from '../roster';
import { KIND_NAMES, METHOD_NAMES } from './schedule';
import type { VisitPlaybook } from './visit-playbook';
import { runningDueVisits, type ClientRow } from './visit-store';
import { clip, lastContact, visitStatus } from './lookups';

/** Next due visits of a client, one line each, from the running clocks. */
export async function nextDueLines(tx: Db, pb: VisitPlaybook, clientId: number, cal: WorkCalendar, now: Date): Promise<string[]> {
  return (await runningDueVisits(tx, { clientId })).map(({ t }) => {
    const s = pb.scheduleById.get(t.ruleId);
    const late = t.dueAt.getTime() < now.getTime() ? '，已逾期' : '';
    return `· ${s?.step ?? t.ruleId}｜期限 ${formatInstantInChinese(t.dueAt, cal, { now })}${late}（${s?.clause ?? ''}）`;
  });
}

/**
 * `/客户 查 <客户>`: the client's orders, complaints and visits as far as the record-access rule lets
 * the sender see them (roster: canSee), its due visits and last contact. The client's file itself is
 * shown to its 业务员, to 总经办, and to whoever may see at least one of its records; anyone else is
 * refused with the reason.
 */
export function createClientShow(deps: { playbook: VisitPlaybook; calendar: CalendarProvider; needClient: (tx: Db, name: unknown) => Promise<ClientRow> }) {
  return async (ctx: ChatContext, args: ParsedArgs) => {
    const c = await deps.needClient(ctx.tx, args.client);
    const reader = readerOf(ctx.actor);
    const scope = accessScope(reader);
    const visible = { orders: scopeWhere(scope, ORDER_FACTS), complaints: scopeWhere(scope, COMPLAINT_FACTS), visits: scopeWhere(scope, VISIT_FACTS) };
    const os = await ctx.tx
      .select({ o: orders, handler: people.name })
      .from(orders)
      .leftJoin(people, eq(people.id, orders.handlerId))
      .where(and(eq(orders.clientId, c.id), visible.orders))
      .orderBy(desc(orders.id))
      .limit(10);
    const cs = await ctx.tx.select().from(complaints).where(and(eq(complaints.clientId, c.id), visible.complaints)).orderBy(desc(complaints.id)).limit(5);
    const vs = await ctx.tx
      .select({ v: visits, visitor: people.name })
      .from(visits)
      .leftJoin(people, eq(people.id, visits.visitorId))
      .where(and(eq(visits.clientId, c.id), visible.visits))
      .orderBy(desc(visits.id))
      .limit(5);
    const ownsClient = canSee(reader, { owners: [c.salespersonId], departmentId: null, workers: [], open: false }).ok;
    if (!ownsClient && !os.length && !cs.length && !vs.length) throw new PermissionError(clientRefusalText(c.name, reader));
    const hidden = scope.all ? 0 : await hiddenCount(ctx.tx, c.id, visible);
    const cal = await deps.calendar(ctx.tx);
    const [sales] = c.salespersonId ? await ctx.tx.select().from(people).where(eq(people.id, c.salespersonId)) : [];
    const last = await lastContact(ctx.tx, c.id);
    const lines = [
      `客户「${c.name}」｜${KIND_NAMES[c.kind]}客户｜联系人：${c.contactName ?? '—'}｜电话：${c.phone ?? '—'}｜业务员：${sales?.name ?? '—'}`,
      `分配单${os.length ? `（最近 ${os.length} 张）` : '：无'}`,
      ...os.map(({ o, handler }) => `· ${orderCode(o.id)} ${o.serviceType}｜${STATUS_NAMES[o.status]}｜负责人：${handler ?? '—'}${o.lastStep ? `｜${o.lastStep}` : ''}`),
      `投诉${cs.length ? '' : '：无'}`,
      ...cs.map((x) => `· ${complaintCode(x.id)} ${x.level ? x.level + ' 级' : '待定级'}｜${x.status === 'closed' ? '已结案' : x.status === 'voided' ? '已撤销' : '处理中'}｜${formatInstant(x.receivedAt)}｜${clip(x.content, 30)}`),
      `回访${vs.length ? '' : '：还没有记录'}`,
      ...vs.map(({ v, visitor }) => `· V${v.id} ${METHOD_NAMES[v.method]}｜${visitStatus(v)}｜${visitor ?? '—'}${v.result ? `｜${clip(v.result, 30)}` : ''}${v.note ? `｜${clip(v.note, 30)}` : ''}`),
    ];
    const due = await nextDueLines(ctx.tx, deps.playbook, c.id, cal, ctx.now);
    if (due.length) lines.push('待回访：', ...due);
    lines.push(`最近联系：${last ? `${formatInstantInChinese(last.at, cal, { now: ctx.now })} ${last.name}：${clip(last.text, 40)}` : '客户群里还没有同事的发言记录'}`);
    if (hidden) lines.push(`（另有 ${hidden} 条记录不在您的查看范围内；您可以查看${scopeInWords(reader)}。）`);
    ctx.reply(lines.join('\n'));
  };
}

/** How many of the client's orders, complaints and visits the scope leaves out. */
async function hiddenCount(tx: Db, clientId: number, visible: { orders: SQL; complaints: SQL; visits: SQL }): Promise<number> {
  const n = async (q: Promise<{ n: number }[]>) => Number((await q)[0]?.n ?? 0);
  return (
    (await n(tx.select({ n: count() }).from(orders).where(and(eq(orders.clientId, clientId), not(visible.orders))))) +
    (await n(tx.select({ n: count() }).from(complaints).where(and(eq(complaints.clientId, clientId), not(visible.complaints))))) +
    (await n(tx.select({ n: count() }).from(visits).where(and(eq(visits.clientId, clientId), not(visible.visits)))))
  );
}
