/** An order's life after assignment: steps, payment, pause and resume, review, finishing, its dates and checked-off clocks. */
import { and, or } from 'drizzle-orm';
import * as rules from '../../domain/orders';
import { orderCode, STATUS_NAMES } from '../../domain/orders';
import type { ParsedArgs } from '../../core/command-parser';
import { mention } from '../roster';
import type { OrderContext } from './order-context';
import { normaliseDate } from '../../core/command-parser';
import { UserInputError } from '../../core/errors';
import type { ClockChange } from './order-clocks';
import { eventsInNote } from '../../domain/playbooks';
import { isClientDropOut } from '../../domain/cancel-reason';
import { DEADLINE_FIELDS, refusePastDeadlines } from './past-dates';
import { loadOrder, personById, involvement, refuse, recordOrderEvent, update, clockLines, check } from './shared';

export async function orderStep(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!inv.any) refuse(`抱歉，只有 ${orderCode(o.id)} 的负责人、主管、业务员或部门负责人可以记录进度。`);
  check(rules.ensureOpen(o));
  const note = String(args.note);
  await update(ctx, o.id, { lastStep: note });
  const events = eventsInNote(note);
  await recordOrderEvent(ctx, o.id, 'step', note, events.length ? { events } : {});
  if (events.includes('payment.confirmed') && !o.paid) await update(ctx, o.id, { paid: true });
  const clocks = await clockLines(ctx, await ctx.clocks.events(ctx.tx, o.id, events, ctx.now, ctx.actor));
  ctx.reply(`已记录 ${orderCode(o.id)} 的进度：${note}\n谢谢！${clocks}`);
}

export async function orderPaid(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!(inv.isSales || inv.isHead || inv.isManagement)) refuse(`抱歉，${orderCode(o.id)} 的收款需由所属业务员或部门负责人确认。`);
  if (o.paid) throw new UserInputError(`${orderCode(o.id)} 已经确认过收款了。`);
  check(rules.ensureOpen(o));
  await update(ctx, o.id, { paid: true });
  await recordOrderEvent(ctx, o.id, 'paid', null);
  // 3.5.2: the payment lifts a pause for non-payment; its clocks go on with the working time they had left.
  const pausedKind = o.status === 'paused' ? (o.pauseKind ?? rules.classifyPause(o.pauseReason)) : null;
  let lifted = '';
  const changes: ClockChange[] = [];
  if (pausedKind === 'unpaid') {
    const next = check(rules.resume(o));
    await update(ctx, o.id, { ...next, pauseReason: null, pauseKind: null });
    await recordOrderEvent(ctx, o.id, 'resumed', '收款后自动恢复（3.5.2）');
    changes.push(...(await ctx.clocks.resume(ctx.tx, o.id, ctx.now, ctx.actor)));
    lifted = `\n${orderCode(o.id)} 因未付款暂停（${o.pauseReason ?? '未付款'}），现已自动恢复（3.5.2），状态：${STATUS_NAMES[next.status]}，计时按暂停时剩余的工作时间继续。`;
  } else if (pausedKind) {
    lifted = `\n${orderCode(o.id)} 仍处于暂停（${rules.PAUSE_KIND_NAMES[pausedKind]}：${o.pauseReason ?? ''}），不是因为付款，所以没有自动恢复；可以继续时请发送 /恢复 ${orderCode(o.id)}。`;
  }
  changes.push(...(await ctx.clocks.events(ctx.tx, o.id, ['payment.confirmed'], ctx.now, ctx.actor)));
  const clocks = await clockLines(ctx, changes);
  const goOn = inv.handler && pausedKind !== 'client' && pausedKind !== 'other' ? `\n${mention(inv.handler)} 可以继续办理了。` : '';
  ctx.reply(`已确认 ${orderCode(o.id)} 客户付款，谢谢！${lifted}${goOn}${clocks}`, goOn && inv.handler ? [inv.handler.userid] : []);
}

export async function orderPause(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!inv.any) refuse(`抱歉，只有 ${orderCode(o.id)} 的相关同事可以暂停它。`);
  const next = check(rules.pause(o));
  const reason = String(args.reason);
  const kind = rules.classifyPause(reason, args.kind as string | undefined);
  await update(ctx, o.id, { ...next, pauseReason: reason, pauseKind: kind });
  await recordOrderEvent(ctx, o.id, 'paused', reason, { kind });
  const paused = await ctx.clocks.pause(ctx.tx, o.id, ctx.now, ctx.actor);
  const how =
    kind === 'unpaid' && !o.paid
      ? `业务员确认收款（/收款 ${orderCode(o.id)}）后会自动恢复；也可以发送 /恢复 ${orderCode(o.id)}`
      : `恢复时请发送 /恢复 ${orderCode(o.id)}`;
  ctx.reply(
    `已暂停 ${orderCode(o.id)}（${rules.PAUSE_KIND_NAMES[kind]}：${reason}）${paused.length ? `，${paused.length} 项计时同时停止` : ''}。${how}。`,
  );
}

