import { and, asc, count, desc, eq, not, sql } from 'drizzle-orm';
import { clients, complaintEvents, complaints, departments, events, people } from '../../db/schema';
import { formatInstantInChinese, type WorkCalendar } from '../../domain/calendar';
import { CHANNEL_NAMES, complaintCode, formatFen, formatRate, rateReviewAt } from '../../domain/complaints';
import { orderCode } from '../../domain/orders';
import type { ParsedArgs } from '../../core/command-parser';
import { type ChatContext } from '../../core/context';
import { accessScope, COMPLAINT_FACTS, factsOfComplaint, findDepartment, mustSee, readerOf, scopeInWords, scopeWhere } from '../roster';
import { UserInputError } from '../../core/errors';
import { formatInstant } from '../../domain/calendar/format-instant';
import { rateOf, rateReviewSubject, rateSpan, reviewSpan, yearHasData } from './complaint-rate-review';
import { nameLadderSteps } from '../../domain/playbooks/ladder-step-names';
import { personById, type ComplaintKit } from './complaint-kit';
import { countedComplaint, voidReason } from './complaint-void';

/** Names of a complaint's timeline events (/查 T7 and the 看板). */
export const COMPLAINT_EVENT_NAMES: Record<string, string> = {
  received: '接到投诉',
  notified: '通知',
  proposed: '建议级别',
  level: '定级',
  handover: '移交',
  callback: '回电',
  escalated: '上报部门负责人',
  handled: '处理意见',
  explained: '向客户解释',
  replace_proposed: '建议更换负责人',
  replaced: '更换负责人',
  visited: '上门拜访',
  sales_informed: '告知业务员',
  closed: '结案',
  reported: '投诉处理报告',
  review_filed: '检讨书建档',
  gift: '赠送服务',
  reminder: '提醒',
  reminder_held: '提醒未发出',
  breach: '超时',
  client_message: '客户追加消息',
  triage_told: '疑似投诉阶段已通报',
  voided: '撤销',
};

