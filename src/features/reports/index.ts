import { replyPrivately } from '../../core/private-chat';
import { eq } from 'drizzle-orm';
import { departments } from '../../db/schema';
import type { ComplaintPlaybook } from '../../domain/complaints';
import { formatInstantInChinese } from '../../domain/calendar';
import type { CalendarProvider } from '../../core/clocks/clock-store';
import type { ParsedArgs } from '../../core/command-parser';
import { type ChatContext } from '../../core/context';
import { findDepartment } from '../roster';
import { PermissionError, UserInputError } from '../../core/errors';
import type { Feature, Handler } from '../../core/feature';
import type { LinkSigner } from '../../core/signed-link';
import type { VisitPlaybook } from '../visits';
import { loadVisitPlaybook } from '../visits';
import { EXPORT_PURPOSE, exportRouter, exportScopeOf, monthSpan, type ExportKind } from './export';
import { monthFigures, serviceDepartments } from './figures';
import { renderMonthly } from './monthly';
import { REPORT_RULES, reportSubject } from './report-subject';
import { REPORT_COMMANDS } from './specs';
import { renderWeekly, weeklySummary } from './weekly';

export { PROMISE_CLOCKS } from './figures';

export interface ReportsDeps {
  calendar: CalendarProvider;
  complaintPlaybook: ComplaintPlaybook;
  links: LinkSigner;
  publicUrl: () => string;
  visitPlaybook?: VisitPlaybook;
}

/**
 * 周报, 月报 and 导出 as one feature: the weekly summary (Friday 12:00) and the monthly report (first
 * working day) as scheduler timers, the commands to ask for them any time, and CSV exports from
 * signed links served by the bot (GET /exports/<token>).
 */
export function reportsFeature(deps: ReportsDeps): Feature {
  const visitPb = deps.visitPlaybook ?? loadVisitPlaybook();
  const pb = deps.complaintPlaybook;

  const isMgmt = (ctx: ChatContext) => ctx.actor.isAdmin || ctx.actor.person?.role === 'management';

  const weekly: Handler = async (ctx, args: ParsedArgs) => {
    const p = ctx.actor.person;
    let dept: { id: number; name: string } | undefined;
    if (args.dept) {
      const d = await findDepartment(ctx.tx, String(args.dept));
      if (!d) throw new UserInputError(`抱歉，没有找到部门「${String(args.dept)}」。可发送 /部门 列表 查看。`);
      if (!isMgmt(ctx) && d.id !== p?.departmentId) throw new PermissionError('抱歉，只能查看本部门的周报（总经办可查看各部门）。');
      dept = d;
    } else {
      if (!p?.departmentId) throw new UserInputError('抱歉，请写出部门：/周报 <部门>');
      [dept] = await ctx.tx.select().from(departments).where(eq(departments.id, p.departmentId));
    }
    const cal = await deps.calendar(ctx.tx);
    const s = await weeklySummary(ctx.tx, dept!, ctx.now, visitPb);
    for (const part of renderWeekly(s, cal, ctx.now, visitPb)) ctx.reply(part.text);
  };

  const monthly: Handler = async (ctx, args) => {
    const cal = await deps.calendar(ctx.tx);
    const current = cal.dateOf(ctx.now).slice(0, 7);
    const month = args.month ? String(args.month).replace(/月$/, '') : current;
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month) || month > current) throw new UserInputError(`抱歉，「${String(args.month)}」不是有效月份，请写成 /月报 ${current}（不晚于本月）。`);
    const span = monthSpan(month, cal);
    const to = span.to.getTime() > ctx.now.getTime() ? new Date(ctx.now.getTime() + 1) : span.to;
    const only = isMgmt(ctx) ? null : (ctx.actor.person?.departmentId ?? null);
    if (!isMgmt(ctx) && !only) throw new UserInputError('抱歉，您还没有登记所属部门。');
    const figures = [];
    const yearStart = cal.at(`${month.slice(0, 4)}-01-01`, '00:00');
    for (const d of await serviceDepartments(ctx.tx, only)) figures.push(await monthFigures(ctx.tx, d, span.from, to, ctx.now, pb.rate.threshold, yearStart));
    for (const part of renderMonthly(month, figures, pb.rate.threshold, pb.rate.clause, { complete: to === span.to })) ctx.reply(part.text);
  };

  const exportCmd: Handler = async (ctx, args) => {
    const kind = String(args.kind) as ExportKind;
    const cal = await deps.calendar(ctx.tx);
    const current = cal.dateOf(ctx.now).slice(0, 7);
    const month = args.month ? String(args.month) : current;
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month) || month > current) throw new UserInputError(`抱歉，「${String(args.month)}」不是有效月份，请写成 /导出 ${kind} ${current}。`);
    const rights = await exportScopeOf(ctx.tx, ctx.actor.userid);
    if (!rights) throw new PermissionError('抱歉，导出需由部门负责人或总经办操作（以名册为准）。');
    const ttlMs = REPORT_RULES.export.ttlHours * 3_600_000;
    const dept = rights.all ? 'all' : String(rights.departmentId);
    const token = await deps.links.sign(ctx.tx, { purpose: EXPORT_PURPOSE, userid: ctx.actor.userid, scope: { kind, month, dept }, ttlMs, now: ctx.now });
    const [d] = rights.all ? [] : await ctx.tx.select().from(departments).where(eq(departments.id, rights.departmentId));
    await ctx.audit('report.export_link', null, { kind, month, dept });
    await replyPrivately(
      ctx,
      `${rights.all ? '全部部门' : (d?.name ?? '本部门')}的${kind}（${month}${kind === '周报' ? '，按当前在办情况' : ''}）导出链接：\n${deps.publicUrl()}/exports/${token}\n` +
        `链接 ${formatInstantInChinese(new Date(ctx.now.getTime() + ttlMs), cal, { now: ctx.now })} 前有效，只能打开一次；文件为 CSV，可用 Excel 直接打开。请勿转发，谢谢！`,
      `${ctx.actor.displayName}，导出链接已私聊发给您，请在与机器人的单聊里打开，谢谢！`,
    );
  };

  const handlers: Record<string, Handler> = { 'report.weekly': weekly, 'report.monthly': monthly, 'report.export': exportCmd };
  return {
    name: 'reports',
    // Shares the 回访 topic of /帮助 (one line in the short help): clients, visits and the reports supervisors read.
    help: { topic: '回访', words: ['报表', '周报', '月报', '导出', 'report', 'reports', 'export'] },
    commands: REPORT_COMMANDS.map((spec) => ({ spec, handler: handlers[spec.id]! })),
    timerSubjects: [reportSubject({ calendar: deps.calendar, complaintPlaybook: pb, visitPlaybook: visitPb })],
    routes: (rc) => exportRouter({ links: deps.links, calendar: deps.calendar, visitPlaybook: visitPb }, rc),
  };
}
