import type { CommandDef } from './commands';
import type { Actor, Group } from './context';

/**
 * A command marked `clientWords`, typed by someone outside the roster in a client group, is the
 * client's own words (CommandDef.clientWords): the chat offers it to the watchers as a plain message
 * instead of refusing it.
 */

/** A client's spelled command that no watcher answered: taken as a message, politely. */
export const CLIENT_WORDS_NOTED = '您好，您的留言我们已经收到，相关同事会尽快与您联系，谢谢！';

/** The `clientWords` command someone outside the roster, in a client group, spelled (or misspelled the arguments of); else null. */
export function spelledByClient(parsed: { ok: boolean; reason?: string; command?: unknown }, group: Group, actor: Actor): CommandDef | null {
  if (group.kind !== 'client' || actor.person || actor.isAdmin) return null;
  const def = parsed.ok || parsed.reason === 'invalid' ? (parsed.command as CommandDef | undefined) : undefined;
  return def?.clientWords ? def : null;
}
