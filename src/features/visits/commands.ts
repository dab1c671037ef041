import { and, asc, count, desc, eq, gte, inArray, lt, not, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, departments, orders, people, timers, visits } from '../../db/schema';
import { formatInstantInChinese, type WorkCalendar } from '../../domain/calendar';
import { completeTimer, startTimer } from '../../domain/timers';
import type { ParsedArgs } from '../../core/command-parser';
import { activeTimers, fromRow, toRow, type CalendarProvider } from '../../core/clocks/clock-store';
import { type ChatContext, type Person } from '../../core/context';
import { accessScope, factsOfVisit, findDepartment, inScope, mention, mustSee, readerOf, scopeInWords, scopeWhere, VISIT_FACTS } from '../roster';
import { PermissionError, UserInputError } from '../../core/errors';
import { formatInstant } from '../../domain/calendar/format-instant';
import { KIND_NAMES, KIND_WORDS, METHOD_NAMES, METHOD_WORDS, refusalsMakeVisit } from './schedule';
import type { VisitPlaybook } from './visit-playbook';
import { WAY_NAMES } from '../client-groups';
import {
  activeStaff,
  assigneesOf,
  findClient,
  isManagerOrAbove,
  loadClientFacts,
  runningDueVisits,
  syncDueVisits,
  visitCode,
  visitSubject,
  type ClientRow,
  type VisitRow,
} from './visit-store';
import { openPlanned, visitIdOf, visitStatus } from './lookups';
import { createClientShow, nextDueLines } from './client-show';
export { lastContact, visitIdOf } from './lookups';

type Handler = (ctx: ChatContext, args: ParsedArgs) => Promise<void>;

