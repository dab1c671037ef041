import type { CommandDef } from '../../core/commands';

const ref = { name: 'ref', label: '疑似投诉编号（如 X3）', kind: 'ref' as const };
export const TRIAGE_COMMANDS: CommandDef[] = [
  {
    id: 'triage.confirm',
    zh: ['投诉', '确认'],
    en: ['complain', 'confirm'],
    summary: '把疑似投诉确认为投诉（与 /投诉 相同，30 分钟从客户发消息时算起，4.3.3）；客户群还没有绑定客户时写上「客户=」，该群随之绑定这位客户',
    usage: '/投诉 确认 <疑似投诉编号> [客户=<客户>] [级别=A|B|C|D] [负责人=<人员>] [部门=<部门>] [新]',
    example: '/投诉 确认 X3 级别=B',
    args: {
      positional: [ref],
      // 新: the client's words are already behind an open complaint, and this is another one all the same.
      flags: [{ key: 'new', names: ['新', 'new'] }],
      named: [
        { key: 'client', names: ['客户', 'client'], label: '客户名称' },
        { key: 'level', names: ['级别', 'level'], label: 'A|B|C|D', choices: ['A', 'B', 'C', 'D', 'a', 'b', 'c', 'd'] },
        { key: 'handler', names: ['负责人', 'handler'], label: '被投诉的负责人', kind: 'person' },
        { key: 'dept', names: ['部门', 'dept'], label: '部门' },
      ],
    },
    gate: 'staff',
    internal: true,
    clientWords: true,
  },
  {
    id: 'triage.dismiss',
    zh: ['投诉', '忽略'],
    en: ['complain', 'dismiss'],
    summary: '判断疑似投诉不是投诉，登记原因，停止提醒',
    usage: '/投诉 忽略 <疑似投诉编号> <原因>',
    example: '/投诉 忽略 X3 客户只是在催进度，已电话说明',
    args: { positional: [ref], rest: { name: 'reason', label: '原因' } },
    gate: 'staff',
    internal: true,
    clientWords: true,
  },
];
