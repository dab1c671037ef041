import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { chatLog, complaintEvents, complaints, groups, people } from '../../db/schema';
import { formatInstantInChinese, type WorkCalendar } from '../../domain/calendar';
import {
  complaintCode,
  type ComplaintChannel,
  type ComplaintEvent,
  type ComplaintLevel,
  type ComplaintPlaybook,
} from '../../domain/complaints';
import { type ChatContext, type Person } from '../../core/context';
import { mention } from '../roster';
import { PermissionError, UserInputError } from '../../core/errors';
import { type ComplaintClocks, type ComplaintRow } from './complaint-clocks';
import { departmentGroup } from './complaint-subject';
import { groupName, holdNotice, noticeRoute } from '../roster';

/**
 * What the complaint commands share: loading and updating a complaint, recording its events (with the
 * clocks they move), who the sender is to it, and where its notices go. Each command file
 * (complaint-intake, -handling, -closing, -reports) builds on one kit.
 */

export const CHANNEL_WORDS: Record<string, ComplaintChannel> = {
  电话: 'phone',
  phone: 'phone',
  业务部: 'sales',
  sales: 'sales',
  老板: 'boss',
  boss: 'boss',
  群聊: 'chat',
  chat: 'chat',
};

export const CLIENT_GROUP_ACK =
  '您好，非常抱歉给您带来了不好的体验！您的意见我们已经认真记录，相关负责同事会尽快与您电话联系，给您一个满意的答复。感谢您的反馈与理解！';

export function refuse(why: string): never {
  throw new PermissionError(why);
}

export function complaintId(ref: unknown): number {
  const s = String(ref ?? '').toUpperCase();
  const m = /^T(\d{1,9})$/.exec(s);
  if (!m) throw new UserInputError(`抱歉，「${String(ref)}」不是投诉编号（应为 T 加数字，如 T7）。`);
  return Number(m[1]);
}

export async function personById(tx: Db, id: number | null | undefined): Promise<Person | null> {
  if (!id) return null;
  const [p] = await tx.select().from(people).where(eq(people.id, id));
  return p ?? null;
}

export async function headsOf(tx: Db, departmentId: number | null): Promise<Person[]> {
  if (!departmentId) return [];
  return tx
    .select()
    .from(people)
    .where(and(eq(people.departmentId, departmentId), eq(people.role, 'head'), eq(people.active, true)))
    .orderBy(asc(people.id));
}

export async function managementPeople(tx: Db): Promise<Person[]> {
  return tx.select().from(people).where(and(eq(people.role, 'management'), eq(people.active, true))).orderBy(asc(people.id));
}

