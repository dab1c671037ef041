import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { groups } from '../db/schema';
import type { Logger } from '../log';
import { parseCommand } from './command-parser';
import type { CommandDef } from './commands';
import type { Actor } from './context';
import { isTooLong } from './message-limits';
import type { Registry } from './registry';
import type { InboundMessage } from './types';

/** A command's preparation, tied to the message it was made for. */
export interface Prepared {
  platform: string;
  messageId: string;
  value: unknown;
}

/**
 * Runs the `prepare` of a message's command (FeatureCommand.prepare: a model call, say) with no
 * transaction open, before the message's own transaction. Only for a sender the command's gates let
 * through, and never for an internal command in a client group: nothing a refused sender typed is sent
 * anywhere. A preparation that fails is logged and dropped (the handler does without it).
 */
export function createPrepare(opts: { db: Db; log: Logger; clock: () => Date; registry: Registry; identify(db: Db, userid: string, name?: string): Promise<Actor> }) {
  const { db, log, registry } = opts;
  return async function prepare(msg: InboundMessage): Promise<Prepared | null> {
    if (!registry.preparers.size || msg.cardToken || msg.event || isTooLong(msg.text)) return null;
    const parsed = parseCommand(msg.text, registry.specs, registry.kinds);
    if (!parsed.ok) return null;
    const def = parsed.command as CommandDef;
    const preparer = registry.preparers.get(def.id);
    if (!preparer) return null;
    const actor = await opts.identify(db, msg.senderId, msg.senderName);
    if (def.gate !== 'anyone' && !actor.person && !actor.isAdmin) return null;
    if (!registry.passesGate(def, actor)) return null;
    if (def.internal) {
      const [g] = await db.select({ kind: groups.kind }).from(groups).where(and(eq(groups.platform, msg.platform), eq(groups.conversationId, msg.conversationId)));
      if (g?.kind === 'client') return null;
    }
    const mlog = log.child({ msgId: msg.messageId, platform: msg.platform });
    try {
      const value = await preparer({ db, message: msg, actor, now: opts.clock(), log: mlog }, parsed.args);
      return { platform: msg.platform, messageId: msg.messageId, value };
    } catch (err) {
      mlog.warn({ err, command: def.id }, 'preparing a command outside the transaction failed; the command runs without it');
      return null;
    }
  };
}
