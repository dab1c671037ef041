import type { CommandDef } from '../../core/commands';
import type { HelpTopicDef } from '../../core/context';

/**
 * `/帮助`: by default a short list of the commands the sender may use, grouped by topic, that fits one
 * chat message (WeCom text: 2,048 bytes); `/帮助 <主题>` lists a topic's commands with their usage, and
 * `/帮助 <命令>` explains one command. Everything is read from the command table, never a second copy.
 */

/**
 * One WeCom text message holds 2,048 bytes (PROTOCOLS.md); the rest is left for the part labels a
 * sender may add, so a help reply is never split.
 */
export const HELP_BYTE_BUDGET = 1_900;


/** The topic a command belongs to: its feature's (commands without one are listed under 管理). */
export function topicOf(def: CommandDef): string {
  return def.topic ?? '管理';
}

const commandName = (def: CommandDef) => `/${def.zh.join(' ')}`;
const squash = (s: string) => s.replace(/^[/／]/, '').replace(/[\s\u3000]+/g, '').toLowerCase();

export interface HelpInput {
  /** How the sender is addressed. */
  name: string;
  /** Every command of this chat (the core's and the features'). */
  specs: readonly CommandDef[];
  /** The topics, in the order the features were registered. */
  topics: readonly HelpTopicDef[];
  /** True when the sender may use the command here (role gate, client group). */
  usable: (def: CommandDef) => boolean;
  /** Who may use a command, in words (e.g. 部门负责人、总经办). */
  who: (def: CommandDef) => string;
  /** What followed `/帮助`, if anything. */
  topic?: string;
}

export function helpText(input: HelpInput): string {
  const { specs, usable } = input;
  const names = input.topics.map((t) => t.topic);
  const mine = specs.filter((c) => c.id !== 'help' && usable(c));
  const asked = input.topic?.trim();
  if (!asked) return shortHelp(input.name, mine, names);

  const key = squash(asked);
  const topic = input.topics.find((t) => t.words.some((w) => squash(w) === key))?.topic;
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
  return `抱歉，没有找到「${asked}」这个主题或命令。可以查看的主题：${names.join('、')}，例如 /帮助 ${names[0] ?? '分配单'}；也可以查单条命令，例如 /帮助 派单。`;
}

function shortHelp(name: string, mine: CommandDef[], topicNames: string[]): string {
  const lines = [`${name}，您好！您可以使用以下命令：`];
  for (const topic of topicNames) {
    const names = [...new Set(mine.filter((c) => topicOf(c) === topic).map(commandName))];
    if (names.length) lines.push(`【${topic}】${names.join(' ')}`);
  }
  const topics = topicNames.filter((t) => mine.some((c) => topicOf(c) === t));
  lines.push(`发送 /帮助 <主题> 查看用法（主题：${topics.join('、')}），或 /帮助 <命令> 查看一条命令，如 /帮助 派单。`);
  lines.push('人员可以写 @姓名 或 userid；命令也可用英文，如 /help。');
  return lines.join('\n');
}