export async function orderResume(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!inv.any) refuse(`抱歉，只有 ${orderCode(o.id)} 的相关同事可以恢复它。`);
  const next = check(rules.resume(o));
  await update(ctx, o.id, { ...next, pauseReason: null, pauseKind: null });
  await recordOrderEvent(ctx, o.id, 'resumed', null);
  const clocks = await clockLines(ctx, await ctx.clocks.resume(ctx.tx, o.id, ctx.now, ctx.actor));
  const mentions = inv.handler ? [inv.handler.userid] : [];
  ctx.reply(
    `已恢复 ${orderCode(o.id)}，状态：${STATUS_NAMES[next.status]}。${inv.handler ? mention(inv.handler) + ' 请继续跟进，辛苦了！' : ''}${clocks}`,
    mentions,
  );
}

export async function orderApprove(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!(inv.isHead || inv.isManagement)) refuse(`抱歉，${orderCode(o.id)} 的转交需由所属部门负责人批准。`);
  const next = check(rules.approveTransfer(o));
  const to = (await personById(ctx.tx, next.handlerId))!;
  await update(ctx, o.id, { ...next, transferReason: null, transferRequestedById: null, status: o.status === 'new' ? 'assigned' : o.status });
  await recordOrderEvent(ctx, o.id, 'transfer_approved', null, { from: inv.handler?.userid ?? null, to: to.userid });
  const mentions = [to.userid, ...(inv.handler ? [inv.handler.userid] : [])];
  ctx.reply(
    `已批准 ${orderCode(o.id)} 转交：现由 ${mention(to)} 负责。\n` +
      `${inv.handler ? mention(inv.handler) + ' 请把资料和进展全部交接给新负责人，' : ''}谢谢配合！`,
    mentions,
  );
}

export async function orderReject(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!(inv.isHead || inv.isManagement)) refuse(`抱歉，${orderCode(o.id)} 的转交需由所属部门负责人审批。`);
  const next = check(rules.rejectTransfer(o));
  const requester = await personById(ctx.tx, o.transferRequestedById);
  await update(ctx, o.id, { ...next, transferReason: null, transferRequestedById: null });
  await recordOrderEvent(ctx, o.id, 'transfer_rejected', String(args.reason));
  ctx.reply(
    `已驳回 ${orderCode(o.id)} 的转交申请（原因：${args.reason}）。${requester ? mention(requester) + ' 请知悉。' : ''}`,
    requester ? [requester.userid] : [],
  );
}

export async function orderFinish(ctx: OrderContext, args: ParsedArgs, to: 'done' | 'cancelled') {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (to === 'done' && !(inv.isHandler || inv.isSupervisor || inv.isHead || inv.isManagement))
    refuse(`抱歉，只有 ${orderCode(o.id)} 的负责人、主管或部门负责人可以标记完成。`);
  if (to === 'cancelled' && !(inv.isSales || inv.isHead || inv.isManagement))
    refuse(`抱歉，${orderCode(o.id)} 需由所属业务员或部门负责人取消。`);
  const next = check(rules.finish(o, to));
  let note = ((args.note ?? args.reason ?? null) as string | null)?.trim() || null;
  // 3.5.2: work on an unpaid order waits for payment; completing it anyway is said out loud and recorded.
  const unpaid = to === 'done' && !o.paid;
  const confirmed = to === 'done' && note !== null && /^确认(\s|$)/.test(note);
  if (confirmed) note = note!.replace(/^确认\s*/, '') || null;
  if (unpaid) {
    if (!confirmed) {
      ctx.reply(
        `${orderCode(o.id)} 还没有确认收款（3.5.2：未付款的分配单应暂停，待业务员 /收款 ${orderCode(o.id)} 后再继续）。\n` +
          `如确需在未收款的情况下标记完成，请发送 /完成 ${orderCode(o.id)} 确认 ${note ?? '[备注]'}，记录里会注明「未收款完成」。`,
      );
      return;
    }
  }
  await update(ctx, o.id, { ...next, transferToId: null });
  await recordOrderEvent(ctx, o.id, to, unpaid ? `未收款完成${note ? '：' + note : ''}` : note, unpaid ? { unpaid: true } : {});
  const stopped = await clockLines(ctx, await ctx.clocks.close(ctx.tx, o.id, to, ctx.now, ctx.actor));
  const sales = await personById(ctx.tx, o.salespersonId);
  if (to === 'done') {
    const unpaidLine = unpaid ? `\n注意：${orderCode(o.id)} 未收款即完成，已记录在案${sales ? `，请 ${mention(sales)} 跟进收款` : ''}。` : '';
    ctx.reply(`${orderCode(o.id)} 已标记完成${note ? '（' + note + '）' : ''}，大家辛苦了！${unpaidLine}${stopped}`, unpaid && sales ? [sales.userid] : []);
    return;
  }
  // 3.5.1 / 3.5.3: the salesperson is told; keeping the evidence is the handler's duty.
  const tellSales = sales && sales.id !== ctx.actor.person?.id ? sales : null;
  const handler = inv.handler;
  ctx.reply(
    `${orderCode(o.id)} 已取消（原因：${note}）。` +
      (tellSales ? `${mention(tellSales)} 请知悉。` : '') +
      (handler && isClientDropOut(note) ? `\n${mention(handler)} 请保留相关证据（沟通记录、客户的书面说明等，3.5.1、3.5.3）。` : '') +
      stopped,
    [...(tellSales ? [tellSales.userid] : []), ...(handler && isClientDropOut(note) ? [handler.userid] : [])],
  );
}

