import { and, asc, eq, inArray, isNull, ne, or } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, complaints, departments, orders, people, visits } from '../../db/schema';
import { complaintCode } from '../../domain/complaints';
import { orderCode } from '../../domain/orders';
import { ROLE_NAMES } from '../../domain/roles';
import type { ParsedArgs } from '../../core/command-parser';
import type { ChatContext, Person } from '../../core/context';
import { UserInputError } from '../../core/errors';
import { resolvePerson } from './people';

const OPEN_ORDER = ['new', 'assigned', 'paused'] as const;
const visitCode = (id: number) => `V${id}`;

/** One kind of open work a person holds, with the codes and how to hand it over. */
export interface OpenWork {
  what: string;
  codes: string[];
  handover: string;
}

/**
 * What must be handed over before a person leaves the roster: open orders they handle, transfers
 * waiting for them to take over, open complaints they are part of (accused handler, owner, new
 * handler, supervisor), and return visits still running (planned, or done with the report not filed).
 */
export async function openWorkOf(tx: Db, personId: number): Promise<OpenWork[]> {
  const out: OpenWork[] = [];
  const handled = await tx
    .select({ id: orders.id })
    .from(orders)
    .where(and(eq(orders.handlerId, personId), inArray(orders.status, [...OPEN_ORDER])))
    .orderBy(asc(orders.id));
  if (handled.length) out.push({ what: '负责的分配单', codes: handled.map((o) => orderCode(o.id)), handover: '请用 /转交 <单号> <接替人> <原因> 办理，由部门负责人 /批准' });
  const incoming = await tx
    .select({ id: orders.id })
    .from(orders)
    .where(and(eq(orders.transferToId, personId), inArray(orders.status, [...OPEN_ORDER])))
    .orderBy(asc(orders.id));
  if (incoming.length) out.push({ what: '待其接手的转交', codes: incoming.map((o) => orderCode(o.id)), handover: '请部门负责人 /驳回 <单号> <原因>，再转交给其他同事' });
  const open = await tx
    .select({ id: complaints.id })
    .from(complaints)
    .where(
      and(
        eq(complaints.status, 'open'),
        or(eq(complaints.handlerId, personId), eq(complaints.ownerId, personId), eq(complaints.replacementId, personId), eq(complaints.supervisorId, personId)),
      ),
    )
    .orderBy(asc(complaints.id));
  if (open.length) out.push({ what: '未结案的投诉', codes: open.map((c) => complaintCode(c.id)), handover: '请先结案，或由部门负责人 /换人 指定新负责人' });
  const running = await tx
    .select({ id: visits.id, status: visits.status })
    .from(visits)
    .where(and(eq(visits.visitorId, personId), or(eq(visits.status, 'planned'), and(eq(visits.status, 'done'), isNull(visits.reportAt)))))
    .orderBy(asc(visits.id));
  if (running.length) {
    out.push({
      what: '进行中的回访',
      codes: running.map((v) => `${visitCode(v.id)}（${v.status === 'planned' ? '已计划' : '回访情况表未填'}）`),
      handover: '请先 /回访 记录 或 /回访 报告，或改由其他同事计划',
    });
  }
  return out;
}

/**
 * `/成员 删除 <人员>` (管理员、总经办): a person with open work is not removed — the reply lists it, with
 * codes, and how to hand each kind over. Otherwise the person is deactivated (active = false; every
 * record that names them stays), which ends their links (the 看板 and exports re-read the roster on
 * every request) and their commands (they are outside the roster from now on).
 */
export async function memberRemove(ctx: ChatContext, args: ParsedArgs) {
  const p = await resolvePerson(ctx.tx, String(args.person), ctx.message.mentions);
  if (p.userid === ctx.actor.userid) throw new UserInputError('抱歉，不能删除自己。请由其他管理员或总经办办理。');
  const work = await openWorkOf(ctx.tx, p.id);
  if (work.length) {
    throw new UserInputError(
      [
        `抱歉，${p.name}（${p.userid}）名下还有进行中的工作，需先交接，暂不能删除：`,
        ...work.map((w) => `· ${w.what}：${w.codes.join('、')}（${w.handover}）`),
        `交接完成后请再发送 /成员 删除 ${p.userid}。谢谢！`,
      ].join('\n'),
    );
  }
  await ctx.tx.update(people).set({ active: false }).where(eq(people.id, p.id));
  const [dept] = p.departmentId ? await ctx.tx.select({ name: departments.name }).from(departments).where(eq(departments.id, p.departmentId)) : [];
  const reports = await ctx.tx
    .select({ name: people.name, userid: people.userid })
    .from(people)
    .where(and(eq(people.supervisorId, p.id), eq(people.active, true), ne(people.id, p.id)))
    .orderBy(asc(people.id));
  const ownClients = await ctx.tx.select({ name: clients.name }).from(clients).where(eq(clients.salespersonId, p.id)).orderBy(asc(clients.id));
  await ctx.audit('member.removed', `person:${p.userid}`, {
    name: p.name,
    department: dept?.name ?? null,
    role: p.role,
    reports: reports.map((r) => r.userid),
    clients: ownClients.length,
  });
  const lines = [
    `已删除成员：${p.name}（${p.userid}），${dept?.name ?? '未分部门'}，${ROLE_NAMES[p.role]}。`,
    '名下没有进行中的工作；历史记录（分配单、投诉、回访、审计）全部保留。其本人此前获取的看板、导出链接随即失效，之后的命令按名册外人员处理。',
  ];
  if (reports.length) lines.push(`以下同事的上级是 ${p.name}，请用 /成员 添加 更新上级：${reports.map((r) => `${r.name}（${r.userid}）`).join('、')}。`);
  if (ownClients.length) {
    const shown = ownClients.slice(0, 5).map((c) => c.name).join('、') + (ownClients.length > 5 ? ` 等 ${ownClients.length} 家` : '');
    lines.push(`${p.name} 是这些客户的业务员：${shown}，请安排新的业务员跟进。`);
  }
  lines.push('谢谢！');
  ctx.reply(lines.join('\n'));
}

/** Other active people with this name (a second 「张工」 makes every @张工 ambiguous). */
export async function namesakes(tx: Db, name: string, userid: string): Promise<(Person & { dept: string | null })[]> {
  const rows = await tx
    .select({ p: people, dept: departments.name })
    .from(people)
    .leftJoin(departments, eq(departments.id, people.departmentId))
    .where(and(eq(people.name, name), eq(people.active, true), ne(people.userid, userid)))
    .orderBy(asc(people.id));
  return rows.map((r) => ({ ...r.p, dept: r.dept }));
}
