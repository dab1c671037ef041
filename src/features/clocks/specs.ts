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
  },
  {
    id: 'calendar.import',
    zh: ['日历', '导入'],
    en: ['calendar', 'import'],
    summary: '导入国务院节假日安排通知：先列出读到的放假和调休上班日期，确认后才生效（管理员、总经办）',
    usage: '/日历 导入 <通知全文>（不写全文时，请在 5 分钟内发送下一条消息）',
    example: '/日历 导入 国务院办公厅关于2027年部分节假日安排的通知 一、元旦：1月1日（周五）至3日（周日）放假调休，共3天。……',
    args: { rest: { name: 'text', label: '通知全文', optional: true } },
    gate: ['management'],
  },
  {
    id: 'calendar.import.confirm',
    zh: ['日历', '导入', '确认'],
    en: ['calendar', 'import', 'confirm'],
    summary: '按 /日历 导入 列出的安排生效，进行中的计时随之重算（管理员、总经办）',
    usage: '/日历 导入 确认 <编号>',
    example: '/日历 导入 确认 3',
    args: { positional: [{ name: 'id', label: '编号（/日历 导入 回复里的数字）', kind: 'word' }] },
    gate: ['management'],
  },
];
