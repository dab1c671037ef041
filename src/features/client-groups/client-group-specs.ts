import type { CommandDef } from '../../core/commands';

/**
 * 讨论组 commands. `/已私聊`, `/待解决` and `/已解决` may be sent in the client group itself: their replies
 * there are the polite client-facing notes the rules ask for, with nothing internal. `/联系` and
 * `/材料进度` are recorded from internal groups (their replies name the clocks).
 */
const order = { name: 'order', label: '分配单编号（如 D12）', kind: 'order' as const };

export const CONTACT_WAYS: Record<string, 'phone' | 'visit' | 'email' | 'chat' | 'other'> = {
  电话: 'phone',
  回电: 'phone',
  phone: 'phone',
  上门: 'visit',
  拜访: 'visit',
  visit: 'visit',
  邮件: 'email',
  email: 'email',
  微信: 'chat',
  钉钉: 'chat',
  私聊: 'chat',
  chat: 'chat',
  其他: 'other',
  other: 'other',
};

export const CLIENT_GROUP_COMMANDS: CommandDef[] = [
  {
    id: 'clientgroup.private',
    zh: ['已私聊'],
    en: ['answered-privately'],
    summary: '客户群里的提问已私下回复：机器人在群里说明，并停止回复计时（3.2.2.8）',
    usage: '/已私聊 <备注>',
    example: '/已私聊 已电话回复报价问题',
    args: { rest: { name: 'note', label: '备注（怎样回复的）' } },
    gate: 'staff',
  },
  {
    id: 'clientgroup.open',
    zh: ['待解决'],
    en: ['open-question'],
    summary: '登记客户不能当场解决的问题，2 个工作日内解决（在客户群里发，或在内部群写单号）',
    usage: '/待解决 [D12] <要点>',
    example: '/待解决 D12 客户问能否加急受理',
    args: { rest: { name: 'text', label: '问题要点' } },
    gate: 'staff',
  },
  {
    id: 'clientgroup.resolve',
    zh: ['已解决'],
    en: ['resolved'],
    summary: '待解决的问题已解决：停止计时，并在客户群告知客户',
    usage: '/已解决 <Q编号> <结果>',
    example: '/已解决 Q5 已与受理处确认，可以加急，预计下周一受理',
    args: { positional: [{ name: 'ref', label: '问题编号（如 Q5）', kind: 'ref' }], rest: { name: 'result', label: '结果' } },
    gate: 'staff',
  },
  {
    id: 'clientgroup.contact',
    zh: ['联系'],
    en: ['contact'],
    summary: '登记电话、上门、邮件等联系客户的记录，每周联系计时重新开始',
    usage: '/联系 <单号> <电话|上门|邮件|微信|其他> [备注]',
    example: '/联系 D12 电话 确认了下周辅导时间',
    args: {
      positional: [order, { name: 'way', label: '联系方式（电话、上门、邮件、微信、其他）', kind: 'word', choices: Object.keys(CONTACT_WAYS) }],
      rest: { name: 'note', label: '备注', optional: true },
    },
    gate: 'staff',
    internal: true,
  },
  {
    id: 'clientgroup.report',
    zh: ['材料进度'],
    en: ['progress-report'],
    summary: '把材料进度发到该单的客户群（至少每两周一次），计时重新开始',
    usage: '/材料进度 <单号> <内容>',
    example: '/材料进度 D12 技术交底书已收到，专利初稿预计周五完成',
    args: { positional: [order], rest: { name: 'content', label: '进度内容' } },
    gate: 'staff',
  },
];
