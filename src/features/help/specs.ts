import type { CommandDef } from '../../core/commands';

/**
 * `/帮助` and `/查`: the help over every feature's commands, and the one `/查 <编号>` that hands a ref to
 * the feature whose letter it carries (the registry of refs, src/core/registry.ts).
 */
export const HELP_COMMANDS: CommandDef[] = [
  {
    id: 'help',
    zh: ['帮助'],
    en: ['help'],
    aliases: [['菜单'], ['命令']],
    summary: '查看您可以使用的命令；加主题（分配单、计时、投诉、管理）或命令名查看用法',
    usage: '/帮助 [主题或命令]',
    example: '/帮助 分配单',
    args: { rest: { name: 'topic', label: '主题或命令', optional: true } },
    gate: 'anyone',
  },
  {
    id: 'show',
    zh: ['查'],
    en: ['show'],
    aliases: [['查看']],
    summary: '查看分配单或投诉的状态、人员和全部记录',
    usage: '/查 <单号或投诉编号>',
    example: '/查 D12',
    args: { positional: [{ name: 'ref', label: '编号（如 D12、T7）', kind: 'ref' }] },
    gate: 'staff',
    internal: true,
    // Listed with the order commands: D12 is the ref staff look up most.
    topic: '分配单',
  },
];
