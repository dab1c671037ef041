import { CLIENT_REFUSAL } from '../../core/chat';
import { commandsFromTable } from '../../core/commands';
import { UserInputError } from '../../core/errors';
import type { Feature, Handler } from '../../core/feature';
import { helpText } from './help-text';
import { HELP_COMMANDS } from './specs';

export { HELP_BYTE_BUDGET, helpText, topicOf } from './help-text';
export { HELP_COMMANDS } from './specs';

/**
 * `/帮助` over every registered command (what the sender may use here, grouped by the features'
 * topics), and `/查 <编号>` handing the number to the feature whose letter it carries. Register it last:
 * it reads the registry the other features filled.
 */
export function helpFeature(): Feature {
  const handlers: Record<string, Handler> = {
    help: async (ctx, a) => {
      const { actor, group, registry } = ctx;
      if (!actor.person && !actor.isAdmin) return ctx.reply(`您好，我是服务助手。${CLIENT_REFUSAL.replace(/^您好！/, '')}`);
      ctx.reply(
        helpText({
          name: actor.displayName,
          specs: registry.specs,
          topics: registry.topics,
          usable: (c) => registry.usable(c, actor, group),
          who: (c) => registry.who(c),
          topic: a.topic as string | undefined,
        }),
      );
    },
    show: async (ctx, a) => {
      const ref = String(a.ref);
      const r = ctx.registry.refs.get(ref.charAt(0).toUpperCase());
      if (r) return r.show(ctx, Number(ref.slice(1)));
      const known = [...ctx.registry.refs.entries()].map(([letter, x]) => `${x.noun}以 ${letter} 开头，如 ${x.example}`).join('；');
      throw new UserInputError(`「${ref}」不是可查询的编号（${known}）。`);
    },
  };
  return { name: 'help', commands: commandsFromTable(HELP_COMMANDS, handlers) };
}
