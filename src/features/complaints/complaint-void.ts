import { desc, eq, and, ne, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { complaintEvents, complaints, timers } from '../../db/schema';
import { complaintCode } from '../../domain/complaints';
import { cancelTimer } from '../../domain/timers';
import { activeTimers, fromRow, toRow } from '../../core/clocks/clock-store';
import type { ParsedArgs } from '../../core/command-parser';
import type { ChatContext } from '../../core/context';
import { UserInputError } from '../../core/errors';
import { complaintSubject } from './complaint-clocks';
import { refuse, complaintId, type ComplaintKit } from './complaint-kit';

/**
 * The complaints that count: every figure of complaints (the rate of 4.4.3, `/投诉 列表`, the monthly
 * report, exports, the 看板) leaves out the voided ones. One predicate, so they all agree.
 */
export const countedComplaint: SQL = ne(complaints.status, 'voided');

/** Why a complaint was voided (the reason of its last `voided` event), for `/查 T7`. */
export async function voidReason(tx: Db, id: number): Promise<string | null> {
  const [e] = await tx
    .select({ note: complaintEvents.note })
    .from(complaintEvents)
    .where(and(eq(complaintEvents.complaintId, id), eq(complaintEvents.kind, 'voided')))
    .orderBy(desc(complaintEvents.id))
    .limit(1);
  return e?.note ?? null;
}

/**
 * `/投诉 撤销 T3 <原因>`: a duplicate or a mistake is voided by a supervisor or above. The row and its
 * timeline stay (the audit trail); its clocks stop; it counts in no figure (`countedComplaint`).
 */
export function createVoidCommand(kit: ComplaintKit) {
  const { pb, record, set, roleIn } = kit;

  async function complaintVoid(ctx: ChatContext, args: ParsedArgs) {
    const id = complaintId(args.ref);
    const code = complaintCode(id);
    const [c] = await ctx.tx.select().from(complaints).where(eq(complaints.id, id)).for('update');
    if (!c) throw new UserInputError(`抱歉，没有找到投诉 ${code}，请核对编号（可发送 /投诉 列表 查看）。`);
    const r = await roleIn(ctx, c);
    if (!(r.isSupervisor || r.isHead || r.isManagement)) refuse(`抱歉，${code} 需由所属部门的主管、部门负责人或总经办撤销。`);
    if (c.status === 'voided') throw new UserInputError(`抱歉，${code} 已经撤销了（原因：${(await voidReason(ctx.tx, id)) ?? '—'}）。`);
    const reason = String(args.reason).trim().slice(0, 500);
    await set(ctx, id, { status: 'voided' });
    // Every running clock of the complaint stops: a voided complaint is reminded of no more.
    const cal = await kit.clocks.calendar(ctx.tx);
    const stopped: string[] = [];
    for (const row of await activeTimers(ctx.tx, complaintSubject(id))) {
      const rule = pb.byId.get(row.ruleId);
      if (!rule) continue;
      const t = cancelTimer(fromRow(row), ctx.now);
      await ctx.tx.update(timers).set({ ...toRow(t, rule.timer, cal), updatedAt: ctx.now }).where(eq(timers.id, row.id));
      await ctx.audit('timer.cancelled', complaintSubject(id), { rule: rule.id, clause: rule.clause, dueAt: t.dueAt.toISOString(), voided: true });
      stopped.push(rule.step);
    }
    await record(ctx, c, 'voided', reason, { from: c.status, clocks: stopped });
    ctx.reply(
      `已撤销投诉 ${code}（原因：${reason}），谢谢！\n记录仍然保留（/查 ${code} 可见），不计入投诉率、报表、导出和看板。` +
        (stopped.length ? `\n⏱ 已停止：${stopped.join('、')}` : ''),
    );
  }

  return { handlers: { 'complaint.void': complaintVoid } as Record<string, (ctx: ChatContext, args: ParsedArgs) => Promise<void>> };
}
