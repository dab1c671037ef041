import { and, asc, count, eq, lt, lte, not, or, sql } from 'drizzle-orm';
import { calendarOverrides, clients, complaints, orders, people, timers } from '../../db/schema';
import { accessScope, readerOf, scopeInWords, timerComplaintJoin, timerScopeWhere } from '../roster';
import { describeDayInChinese, formatInstantInChinese } from '../../domain/calendar';
import { orderCode } from '../../domain/orders';
import { loadComplaintPlaybook } from '../../domain/complaints';

/** Names of complaint clocks in these lists (their timers carry the department, not an order). */
const DEFAULT_COMPLAINT_RULES = loadComplaintPlaybook();
import type { ParsedArgs } from '../../core/command-parser';
import type { ClockContext } from './services';

export type { ClockContext, ClockServices } from './services';

import { PermissionError, UserInputError } from '../../core/errors';
import { recomputeRunningClocks, recomputedText } from './recompute';

type Scope = 'mine' | 'dept' | 'all';

function scopeOf(ctx: ClockContext, s: unknown): Scope {
  const p = ctx.actor.person;
  if (s === '全部' || s === 'all') {
    if (!(ctx.actor.isAdmin || p?.role === 'management')) throw new PermissionError('抱歉，查看全部计时需要总经办权限。');
    return 'all';
  }
  if (s === '部门' || s === 'dept') return 'dept';
  if (s === '我的' || s === 'mine') return 'mine';
  // Leads see their department by default; everyone else their own orders.
  return p && (p.role === 'head' || p.role === 'supervisor') ? 'dept' : ctx.actor.isAdmin || p?.role === 'management' ? 'all' : 'mine';
}

function scopeFilter(ctx: ClockContext, scope: Scope) {
  const p = ctx.actor.person;
  if (scope === 'all') return sql`true`;
  if (scope === 'dept') {
    if (!p?.departmentId) throw new UserInputError('您在名册中没有所属部门，请改用「我的」。');
    return or(eq(orders.departmentId, p.departmentId), eq(timers.departmentId, p.departmentId))!;
  }
  if (!p) throw new UserInputError('您还不在名册中，没有自己的计时。');
  return or(eq(orders.handlerId, p.id), eq(orders.salespersonId, p.id))!;
}

/**
 * The running timers of a scope (mine / dept / all) within the window, filtered by the record-access
 * rule (roster: the same as `/查` and the 看板); `hidden` counts what the rule left out.
 */
async function listTimers(ctx: ClockContext, scope: Scope, until: Date, overdueOnly: boolean) {
  const window = and(
    eq(timers.state, 'running'),
    overdueOnly ? lt(timers.dueAt, ctx.now) : and(lte(timers.dueAt, until), sql`${timers.dueAt} >= ${ctx.now.toISOString()}::timestamptz`),
    scopeFilter(ctx, scope),
  );
  const access = accessScope(readerOf(ctx.actor));
  const visible = timerScopeWhere(access);
  const rows = await ctx.tx
    .select({ t: timers, code: orders.id, client: clients.name, handler: people.name })
    .from(timers)
    .leftJoin(orders, eq(orders.id, timers.orderId))
    .leftJoin(complaints, timerComplaintJoin)
    .leftJoin(clients, eq(clients.id, orders.clientId))
    .leftJoin(people, eq(people.id, orders.handlerId))
    .where(and(window, visible))
    .orderBy(asc(timers.dueAt))
    .limit(60);
  const [h] = access.all
    ? []
    : await ctx.tx
        .select({ n: count() })
        .from(timers)
        .leftJoin(orders, eq(orders.id, timers.orderId))
        .leftJoin(complaints, timerComplaintJoin)
        .where(and(window, not(visible)));
  return { rows, hidden: h?.n ?? 0 };
}

/** The note under a list when the record-access rule left some out. */
function hiddenNote(ctx: ClockContext, hidden: number): string[] {
  return hidden ? [`（另有 ${hidden} 项不在您的查看范围内，未列出；您可以查看${scopeInWords(readerOf(ctx.actor))}。）`] : [];
}

const scopeName: Record<Scope, string> = { mine: '您的', dept: '本部门的', all: '全部' };

export async function overdue(ctx: ClockContext, args: ParsedArgs) {
  const scope = scopeOf(ctx, args.scope);
  const { rows, hidden } = await listTimers(ctx, scope, ctx.now, true);
  if (!rows.length) {
    ctx.reply([`${scopeName[scope]}计时目前没有逾期，辛苦了！`, ...hiddenNote(ctx, hidden)].join('\n'));
    return;
  }
  const cal = await ctx.clocks.calendar(ctx.tx);
  const lines = [`${scopeName[scope]}逾期计时（${rows.length} 项${rows.length === 60 ? '，只显示最早的 60 项' : ''}）：`];
  for (const r of rows) lines.push(line(ctx, r, cal, true));
  lines.push(...hiddenNote(ctx, hidden));
  ctx.reply(lines.join('\n'));
}

