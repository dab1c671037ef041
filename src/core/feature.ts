import type Router from '@koa/router';
import type { Db } from '../db/client';
import type { Logger } from '../log';
import type { TimerSubject } from './clocks/scheduler';
import type { CommandDef } from './commands/specs';
import type { Actor, ChatContext, Group } from './context';
import type { InboundMessage, OutboundMessage } from './types';

/**
 * One seam for features (grammY's Composer, Probot's app function): a feature is a plain value that
 * says which commands it adds, which `/查` letters it answers, which timer subjects the scheduler runs
 * for it and which plain messages it watches. The chat core and the scheduler know no feature by name;
 * src/app.ts lists the features in one place.
 */

export type Handler = (ctx: ChatContext, args: Record<string, string | number | boolean | undefined>) => Promise<void>;

export interface FeatureCommand {
  spec: CommandDef;
  handler: Handler;
}

/** `/查 <letter><number>`: e.g. `D` → 分配单 D12. */
export interface FeatureRef {
  /** What the letter names, for the polite reply to an unknown letter (e.g. 分配单). */
  noun: string;
  /** An example ref, e.g. D12. */
  example: string;
  show(ctx: ChatContext, id: number): Promise<void>;
}

/** What a watcher sees of a plain (non-command) message, after dedupe and identification. */
export interface WatchContext {
  tx: Db;
  message: InboundMessage;
  /** The group with its kind and bound order (`/绑定` stores `orderId`, `clientId`). */
  group: Group;
  actor: Actor;
  /** staff: in the active roster (or an admin); client: anyone else in the group. */
  sender: 'staff' | 'client';
  now: Date;
  log: Logger;
  post(target: { platform: string; conversationId: string }, msg: OutboundMessage, dedupeKey?: string): Promise<void>;
  audit(action: string, subject: string | null, data?: Record<string, unknown>): Promise<void>;
}

/**
 * Sees each plain message once, in the message's own transaction (inside a savepoint): its writes
 * commit with the chat log row. A watcher that throws loses only its own writes; the message is still
 * recorded and the failure logged.
 */
export type Watcher = (ctx: WatchContext) => Promise<void>;

/** What a feature's HTTP routes get (pages and downloads opened from signed links). */
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

export interface Feature {
  name: string;
  /** The `/帮助` topic of this feature's commands, with the words that ask for it. */
  help?: { topic: string; words: string[] };
  commands?: FeatureCommand[];
  refs?: Record<string, FeatureRef>;
  timerSubjects?: TimerSubject[];
  watch?: Watcher;
  /** HTTP routes of the feature (e.g. 看板 pages, CSV downloads), mounted on the bot's Koa app. */
  routes?: (ctx: RouteContext) => Router;
  /** A background worker: startApp runs it in a loop; tests drive `runOnce` by hand. */
  worker?: (ctx: RouteContext) => FeatureWorker;
}

/** Command spec with the topic of the feature that adds it (help.ts groups by it). */
export function withTopic(feature: Feature): FeatureCommand[] {
  const topic = feature.help?.topic;
  return (feature.commands ?? []).map((c) => (topic && !c.spec.topic ? { ...c, spec: { ...c.spec, topic } } : c));
}

/** Every timer subject of the features, for the scheduler. */
export const timerSubjectsOf = (features: readonly Feature[]): TimerSubject[] => features.flatMap((f) => f.timerSubjects ?? []);