/** What is on record: /投诉 列表, /投诉率 (4.4.3) and /查 T7. */
export function createReportCommands(kit: ComplaintKit) {
  const { pb, clocks, load } = kit;

  async function complaintList(ctx: ChatContext, args: ParsedArgs) {
    const p = ctx.actor.person;
    const isMgmt = ctx.actor.isAdmin || p?.role === 'management';
    // The record-access rule (roster): the list is filtered to what the sender may see, never refused.
    const reader = readerOf(ctx.actor);
    const scope = accessScope(reader);
    const visible = scopeWhere(scope, COMPLAINT_FACTS);
    let deptId: number | null = null;
    let deptName = '全部';
    if (args.dept) {
      const d = await findDepartment(ctx.tx, String(args.dept));
      if (!d) throw new UserInputError(`抱歉，没有找到部门「${args.dept}」。可发送 /部门 列表 查看。`);
      deptId = d.id;
      deptName = d.name;
    } else if (!scope.all && scope.owner !== null) {
      // A salesperson's complaints are their clients', in whichever department.
      deptName = '您的客户';
    } else if (!isMgmt) {
      if (!p?.departmentId) throw new UserInputError('抱歉，请写出部门：/投诉 列表 <部门>');
      deptId = p.departmentId;
      const [d] = await ctx.tx.select().from(departments).where(eq(departments.id, deptId));
      deptName = d?.name ?? '';
    }
    const onlyOpen = args.open === true;
    const filter = and(deptId ? eq(complaints.departmentId, deptId) : sql`true`, onlyOpen ? eq(complaints.status, 'open') : sql`true`, countedComplaint);
    const rows = await ctx.tx
      .select({ c: complaints, client: clients.name, owner: people.name })
      .from(complaints)
      .innerJoin(clients, eq(clients.id, complaints.clientId))
      .leftJoin(people, eq(people.id, complaints.ownerId))
      .where(and(filter, visible))
      .orderBy(desc(complaints.id))
      .limit(50);
    const [hidden] = scope.all ? [] : await ctx.tx.select({ n: count() }).from(complaints).where(and(filter, not(visible)));
    const cal = await clocks.calendar(ctx.tx);
    const lines = [`${deptName}的投诉${onlyOpen ? '（未结）' : ''}：`];
    if (!rows.length) lines.push('目前没有。');
    if (hidden?.n) lines.push(`（另有 ${hidden.n} 件不在您的查看范围内，未列出；您可以查看${scopeInWords(reader)}。）`);
    for (const { c, client, owner } of rows) {
      const status = c.status === 'closed' ? '已结案' : c.escalatedAt ? '已上报' : c.callbackAt ? '已回电' : '待回电';
      lines.push(
        `· ${complaintCode(c.id)} ${client}｜${c.level ? c.level + ' 级' : `建议 ${c.proposedLevel ?? '—'}`}｜${CHANNEL_NAMES[c.channel]}｜${status}` +
          `｜${formatInstant(c.receivedAt)}｜负责：${owner ?? '—'}${c.breachedAt ? '｜回电超时' : ''}`,
      );
    }
    const year = Number(cal.dateOf(ctx.now).slice(0, 4));
    const depts = deptId ? [{ id: deptId, name: deptName }] : await ctx.tx.select({ id: departments.id, name: departments.name }).from(departments).orderBy(asc(departments.id));
    const figures = await rateLines(ctx, cal, year, depts, !deptId);
    if (figures.lines.length) {
      lines.push(`${year} 年至今投诉率（投诉数/服务客户数，${pb.rate.clause}）：${figures.lines.map((l) => l.slice(2)).join('；')}`);
      lines.push(figures.review);
    }
    ctx.reply(lines.join('\n'));
  }

  /** One line per department for `year` (running figure until the year is over), and when its year-end review is or was. */
  async function rateLines(ctx: ChatContext, cal: WorkCalendar, year: number, depts: { id: number; name: string }[], skipEmpty: boolean) {
    const span = rateSpan(year, ctx.now, cal);
    const pct = Math.round(pb.rate.threshold * 100);
    const lines: string[] = [];
    for (const d of depts) {
      const rate = await rateOf(ctx.tx, d.id, span.from, span.to, pb.rate.threshold);
      if (skipEmpty && rate.complaints === 0) continue;
      lines.push(`· ${d.name} ${rate.complaints}/${rate.clientsServed} = ${formatRate(rate)}${rate.over ? `（超过 ${pct}%，需年终总结检讨）` : ''}`);
    }
    const reviewAt = rateReviewAt(year, pb.rate.review, cal);
    const [done] = await ctx.tx
      .select({ at: events.at })
      .from(events)
      .where(and(eq(events.subject, rateReviewSubject(year)), eq(events.action, 'complaint.rate_review')))
      .orderBy(asc(events.id))
      .limit(1);
    const review = done
      ? `${year} 年的年终检讨已于 ${formatInstantInChinese(done.at, cal, { now: ctx.now })} 进行，超过 ${pct}% 的部门已通知部门负责人和总经办。`
      : reviewAt.getTime() > ctx.now.getTime()
        ? `年终检讨时间：${formatInstantInChinese(reviewAt, cal, { now: ctx.now })}，届时投诉率超过 ${pct}% 的部门会通知部门负责人和总经办，此前不单独提醒。`
        : await missedReview(ctx, cal, year, reviewAt);
    return { lines, review, span };
  }

  /** The year's review time has passed with no mark: either it is about to run, or there were none of the year's data. */
  async function missedReview(ctx: ChatContext, cal: WorkCalendar, year: number, reviewAt: Date): Promise<string> {
    const when = formatInstantInChinese(reviewAt, cal, { now: ctx.now });
    const span = reviewSpan(year, reviewAt, cal);
    if (await yearHasData(ctx.tx, span.from, span.to)) return `${year} 年的年终检讨时间（${when}）已到，稍后进行，届时超过 ${Math.round(pb.rate.threshold * 100)}% 的部门会通知部门负责人和总经办。`;
    const thisYear = Number(cal.dateOf(ctx.now).slice(0, 4));
    const next = year === thisYear ? `下一次年终检讨：${formatInstantInChinese(rateReviewAt(year + 1, pb.rate.review, cal), cal, { now: ctx.now })}。` : '';
    return `${year} 年没有进行年终检讨：检讨时间（${when}）之前本系统还没有该年的投诉数据（服务客户或投诉记录），这一年不作检讨。${next}`;
  }

  async function complaintRateCmd(ctx: ChatContext, args: ParsedArgs) {
    const p = ctx.actor.person;
    const isMgmt = ctx.actor.isAdmin || p?.role === 'management';
    const cal = await clocks.calendar(ctx.tx);
    const thisYear = Number(cal.dateOf(ctx.now).slice(0, 4));
    const yearText = (args.year as string | undefined)?.replace(/年$/, '');
    const year = yearText === undefined ? thisYear : Number(yearText);
    if (!/^\d{4}$/.test(String(year)) || year < 2000 || year > thisYear) {
      throw new UserInputError(`抱歉，「${String(args.year)}」不是有效年份，请写成 /投诉率 ${thisYear}（不晚于今年）。`);
    }
    let depts: { id: number; name: string }[];
    if (isMgmt) {
      depts = (await ctx.tx.select({ id: departments.id, name: departments.name, services: departments.services }).from(departments).orderBy(asc(departments.id))).filter(
        (d) => d.services.length > 0,
      );
    } else {
      if (!p?.departmentId) throw new UserInputError('抱歉，您还没有登记所属部门，请总经办先用 /成员 添加 登记。');
      depts = await ctx.tx.select({ id: departments.id, name: departments.name }).from(departments).where(eq(departments.id, p.departmentId));
    }
    const figures = await rateLines(ctx, cal, year, depts, false);
    const pct = Math.round(pb.rate.threshold * 100);
    ctx.reply(
      [
        `${year} 年投诉率（投诉数 ÷ 服务客户数，${figures.span.complete ? '全年' : `截至 ${formatInstantInChinese(ctx.now, cal)}`}；超过 ${pct}% 的单元小组由部门负责人年终总结检讨，${pb.rate.clause}）：`,
        ...figures.lines,
        figures.review,
      ].join('\n'),
    );
  }


  async function complaintShow(ctx: ChatContext, id: number) {
    const c = await load(ctx.tx, id);
    const code = complaintCode(c.id);
    const [client] = await ctx.tx.select().from(clients).where(eq(clients.id, c.clientId));
    await mustSee(ctx.tx, ctx.actor, code, factsOfComplaint(c, client?.salespersonId ?? null));
    const [dept] = c.departmentId ? await ctx.tx.select().from(departments).where(eq(departments.id, c.departmentId)) : [];
    const name = async (pid: number | null) => (await personById(ctx.tx, pid))?.name ?? '—';
    const cal = await clocks.calendar(ctx.tx);
    const lines = [
      `${code}｜${client?.name ?? '—'}｜${CHANNEL_NAMES[c.channel]}｜${c.level ? `${c.level} 级（${pb.levels[c.level].name}）` : `建议 ${c.proposedLevel ?? '—'} 级，待确认`}｜${c.status === 'closed' ? '已结案' : c.status === 'voided' ? `已撤销（原因：${(await voidReason(ctx.tx, c.id)) ?? '—'}），不计入投诉率` : '处理中'}`,
      `部门：${dept?.name ?? '—'}　被投诉负责人：${await name(c.handlerId)}${c.replacementId ? `（已换为 ${await name(c.replacementId)}）` : ''}　主管：${await name(c.supervisorId)}`,
      `首问负责人：${await name(c.firstResponderId)}　现由：${await name(c.ownerId)} 负责`,
      `接到投诉：${formatInstant(c.receivedAt)}　相关分配单：${c.orderIds.length ? c.orderIds.map(orderCode).join('、') : '无'}`,
      `内容：${c.content}`,
    ];
    if (c.level) lines.push(`处理方式：${pb.levels[c.level].handling}`);
    if (c.giftShares && c.giftFeeFen !== null) {
      lines.push(`赠送服务：${c.giftNote ?? ''}；官费 ${formatFen(c.giftFeeFen)}：${c.giftShares.map((s) => `${s.name} ${formatFen(s.fen)}`).join('、')}（不提取提成）`);
    }
    const active = await clocks.active(ctx.tx, c.id);
    if (active.length) {
      lines.push('计时：');
      for (const row of active) {
        const rule = pb.byId.get(row.ruleId);
        const late = row.dueAt.getTime() < ctx.now.getTime() ? '，已超时' : '';
        lines.push(`· ${rule?.step ?? row.ruleId}｜期限 ${formatInstantInChinese(row.dueAt, cal, { now: ctx.now })}${late}｜${rule?.clause ?? ''}`);
      }
    }
    const history = await ctx.tx
      .select({ e: complaintEvents, actor: people.name })
      .from(complaintEvents)
      .leftJoin(people, eq(people.id, complaintEvents.actorId))
      .where(eq(complaintEvents.complaintId, c.id))
      .orderBy(asc(complaintEvents.id));
    lines.push('记录：');
    const shown = history.slice(-40);
    if (history.length > shown.length) lines.push(`（较早的 ${history.length - shown.length} 条已省略）`);
    for (const { e, actor } of shown) {
      const at = e.kind === 'received' && typeof e.data.receivedAt === 'string' ? new Date(e.data.receivedAt) : e.at;
      lines.push(`· ${formatInstant(at)} ${actor ?? '系统'} ${COMPLAINT_EVENT_NAMES[e.kind] ?? e.kind}${e.note ? '：' + nameLadderSteps(e.note) : ''}`);
    }
    ctx.reply(lines.join('\n'));
  }

  return {
    handlers: {
      'complaint.list': complaintList,
      'complaint.rate': complaintRateCmd,
    } as Record<string, (ctx: ChatContext, args: ParsedArgs) => Promise<void>>,
    show: complaintShow,
  };
}
