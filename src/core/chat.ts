import { and, asc, eq, isNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { chatLog, groups, inboundMessages, inboundNotices, people } from '../db/schema';
import type { Logger } from '../log';
import { maskSecrets } from './mask-secrets';
import { createAcceptBatcher, type AcceptResult } from './accept-batcher';
import { resolveCardAction } from './card-actions';
import { parseCommand } from './command-parser';
import { capInbound, isTooLong, TOO_LONG_REPLY } from './message-limits';
import type { CommandDef } from './commands';
import { enqueue, writeAudit, type Actor, type ChatContext, type Group, type HandlerArgs } from './context';
import { createRegistry } from './registry';
import { createPrepare, type Prepared } from './prepare';
import { CLIENT_WORDS_NOTED, spelledByClient } from './client-words';
import { PermissionError, UserInputError } from './errors';
import type { Feature, Handler, WatchContext } from './feature';
import type { Metrics } from './metrics';
import type { InboundMessage, OutboundMessage } from './types';
import { notifySettled, settleKey, type SettleSignal } from './passive-replies';
import { CLIENT_REFUSAL, INTERNAL_IN_CLIENT_GROUP, MEDIA_HINT, MEDIA_HINT_EVERY_MS, WELCOME } from './chat-texts';

export type { Handler };

export interface ChatOptions {
  db: Db;
  log: Logger;
  clock: () => Date;
  adminUserids: readonly string[];
  /** Everything the bot does beyond dedupe and identifying the sender (src/app.ts lists them). */
  features: readonly Feature[];
  /** Counters the hot path moves (no database call): inbound outcomes, handling time, the features' counts. */
  metrics?: Metrics;
  /** Wakes whoever waits for a message's handling in this process (passive replies), after the commit. */
  signal?: Pick<SettleSignal, 'settle'>;
}

export type { AcceptResult };

export { CLIENT_REFUSAL, MEDIA_HINT, MEDIA_HINT_EVERY_MS, WELCOME };
const MAX_ATTEMPTS = 3;

/**
 * Chat routing apart from HTTP routing (STYLE.md #5): dedupe → identify the sender → parse → check
 * permission → run → reply. Dedupe, the command's effects, the audit trail and the reply's outbox rows
 * commit in one transaction, so a retried delivery has no second effect and nothing is half-written.
 */
export function createChat(opts: ChatOptions) {
  const { db, log, clock } = opts;
  const features = opts.features;
  // Stored text is capped before it is written (message-limits.ts): a pasted page never fills the table.
  const acceptBatch = createAcceptBatcher(db);

  // Commands, `/查` letters, argument kinds, the access policy and the event bus, checked once.
  const metrics = opts.metrics;
  const registry = createRegistry(features, metrics ? { count: (feature, event) => metrics.featureEvents.inc({ feature, event }) } : {});
  const { specs, handlers, emit } = registry;
  // A command's slow outside work (a model call) runs before the message's transaction opens.
  const prepare = createPrepare({ db, log, clock, registry, identify });


  /**
   * A click reported by button token (DingTalk cards) becomes the command the bot offered, in the
   * conversation whose card it was; a token the bot never issued is dropped (logged, nothing answered).
   */
  async function clickedCommand(tx: Db, msg: InboundMessage): Promise<InboundMessage | null> {
    if (!msg.cardToken) return msg;
    const action = await resolveCardAction(tx, msg.platform, msg.cardToken);
    if (!action) {
      log.warn({ msgId: msg.messageId, platform: msg.platform }, 'a card click names no button the bot offered; dropped');
      return null;
    }
    return { ...msg, conversationId: action.conversationId, text: action.command, mentions: [] };
  }

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

  const postFrom = (tx: Db, now: Date) => async (target: { platform: string; conversationId: string }, m: OutboundMessage, dedupeKey?: string) => {
    // A post into an internal group is for staff only: the worker re-checks the kind when sending.
    const [g] = await tx
      .select({ kind: groups.kind })
      .from(groups)
      .where(and(eq(groups.platform, target.platform), eq(groups.conversationId, target.conversationId)));
    const internal = g?.kind === 'internal';
    await enqueue(tx, { platform: target.platform, conversationId: target.conversationId, payload: { ...m, ...(internal ? { internal } : {}) }, dedupeKey, now });
  };

  /**
   * Offers a plain message to each feature's watcher, in the message's transaction: one savepoint per
   * watcher, so a watcher's writes commit with the chat log row, and a watcher that fails loses only its
   * own writes (logged); the message stays recorded.
   */
  async function watch(tx: Db, msg: InboundMessage, group: Group, actor: Actor, now: Date, mlog: Logger, spelled?: WatchContext['spelled']): Promise<OutboundMessage[]> {
    const answered: OutboundMessage[] = [];
    for (const f of registry.watchers) {
      const said: OutboundMessage[] = [];
      try {
        await tx.transaction(async (inner) => {
          const itx = inner as unknown as Db;
          await f.watch!({
            tx: itx,
            message: msg,
            group,
            actor,
            sender: actor.person || actor.isAdmin ? 'staff' : 'client',
            now,
            log: mlog,
            emit,
            post: postFrom(itx, now),
            audit: (action, subject, data) => writeAudit(itx, { at: now, actor, action, subject, message: msg, data }),
            ...(spelled ? { spelled } : {}),
            reply: (text, mentions = []) => void said.push({ text, mentions: [...new Set(mentions)] }),
          });
        });
        answered.push(...said);
      } catch (err) {
        mlog.error({ err, feature: f.name }, 'a watcher failed; its writes were rolled back, the message is recorded');
      }
    }
    return answered;
  }

  interface Turn {
    tx: Db;
    msg: InboundMessage;
    group: Group;
    actor: Actor;
    now: Date;
    mlog: Logger;
    reply: ChatContext['reply'];
    /** Drops the replies queued so far (a refused command answers with its reason only). */
    clear(): void;
    /** The command's preparation (FeatureCommand.prepare), made before the transaction for this message. */
    prepared?: unknown;
  }

  /**
   * authorize → dispatch: a command for anyone runs for anyone; any other is refused to people outside
   * the roster, refused by the access policy when the gate does not let the sender pass, and refused in
   * a client group when it shows internal detail. The handler runs in a savepoint, so a refused
   * command leaves nothing half-written while its reply and dedupe row stay.
   */
  async function authorizeAndRun(def: CommandDef, args: HandlerArgs, t: Turn): Promise<{ internal: boolean }> {
    const { tx, msg, group, actor, now, mlog, reply } = t;
    if (def.gate !== 'anyone' && !actor.person && !actor.isAdmin) {
      reply(CLIENT_REFUSAL);
      return { internal: false };
    }
    if (!registry.passesGate(def, actor)) {
      reply(registry.refusal(def));
      return { internal: false };
    }
    if (group.kind === 'client' && def.internal) {
      reply(INTERNAL_IN_CLIENT_GROUP);
      return { internal: false };
    }
    const handler = handlers.get(def.id);
    if (!handler) throw new Error(`no handler for ${def.id}`);
    const ctx: ChatContext = {
      tx,
      message: msg,
      group,
      actor,
      now,
      log: mlog,
      registry,
      emit,
      reply,
      post: postFrom(tx, now),
      audit: (action, subject, data) => writeAudit(tx, { at: now, actor, action, subject, message: msg, data }),
      dispatch: () => Promise.reject(new Error('dispatch is bound to the handler transaction')),
      ...(t.prepared !== undefined ? { prepared: t.prepared } : {}),
    };
    // A command offered by another (a confirmed draft): same parse, gates and handler, in the caller's savepoint.
    const dispatchIn = (itx: Db) => async (commandText: string) => {
      const p = parseCommand(commandText, specs, registry.kinds);
      if (!p.ok) throw new Error(`dispatch: not a command the registry knows: ${commandText.slice(0, 40)}`);
      await authorizeAndRun(p.command as CommandDef, p.args, { ...t, tx: itx, prepared: undefined });
    };
    try {
      await tx.transaction(async (inner) => {
        const itx = inner as unknown as Db;
        await handler({ ...ctx, tx: itx, dispatch: dispatchIn(itx) }, args);
      });
    } catch (err) {
      if (err instanceof UserInputError || err instanceof PermissionError) {
        t.clear();
        reply(err.message);
        mlog.info({ command: def.id, refused: err.code }, 'command refused');
      } else {
        throw err;
      }
    }
    return { internal: !!def.internal };
  }

  /** Runs one message inside `tx`. Returns the replies (also queued in the outbox). */
  async function run(tx: Db, inbound: InboundMessage, prep: Prepared | null = null): Promise<OutboundMessage[]> {
    const now = clock();
    const msg = await clickedCommand(tx, inbound);
    if (!msg) return [];
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
      text: msg.event ? '[进入会话]' : msg.attachment && !msg.text ? `[${ATTACHMENT_NAMES[msg.attachment]}]` : maskSecrets(msg.text).slice(0, 8000),
      mentions: msg.mentions,
      at: msg.receivedAt,
    });

    const replies: OutboundMessage[] = [];
    /** The replies of an internal command run in an internal group: refused later if the group turns client. */
    let internalReplies = false;
    const reply = (text: string, mentions: string[] = [], buttons?: OutboundMessage['buttons']) =>
      replies.push({ text, mentions: [...new Set(mentions)], ...(buttons?.length ? { buttons } : {}) });
    // Over the cap, a command is answered politely and not parsed; long plain text is only recorded.
    const parsed = isTooLong(msg.text) ? ({ ok: false, reason: 'too_long' } as const) : parseCommand(msg.text, specs, registry.kinds);
    const spelled = spelledByClient(parsed, group, actor);
    if (msg.event === 'welcome') {
      reply(WELCOME);
    } else if (msg.attachment && !msg.text.trim()) {
      // Once per group per hour, decided in the database (the conditional upsert), so it holds across instances.
      const moved = await tx
        .insert(inboundNotices)
        .values({ platform: msg.platform, conversationId: msg.conversationId, kind: 'media-hint', lastAt: now })
        .onConflictDoUpdate({
          target: [inboundNotices.platform, inboundNotices.conversationId, inboundNotices.kind],
          set: { lastAt: now },
          setWhere: lte(inboundNotices.lastAt, new Date(now.getTime() - MEDIA_HINT_EVERY_MS)),
        })
        .returning({ at: inboundNotices.lastAt });
      if (moved.length) reply(MEDIA_HINT);
    } else if (spelled) {
      // A client who writes `/投诉 …` is complaining: the watchers read it as the client's words and answer it.
      const def = spelled;
      const restName = def.args.rest?.name;
      const free = parsed.ok && restName ? parsed.args[restName] : undefined;
      const answers = await watch(tx, msg, group, actor, now, mlog, { command: def.id, text: typeof free === 'string' && free.trim() ? free.trim() : null });
      if (answers.length) for (const a of answers) reply(a.text, a.mentions);
      else reply(CLIENT_WORDS_NOTED);
    } else if (!parsed.ok) {
      if (parsed.reason === 'too_long' && /^\s*[/／]/.test(msg.text)) reply(TOO_LONG_REPLY, [msg.senderId]);
      if (parsed.reason === 'unknown') reply(actor.person || actor.isAdmin ? parsed.message : CLIENT_REFUSAL);
      else if (parsed.reason === 'invalid') reply(actor.person || actor.isAdmin ? parsed.message : CLIENT_REFUSAL);
      // Plain text: recorded in the chat log above; nothing to answer, but the features' watchers see it.
      if (parsed.reason !== 'unknown' && parsed.reason !== 'invalid' && !/^\s*[/／]/.test(msg.text)) {
        await watch(tx, msg, group, actor, now, mlog);
      }
    } else {
      const prepared = prep && prep.platform === msg.platform && prep.messageId === msg.messageId ? prep.value : undefined;
      const outcome = await authorizeAndRun(parsed.command as CommandDef, parsed.args, { tx, msg, group, actor, now, mlog, reply, clear: () => void (replies.length = 0), prepared });
      internalReplies = outcome.internal;
    }
    for (const [i, r] of replies.entries()) {
      await enqueue(tx, {
        platform: msg.platform,
        conversationId: msg.conversationId,
        payload: { text: r.text, mentions: r.mentions, ...(r.buttons ? { buttons: r.buttons } : {}), ...(msg.route ? { replyRoute: msg.route } : {}), ...(internalReplies ? { internal: true } : {}) },
        dedupeKey: `reply:${msg.platform}:${msg.messageId}:${i}`,
        replyTo: msg.messageId,
        now,
        // Held while the callback may still answer in its own HTTP response (replyHoldUntil, the WeCom AI bot).
        ...(msg.replyHoldUntil && msg.replyHoldUntil > now.getTime() ? { notBefore: new Date(msg.replyHoldUntil) } : {}),
      });
    }
    return replies;
  }

  return {
    specs,

    /** Durably record an inbound message for later handling; returns fast (platform ack windows). */
    accept: (msg: InboundMessage): Promise<AcceptResult> =>
      acceptBatch(capInbound(msg)).then((outcome) => {
        metrics?.inbound.inc({ platform: msg.platform, outcome });
        return outcome;
      }),

    /** Handle accepted messages. Safe to run from any number of instances (row locks, SKIP LOCKED). */
    async processPending(limit = 20): Promise<number> {
      let handled = 0;
      const due = () => and(eq(inboundMessages.status, 'pending'), or(isNull(inboundMessages.nextAttemptAt), lte(inboundMessages.nextAttemptAt, clock())));
      for (let i = 0; i < limit; i++) {
        const started = performance.now();
        // The next message's preparation (a model call) is made before its claim's transaction opens.
        const [next] = registry.preparers.size ? await db.select({ payload: inboundMessages.payload }).from(inboundMessages).where(due()).orderBy(asc(inboundMessages.receivedAt)).limit(1) : [];
        const prep = next?.payload ? await prepare(revive(next.payload)) : null;
        const did = await db.transaction(async (tx): Promise<false | { platform: string; outcome: 'done' | 'retry' | 'failed'; key: string }> => {
          const [row] = await tx.select().from(inboundMessages).where(due()).orderBy(asc(inboundMessages.receivedAt)).limit(1).for('update', { skipLocked: true });
          if (!row) return false;
          const msg = revive(row.payload!);
          const key = settleKey(row.platform, row.messageId);
          try {
            await tx.transaction(async (inner) => {
              await run(inner as unknown as Db, msg, prep);
            });
            await tx
              .update(inboundMessages)
              .set({ status: 'done', payload: null })
              .where(and(eq(inboundMessages.platform, row.platform), eq(inboundMessages.messageId, row.messageId)));
            // Delivered at commit, to every instance's listener: a request waiting elsewhere wakes (passive-replies.ts).
            await notifySettled(tx, key);
            return { platform: row.platform, outcome: 'done', key };
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
                now: clock(),
              });
            }
            if (failed) await notifySettled(tx, key);
            return { platform: row.platform, outcome: failed ? 'failed' : 'retry', key };
          }
        });
        if (!did) break;
        metrics?.handling.observe({ platform: did.platform, outcome: did.outcome }, (performance.now() - started) / 1000);
        if (did.outcome !== 'retry') opts.signal?.settle(did.key);
        handled++;
      }
      return handled;
    },

    /** Handle a message now and return the replies (sandbox: the HTTP answer carries them). */
    async handleNow(message: InboundMessage): Promise<{ duplicate: boolean; replies: OutboundMessage[] }> {
      const msg = capInbound(message);
      const started = performance.now();
      const prep = await prepare(msg);
      const r = await db.transaction(async (tx) => {
        const rows = await tx
          .insert(inboundMessages)
          .values({ platform: msg.platform, messageId: msg.messageId, receivedAt: msg.receivedAt, status: 'done' })
          .onConflictDoNothing()
          .returning({ id: inboundMessages.messageId });
        if (!rows.length) return { duplicate: true, replies: [] };
        return { duplicate: false, replies: await run(tx, msg, prep) };
      });
      metrics?.inbound.inc({ platform: msg.platform, outcome: r.duplicate ? 'duplicate' : 'accepted' });
      if (!r.duplicate) metrics?.handling.observe({ platform: msg.platform, outcome: 'done' }, (performance.now() - started) / 1000);
      return r;
    },
  };
}

export type Chat = ReturnType<typeof createChat>;

function revive(payload: Record<string, unknown>): InboundMessage {
  return { ...(payload as unknown as InboundMessage), receivedAt: new Date(String(payload.receivedAt)) };
}

const ATTACHMENT_NAMES: Record<NonNullable<InboundMessage['attachment']>, string> = { image: '图片', file: '文件', video: '视频', other: '非文字消息' };

