import type { CommandDef } from './commands/specs';

/**
 * `/帮助`: by default a short list of the commands the sender may use, grouped by topic, that fits one
 * chat message (WeCom text: 2,048 bytes); `/帮助 <主题>` lists a topic's commands with their usage, and
 * `/帮助 <命令>` explains one command. Everything is read from the command table, never a second copy.
 */

export const HELP_TOPICS = ['分配单', '计时', '投诉', '管理'] as const;

/**
 * One WeCom text message holds 2,048 bytes (PROTOCOLS.md); the rest is left for the part labels a
 * sender may add, so a help reply is never split.
 */
export const HELP_BYTE_BUDGET = 1_900;
export type HelpTopic = (typeof HELP_TOPICS)[number];

const TOPIC_WORDS: Record<HelpTopic, string[]> = {
  分配单: ['分配单', '单', '订单', 'order', 'orders'],
  计时: ['计时', '时限', '提醒', '日历', 'clock', 'clocks', 'timer', 'timers'],
  投诉: ['投诉', 'complaint', 'complaints'],
  管理: ['管理', '设置', '成员', 'admin'],
};

const TIMER_IDS = new Set(['order.set', 'order.checkoff']);

/** The topic a command belongs to, from its id. */
export function topicOf(def: CommandDef): HelpTopic {
  if (def.id.startsWith('complaint.')) return '投诉';
  if (def.id.startsWith('clock.') || def.id.startsWith('calendar.') || TIMER_IDS.has(def.id)) return '计时';
  if (def.id.startsWith('order.') || def.id === 'mine' || def.id === 'show' || def.id === 'group.bind') return '分配单';
  return '管理';
}

const commandName = (def: CommandDef) => `/${def.zh.join(' ')}`;
const squash = (s: string) => s.replace(/^[/／]/, '').replace(/[\s\u3000]+/g, '').toLowerCase();

export interface HelpInput {
  /** How the sender is addressed. */
  name: string;
  /** Every command of this chat (built-in and extensions). */
  specs: readonly CommandDef[];
  /** True when the sender may use the command here (role gate, client group). */
  usable: (def: CommandDef) => boolean;
  /** Who may use a command, in words (e.g. 部门负责人、总经办). */
  who: (def: CommandDef) => string;
  /** What followed `/帮助`, if anything. */
  topic?: string;
}

export function helpText(input: HelpInput): string {
  const { specs, usable } = input;
  const mine = specs.filter((c) => c.id !== 'help' && usable(c));
  const asked = input.topic?.trim();
  if (!asked) return shortHelp(input.name, mine);

  const key = squash(asked);
  const topic = HELP_TOPICS.find((t) => TOPIC_WORDS[t].some((w) => squash(w) === key));
  if (topic) {
    const list = mine.filter((c) => topicOf(c) === topic);
    if (!list.length) return `「${topic}」下没有您可以使用的命令。发送 /帮助 查看您能用的全部命令。`;
    const footer = `查看某条命令的说明和例子：/帮助 <命令>，如 /帮助 ${list[0]!.zh.join('')}`;
    // Richest form that fits one message: usage and summary, else usage alone, else the names.
    const forms = [
      (c: CommandDef) => `· ${c.usage}\n  ${c.summary}`,
      (c: CommandDef) => `· ${c.usage}`,
      (c: CommandDef) => `· ${commandName(c)}`,
    ];
    let text = '';
    for (const form of forms) {
      text = [`【${topic}】您可以使用的命令：`, ...list.map(form), footer].join('\n');
      if (Buffer.byteLength(text, 'utf8') <= HELP_BYTE_BUDGET) break;
    }
    return text;
  }

  const def = specs.find((c) => [c.zh, c.en, ...(c.aliases ?? [])].some((words) => squash(words.join('')) === key));
  if (def) {
    const lines = [
      `${commandName(def)}（英文 /${def.en.join(' ')}）`,
      `用法：${def.usage}`,
      `说明：${def.summary}`,
      `例如：${def.example}`,
      `谁可以用：${def.gate === 'anyone' ? '所有人' : input.who(def)}`,
    ];
    if (!usable(def)) lines.push('您目前不能在这里使用这条命令。');
    return lines.join('\n');
  }
  return `抱歉，没有找到「${asked}」这个主题或命令。可以查看的主题：${HELP_TOPICS.join('、')}，例如 /帮助 分配单；也可以查单条命令，例如 /帮助 派单。`;
}

function shortHelp(name: string, mine: CommandDef[]): string {
  const lines = [`${name}，您好！您可以使用以下命令：`];
  for (const topic of HELP_TOPICS) {
    const names = [...new Set(mine.filter((c) => topicOf(c) === topic).map(commandName))];
    if (names.length) lines.push(`【${topic}】${names.join(' ')}`);
  }
  const topics = HELP_TOPICS.filter((t) => mine.some((c) => topicOf(c) === t));
  lines.push(`发送 /帮助 <主题> 查看用法（主题：${topics.join('、')}），或 /帮助 <命令> 查看一条命令，如 /帮助 派单。`);
  lines.push('人员可以写 @姓名 或 userid；命令也可用英文，如 /help。');
  return lines.join('\n');
}