/** Reads a complaint's words for a level (the triage feature's rules); absent: the playbook's keywords alone. */
export function createComplaintKit(deps: { playbook: ComplaintPlaybook; clocks: ComplaintClocks }) {
  const { playbook: pb, clocks } = deps;

  async function load(tx: Db, id: number, lock = false): Promise<ComplaintRow> {
    const q = tx.select().from(complaints).where(eq(complaints.id, id));
    const [c] = lock ? await q.for('update') : await q;
    if (!c) throw new UserInputError(`抱歉，没有找到投诉 ${complaintCode(id)}，请核对编号（可发送 /投诉 列表 查看）。`);
    // Locked to act on it: a voided complaint is only shown (/查), never handled again.
    if (lock && c.status === 'voided') throw new UserInputError(`抱歉，${complaintCode(id)} 已撤销，不再办理（/查 ${complaintCode(id)} 可查看撤销原因）。`);
    return c;
  }

  async function record(ctx: ChatContext, c: Pick<ComplaintRow, 'id'>, kind: string, note: string | null, data: Record<string, unknown> = {}) {
    await ctx.tx.insert(complaintEvents).values({ complaintId: c.id, at: ctx.now, actorId: ctx.actor.person?.id ?? null, kind, note, data });
    await ctx.audit(`complaint.${kind}`, `complaint:${c.id}`, { note, ...data });
  }

  async function set(ctx: ChatContext, id: number, values: Partial<typeof complaints.$inferInsert>) {
    await ctx.tx
      .update(complaints)
      .set({ ...values, updatedAt: ctx.now })
      .where(eq(complaints.id, id));
  }

  async function clockLines(ctx: ChatContext, id: number, events: ComplaintEvent[]): Promise<string> {
    const changes = await clocks.events(ctx.tx, id, events, ctx.now, ctx.actor);
    if (!changes.length) return '';
    const cal = await clocks.calendar(ctx.tx);
    return '\n' + changes.map((ch) => clocks.describe(ch, cal, ctx.now)).join('\n');
  }

  /** Who the sender is to this complaint. */
  async function roleIn(ctx: ChatContext, c: ComplaintRow) {
    const p = ctx.actor.person;
    const isManagement = ctx.actor.isAdmin || p?.role === 'management';
    const isHead = !!p && p.role === 'head' && p.departmentId === c.departmentId;
    const isSupervisor = !!p && (p.id === c.supervisorId || (p.role === 'supervisor' && p.departmentId === c.departmentId));
    const isHandler = !!p && (p.id === c.handlerId || p.id === c.replacementId);
    const isOwner = !!p && p.id === c.ownerId;
    const isFirst = !!p && p.id === c.firstResponderId;
    return { isManagement, isHead, isSupervisor, isHandler, isOwner, isFirst };
  }

  /**
   * Posts a notice to the department's 部门群, else the fallback (this internal group, else 总经办's
   * group), else keeps it unrouted until /部门群 (department-group.ts); when the route is this group, it
   * is the reply. Returns the group's name, or null when the notice was held.
   */
  async function notifyDepartment(ctx: ChatContext, c: ComplaintRow, text: string, mentions: Person[], key: string): Promise<string | null> {
    const route = await noticeRoute(ctx.tx, c.departmentId, { loggedIn: ctx.group });
    const body = route.kind === 'fallback' ? `${text}\n${route.note}` : text;
    const tags = mentions.map(mention).join(' ');
    const full = tags ? `${body}\n${tags}` : body;
    const ids = [...new Set(mentions.map((p) => p.userid))];
    const dedupeKey = `complaint:${c.id}:${key}:${ctx.message.messageId}`;
    if (route.kind === 'unrouted') {
      await holdNotice(ctx.tx, c.departmentId, { text: full, mentions: ids, internal: true }, ctx.now, dedupeKey);
      return null;
    }
    const g = route.group;
    if (g.platform === ctx.group.platform && g.conversationId === ctx.group.conversationId) {
      ctx.reply(full, ids);
    } else {
      await ctx.post({ platform: g.platform, conversationId: g.conversationId }, { text: full, mentions: ids }, dedupeKey);
    }
    return groupName(g);
  }

  const isHere = async (ctx: ChatContext, c: ComplaintRow) => {
    const route = await noticeRoute(ctx.tx, c.departmentId, { loggedIn: ctx.group });
    return route.kind !== 'unrouted' && route.group.platform === ctx.group.platform && route.group.conversationId === ctx.group.conversationId;
  };

  /** 4.3.4: a serious complaint relayed by 业务部 → the head visits the client; the deadline is the visit clock's. */
  function visitLine(code: string, level: ComplaintLevel, heads: Person[], dueAt: Date, cal: WorkCalendar, now: Date): string {
    const rule = pb.byId.get('complaint.visit');
    return (
      `业务部转来的${pb.levels[level].name}投诉：请部门负责人${heads.map((h) => ' ' + mention(h)).join('') || ''} 与客户约定拜访时间，亲自上门拜访、安抚客户，` +
      `期限 ${formatInstantInChinese(dueAt, cal, { now })}；拜访后请登记 /拜访 ${code} <情况>（${rule?.clause ?? '4.3.4'}）。`
    );
  }

  /**
   * Where the salesperson will see a copy (4.3.6 抄送该客户的业务员): an internal group bound to one of
   * the complaint's orders, else the salesperson's own department group (市场部), else the internal group
   * they last spoke in, else the complaint department's group. Never a client group.
   */
  async function salesGroup(tx: Db, c: ComplaintRow, sales: Person) {
    if (c.orderIds.length) {
      const [bound] = await tx
        .select()
        .from(groups)
        .where(and(inArray(groups.orderId, c.orderIds), eq(groups.kind, 'internal')))
        .orderBy(asc(groups.id))
        .limit(1);
      if (bound) return bound;
    }
    const own = await departmentGroup(tx, sales.departmentId);
    if (own) return own;
    const [spoken] = await tx
      .select({ g: groups })
      .from(chatLog)
      .innerJoin(groups, and(eq(groups.platform, chatLog.platform), eq(groups.conversationId, chatLog.conversationId)))
      .where(and(eq(chatLog.sender, sales.userid), eq(chatLog.direction, 'in'), eq(groups.kind, 'internal')))
      .orderBy(desc(chatLog.id))
      .limit(1);
    if (spoken) return spoken.g;
    return departmentGroup(tx, c.departmentId);
  }

  return { pb, clocks, load, record, set, clockLines, roleIn, notifyDepartment, isHere, visitLine, salesGroup };
}

export type ComplaintKit = ReturnType<typeof createComplaintKit>;
