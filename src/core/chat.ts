import { and, asc, eq, isNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { chatLog, groups, inboundMessages, people } from '../db/schema';
import type { Logger } from '../log';
import { maskSecrets } from './mask-secrets';
import { createAcceptBatcher, type AcceptResult } from './accept-batcher';
import { parseCommand } from './command-parser';
import { capInbound, isTooLong, TOO_LONG_REPLY } from './message-limits';
import * as admin from './commands/admin-commands';
import * as ord from './commands/order-commands';
import * as clk from './commands/clock-commands';
import type { OrderClocks } from './clocks/order-clocks';
import { OUTBOX_COMMANDS } from './commands/outbox-commands';
import { COMMANDS, type CommandDef } from './commands/specs';
import { helpText } from './help';
import { enqueue, writeAudit, type Actor, type ChatContext, type Group } from './context';
import { PermissionError, UserInputError } from './errors';
import type { InboundMessage, OutboundMessage, RobotSetting } from './types';

export type Handler = (ctx: ChatContext, args: Record<string, string | number | boolean | undefined>) => Promise<void>;

export interface ChatOptions {
  db: Db;
  log: Logger;
  clock: () => Date;
  adminUserids: readonly string[];
  clocks: OrderClocks;
  /** Extra commands from other modules (clocks, complaints, platforms): spec + handler. */
  extensions?: { spec: CommandDef; handler: Handler }[];
  /** `/查 <ref>` for other kinds of ref, by the ref's letter (e.g. T → complaints). */
  refs?: Record<string, (ctx: ChatContext, id: number) => Promise<void>>;
  /** What `/群 机器人=…` does per platform (platform adapters); absent: the command says it is not needed. */
  robotSetting?: RobotSetting;
}

export type { AcceptResult };

const CLIENT_REFUSAL = '您好！这条命令仅供本公司服务人员使用。如需帮助，请直接在群里留言，我们的同事会尽快回复您，谢谢！';
const MAX_ATTEMPTS = 3;

/**
 * Chat routing apart from HTTP routing (STYLE.md #5): dedupe → identify the sender → parse → check
 * permission → run → reply. Dedupe, the command's effects, the audit trail and the reply's outbox rows
 * commit in one transaction, so a retried delivery has no second effect and nothing is half-written.
 */
export function createChat(opts: ChatOptions) {
  const { db, log, clock } = opts;
  const handlers = new Map<string, Handler>(Object.entries(BUILTIN_HANDLERS));
  const refs = opts.refs ?? {};
  // Stored text is capped before it is written (message-limits.ts): a pasted page never fills the table.
  const acceptBatch = createAcceptBatcher(db);
  handlers.set('show', async (ctx, a) => {
    const ref = String(a.ref);
    const extra = refs[ref.charAt(0)];
    if (extra) return extra(ctx, Number(ref.slice(1)));
    return BUILTIN_HANDLERS.show!(ctx, a);
  });
  const specs: CommandDef[] = [...COMMANDS];
  for (const ext of [...OUTBOX_COMMANDS, ...(opts.extensions ?? [])]) {
    specs.push(ext.spec);
    handlers.set(ext.spec.id, ext.handler);
  }
  handlers.set('group.set', (ctx, a) => admin.groupSet(ctx, a, opts.robotSetting));

  async function identify(tx: Db, userid: string, name?: string): Promise<Actor> {
    const [person] = await tx.select().from(people).where(and(eq(people.userid, userid), eq(people.active, true)));
    const isAdmin = opts.adminUserids.includes(userid) || !!person?.isAdmin;
    return { userid, person: person ?? null, isAdmin, displayName: person?.name ?? name ?? userid };
  }

  async function upsertGroup(tx: Db, msg: InboundMessage): Promise<Group> {
    const [g] = await tx
      .insert(groups)
      .values({
        platform: msg.platform,
        conversationId: msg.conversationId,
        title: msg.conversationTitle ?? null,
        route: msg.route ?? null,
        createdAt: msg.receivedAt,
      })
      .onConflictDoUpdate({
        target: [groups.platform, groups.conversationId],
        set: {
          title: sql`coalesce(excluded.title, ${groups.title})`,
          route: sql`case when excluded.route is null then ${groups.route} else coalesce(${groups.route}, '{}'::jsonb) || excluded.route end`,
        },
      })
      .returning();
    return g!;
  }

  function passesGate(def: CommandDef, actor: Actor): boolean {
    if (def.gate === 'anyone') return true;
    if (actor.isAdmin) return true;
    if (!actor.person) return false;
    if (def.gate === 'staff') return true;
    return actor.person.role === 'management' || def.gate.includes(actor.person.role);
  }

  function helpFor(actor: Actor, group: Group, topic: string | undefined): string {
    if (!actor.person && !actor.isAdmin) return `您好，我是服务助手。${CLIENT_REFUSAL.replace(/^您好！/, '')}`;
    const usable = (c: CommandDef) => passesGate(c, actor) && !(group.kind === 'client' && c.internal);
    return helpText({ name: actor.displayName, specs, usable, who: gateText, topic });
  }

  /** Runs one message inside `tx`. Returns the replies (also queued in the outbox). */
  async function run(tx: Db, msg: InboundMessage): Promise<OutboundMessage[]> {
    const now = clock();
    const group = await upsertGroup(tx, msg);
    const actor = await identify(tx, msg.senderId, msg.senderName);
    const mlog = log.child({ msgId: msg.messageId, platform: msg.platform });
    await tx.insert(chatLog).values({
      platform: msg.platform,
      conversationId: msg.conversationId,
      direction: 'in',
      sender: msg.senderId,
      senderName: msg.senderName ?? actor.person?.name ?? null,
      messageId: msg.messageId,
      // Robot keys and signing secrets (`/群 机器人=… 密钥=…`) are not kept as typed.
      text: maskSecrets(msg.text).slice(0, 8000),
      mentions: msg.mentions,
      at: msg.receivedAt,
    });

    const replies: OutboundMessage[] = [];
    /** The replies of an internal command run in an internal group: refused later if the group turns client. */
    let internalReplies = false;
    const reply = (text: string, mentions: string[] = []) => replies.push({ text, mentions: [...new Set(mentions)] });
    // Over the cap, a command is answered politely and not parsed; long plain text is only recorded.
    const parsed = isTooLong(msg.text) ? ({ ok: false, reason: 'too_long' } as const) : parseCommand(msg.text, specs);
    if (!parsed.ok) {
      if (parsed.reason === 'too_long' && /^\s*[/／]/.test(msg.text)) reply(TOO_LONG_REPLY, [msg.senderId]);
      if (parsed.reason === 'unknown') reply(actor.person || actor.isAdmin ? parsed.message : CLIENT_REFUSAL);
      else if (parsed.reason === 'invalid') reply(actor.person || actor.isAdmin ? parsed.message : CLIENT_REFUSAL);
      // Plain text: recorded in the chat log above; nothing to answer.
    } else {
      const def = parsed.command as CommandDef;
      const ctx: ChatContext = {
        tx,
        message: msg,
        group,
        actor,
        now,
        log: mlog,
        reply,
        post: async (target, m, dedupeKey) => {
          // A post into an internal group is for staff only: the worker re-checks the kind when sending.
          const [g] = await tx
            .select({ kind: groups.kind })
            .from(groups)
            .where(and(eq(groups.platform, target.platform), eq(groups.conversationId, target.conversationId)));
          const internal = g?.kind === 'internal';
          await enqueue(tx, { platform: target.platform, conversationId: target.conversationId, payload: { ...m, ...(internal ? { internal } : {}) }, dedupeKey, notBefore: now });
        },
        audit: (action, subject, data) => writeAudit(tx, { at: now, actor, action, subject, message: msg, data }),
        clocks: opts.clocks,
      };
      if (def.id === 'help') {
        reply(helpFor(actor, group, parsed.args.topic as string | undefined));
      } else if (!actor.person && !actor.isAdmin) {
        reply(CLIENT_REFUSAL);
      } else if (!passesGate(def, actor)) {
        reply(`抱歉，「${def.zh.join(' ')}」需要${gateText(def)}权限，您目前没有。如有需要请联系部门负责人。`);
      } else if (group.kind === 'client' && def.internal) {
        reply('抱歉，这条命令会显示内部信息，不能在客户群里使用。请到内部群或与我私聊时使用，谢谢！');
      } else {
        const handler = handlers.get(def.id);
        if (!handler) throw new Error(`no handler for ${def.id}`);
        internalReplies = !!def.internal;
        try {
          // A savepoint: a refused command leaves nothing half-written, yet its reply and dedupe row stay.
          await tx.transaction(async (inner) => handler({ ...ctx, tx: inner as unknown as Db }, parsed.args));
        } catch (err) {
          if (err instanceof UserInputError || err instanceof PermissionError) {
            replies.length = 0;
            reply(err.message);
            mlog.info({ command: def.id, refused: err.code }, 'command refused');
          } else {
            throw err;
          }
        }
      }
    }
    for (const [i, r] of replies.entries()) {
      await enqueue(tx, {
        platform: msg.platform,
        conversationId: msg.conversationId,
        payload: { text: r.text, mentions: r.mentions, ...(msg.route ? { replyRoute: msg.route } : {}), ...(internalReplies ? { internal: true } : {}) },
        dedupeKey: `reply:${msg.platform}:${msg.messageId}:${i}`,
        replyTo: msg.messageId,
        // Due by the app's clock, not the database's: the worker compares with the same clock.
        notBefore: now,
      });
    }
    return replies;
  }

  return {
    specs,

    /** Durably record an inbound message for later handling; returns fast (platform ack windows). */
    accept: (msg: InboundMessage): Promise<AcceptResult> => acceptBatch(capInbound(msg)),

    /** Handle accepted messages. Safe to run from any number of instances (row locks, SKIP LOCKED). */
    async processPending(limit = 20): Promise<number> {
      let handled = 0;
      for (let i = 0; i < limit; i++) {
        const did = await db.transaction(async (tx) => {
          const [row] = await tx
            .select()
            .from(inboundMessages)
            .where(
              and(
                eq(inboundMessages.status, 'pending'),
                or(isNull(inboundMessages.nextAttemptAt), lte(inboundMessages.nextAttemptAt, clock())),
              ),
            )
            .orderBy(asc(inboundMessages.receivedAt))
            .limit(1)
            .for('update', { skipLocked: true });
          if (!row) return false;
          const msg = revive(row.payload!);
          try {
            await tx.transaction(async (inner) => {
              await run(inner as unknown as Db, msg);
            });
            await tx
              .update(inboundMessages)
              .set({ status: 'done', payload: null })
              .where(and(eq(inboundMessages.platform, row.platform), eq(inboundMessages.messageId, row.messageId)));
          } catch (err) {
            const attempts = row.attempts + 1;
            log.error({ err, msgId: row.messageId, attempts }, 'handling an inbound message failed');
            const failed = attempts >= MAX_ATTEMPTS;
            await tx
              .update(inboundMessages)
              .set({
                attempts,
                status: failed ? 'failed' : 'pending',
                nextAttemptAt: new Date(clock().getTime() + 2 ** attempts * 1000),
              })
              .where(and(eq(inboundMessages.platform, row.platform), eq(inboundMessages.messageId, row.messageId)));
            if (failed) {
              await enqueue(tx, {
                platform: msg.platform,
                conversationId: msg.conversationId,
                payload: { text: '抱歉，处理您的消息时系统出了问题，已记录并通知管理员，请稍后再试。', mentions: [msg.senderId] },
                dedupeKey: `reply:${msg.platform}:${msg.messageId}:error`,
                replyTo: msg.messageId,
                notBefore: clock(),
              });
            }
          }
          return true;
        });
        if (!did) break;
        handled++;
      }
      return handled;
    },

    /** Handle a message now and return the replies (sandbox: the HTTP answer carries them). */
    async handleNow(message: InboundMessage): Promise<{ duplicate: boolean; replies: OutboundMessage[] }> {
      const msg = capInbound(message);
      return db.transaction(async (tx) => {
        const rows = await tx
          .insert(inboundMessages)
          .values({ platform: msg.platform, messageId: msg.messageId, receivedAt: msg.receivedAt, status: 'done' })
          .onConflictDoNothing()
          .returning({ id: inboundMessages.messageId });
        if (!rows.length) return { duplicate: true, replies: [] };
        return { duplicate: false, replies: await run(tx, msg) };
      });
    },
  };
}

export type Chat = ReturnType<typeof createChat>;

function revive(payload: Record<string, unknown>): InboundMessage {
  return { ...(payload as unknown as InboundMessage), receivedAt: new Date(String(payload.receivedAt)) };
}

function gateText(def: CommandDef): string {
  if (def.gate === 'anyone' || def.gate === 'staff') return '服务人员';
  const names: Record<string, string> = { handler: '负责人', supervisor: '主管', head: '部门负责人', sales: '业务员', management: '总经办' };
  return def.gate.map((r) => names[r]).join('、');
}

const BUILTIN_HANDLERS: Record<string, Handler> = {
  'member.add': admin.memberAdd,
  'member.list': admin.memberList,
  'dept.add': admin.deptAdd,
  'dept.list': (ctx) => admin.deptList(ctx),
  'group.set': admin.groupSet,
  'group.dept': admin.groupDept,
  'group.bind': ord.groupBind,
  'order.new': ord.orderNew,
  'order.assign': ord.orderAssign,
  'order.step': ord.orderStep,
  'order.paid': ord.orderPaid,
  'order.pause': ord.orderPause,
  'order.resume': ord.orderResume,
  'order.transfer': ord.orderTransfer,
  'order.approve': ord.orderApprove,
  'order.reject': ord.orderReject,
  'order.done': (ctx, a) => ord.orderFinish(ctx, a, 'done'),
  'order.cancel': (ctx, a) => ord.orderFinish(ctx, a, 'cancelled'),
  'order.dropout': ord.orderDropOut,
  'order.list': (ctx, a) =>
    ord.orderList(ctx, a.scope === '部门' || a.scope === 'dept' ? 'dept' : a.scope === '全部' || a.scope === 'all' ? 'all' : 'mine'),
  mine: (ctx) => ord.orderList(ctx, 'mine'),
  'order.set': ord.orderSet,
  'order.checkoff': ord.orderCheckoff,
  'clock.overdue': clk.overdue,
  'clock.due': clk.due,
  'calendar.show': clk.calendarShow,
  'calendar.adjust': clk.calendarAdjust,
  show: async (ctx, a) => {
    const ref = String(a.ref);
    if (ref.startsWith('D')) return ord.orderShow(ctx, Number(ref.slice(1)));
    throw new UserInputError(`「${ref}」不是可查询的编号（分配单以 D 开头，如 D12；投诉以 T 开头，如 T7）。`);
  },
};

