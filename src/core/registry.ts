import type { PlaybookRule } from '../domain/playbooks';
import type { TimerRow } from './clocks/clock-store';
import type { TimerSubject } from './clocks/scheduler';
import type { ArgKind, ArgKinds } from './command-parser';
import type { CommandDef } from './commands';
import type { Actor, CommandRegistry, FeatureRef, Group, Handler, HelpTopicDef } from './context';
import { createEventBus, type Emit } from './events';
import { withTopic, type AccessPolicy, type Feature, type Preparer } from './feature';

/** Argument kinds the parser reads itself (command-parser.ts); the features add theirs. */
const BUILT_IN_KINDS = new Set(['text', 'word', 'ref', 'date']);

/**
 * Everything the features registered, checked once: commands (no id or `/查` letter twice, no unknown
 * argument kind), the access policy, the watchers, the timer subjects by prefix and the event bus.
 * The chat pipeline and the help feature read it; the engine never asks a feature by name.
 */
export interface Registry extends CommandRegistry {
  readonly features: readonly Feature[];
  readonly handlers: ReadonlyMap<string, Handler>;
  /** Commands with work to do before the message's transaction (FeatureCommand.prepare). */
  readonly preparers: ReadonlyMap<string, Preparer>;
  readonly kinds: ArgKinds;
  readonly watchers: readonly Feature[];
  readonly emit: Emit;
  passesGate(def: CommandDef, actor: Actor): boolean;
  /** The polite refusal of a command the actor's gate does not allow. */
  refusal(def: CommandDef): string;
  ruleOf(row: Pick<TimerRow, 'subject' | 'ruleId'>): PlaybookRule | undefined;
}

const built = new WeakMap<readonly Feature[], Registry>();

/** The registry of one list of features (built once per list; each feature's `init` runs once). */
export function createRegistry(features: readonly Feature[], services: { count?: (feature: string, event: string) => void } = {}): Registry {
  const cached = built.get(features);
  if (cached) return cached;

  const specs: CommandDef[] = [];
  const handlers = new Map<string, Handler>();
  const preparers = new Map<string, Preparer>();
  const refs = new Map<string, FeatureRef>();
  const topics: HelpTopicDef[] = [];
  const kinds = new Map<string, ArgKind>();
  let access: AccessPolicy | undefined;
  const subjects = new Map<string, TimerSubject>();

  for (const f of features) {
    for (const c of withTopic(f)) {
      if (handlers.has(c.spec.id)) throw new Error(`two handlers for ${c.spec.id}`);
      specs.push(c.spec);
      handlers.set(c.spec.id, c.handler);
      if (c.prepare) preparers.set(c.spec.id, c.prepare);
    }
    for (const [letter, ref] of Object.entries(f.refs ?? {})) {
      const key = letter.toUpperCase();
      if (refs.has(key)) throw new Error(`two features answer /查 ${key}`);
      refs.set(key, ref);
    }
    if (f.help) {
      const same = topics.find((t) => t.topic === f.help!.topic);
      if (same) same.words = [...new Set([...same.words, ...f.help.words])];
      else topics.push({ topic: f.help.topic, words: [...f.help.words] });
    }
    for (const [name, kind] of Object.entries(f.argKinds ?? {})) {
      if (kinds.has(name) || BUILT_IN_KINDS.has(name)) throw new Error(`argument kind ${name} registered twice (${f.name})`);
      kinds.set(name, kind);
    }
    if (f.access) {
      if (access) throw new Error(`two features give the access policy (${f.name})`);
      access = f.access;
    }
    for (const s of f.timerSubjects ?? []) {
      if (subjects.has(s.prefix)) throw new Error('two timer subjects share a prefix');
      subjects.set(s.prefix, s);
    }
  }
  for (const def of specs) {
    for (const p of def.args.positional ?? []) {
      if (!BUILT_IN_KINDS.has(p.kind) && !kinds.has(p.kind)) throw new Error(`${def.id}: no feature registers the argument kind ${p.kind}`);
    }
  }
  const declared = new Set(features.flatMap((f) => (f.emits ?? []).map((e) => e.name)));
  const subscriptions = features.flatMap((f) => f.on ?? []);
  for (const s of subscriptions) if (!declared.has(s.event.name)) throw new Error(`no feature declares the event ${s.event.name}`);

  const passesGate = (def: CommandDef, actor: Actor): boolean => {
    if (def.gate === 'anyone') return true;
    if (actor.isAdmin) return true;
    if (!actor.person) return false;
    if (def.gate === 'staff') return true;
    return access ? access.allows(def.gate, actor) : false;
  };
  const who = (def: CommandDef) => (def.gate === 'anyone' || def.gate === 'staff' || !access ? '服务人员' : access.describe(def.gate));
  const registry: Registry = {
    features,
    specs,
    topics,
    refs,
    handlers,
    preparers,
    kinds,
    watchers: features.filter((f) => f.watch),
    emit: createEventBus(subscriptions),
    passesGate,
    who,
    refusal: (def) => access?.refusal(def) ?? `抱歉，「${def.zh.join(' ')}」需要${who(def)}权限，您目前没有。`,
    usable: (def: CommandDef, actor: Actor, group: Group) => passesGate(def, actor) && !(group.kind === 'client' && def.internal),
    ruleOf: (row) => subjects.get(row.subject.slice(0, row.subject.indexOf(':')))?.rule(row.ruleId),
  };
  built.set(features, registry);
  const count = services.count;
  for (const f of features) f.init?.({ emit: registry.emit, ruleOf: registry.ruleOf, count: count ? (event) => count(f.name, event) : () => {} });
  return registry;
}
