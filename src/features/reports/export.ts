import Router from '@koa/router';
import { stringify } from 'csv-stringify/sync';
import type { Db } from '../../db/client';
import { CHANNEL_NAMES, complaintCode } from '../../domain/complaints';
import { orderCode, STATUS_NAMES } from '../../domain/orders';
import type { WorkCalendar } from '../../domain/calendar';
import type { CalendarProvider } from '../../core/clocks/clock-store';
import type { RouteContext } from '../../core/feature';
import { LINK_REFUSAL_TEXT, type LinkSigner } from '../../core/signed-link';
import { accessScope, COMPLAINT_FACTS, ORDER_FACTS, readerForUserid, scopeWhere, VISIT_FACTS, type AccessScope } from '../roster';
import { METHOD_NAMES } from '../visits';
import { visitCode } from '../visits';
import type { VisitPlaybook } from '../visits';
import { complaintRows, orderRows, serviceDepartments, visitRows } from './figures';
import { weeklySummary } from './weekly';

export const EXPORT_PURPOSE = 'export';
export const EXPORT_KINDS = ['周报', '投诉', '回访', '分配单'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

/** The UTF-8 byte order mark: Excel reads the file as UTF-8 (the Chinese stays intact). */
export const BOM = '\uFEFF';

/** 'YYYY-MM-DD HH:mm' in the calendar's zone (sortable in Excel). */
export function csvTime(d: Date | null, cal: WorkCalendar): string {
  if (!d) return '';
  const date = cal.dateOf(d);
  const local = new Date(d.getTime() - cal.at(date, '00:00').getTime());
  return `${date} ${String(local.getUTCHours()).padStart(2, '0')}:${String(local.getUTCMinutes()).padStart(2, '0')}`;
}

export type ExportRights = ({ all: true } | { all: false; departmentId: number }) & { scope: AccessScope };

/**
 * Who may export, re-read from the roster: 总经办 (or an admin) and department heads. What an export
 * holds is the bot's one record-access rule (roster: accessScope): everything, or the head's department.
 */
export async function exportScopeOf(tx: Db, userid: string): Promise<ExportRights | null> {
  const r = await readerForUserid(tx, userid, []);
  if (!r?.person) return null;
  const scope = accessScope(r.reader);
  if (scope.all) return { all: true, scope };
  if (r.reader.role === 'head' && scope.department !== null) return { all: false, departmentId: scope.department, scope };
  return null;
}

/** The rows of one export, header first: the records the rights' scope covers (the 周报: its departments). */
export async function exportTable(
  tx: Db,
  kind: ExportKind,
  span: { from: Date; to: Date },
  rights: ExportRights,
  now: Date,
  cal: WorkCalendar,
  visitPb: VisitPlaybook,
): Promise<string[][]> {
  const t = (d: Date | null) => csvTime(d, cal);
  const departmentId = rights.all ? null : rights.departmentId;
  switch (kind) {
    case '周报': {
      const rows: string[][] = [['部门', '负责人', '分配单', '客户', '业务类型', '状态', '当前步骤', '下一期限', '逾期计时数']];
      for (const d of await serviceDepartments(tx, departmentId)) {
        const s = await weeklySummary(tx, d, now, visitPb);
        for (const w of s.handlers) {
          for (const o of w.orders) {
            rows.push([d.name, w.person?.name ?? '未分配', orderCode(o.id), o.clientName, o.serviceType, STATUS_NAMES[o.status as keyof typeof STATUS_NAMES] ?? o.status, o.lastStep ?? '', t(o.nextDue), String(o.overdue)]);
          }
        }
      }
      return rows;
    }
    case '投诉': {
      const rows: string[][] = [['编号', '部门', '客户', '级别', '渠道', '状态', '接到时间', '被投诉负责人', '内容', '结案时间']];
      for (const r of await complaintRows(tx, scopeWhere(rights.scope, COMPLAINT_FACTS), span.from, span.to)) {
        rows.push([complaintCode(r.c.id), r.departmentName ?? '', r.clientName, r.c.level ?? '待定级', CHANNEL_NAMES[r.c.channel], r.c.status === 'closed' ? '已结案' : '处理中', t(r.c.receivedAt), r.handlerName ?? '', r.c.content, t(r.c.closedAt)]);
      }
      return rows;
    }
    case '回访': {
      const rows: string[][] = [['编号', '部门', '客户', '方式', '状态', '回访人', '回访时间', '结果', '客户意见', '满意度', '备注', '报告时间', '审阅人', '审阅时间', '审阅意见']];
      const status = { planned: '计划', done: '已回访', refused: '客户拒约' } as const;
      for (const r of await visitRows(tx, scopeWhere(rights.scope, VISIT_FACTS), span.from, span.to)) {
        const v = r.v;
        rows.push([
          visitCode(v.id),
          r.departmentName ?? '',
          r.clientName,
          METHOD_NAMES[v.method],
          status[v.status],
          r.visitorName ?? '',
          t(v.doneAt),
          v.result ?? '',
          v.opinion ?? '',
          v.satisfaction ? String(v.satisfaction) : '',
          v.note ?? '',
          t(v.reportAt),
          r.reviewerName ?? '',
          t(v.reviewedAt),
          v.reviewNote ?? '',
        ]);
      }
      return rows;
    }
    case '分配单': {
      const rows: string[][] = [['编号', '部门', '客户', '业务类型', '状态', '负责人', '业务员', '创建时间', '截止日期', '当前步骤']];
      for (const r of await orderRows(tx, scopeWhere(rights.scope, ORDER_FACTS), span.from, span.to)) {
        rows.push([orderCode(r.o.id), r.departmentName ?? '', r.clientName, r.o.serviceType, STATUS_NAMES[r.o.status], r.handlerName ?? '', r.salesName ?? '', t(r.o.createdAt), r.o.deadline ?? '', r.o.lastStep ?? '']);
      }
      return rows;
    }
  }
}

export const toCsv = (rows: string[][]) => BOM + stringify(rows, { record_delimiter: '\r\n' });

export function monthSpan(month: string, cal: WorkCalendar) {
  const first = `${month}-01`;
  return { from: cal.at(first, '00:00'), to: cal.at(cal.shiftDate(first, 1, 'months'), '00:00') };
}

/**
 * GET /exports/<token>: the CSV of a signed link. The link's signature, purpose and expiry are checked
 * and the link is spent (single use) in the same statement; then the requester's rights are read again
 * from the roster (a head moved to another department, or no longer a head, is refused). A link refused
 * for its rights is spent like a downloaded one: it never opens later, whatever the roster becomes.
 * Only a failed transaction (the database down) leaves it unspent.
 */
export function exportRouter(deps: { links: LinkSigner; calendar: CalendarProvider; visitPlaybook: VisitPlaybook }, rc: RouteContext): Router {
  const router = new Router({ prefix: '/exports' });
  router.get('/:token', async (ctx) => {
    const now = rc.clock();
    const refuse = (status: number, text: string) => {
      ctx.status = status;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = text;
    };
    const result = await rc.db.transaction(async (tx) => {
      const check = await deps.links.verify(tx, ctx.params.token ?? '', { purpose: EXPORT_PURPOSE, now, once: true });
      if (!check.ok) return { status: check.reason === 'expired' || check.reason === 'used' || check.reason === 'revoked' ? 410 : 403, text: LINK_REFUSAL_TEXT[check.reason] };
      const scope = check.claims.scope ?? {};
      const kind = scope.kind as ExportKind;
      const month = scope.month ?? '';
      if (!EXPORT_KINDS.includes(kind) || !/^\d{4}-\d{2}$/.test(month)) return { status: 403, text: LINK_REFUSAL_TEXT['malformed'] };
      const rights = await exportScopeOf(tx, check.claims.userid);
      const wantsAll = scope.dept === 'all';
      if (!rights || (wantsAll && !rights.all) || (!wantsAll && !rights.all && String(rights.departmentId) !== scope.dept)) {
        return { status: 403, text: '抱歉，您目前没有查看这些数据的权限（以名册为准），这个链接已作废；权限调整后请回到群里重新获取。' };
      }
      const cal = await deps.calendar(tx);
      const rows = await exportTable(tx, kind, monthSpan(month, cal), rights, now, cal, deps.visitPlaybook);
      return { status: 200, csv: toCsv(rows), name: `${kind}-${month}.csv` };
    });
    if (!('csv' in result) || result.csv === undefined) return refuse(result.status, result.text ?? '');
    rc.log.info({ rows: result.csv.split('\r\n').length - 2 }, 'export downloaded');
    ctx.status = 200;
    ctx.type = 'text/csv; charset=utf-8';
    ctx.set('Content-Disposition', `attachment; filename="export.csv"; filename*=UTF-8''${encodeURIComponent(result.name!)}`);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = result.csv;
  });
  return router;
}
