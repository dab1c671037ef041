import type { CommandDef } from '../../core/commands';

/** 周报, 月报 and 导出 (each shows internal figures: never in a client group). */
export const REPORT_COMMANDS: CommandDef[] = [
  {
    id: 'report.weekly',
    zh: ['周报'],
    en: ['weekly'],
    aliases: [['每周汇总']],
    summary: '查看本部门的每周汇总：各负责人在办的分配单、下一期限、逾期计时、未结投诉和待回访（每周五 12:00 自动发到部门群）',
    usage: '/周报 [部门]',
    example: '/周报 专利部',
    args: { positional: [{ name: 'dept', label: '部门', kind: 'text', optional: true }] },
    gate: 'staff',
    internal: true,
  },
  {
    id: 'report.monthly',
    zh: ['月报'],
    en: ['monthly'],
    summary: '查看服务督导月报：各部门新开/完成分配单、按时率、投诉和投诉率、回访（每月第一个工作日自动发给总经办）',
    usage: '/月报 [YYYY-MM]',
    example: '/月报 2026-11',
    args: { positional: [{ name: 'month', label: '月份（YYYY-MM）', kind: 'word', optional: true }] },
    gate: ['head', 'management'],
    internal: true,
  },
  {
    id: 'report.export',
    zh: ['导出'],
    en: ['export'],
    summary: '导出表格（CSV，Excel 可直接打开）：发一个 24 小时内有效、只能打开一次的下载链接',
    usage: '/导出 周报|投诉|回访|分配单 [YYYY-MM]',
    example: '/导出 投诉 2026-11',
    args: {
      positional: [
        { name: 'kind', label: '周报|投诉|回访|分配单', kind: 'word', choices: ['周报', '投诉', '回访', '分配单'] },
        { name: 'month', label: '月份（YYYY-MM）', kind: 'word', optional: true },
      ],
    },
    gate: ['head', 'management'],
    internal: true,
  },
];
