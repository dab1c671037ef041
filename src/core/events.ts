import type { Db } from '../db/client';
import type { Actor } from './records';

/**
 * Declared events between features (Probot's `app.on`): a feature that emits an event declares it with
 * `defineEvent` and exports it from its index.ts; a feature that consumes it subscribes with `on`. The
 * payload and the answer are typed by the declaration. Handlers run in the emitter's transaction, in
 * the order the features were registered, so what they write commits or rolls back with the change
 * that caused it, and the emitter gets every handler's answer (e.g. the clocks they started).
 */
export interface EventDef<P, R = void> {
  readonly name: string;
  /** Type carrier only (never set). */
  readonly __types?: (payload: P) => R;
}

export function defineEvent<P, R = void>(name: string): EventDef<P, R> {
  return { name };
}

/** What a handler gets besides the payload: the emitter's transaction, clock and actor. */
export interface EventContext {
  tx: Db;
  now: Date;
  actor: Actor | null;
}

export interface Subscription {
  readonly event: EventDef<unknown, unknown>;
  handle(ctx: EventContext, payload: unknown): Promise<unknown>;
}

export function on<P, R>(event: EventDef<P, R>, handle: (ctx: EventContext, payload: P) => Promise<R>): Subscription {
  return { event: event as EventDef<unknown, unknown>, handle: handle as Subscription['handle'] };
}

/** Runs every subscriber of `event`; their answers in registration order. */
export type Emit = <P, R>(ctx: EventContext, event: EventDef<P, R>, payload: P) => Promise<R[]>;

/**
 * The one subscriber's answer of an event that is a request (e.g. "file this record"): exactly one
 * feature must answer it.
 */
export async function request<P, R>(emit: Emit, ctx: EventContext, event: EventDef<P, R>, payload: P): Promise<R> {
  const answers = await emit(ctx, event, payload);
  if (answers.length !== 1) throw new Error(`event ${event.name} wants exactly one subscriber, has ${answers.length}`);
  return answers[0]!;
}

export function createEventBus(subscriptions: readonly Subscription[]): Emit {
  const byName = new Map<string, Subscription[]>();
  for (const s of subscriptions) byName.set(s.event.name, [...(byName.get(s.event.name) ?? []), s]);
  return async <P, R>(ctx: EventContext, event: EventDef<P, R>, payload: P): Promise<R[]> => {
    const out: R[] = [];
    for (const s of byName.get(event.name) ?? []) out.push((await s.handle(ctx, payload)) as R);
    return out;
  };
}
