import { eq } from 'drizzle-orm';
import type { ChatContext } from '../../core/context';
import { UserInputError } from '../../core/errors';
import type { Feature } from '../../core/feature';
import type { CommandDef } from '../../core/commands';
import { reminderModes } from '../../db/schema';
import { routeRemindersPrivately } from './route-privately';

export { routeRemindersPrivately, type ReminderRow } from './route-privately';

/**
 * `/提醒方式 私聊|群`: where the reminders meant only for me go. 私聊: to my private chat with the bot
 * (route-privately.ts, this feature's outbound hook, moves them when the scheduler writes them); 群: in the group, with a real
 * @ (the default). Reminders for several people, and anything for a client group, stay in the group.
 */
const spec: CommandDef = {
  id: 'reminder.mode',
  zh: ['提醒方式'],
  en: ['remindvia'],
  summary: '只提醒您一人的提醒发到私聊还是群里',
  usage: '/提醒方式 [私聊|群]',
  example: '/提醒方式 私聊',
  args: { positional: [{ name: 'mode', label: '私聊或群', kind: 'word', optional: true, choices: ['私聊', '群', 'private', 'group'] }] },
  gate: 'staff',
};

const PRIVATE_NOTE = '（如果私聊发不出去，例如还没有配置私聊发送，这条提醒会显示在 /发送失败 里，请改回 /提醒方式 群。）';

async function reminderMode(ctx: ChatContext, args: Record<string, string | number | boolean | undefined>) {
  const person = ctx.actor.person;
  if (!person) throw new UserInputError('抱歉，提醒方式是名册里同事的个人设置；请先请部门负责人用 /成员 添加 把您加入名册。');
  const [current] = await ctx.tx.select().from(reminderModes).where(eq(reminderModes.personId, person.id));
  const now = current?.mode ?? 'group';
  if (args.mode === undefined) {
    ctx.reply(
      now === 'private'
        ? `您现在的提醒方式：私聊。只提醒您一人的提醒会私聊发给您${PRIVATE_NOTE}改回群里请发送 /提醒方式 群。`
        : '您现在的提醒方式：群（在群里 @ 您）。想让只提醒您一人的提醒私聊发给您，请发送 /提醒方式 私聊。',
    );
    return;
  }
  const mode = args.mode === '私聊' || args.mode === 'private' ? 'private' : 'group';
  await ctx.tx
    .insert(reminderModes)
    .values({ personId: person.id, mode, updatedAt: ctx.now })
    .onConflictDoUpdate({ target: reminderModes.personId, set: { mode, updatedAt: ctx.now } });
  await ctx.audit('reminder.mode_set', `person:${person.id}`, { mode, previous: now });
  ctx.reply(
    mode === 'private'
      ? `好的，以后只提醒您一人的提醒会私聊发给您，不再在群里 @ 您；提醒多人的和客户群里的照旧在群里${PRIVATE_NOTE}`
      : '好的，以后您的提醒都在群里 @ 您。',
  );
}

/** `/提醒方式` and the outbound hook that moves a one-person reminder to that person's private chat. */
export function reminderModeFeature(): Feature {
  return {
    name: 'reminder-mode',
    help: { topic: '计时', words: ['计时', '提醒'] },
    commands: [{ spec, handler: reminderMode }],
    outbound: routeRemindersPrivately,
  };
}