export async function due(ctx: ClockContext, args: ParsedArgs) {
  // "/待办 部门" is allowed too: a lone scope word in the first place.
  const first = args.days as string | undefined;
  const isScopeWord = first !== undefined && !/^\d+$/.test(first);
  if (isScopeWord && !['我的', '部门', '全部', 'mine', 'dept', 'all'].includes(first)) {
    throw new UserInputError(`「${first}」不是工作日数。正确格式：/待办 [工作日数，默认 3] [我的|部门]`);
  }
  const days = isScopeWord || first === undefined ? 3 : Number(first);
  if (!Number.isInteger(days) || days < 1 || days > 30) throw new UserInputError('工作日数请写 1 到 30 之间的整数。');
  const scope = scopeOf(ctx, isScopeWord ? first : args.scope);
  const cal = await ctx.clocks.calendar(ctx.tx);
  const until = cal.addWorkingDays(ctx.now, days);
  const { rows, hidden } = await listTimers(ctx, scope, until, false);
  if (!rows.length) {
    ctx.reply([`${scopeName[scope]}计时在未来 ${days} 个工作日内没有到期的。`, ...hiddenNote(ctx, hidden)].join('\n'));
    return;
  }
  const lines = [`${scopeName[scope]}未来 ${days} 个工作日内到期（${rows.length} 项）：`];
  for (const r of rows) lines.push(line(ctx, r, cal, false));
  lines.push(...hiddenNote(ctx, hidden));
  ctx.reply(lines.join('\n'));
}

function line(
  ctx: ClockContext,
  r: { t: typeof timers.$inferSelect; code: number | null; client: string | null; handler: string | null },
  cal: Awaited<ReturnType<ClockContext['clocks']['calendar']>>,
  late: boolean,
): string {
  const rule = ctx.clocks.ruleOf(r.t) ?? DEFAULT_COMPLAINT_RULES.byId.get(r.t.ruleId)?.timer;
  const complaint = /^complaint:(\d+)$/.exec(r.t.subject);
  const subject = r.code ? `${orderCode(r.code)} ${r.client ?? ''}` : complaint ? `投诉 T${complaint[1]}` : '部门事项';
  const lateBy = late ? `，已超 ${r.t.data.clock === 'wall' ? wallTimeText(ctx.now.getTime() - r.t.dueAt.getTime()) : `${Math.max(0.1, Math.round((cal.workingTimeBetween(r.t.dueAt, ctx.now) / cal.workingDayMs) * 10) / 10)} 个工作日`}` : '';
  // Only an order has a handler to name; complaint and department clocks are named by their step.
  const who = r.code ? `｜${r.handler ?? '未派单'}` : '';
  return `· ${subject}｜${rule?.step ?? r.t.ruleId}｜期限 ${formatInstantInChinese(r.t.dueAt, cal, { now: ctx.now })}${lateBy}${who}｜${rule?.clause ?? ''}`;
}

/** How late a wall-clock timer (minutes, days, weeks) is, in the clock's own measure. */
export function wallTimeText(ms: number): string {
  const minutes = Math.max(1, Math.floor(ms / 60_000));
  if (minutes < 120) return `${minutes} 分钟`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} 小时`;
  return `${Math.floor(hours / 24)} 天`;
}

export async function calendarShow(ctx: ClockContext, args: ParsedArgs) {
  const cal = await ctx.clocks.calendar(ctx.tx);
  const date = (args.date as string | undefined) ?? cal.dateOf(ctx.now);
  const explanation = cal.explainDay(date);
  ctx.reply(describeDayInChinese(explanation, cal));
}

export async function calendarAdjust(ctx: ClockContext, args: ParsedArgs) {
  const date = String(args.date);
  const kind = args.kind === '上班' || args.kind === 'work' ? 'work' : 'off';
  const note = (args.note as string | undefined) ?? null;
  const before = await ctx.clocks.calendar(ctx.tx);
  await ctx.tx
    .insert(calendarOverrides)
    .values({ date, kind, note, createdBy: ctx.actor.userid, createdAt: ctx.now })
    .onConflictDoUpdate({ target: calendarOverrides.date, set: { kind, note, createdBy: ctx.actor.userid, createdAt: ctx.now } });
  await ctx.audit('calendar.override', `calendar:${date}`, { kind, note });
  const after = await ctx.clocks.calendar(ctx.tx);
  // Running working-day clocks that run across that day keep their remaining working time.
  const moved = recomputedText(await recomputeRunningClocks(ctx, before, after, after.at(date, '00:00')));
  ctx.reply(
    `已设置：${describeDayInChinese(after.explainDay(date), after)}` + (moved ? `\n${moved}` : ''),
  );
}