export function createVisitCommands(deps: { playbook: VisitPlaybook; calendar: CalendarProvider }) {
  const pb = deps.playbook;

  async function needClient(tx: Db, name: unknown): Promise<ClientRow> {
    const c = await findClient(tx, String(name ?? ''));
    if (!c) throw new UserInputError(`抱歉，没有找到客户「${String(name)}」。请核对名称，或先用 /客户 设置 ${String(name)} 普通 登记。`);
    return c;
  }

  async function loadVisit(tx: Db, id: number, lock = false): Promise<VisitRow> {
    const q = tx.select().from(visits).where(eq(visits.id, id));
    const [v] = lock ? await q.for('update') : await q;
    if (!v) throw new UserInputError(`抱歉，没有找到回访 ${visitCode(id)}，请核对编号（可发送 /回访 列表 查看）。`);
    return v;
  }

  /** Department of a client's visits: its latest order's, else the visitor's. */
  async function departmentOf(tx: Db, clientId: number, visitor: Person | null): Promise<number | null> {
    const [o] = await tx.select({ d: orders.departmentId }).from(orders).where(eq(orders.clientId, clientId)).orderBy(desc(orders.id)).limit(1);
    return o?.d ?? visitor?.departmentId ?? null;
  }

  async function stopClock(tx: Db, visitId: number, ruleId: string, now: Date, cal: WorkCalendar) {
    const rule = pb.byId.get(ruleId)!;
    for (const row of await activeTimers(tx, visitSubject(visitId))) {
      if (row.ruleId !== ruleId) continue;
      await tx.update(timers).set({ ...toRow(completeTimer(fromRow(row), now), rule, cal), updatedAt: now }).where(eq(timers.id, row.id));
    }
  }

  const clientSet: Handler = async (ctx, args) => {
    const name = String(args.client).trim();
    if (name.length > 100) throw new UserInputError('抱歉，客户名称太长了（最多 100 字）。');
    const kind = args.kind ? KIND_WORDS[String(args.kind)] : undefined;
    const p = ctx.actor.person;
    if (kind && !(ctx.actor.isAdmin || (p && ['sales', 'supervisor', 'head', 'management'].includes(p.role)))) {
      throw new PermissionError('抱歉，客户类别需由业务员、主管或部门负责人设置。');
    }
    let c: ClientRow | null | undefined = await findClient(ctx.tx, name);
    if (!c && !kind) throw new UserInputError(`抱歉，没有找到客户「${name}」。新客户请写出类别：/客户 设置 ${name} 优质|代账|普通`);
    const values = {
      ...(kind ? { kind } : {}),
      ...(args.contact !== undefined ? { contactName: String(args.contact) } : {}),
      ...(args.phone !== undefined ? { phone: String(args.phone) } : {}),
    };
    if (!Object.keys(values).length) throw new UserInputError(`抱歉，请写出要设置的内容：/客户 设置 ${name} 优质|代账|普通 [联系人=…] [电话=…]`);
    if (c) [c] = await ctx.tx.update(clients).set(values).where(eq(clients.id, c.id)).returning();
    else [c] = await ctx.tx.insert(clients).values({ name, ...values, ...(p?.role === 'sales' ? { salespersonId: p.id } : {}), createdAt: ctx.now }).returning();
    await ctx.audit('client.set', `client:${c!.id}`, values);
    const cal = await deps.calendar(ctx.tx);
    await syncDueVisits(ctx.tx, pb, ctx.now, cal, [c!.id]);
    const due = await nextDueLines(ctx.tx, pb, c!.id, cal, ctx.now);
    const premium = c!.kind === 'premium' ? `\n优质客户由经理及以上负责人回访（${pb.premium.clause}）。` : '';
    ctx.reply(
      `已登记客户「${c!.name}」：${KIND_NAMES[c!.kind]}客户` +
        (c!.contactName ? `，联系人 ${c!.contactName}` : '') +
        (c!.phone ? `，电话 ${c!.phone}` : '') +
        `。${premium}` +
        (due.length ? `\n回访安排：\n${due.join('\n')}` : ''),
    );
  };

  const clientShow = createClientShow({ playbook: pb, calendar: deps.calendar, needClient });

  function checkPremium(ctx: ChatContext, c: ClientRow) {
    if (c.kind === 'premium' && !isManagerOrAbove(ctx.actor.person, ctx.actor.isAdmin)) {
      throw new PermissionError(`抱歉，「${c.name}」是优质客户，须由经理及以上负责人回访（${pb.premium.clause}）。请部门负责人登记。`);
    }
  }

  const visitPlan: Handler = async (ctx, args) => {
    const c = await needClient(ctx.tx, args.client);
    checkPremium(ctx, c);
    const method = METHOD_WORDS[String(args.method)]!;
    const cal = await deps.calendar(ctx.tx);
    const date = args.date as string | undefined;
    if (date && date < cal.dateOf(ctx.now)) throw new UserInputError(`抱歉，计划日期 ${date} 已经过去了，请写今天或以后的日期。`);
    const deptId = await departmentOf(ctx.tx, c.id, ctx.actor.person);
    const existing = await openPlanned(ctx.tx, c.id);
    const values = { method, plannedFor: date ?? null, visitorId: ctx.actor.person?.id ?? null, departmentId: deptId, updatedAt: ctx.now };
    const [v] = existing
      ? await ctx.tx.update(visits).set(values).where(eq(visits.id, existing.id)).returning()
      : await ctx.tx.insert(visits).values({ ...values, clientId: c.id, status: 'planned', createdById: ctx.actor.person?.id ?? null, createdAt: ctx.now }).returning();
    await ctx.audit('visit.planned', `visit:${v!.id}`, { client: c.id, method, date: date ?? null });
    ctx.reply(
      `已${existing ? '更新' : '登记'}回访计划 ${visitCode(v!.id)}：${c.name}，${METHOD_NAMES[method]}回访${date ? `，${formatInstantInChinese(cal.at(date, '09:00'), cal, { now: ctx.now, dateOnly: true })}` : ''}` +
        `${c.contactName ? `，联系人 ${c.contactName}${c.phone ? ' ' + c.phone : ''}` : ''}。` +
        `回访后请发送 /回访 记录 ${c.name} 结果=…；客户拒约请发送 /回访 失约 ${c.name}。`,
    );
  };

  const visitRecord: Handler = async (ctx, args) => {
    const c = await needClient(ctx.tx, args.client);
    checkPremium(ctx, c);
    const cal = await deps.calendar(ctx.tx);
    const planned = await openPlanned(ctx.tx, c.id);
    const method = args.method ? METHOD_WORDS[String(args.method)]! : (planned?.method ?? 'phone');
    const deptId = await departmentOf(ctx.tx, c.id, ctx.actor.person);
    const values = {
      method,
      status: 'done' as const,
      visitorId: ctx.actor.person?.id ?? null,
      departmentId: deptId,
      doneAt: ctx.now,
      result: String(args.result),
      opinion: (args.opinion as string | undefined) ?? null,
      satisfaction: args.satisfaction ? Number(args.satisfaction) : null,
      updatedAt: ctx.now,
    };
    const [v] = planned
      ? await ctx.tx.update(visits).set(values).where(eq(visits.id, planned.id)).returning()
      : await ctx.tx.insert(visits).values({ ...values, clientId: c.id, createdById: ctx.actor.person?.id ?? null, createdAt: ctx.now }).returning();
    const code = visitCode(v!.id);
    // The next-day report (7.3.1) and the supervisor's review (7.3.2) start now.
    const dues: Date[] = [];
    for (const rule of [pb.clocks.report, pb.clocks.review]) {
      const t = startTimer(rule, { at: ctx.now }, ctx.now, cal)!;
      const [row] = await ctx.tx
        .insert(timers)
        .values({ ...toRow(t, rule, cal, ctx.now), subject: visitSubject(v!.id), departmentId: deptId, createdAt: ctx.now, updatedAt: ctx.now })
        .onConflictDoNothing()
        .returning();
      dues.push(row!.dueAt);
    }
    await ctx.audit('visit.recorded', `visit:${v!.id}`, { client: c.id, method, satisfaction: values.satisfaction });
    await syncDueVisits(ctx.tx, pb, ctx.now, cal, [c.id]);
    const staff = await activeStaff(ctx.tx);
    const me = ctx.actor.person;
    const sup = me?.supervisorId ? staff.find((p) => p.id === me.supervisorId) : undefined;
    const reviewers = sup ? [sup] : staff.filter((p) => p.departmentId === deptId && (p.role === 'supervisor' || p.role === 'head')).slice(0, 2);
    const due = (d: Date) => formatInstantInChinese(d, cal, { now: ctx.now });
    const next = await nextDueLines(ctx.tx, pb, c.id, cal, ctx.now);
    ctx.reply(
      [
        `已登记回访 ${code}：${c.name}，${METHOD_NAMES[method]}回访，结果：${values.result}` +
          (values.opinion ? `；客户意见：${values.opinion}` : '') +
          (values.satisfaction ? `；满意度 ${values.satisfaction}/5` : '') +
          '。辛苦了！',
        `⏱ 请于 ${due(dues[0]!)} 前填写回访情况表：/回访 报告 ${code} <内容>（${pb.clocks.report.clause}），并将回访内容邮件发送客户（7.3.4 (财税)）。`,
        `⏱ 请${reviewers.map((p) => ' ' + mention(p)).join('') || '主管'} 于 ${due(dues[1]!)} 前审阅：/回访 审阅 ${code} [意见]（${pb.clocks.review.clause}）。`,
        ...(next.length ? ['下次回访：', ...next] : []),
      ].join('\n'),
      reviewers.map((p) => p.userid),
    );
  };

  const visitRefused: Handler = async (ctx, args) => {
    const c = await needClient(ctx.tx, args.client);
    const cal = await deps.calendar(ctx.tx);
    const planned = await openPlanned(ctx.tx, c.id);
    const note = (args.note as string | undefined) ?? null;
    const deptId = planned?.departmentId ?? (await departmentOf(ctx.tx, c.id, ctx.actor.person));
    const method = planned?.method ?? 'phone';
    const [v] = planned
      ? await ctx.tx.update(visits).set({ status: 'refused', note, updatedAt: ctx.now }).where(eq(visits.id, planned.id)).returning()
      : await ctx.tx
          .insert(visits)
          .values({ clientId: c.id, departmentId: deptId, method, status: 'refused', note, visitorId: ctx.actor.person?.id ?? null, createdById: ctx.actor.person?.id ?? null, createdAt: ctx.now, updatedAt: ctx.now })
          .returning();
    await ctx.audit('visit.refused', `visit:${v!.id}`, { client: c.id, note });
    // Refusals in a row: since the client's last done visit.
    const history = await ctx.tx.select({ id: visits.id, status: visits.status }).from(visits).where(eq(visits.clientId, c.id)).orderBy(asc(visits.id));
    const lastDone = history.map((h) => h.status).lastIndexOf('done');
    const since = history.slice(lastDone + 1).map((h) => h.status);
    const refused = since.filter((s) => s === 'refused').length;
    if (!refusalsMakeVisit(since, pb.refusals.count)) {
      ctx.reply(
        `已登记：${c.name} 拒约第 ${refused} 次${note ? `（${note}）` : ''}。请另约时间；连续拒约 ${pb.refusals.count} 次视为已回访（${pb.refusals.clause}）。`,
      );
      return;
    }
    const [done] = await ctx.tx
      .insert(visits)
      .values({
        clientId: c.id,
        departmentId: deptId,
        method,
        status: 'done',
        doneAt: ctx.now,
        result: pb.refusals.note,
        note: pb.refusals.note,
        visitorId: ctx.actor.person?.id ?? null,
        createdById: ctx.actor.person?.id ?? null,
        createdAt: ctx.now,
        updatedAt: ctx.now,
      })
      .returning();
    await ctx.audit('visit.recorded', `visit:${done!.id}`, { client: c.id, method, refusals: refused, note: pb.refusals.note });
    await syncDueVisits(ctx.tx, pb, ctx.now, cal, [c.id]);
    const next = await nextDueLines(ctx.tx, pb, c.id, cal, ctx.now);
    ctx.reply(
      `已登记：${c.name} 连续第 ${refused} 次拒约。按 ${pb.refusals.clause}，记为已回访 ${visitCode(done!.id)}，备注「${pb.refusals.note}」。` +
        (next.length ? `\n下次回访：\n${next.join('\n')}` : ''),
    );
  };

  async function roleIn(ctx: ChatContext, v: VisitRow) {
    const p = ctx.actor.person;
    const [visitor] = v.visitorId ? await ctx.tx.select().from(people).where(eq(people.id, v.visitorId)) : [];
    const isVisitor = !!p && p.id === v.visitorId;
    const isSupervisor = !!p && (p.id === visitor?.supervisorId || (['supervisor', 'head'].includes(p.role) && p.departmentId === v.departmentId));
    const isManagement = ctx.actor.isAdmin || p?.role === 'management';
    return { isVisitor, isSupervisor, isManagement, visitor: visitor ?? null };
  }

  const visitReport: Handler = async (ctx, args) => {
    const v = await loadVisit(ctx.tx, visitIdOf(args.ref), true);
    if (v.status !== 'done') throw new UserInputError(`抱歉，${visitCode(v.id)} 还没有登记为已回访，请先发送 /回访 记录。`);
    const r = await roleIn(ctx, v);
    if (!(r.isVisitor || r.isSupervisor || r.isManagement)) throw new PermissionError(`抱歉，${visitCode(v.id)} 的回访情况表需由回访人或其主管填写。`);
    const cal = await deps.calendar(ctx.tx);
    await ctx.tx.update(visits).set({ reportAt: ctx.now, report: String(args.content), updatedAt: ctx.now }).where(eq(visits.id, v.id));
    await stopClock(ctx.tx, v.id, pb.clocks.report.id, ctx.now, cal);
    await ctx.audit('visit.reported', `visit:${v.id}`, {});
    ctx.reply(`已收到 ${visitCode(v.id)} 的回访情况表，谢谢！请记得将回访内容邮件发送客户（7.3.4 (财税)）。`);
  };

  const visitReview: Handler = async (ctx, args) => {
    const v = await loadVisit(ctx.tx, visitIdOf(args.ref), true);
    if (v.status !== 'done') throw new UserInputError(`抱歉，${visitCode(v.id)} 还没有登记为已回访，暂不能审阅。`);
    const r = await roleIn(ctx, v);
    if (!(r.isSupervisor || r.isManagement) || r.isVisitor) throw new PermissionError(`抱歉，${visitCode(v.id)} 需由回访人的主管或部门负责人审阅。`);
    if (v.reviewedAt) throw new UserInputError(`${visitCode(v.id)} 已于 ${formatInstant(v.reviewedAt)} 审阅过了。`);
    const cal = await deps.calendar(ctx.tx);
    const note = (args.note as string | undefined) ?? null;
    await ctx.tx.update(visits).set({ reviewedAt: ctx.now, reviewerId: ctx.actor.person?.id ?? null, reviewNote: note, updatedAt: ctx.now }).where(eq(visits.id, v.id));
    await stopClock(ctx.tx, v.id, pb.clocks.review.id, ctx.now, cal);
    await ctx.audit('visit.reviewed', `visit:${v.id}`, { note });
    ctx.reply(
      `已审阅 ${visitCode(v.id)}${note ? `，指导意见：${note}` : ''}。` +
        (r.visitor ? `${mention(r.visitor)} 请知悉。` : '') +
        (v.reportAt ? '' : `（回访情况表还没有填写。）`),
      r.visitor ? [r.visitor.userid] : [],
    );
  };

  const visitList: Handler = async (ctx, args) => {
    const p = ctx.actor.person;
    const isMgmt = ctx.actor.isAdmin || p?.role === 'management';
    const filter = (args.filter as string | undefined)?.trim();
    // A salesperson's visits are his clients', in whichever department (the record-access rule narrows it).
    const isSales = !isMgmt && p?.role === 'sales';
    let deptId: number | null = isMgmt || isSales ? null : (p?.departmentId ?? null);
    let deptName = isMgmt ? '全部' : isSales ? '您的客户' : '';
    let mode: 'month' | 'overdue' = 'month';
    if (filter === '逾期') mode = 'overdue';
    else if (filter && filter !== '本月' && filter !== '部门') {
      const d = await findDepartment(ctx.tx, filter);
      if (!d) throw new UserInputError(`抱歉，「${filter}」不是 本月、逾期 或部门名称。例：/回访 列表 逾期`);
      deptId = d.id;
      deptName = d.name;
    } else if (filter === '部门' && p?.departmentId) deptId = p.departmentId;
    if (deptId && !deptName) deptName = (await ctx.tx.select().from(departments).where(eq(departments.id, deptId)))[0]?.name ?? '';
    const cal = await deps.calendar(ctx.tx);
    const month = cal.dateOf(ctx.now).slice(0, 7);
    const monthEnd = cal.at(cal.shiftDate(`${month}-01`, 1, 'months'), '00:00');
    const monthStart = cal.at(`${month}-01`, '00:00');
    // The record-access rule (roster): both lists are filtered to what the sender may see, never refused.
    const reader = readerOf(ctx.actor);
    const scope = accessScope(reader);
    const due = (await runningDueVisits(ctx.tx, deptId ? { departmentId: deptId } : {})).filter(({ t }) =>
      mode === 'overdue' ? t.dueAt.getTime() < ctx.now.getTime() : t.dueAt.getTime() < monthEnd.getTime(),
    );
    const facts = await loadClientFacts(ctx.tx, [...new Set(due.map((r) => r.client.id))]);
    const staff = await activeStaff(ctx.tx);
    const visitorsOf = (clientId: number) => {
      const f = facts.find((x) => x.client.id === clientId);
      return f ? assigneesOf(pb, f, staff) : [];
    };
    // A visit still to make is open work of the client's department, owned by the client's 业务员, worked by its visitors.
    const running = due.filter(({ t, client }) =>
      inScope(scope, { owners: [client.salespersonId], departmentId: t.departmentId, workers: visitorsOf(client.id).map((x) => x.id), open: true }),
    );
    let hidden = due.length - running.length;
    const lines = [`${deptName || '本部门'}${mode === 'overdue' ? '逾期未回访' : '本月待回访'}（${running.length}）：`];
    if (!running.length) lines.push('目前没有。');
    for (const { t, client } of running) {
      const who = visitorsOf(client.id).map((x) => x.name).join('、');
      const s = pb.scheduleById.get(t.ruleId);
      const late = t.dueAt.getTime() < ctx.now.getTime() ? '，已逾期' : '';
      lines.push(`· ${client.name}｜${s?.step ?? t.ruleId}｜期限 ${formatInstantInChinese(t.dueAt, cal, { now: ctx.now })}${late}｜${who || '—'}`);
    }
    if (mode === 'month') {
      const doneFilter = and(eq(visits.status, 'done'), gte(visits.doneAt, monthStart), lt(visits.doneAt, monthEnd), deptId ? eq(visits.departmentId, deptId) : sql`true`);
      const done = await ctx.tx
        .select({ v: visits, client: clients.name, visitor: people.name })
        .from(visits)
        .innerJoin(clients, eq(clients.id, visits.clientId))
        .leftJoin(people, eq(people.id, visits.visitorId))
        .where(and(doneFilter, scopeWhere(scope, VISIT_FACTS)))
        .orderBy(asc(visits.doneAt));
      if (!scope.all) hidden += (await ctx.tx.select({ n: count() }).from(visits).where(and(doneFilter, not(scopeWhere(scope, VISIT_FACTS)))))[0]?.n ?? 0;
      lines.push(`本月已回访（${done.length}）：`);
      for (const { v, client, visitor } of done) {
        lines.push(`· ${visitCode(v.id)} ${client}｜${METHOD_NAMES[v.method]}｜${visitor ?? '—'}｜${v.reviewedAt ? '已审阅' : v.reportAt ? '待审阅' : '待填报告'}${v.note ? `｜${v.note}` : ''}`);
      }
    }
    if (hidden) lines.push(`（另有 ${hidden} 项不在您的查看范围内，未列出；您可以查看${scopeInWords(reader)}。）`);
    ctx.reply(lines.join('\n'));
  };

  async function show(ctx: ChatContext, id: number) {
    const v = await loadVisit(ctx.tx, id);
    const [c] = await ctx.tx.select().from(clients).where(eq(clients.id, v.clientId));
    await mustSee(ctx.tx, ctx.actor, visitCode(v.id), factsOfVisit(v, c?.salespersonId ?? null));
    const names = new Map((await ctx.tx.select().from(people).where(inArray(people.id, [v.visitorId ?? -1, v.reviewerId ?? -1]))).map((p) => [p.id, p.name]));
    const cal = await deps.calendar(ctx.tx);
    const lines = [
      `${visitCode(v.id)}｜${c?.name ?? '—'}｜${METHOD_NAMES[v.method]}回访｜${visitStatus(v)}｜回访人：${names.get(v.visitorId ?? -1) ?? '—'}`,
      ...(v.result ? [`结果：${v.result}`] : []),
      ...(v.opinion ? [`客户意见：${v.opinion}`] : []),
      ...(v.satisfaction ? [`满意度：${v.satisfaction}/5`] : []),
      ...(v.note ? [`备注：${v.note}`] : []),
      ...(v.reportAt ? [`回访情况表（${formatInstant(v.reportAt)}）：${v.report}`] : []),
      ...(v.reviewedAt ? [`审阅（${names.get(v.reviewerId ?? -1) ?? '—'}，${formatInstant(v.reviewedAt)}）：${v.reviewNote ?? '无意见'}`] : []),
    ];
    for (const row of await activeTimers(ctx.tx, visitSubject(v.id))) {
      const rule = pb.byId.get(row.ruleId);
      const late = row.dueAt.getTime() < ctx.now.getTime() ? '，已超时' : '';
      lines.push(`⏱ ${rule?.step ?? row.ruleId}｜期限 ${formatInstantInChinese(row.dueAt, cal, { now: ctx.now })}${late}`);
    }
    ctx.reply(lines.join('\n'));
  }

  return {
    handlers: {
      'client.set': clientSet,
      'client.show': clientShow,
      'visit.plan': visitPlan,
      'visit.record': visitRecord,
      'visit.refused': visitRefused,
      'visit.report': visitReport,
      'visit.review': visitReview,
      'visit.list': visitList,
    } as Record<string, Handler>,
    show,
  };
}