/**
 * 3.5.1 / 3.5.3: the handler records that the client cannot go on or has dropped out. The salesperson
 * is told at once (a real @); the order pauses (等客户) so its clocks stop while they find the cause;
 * the handler is asked to keep the evidence. If it truly cannot go on, /取消 closes it.
 */
export async function orderDropOut(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!(inv.isHandler || inv.isSupervisor || inv.isHead || inv.isManagement))
    refuse(`抱歉，${orderCode(o.id)} 的客户无法继续或退出，需由具体负责人（或其主管、部门负责人）登记。`);
  check(rules.ensureOpen(o));
  const reason = String(args.reason);
  await recordOrderEvent(ctx, o.id, 'dropout', reason);
  let paused: ClockChange[] = [];
  if (o.status !== 'paused') {
    const next = check(rules.pause(o));
    await update(ctx, o.id, { ...next, pauseReason: `客户无法继续或退出：${reason}`, pauseKind: 'client' });
    await recordOrderEvent(ctx, o.id, 'paused', `客户无法继续或退出：${reason}`, { kind: 'client' });
    paused = await ctx.clocks.pause(ctx.tx, o.id, ctx.now, ctx.actor);
  }
  const sales = await personById(ctx.tx, o.salespersonId);
  const handler = inv.handler;
  const lines = [
    `已记录 ${orderCode(o.id)}：客户无法继续或退出（原因：${reason}）。${o.status === 'paused' ? '' : `本单已暂停${paused.length ? `，${paused.length} 项计时同时停止` : ''}。`}`,
    sales
      ? `${mention(sales)} 请知悉（3.5.1、3.5.3），并与负责人一起了解原因、商量解决办法；确实做不了的，请发送 /取消 ${orderCode(o.id)} <原因>，可以继续时发送 /恢复 ${orderCode(o.id)}。`
      : `本单没有登记业务员，请部门负责人通知所属业务员（3.5.1、3.5.3）。`,
    handler
      ? `${mention(handler)} 请保留相关证据（沟通记录、客户的书面说明等），可用 /进度 ${orderCode(o.id)} 证据：… 登记。`
      : `本单还没有具体负责人，请部门负责人安排留存相关证据。`,
  ];
  ctx.reply(lines.join('\n'), [...(sales ? [sales.userid] : []), ...(handler ? [handler.userid] : [])]);
}

/** Date fields and facts the playbooks read (SERVICE-RULES.md); 截止 is the order's own deadline. */
export const ORDER_FIELDS: Record<string, 'date' | 'number' | 'text'> = {
  申报截止: 'date',
  提交时间: 'date',
  年费到期: 'date',
  合同开始: 'date',
  合同结束: 'date',
  资助申报截止: 'date',
  执行期月数: 'number',
  事务: 'text',
  需要答辩: 'text',
};

