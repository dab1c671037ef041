import type { CommandDef } from '../../core/commands';

/** 计时: overdue and due lists, the working-day calendar and the company's own days. */
export const CLOCK_COMMANDS: CommandDef[] = [
  {
    id: 'clock.overdue',
    zh: ['逾期'],
    en: ['overdue'],
    aliases: [['超时']],
    summary: '查看已超过期限的计时（我的，或本部门的）',
    usage: '/逾期 [我的|部门]',
    example: '/逾期 部门',
    args: { positional: [{ name: 'scope', label: '范围', kind: 'word', optional: true, choices: ['我的', '部门', '全部', 'mine', 'dept', 'all'] }] },
    gate: 'staff',
    internal: true,
  },
  {
    id: 'clock.due',
    zh: ['待办'],
    en: ['due'],
    summary: '查看未来几个工作日内到期的计时',
    usage: '/待办 [工作日数，默认 3] [我的|部门]',
    example: '/待办 5 部门',
    args: {
      positional: [
        { name: 'days', label: '工作日数', kind: 'word', optional: true },
        { name: 'scope', label: '范围', kind: 'word', optional: true, choices: ['我的', '部门', '全部', 'mine', 'dept', 'all'] },
      ],
    },
    gate: 'staff',
    internal: true,
  },
  {
    id: 'calendar.show',
    zh: ['日历'],
    en: ['calendar'],
    summary: '查询某天是不是工作日，以及原因',
    usage: '/日历 [YYYY-MM-DD]',
    example: '/日历 2026-02-14',
    args: { positional: [{ name: 'date', label: '日期（YYYY-MM-DD）', kind: 'date', optional: true }] },
    gate: 'staff',
  },
  {
    id: 'calendar.adjust',
    zh: ['日历', '调整'],
    en: ['calendar', 'set'],
    summary: '公司自定的上班日或休息日（管理员、总经办）',
    usage: '/日历 调整 <YYYY-MM-DD> 上班|休息 [备注]',
    example: '/日历 调整 2026-12-31 休息 公司年会',
    args: {
      positional: [
        { name: 'date', label: '日期（YYYY-MM-DD）', kind: 'date' },
        { name: 'kind', label: '上班或休息', kind: 'word', choices: ['上班', '休息', 'work', 'off'] },
      ],
      rest: { name: 'note', label: '备注', optional: true },
    },
    gate: ['management'],
  },];
