import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, complaintEvents, orderEvents, orders } from '../../db/schema';
import { formatInstantInChinese } from '../../domain/calendar';
import { complaintCode, type ComplaintEvent } from '../../domain/complaints';
import { orderCode } from '../../domain/orders';
import type { ParsedArgs } from '../../core/command-parser';
import { type ChatContext, type Person } from '../../core/context';
import { mention, resolvePerson } from '../roster';
import { UserInputError } from '../../core/errors';
import { formatInstant } from '../../domain/calendar/format-instant';
import { type ComplaintRow } from './complaint-clocks';
import { refuse, complaintId, personById, headsOf, managementPeople, type ComplaintKit } from './complaint-kit';

/** Callback, escalation and handling: /回电 /上报 /处理 /说明 /拜访 /更换 (4.2–4.3). */
export function createHandlingCommands(kit: ComplaintKit) {
  const { clocks, load, record, set, clockLines, roleIn, notifyDepartment, isHere } = kit;

  async function complaintCallback(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isHandler || r.isSupervisor || r.isHead || r.isOwner || r.isManagement))
      refuse(`抱歉，${code} 的回电需由被投诉负责人、主管或部门负责人登记。`);
    if (c.status === 'closed') throw new UserInputError(`抱歉，${code} 已经结案了。`);
    if (c.callbackAt) throw new UserInputError(`抱歉，${code} 已在 ${formatInstant(c.callbackAt)} 登记过回电。补充情况请用 /处理 或在结案时写明。`);
    const note = String(args.note);
    await set(ctx, c.id, { callbackAt: ctx.now, callbackNote: note });
    const lateMin = Math.floor((ctx.now.getTime() - c.receivedAt.getTime()) / 60_000) - 30;
    await record(ctx, c, 'callback', note, { minutesAfterReceived: Math.floor((ctx.now.getTime() - c.receivedAt.getTime()) / 60_000) });
    const events: ComplaintEvent[] = ['callback'];
    if (c.escalatedAt && (r.isOwner || r.isHead)) {
      await set(ctx, c.id, { ownerNoteAt: ctx.now, ownerNote: note });
      events.push('owner-acted');
    }
    const clocksText = await clockLines(ctx, c.id, events);
    ctx.reply(
      `已登记 ${code} 的回电：${note}\n辛苦了，谢谢！${lateMin > 0 ? `（距接到投诉已超过 30 分钟时限 ${lateMin} 分钟，已记录）` : ''}${clocksText}`,
    );
  }

  async function complaintEscalate(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isHandler || r.isSupervisor || r.isFirst || r.isOwner || r.isManagement))
      refuse(`抱歉，${code} 需由主管、被投诉负责人或首问负责人上报。`);
    if (c.status === 'closed') throw new UserInputError(`抱歉，${code} 已经结案了。`);
    if (c.escalatedAt) throw new UserInputError(`抱歉，${code} 已在 ${formatInstant(c.escalatedAt)} 上报过部门负责人了。`);
    const heads = await headsOf(ctx.tx, c.departmentId);
    if (!heads.length) throw new UserInputError('抱歉，本部门还没有登记部门负责人，请总经办先用 /成员 添加 登记。');
    const reason = String(args.reason);
    const previous = await personById(ctx.tx, c.ownerId);
    await set(ctx, c.id, { escalatedAt: ctx.now, escalationReason: reason, ownerId: heads[0]!.id });
    await record(ctx, c, 'escalated', reason, { to: heads.map((h) => h.userid) });
    await record(ctx, c, 'handover', `由 ${previous?.name ?? '—'} 移交部门负责人 ${heads[0]!.name}`, { from: previous?.userid ?? null, to: heads[0]!.userid });
    const clocksText = await clockLines(ctx, c.id, ['escalated']);
    const cal = await clocks.calendar(ctx.tx);
    const act = (await clocks.active(ctx.tx, c.id)).find((t) => t.ruleId === 'complaint.head-act');
    const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, c.clientId));
    const text =
      `【投诉上报】${code}（${client?.name ?? ''}）本级不能处理，已上报部门负责人（4.3.3）。\n` +
      `原因：${reason}\n内容：${c.content}\n` +
      `请部门负责人了解投诉内容并及时作出处理意见：/处理 ${code} <意见>${act ? `，期限 ${formatInstantInChinese(act.dueAt, cal, { now: ctx.now })}` : ''}。谢谢！`;
    const here = await isHere(ctx, c);
    await notifyDepartment(ctx, c, text, heads, 'escalated');
    if (!here) ctx.reply(`已把 ${code} 上报给 ${heads.map((h) => h.name).join('、')}，谢谢！${clocksText}`);
    else if (clocksText) ctx.reply(clocksText.trim());
  }

  async function complaintHandle(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isHead || r.isOwner || r.isManagement)) refuse(`抱歉，${code} 的处理意见需由所属部门负责人登记。`);
    if (c.status === 'closed') throw new UserInputError(`抱歉，${code} 已经结案了。`);
    const note = String(args.note);
    await set(ctx, c.id, { ownerNoteAt: ctx.now, ownerNote: note });
    await record(ctx, c, 'handled', note);
    const clocksText = await clockLines(ctx, c.id, ['owner-acted']);
    const handler = await personById(ctx.tx, c.replacementId ?? c.handlerId);
    ctx.reply(`已登记 ${code} 的处理意见：${note}\n谢谢！${handler ? `${mention(handler)} 请按处理意见跟进客户。` : ''}${clocksText}`, handler ? [handler.userid] : []);
  }

  async function complaintExplain(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isSupervisor || r.isHead || r.isManagement)) refuse(`抱歉，${code} 的解释需由主管登记（4.3.1）。`);
    if (c.explainedAt) throw new UserInputError(`抱歉，${code} 已在 ${formatInstant(c.explainedAt)} 登记过解释。`);
    const note = String(args.note);
    await set(ctx, c.id, { explainedAt: ctx.now });
    await record(ctx, c, 'explained', note);
    ctx.reply(`已登记 ${code} 向客户作出的解释：${note}\n谢谢！${await clockLines(ctx, c.id, ['explained'])}`);
  }

  async function complaintVisit(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isHead || r.isManagement)) refuse(`抱歉，${code} 的上门拜访由部门负责人亲自登记（4.3.4）。`);
    const note = String(args.note);
    await record(ctx, c, 'visited', note);
    ctx.reply(`已登记 ${code} 的上门拜访：${note}\n辛苦了，谢谢！${await clockLines(ctx, c.id, ['visited'])}`);
  }

  /** A supervisor's proposal for the new handler still waiting for the head (4.3.2): the latest one after the last change. */
  async function pendingReplacement(tx: Db, complaintIdValue: number) {
    const [e] = await tx
      .select()
      .from(complaintEvents)
      .where(and(eq(complaintEvents.complaintId, complaintIdValue), inArray(complaintEvents.kind, ['replace_proposed', 'replaced'])))
      .orderBy(desc(complaintEvents.id))
      .limit(1);
    if (!e || e.kind !== 'replace_proposed') return null;
    const to = await personById(tx, Number(e.data.toId));
    if (!to || !to.active) return null;
    return { to, by: await personById(tx, e.actorId), note: typeof e.data.note === 'string' ? e.data.note : null };
  }

  /**
   * 4.3.2: the department promises the client another handler at once; the department head (部门经理)
   * talks with the client and picks the new one. The head (or 总经办) names the new handler directly;
   * a supervisor's choice is recorded as a proposal and the head is asked, with a real @, to confirm.
   */
  async function complaintReplace(ctx: ChatContext, args: ParsedArgs) {
    const c = await load(ctx.tx, complaintId(args.ref), true);
    const r = await roleIn(ctx, c);
    const code = complaintCode(c.id);
    if (!(r.isSupervisor || r.isHead || r.isManagement)) refuse(`抱歉，${code} 的更换负责人由部门负责人决定，主管可以提出建议（4.3.2）。`);
    if (c.status === 'closed') throw new UserInputError(`抱歉，${code} 已经结案了。`);
    const decides = r.isHead || r.isManagement;
    const word = String(args.person).trim();
    const note = (args.note as string | undefined) ?? null;
    if (word === '确认' || word.toLowerCase() === 'confirm') {
      if (!decides) refuse(`抱歉，${code} 的新负责人需由部门负责人确认（4.3.2），请等待部门负责人确认，谢谢！`);
      const pending = await pendingReplacement(ctx.tx, c.id);
      if (!pending) throw new UserInputError(`抱歉，${code} 没有待确认的换人建议。请直接指定新负责人：/换人 ${code} @姓名 [说明]`);
      return replaceHandler(ctx, c, pending.to, note ?? pending.note, pending.by);
    }
    const to = await resolvePerson(ctx.tx, word, ctx.message.mentions);
    if (to.role === 'sales' || to.role === 'management') throw new UserInputError(`抱歉，${to.name} 不是服务负责人，请换成具体负责人。`);
    const current = c.replacementId ?? c.handlerId;
    if (to.id === current) throw new UserInputError(`抱歉，${code} 现在就是 ${to.name} 负责，请换成另一位同事。`);
    if (decides) return replaceHandler(ctx, c, to, note, null);

    // A supervisor proposes; the head decides.
    const heads = await headsOf(ctx.tx, c.departmentId);
    const deciders = heads.length ? heads : await managementPeople(ctx.tx);
    const previous = await personById(ctx.tx, current);
    const proposer = ctx.actor.person?.name ?? ctx.actor.displayName;
    await record(ctx, c, 'replace_proposed', `建议更换负责人：${previous?.name ?? '—'} → ${to.name}${note ? '（' + note + '）' : ''}，待部门负责人确认`, {
      toId: to.id,
      to: to.userid,
      note,
      askedTo: deciders.map((p) => p.userid),
    });
    const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, c.clientId));
    const text =
      `【换人待确认】${code}（${client?.name ?? ''}）客户要求更换负责人，部门已承诺无条件更换（4.3.2）。\n` +
      `${proposer} 建议由 ${to.name} 接手${note ? `：${note}` : ''}。请部门负责人与客户沟通后确认：/换人 ${code} 确认，或另选：/换人 ${code} @姓名。`;
    const where = await notifyDepartment(ctx, c, text, deciders, 'replace-proposed');
    if (!where) {
      // No department group: ask here, where the proposal was made.
      ctx.reply(`${text}\n${deciders.map(mention).join(' ')}`, deciders.map((p) => p.userid));
    } else if (!(await isHere(ctx, c))) {
      ctx.reply(
        `已记录 ${code} 的换人建议（${to.name}），已在「${where}」请 ${deciders.map((p) => p.name).join('、')} 确认。确认前相关分配单暂不改派，谢谢！`,
      );
    }
  }

  async function replaceHandler(ctx: ChatContext, c: ComplaintRow, to: Person, note: string | null, proposedBy: Person | null) {
    const code = complaintCode(c.id);
    const current = c.replacementId ?? c.handlerId;
    if (to.id === current) throw new UserInputError(`抱歉，${code} 现在就是 ${to.name} 负责，请换成另一位同事。`);
    const related = c.orderIds.length
      ? await ctx.tx
          .select()
          .from(orders)
          .where(and(inArray(orders.id, c.orderIds), inArray(orders.status, ['new', 'assigned', 'paused'])))
          .orderBy(asc(orders.id))
      : [];
    // The accused handler's orders move; with nobody accused, all related open orders do.
    const moving = related.filter((o) => !c.handlerId || o.handlerId === c.handlerId || o.handlerId === c.replacementId);
    for (const o of moving) {
      await ctx.tx
        .update(orders)
        .set({ handlerId: to.id, status: o.status === 'new' ? 'assigned' : o.status, transferToId: null, transferReason: null, transferRequestedById: null, updatedAt: ctx.now })
        .where(eq(orders.id, o.id));
      await ctx.tx.insert(orderEvents).values({
        orderId: o.id,
        at: ctx.now,
        actorId: ctx.actor.person?.id ?? null,
        kind: 'complaint_handover',
        note: `投诉 ${code}：客户要求更换负责人，改由 ${to.name} 负责${note ? '（' + note + '）' : ''}`,
        data: { from: o.handlerId, to: to.userid, complaint: c.id },
      });
      await ctx.audit('order.complaint_handover', `order:${o.id}`, { complaint: c.id, from: o.handlerId, to: to.userid });
    }
    const previous = await personById(ctx.tx, current);
    const decider = `${ctx.actor.person?.role === 'head' ? '部门负责人' : '总经办'} ${ctx.actor.person?.name ?? ctx.actor.displayName}`;
    await set(ctx, c.id, { replacementId: to.id });
    await record(ctx, c, 'replaced', `更换负责人：${previous?.name ?? '—'} → ${to.name}，${decider} 决定${proposedBy ? `（${proposedBy.name} 建议）` : ''}${note ? '（' + note + '）' : ''}`, {
      from: previous?.userid ?? null,
      to: to.userid,
      decidedBy: ctx.actor.userid,
      proposedBy: proposedBy?.userid ?? null,
      orders: moving.map((o) => o.id),
    });
    ctx.reply(
      `已按客户要求更换负责人（4.3.2，${decider} 决定${proposedBy ? `，${proposedBy.name} 建议` : ''}）：${code} ${moving.length ? `相关分配单 ${moving.map((o) => orderCode(o.id)).join('、')} 现由 ${mention(to)} 负责。` : `现由 ${mention(to)} 负责（没有需要改派的进行中分配单）。`}\n` +
        `${previous ? `${mention(previous)} 请把资料和进展全部交接给新负责人，` : ''}请部门负责人与客户沟通确认，谢谢配合！`,
      [to.userid, ...(previous ? [previous.userid] : [])],
    );
  }

  return {
    handlers: {
      'complaint.callback': complaintCallback,
      'complaint.escalate': complaintEscalate,
      'complaint.handle': complaintHandle,
      'complaint.explain': complaintExplain,
      'complaint.visit': complaintVisit,
      'complaint.replace': complaintReplace,
    } as Record<string, (ctx: ChatContext, args: ParsedArgs) => Promise<void>>,
  };
}
