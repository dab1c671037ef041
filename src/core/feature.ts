import type Router from '@koa/router';
import type { Db } from '../db/client';
import type { PlaybookRule } from '../domain/playbooks';
import type { Logger } from '../log';
import type { CalendarProvider, TimerRow } from './clocks/clock-store';
import type { TimerSubject } from './clocks/scheduler';
import type { ArgKind } from './command-parser';
import type { CommandDef } from './commands';
import type { Actor, FeatureRef, Group, Handler, HandlerArgs, HelpTopicDef } from './context';
import type { Emit, EventDef, Subscription } from './events';
import type { OutboundHook } from './outbound-hook';
import type { InboundMessage, OutboundMessage } from './types';

export type { FeatureRef, Handler, HelpTopicDef } from './context';

/**
 * One seam for features (grammY's Composer, Probot's app function): a feature is a plain value that
 * says which commands it adds, which `/查` letters and argument kinds it answers, which timer subjects
 * the scheduler runs for it, which plain messages it watches, which events it emits and consumes, and
 * which pages it serves. The engine (src/core) knows no feature by name; src/app.ts lists them, one line
 * each.
 */

export interface FeatureCommand {
  spec: CommandDef;
  handler: Handler;
  /**
   * Slow work outside the database (a model call) done before the message's transaction opens, for a
   * sender who passes the command's gates; the handler finds the result in `ctx.prepared`. Absent
   * there (a failed or skipped preparation) the handler must do without it: no network call is ever
   * made inside the transaction.
   */
  prepare?: Preparer;
}

/** What a command's `prepare` gets: the database with no transaction open (plain reads only). */
export interface PrepareContext {
  db: Db;
  message: InboundMessage;
  actor: Actor;
  now: Date;
  log: Logger;
}

export type Preparer = (ctx: PrepareContext, args: HandlerArgs) => Promise<unknown>;

/** What a watcher sees of a plain (non-command) message, after dedupe and identification. */
export interface WatchContext {
  tx: Db;
  message: InboundMessage;
  /** The group with its kind and what features bound to it. */
  group: Group;
  actor: Actor;
  /** staff: in the active roster (or an admin); client: anyone else in the group. */
  sender: 'staff' | 'client';
  now: Date;
  log: Logger;
  emit: Emit;
  post(target: { platform: string; conversationId: string }, msg: OutboundMessage, dedupeKey?: string): Promise<void>;
  audit(action: string, subject: string | null, data?: Record<string, unknown>): Promise<void>;
  /**
   * A client's message that spells a command marked `clientWords`: its id and its free text as parsed
   * (null: none, or it did not parse). Absent for a plain message.
   */
  spelled?: { command: string; text: string | null };
  /**
   * Answers the message in its conversation. Plain messages are not answered; a watcher answers a
   * `spelled` command (the client expects a reply). Kept only when the watcher's writes commit.
   */
  reply(text: string, mentions?: string[]): void;
}

/**
 * Sees each plain message once, in the message's own transaction (inside a savepoint): its writes
 * commit with the chat log row. A watcher that throws loses only its own writes; the message is still
 * recorded and the failure logged.
 */
export type Watcher = (ctx: WatchContext) => Promise<void>;

/** What a feature's HTTP routes and workers get (pages and downloads opened from signed links). */
export interface RouteContext {
  db: Db;
  clock: () => Date;
  log: Logger;
}

/** Background work of a feature, outside any message's transaction (e.g. model calls). */
export interface FeatureWorker {
  name: string;
  /** One round; returns how many items it took (a full round means: run again at once). */
  runOnce(): Promise<number>;
}

/**
 * Who passes a gate that lists role keys (CommandDef.gate), in words for replies and `/帮助`. Given by
 * the one feature that owns the roster; without one, such gates pass admins only.
 */
export interface AccessPolicy {
  allows(roles: readonly string[], actor: Actor): boolean;
  /** e.g. 部门负责人、总经办. */
  describe(roles: readonly string[]): string;
  /** The polite refusal of a command the actor's role does not allow. */
  refusal(def: CommandDef): string;
}

/** Upkeep the scheduler loop runs about once a minute (e.g. a warning that depends on the calendar). */
export interface MaintainContext {
  db: Db;
  now: Date;
  calendar: CalendarProvider;
  log: Logger;
}

/** What the engine gives every feature once all are registered (Feature.init). */
export interface Engine {
  emit: Emit;
  /** The rule of any feature's timer, by its subject's prefix. */
  ruleOf(row: Pick<TimerRow, 'subject' | 'ruleId'>): PlaybookRule | undefined;
  /**
   * Counts one event of this feature on /metrics (bot_feature_events_total{feature, event}): a counter
   * increment, no database call. Counted when called, even if the caller's transaction later rolls back.
   * `event` is a short fixed name (never user data).
   */
  count(event: string): void;
}

export interface Feature {
  name: string;
  /** The `/帮助` topic of this feature's commands, with the words that ask for it. */
  help?: HelpTopicDef;
  commands?: FeatureCommand[];
  refs?: Record<string, FeatureRef>;
  /** Argument kinds of its command specs (e.g. a record number: 「X12」 → 12, else a polite reason). */
  argKinds?: Record<string, ArgKind>;
  /** The role gates' policy (one feature, the roster, gives it). */
  access?: AccessPolicy;
  timerSubjects?: TimerSubject[];
  watch?: Watcher;
  /** Events this feature emits (declared with defineEvent and exported from its index.ts). */
  emits?: EventDef<never, unknown>[];
  /** Events of other features it consumes. */
  on?: Subscription[];
  /** Rewrites the rows the scheduler writes to the outbox (e.g. a reminder to one person goes private). */
  outbound?: OutboundHook;
  /** Minute-level upkeep outside any timer (see MaintainContext). */
  maintain?(ctx: MaintainContext): Promise<unknown>;
  /** HTTP routes of the feature (e.g. 看板 pages, CSV downloads), mounted on the bot's Koa app. */
  routes?: (ctx: RouteContext) => Router;
  /** A background worker: startApp runs it in a loop; tests drive `runOnce` by hand. */
  worker?: (ctx: RouteContext) => FeatureWorker;
  /** Called once with the engine's services when the registry is built (src/core/registry.ts). */
  init?(engine: Engine): void;
}

/** Command spec with the topic of the feature that adds it (`/帮助` groups by it). */
export function withTopic(feature: Feature): FeatureCommand[] {
  const topic = feature.help?.topic;
  return (feature.commands ?? []).map((c) => (topic && !c.spec.topic ? { ...c, spec: { ...c.spec, topic } } : c));
}

/** Every timer subject of the features, for the scheduler. */
export const timerSubjectsOf = (features: readonly Feature[]): TimerSubject[] => features.flatMap((f) => f.timerSubjects ?? []);

/** Every outbound hook of the features, in their order, for the scheduler. */
export const outboundHooksOf = (features: readonly Feature[]): OutboundHook[] => features.flatMap((f) => (f.outbound ? [f.outbound] : []));

/** Every minute-level upkeep of the features, for the scheduler. */
export const upkeepOf = (features: readonly Feature[]) => features.flatMap((f) => (f.maintain ? [f.maintain.bind(f)] : []));
