import type { Db } from '../db/client';
import type { Logger } from '../log';
import type { CommandDef } from './commands';
import type { Emit } from './events';
import type { InboundMessage, OutboundMessage } from './types';

export { enqueue, writeAudit, type Actor, type Group, type Person } from './records';
import type { Actor, Group } from './records';

export type HandlerArgs = Record<string, string | number | boolean | undefined>;
export type Handler = (ctx: ChatContext, args: HandlerArgs) => Promise<void>;

/** `/查 <letter><number>`: a feature's record by its letter and number (e.g. `X` → X12). */
export interface FeatureRef {
  /** What the letter names, for the polite reply to an unknown letter. */
  noun: string;
  /** An example ref, e.g. X12. */
  example: string;
  show(ctx: ChatContext, id: number): Promise<void>;
}

/** A `/帮助` topic, declared by the feature whose commands it groups. */
export interface HelpTopicDef {
  topic: string;
  /** Words that ask for it: `/帮助 <word>`. */
  words: string[];
}

/** What a command sees of the registry of features (the help feature lists commands and refs from it). */
export interface CommandRegistry {
  /** Every command, in the order the features were registered. */
  readonly specs: readonly CommandDef[];
  /** The `/帮助` topics, in the order the features were registered. */
  readonly topics: readonly HelpTopicDef[];
  /** The `/查` letters (upper case) and what they name. */
  readonly refs: ReadonlyMap<string, FeatureRef>;
  /** May this person use this command here (their gate, and no internal command in a client group)? */
  usable(def: CommandDef, actor: Actor, group: Group): boolean;
  /** Who may use a command, in words (the access policy's). */
  who(def: CommandDef): string;
}

/** One message's context (STYLE.md #6): everything a command handler needs, nothing platform-specific. */
export interface ChatContext {
  tx: Db;
  message: InboundMessage;
  group: Group;
  actor: Actor;
  now: Date;
  log: Logger;
  registry: CommandRegistry;
  /** Tells the features that subscribe to `event` (core/events.ts), in this transaction. */
  emit: Emit;
  /**
   * Runs a command as if the sender had typed it here (same parse, gates and handler, same
   * transaction): e.g. a confirmed draft runs the command it offered.
   */
  dispatch(commandText: string): Promise<void>;
  /** Queue a reply; `buttons` become a card where the platform can show one (the text must name the commands too). */
  reply(text: string, mentions?: string[], buttons?: OutboundMessage['buttons']): void;
  /** Post into another conversation through the outbox (same transaction as the change). */
  post(target: { platform: string; conversationId: string }, msg: OutboundMessage, dedupeKey?: string): Promise<void>;
  audit(action: string, subject: string | null, data?: Record<string, unknown>): Promise<void>;
  /** What the command's `prepare` produced before the transaction opened (FeatureCommand.prepare); undefined when none. */
  prepared?: unknown;
}