export async function orderSet(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!inv.any) refuse(`抱歉，只有 ${orderCode(o.id)} 的相关同事可以修改它。`);
  check(rules.ensureOpen(o));
  const fields: Record<string, string> = { ...o.fields };
  let deadline = o.deadline;
  const changed: string[] = [];
  const words = String(args.pairs).split(/[\s\u3000]+/).filter(Boolean);
  const confirmed = words.some((w) => w === '确认' || w === 'confirm');
  const dates: { label: string; date: string }[] = [];
  for (const pair of words.filter((w) => w !== '确认' && w !== 'confirm')) {
    const m = /^([^=＝:：]+)[=＝:：](.*)$/.exec(pair);
    if (!m) throw new UserInputError(`「${pair}」不是「字段=值」的形式。例如：/单 设置 ${orderCode(o.id)} 申报截止=2026-12-20`);
    const key = m[1]!.trim();
    const raw = m[2]!.trim();
    if (key === '截止') {
      const d = normaliseDate(raw);
      if (!d) throw new UserInputError(`「${raw}」不是有效日期（应为 YYYY-MM-DD）。`);
      deadline = d;
      dates.push({ label: key, date: d });
      changed.push('申报截止');
      continue;
    }
    const kind = ORDER_FIELDS[key];
    if (!kind) throw new UserInputError(`不认识字段「${key}」。可设置：截止、${Object.keys(ORDER_FIELDS).join('、')}。`);
    if (raw === '' || raw === '无' || raw === '清除') {
      delete fields[key];
    } else if (kind === 'date') {
      const d = normaliseDate(raw);
      if (!d) throw new UserInputError(`「${key}」应为日期（YYYY-MM-DD），「${raw}」无效。`);
      fields[key] = d;
      if (DEADLINE_FIELDS.has(key)) dates.push({ label: key, date: d });
    } else if (kind === 'number') {
      if (!/^\d{1,4}$/.test(raw)) throw new UserInputError(`「${key}」应为整数，「${raw}」无效。`);
      fields[key] = raw;
    } else {
      fields[key] = raw.slice(0, 100);
    }
    changed.push(key);
  }
  if (!changed.length) throw new UserInputError(`请写出要设置的字段，例如：/单 设置 ${orderCode(o.id)} 申报截止=2026-12-20`);
  await refusePastDeadlines(ctx, dates, confirmed, `/单 设置 ${orderCode(o.id)} ${words.filter((w) => w !== '确认' && w !== 'confirm').join(' ')}`);
  await update(ctx, o.id, { fields, deadline });
  await recordOrderEvent(ctx, o.id, 'fields', changed.map((k) => `${k}=${k === '申报截止' && !fields[k] ? deadline : (fields[k] ?? '（已清除）')}`).join(' '));
  const clocks = await clockLines(ctx, await ctx.clocks.fieldsChanged(ctx.tx, o.id, changed, ctx.now, ctx.actor));
  ctx.reply(`已更新 ${orderCode(o.id)}：${changed.join('、')}。谢谢！${clocks}`);
}

export async function orderCheckoff(ctx: OrderContext, args: ParsedArgs) {
  const o = await loadOrder(ctx.tx, Number(args.order), true);
  const inv = await involvement(ctx, o);
  if (!inv.any) refuse(`抱歉，只有 ${orderCode(o.id)} 的相关同事可以登记它的计时。`);
  const active = await ctx.clocks.active(ctx.tx, o.id);
  if (!active.length) throw new UserInputError(`${orderCode(o.id)} 目前没有进行中的计时。`);
  const which = String(args.which).trim();
  const byNumber = /^\d{1,3}$/.test(which) ? active[Number(which) - 1] : undefined;
  const matches = byNumber
    ? [byNumber]
    : active.filter((r) => r.ruleId === which || (ctx.clocks.ruleOf(r)?.step ?? '').includes(which));
  if (matches.length !== 1) {
    const list = active.map((r, i) => `${i + 1}. ${ctx.clocks.ruleOf(r)?.step ?? r.ruleId}`).join('\n');
    throw new UserInputError(`${matches.length ? '有多项计时符合' : '没有找到计时'}「${which}」，请用编号：\n${list}`);
  }
  const changes = await ctx.clocks.completeOne(ctx.tx, o.id, matches[0]!, ctx.now, ctx.actor);
  await recordOrderEvent(ctx, o.id, 'step', `已办：${changes[0]?.rule.step ?? which}`);
  const done = changes.map((c) => `「${c.rule.step}」（${c.rule.clause}）`).join('、') || `「${which}」`;
  ctx.reply(`好的，已登记 ${orderCode(o.id)} 的计时 ${done} 已办，这一项停止计时。分配单其余事项照常进行；全部办完请发送 /完成 ${orderCode(o.id)}。`);
}
