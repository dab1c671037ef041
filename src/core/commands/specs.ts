import type { Role } from '../../db/schema';
import { SERVICE_TYPES } from '../../domain/service-types';
import type { CommandSpec } from '../command-parser';

/**
 * Who may run a command at all. Finer checks (e.g. "only the handler of this order") are made by the
 * handler against the order. Admins (ADMIN_USERIDS or /成员 … 管理员) pass every gate here.
 * `client` = someone not in the roster (a client contact in a client group).
 */
export type Gate = 'anyone' | 'staff' | Role[];

export interface CommandDef extends CommandSpec {
  gate: Gate;
  /** Shows internal detail: refused in a client group so clients never see it. */
  internal?: boolean;
  /** The `/帮助` topic; set from the feature that adds the command (feature.ts). */
  topic?: string;
}


const person = (name: string, label: string) => ({ name, label, kind: 'person' as const });
const order = { name: 'order', label: '分配单编号（如 D12）', kind: 'order' as const };

export const COMMANDS: CommandDef[] = [
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
    id: 'member.add',
    zh: ['成员', '添加'],
    en: ['member', 'add'],
    summary: '把同事加入名册',
    usage: '/成员 添加 <userid> 姓名=… 部门=… 角色=负责人|主管|部门负责人|业务员|总经办 [上级=<人员>] [管理员] [新建部门]',
    example: '/成员 添加 zhangsan 姓名=张三 部门=专利部 角色=负责人 上级=@李主管',
    args: {
      positional: [{ name: 'userid', label: '成员的 userid', kind: 'word' }],
      named: [
        { key: 'name', names: ['姓名', 'name'], label: '姓名', required: true },
        { key: 'dept', names: ['部门', 'dept'], label: '部门', required: true },
        { key: 'role', names: ['角色', 'role'], label: '角色', required: true },
        { key: 'supervisor', names: ['上级', 'supervisor'], label: '人员', kind: 'person' },
      ],
      // 新建部门: the department is new on purpose (without it, an unknown department is refused with the list).
      flags: [
        { key: 'admin', names: ['管理员', 'admin'] },
        { key: 'newDept', names: ['新建部门', 'new-dept'] },
      ],
    },
    gate: ['head', 'management'],
    internal: true,
  },
  {
    id: 'member.list',
    zh: ['成员', '列表'],
    en: ['member', 'list'],
    summary: '查看名册',
    usage: '/成员 列表 [部门]',
    example: '/成员 列表 专利部',
    args: { positional: [{ name: 'dept', label: '部门', kind: 'text', optional: true }] },
    gate: 'staff',
    internal: true,
  },
  {
    id: 'dept.add',
    zh: ['部门', '添加'],
    en: ['dept', 'add'],
    summary: '添加部门并设置它承接的业务类型',
    usage: `/部门 添加 <部门名称> [业务=${SERVICE_TYPES.slice(0, 3).join(',')}…]`,
    example: '/部门 添加 专利部 业务=专利,集成电路布图',
    args: {
      positional: [{ name: 'name', label: '部门名称', kind: 'text' }],
      named: [{ key: 'services', names: ['业务', '类型', 'services'], label: '业务类型（逗号分隔）' }],
    },
    gate: ['management'],
    internal: true,
  },
  {
    id: 'dept.list',
    zh: ['部门', '列表'],
    en: ['dept', 'list'],
    summary: '查看部门、它们承接的业务和部门群',
    usage: '/部门 列表',
    example: '/部门 列表',
    args: {},
    gate: 'staff',
    internal: true,
  },
  {
    id: 'order.new',
    zh: ['单', '新建'],
    en: ['order', 'new'],
    aliases: [['新建单'], ['分配单', '新建']],
    summary: '新建分配单',
    usage: `/单 新建 客户=<客户名称> 类型=<${SERVICE_TYPES.join('|')}> 业务员=<人员> [截止=YYYY-MM-DD] [部门=<部门>] [已付款]`,
    example: '/单 新建 客户=华星科技 类型=专利 业务员=@王业务 截止=2026-12-20 已付款',
    args: {
      named: [
        { key: 'client', names: ['客户', 'client'], label: '客户名称', required: true },
        { key: 'type', names: ['类型', 'type', '业务'], label: '业务类型', required: true },
        { key: 'sales', names: ['业务员', 'sales', '市场人员'], label: '人员', required: true, kind: 'person' },
        { key: 'deadline', names: ['截止', 'deadline', '截止日期'], label: 'YYYY-MM-DD', kind: 'date' },
        { key: 'dept', names: ['部门', 'dept'], label: '部门' },
      ],
      flags: [
        { key: 'paid', names: ['已付款', 'paid', '已收款'] },
        { key: 'confirm', names: ['确认', 'confirm'] },
      ],
    },
    gate: ['sales', 'head', 'management'],
    internal: true,
  },
  {
    id: 'order.list',
    zh: ['单', '列表'],
    en: ['order', 'list'],
    summary: '查看分配单列表',
    usage: '/单 列表 [我的|部门|全部]',
    example: '/单 列表 部门',
    args: { positional: [{ name: 'scope', label: '范围', kind: 'word', optional: true, choices: ['我的', '部门', '全部', 'mine', 'dept', 'all'] }] },
    gate: 'staff',
    internal: true,
  },
  {
    id: 'mine',
    zh: ['我的'],
    en: ['mine'],
    summary: '查看我负责或跟进的分配单',
    usage: '/我的',
    example: '/我的',
    args: {},
    gate: 'staff',
    internal: true,
  },
  {
    id: 'order.assign',
    zh: ['派单'],
    en: ['assign'],
    aliases: [['分配']],
    summary: '把分配单派给具体负责人（3.1.2）',
    usage: '/派单 <单号> <人员>',
    example: '/派单 D12 @张三',
    args: { positional: [order, person('person', '负责人（@姓名 或 userid）')] },
    gate: ['head', 'supervisor', 'management'],
  },
  {
    id: 'order.step',
    zh: ['进度'],
    en: ['step'],
    aliases: [['跟进']],
    summary: '记录进度或备注',
    usage: '/进度 <单号> <步骤或备注>',
    example: '/进度 D12 已联系客户，约定周三辅导',
    args: { positional: [order], rest: { name: 'note', label: '步骤或备注' } },
    gate: 'staff',
  },
  {
    id: 'order.paid',
    zh: ['收款'],
    en: ['paid'],
    aliases: [['已收款']],
    summary: '确认客户已付款（未付款的单暂停计时，3.5.2）',
    usage: '/收款 <单号>',
    example: '/收款 D12',
    args: { positional: [order] },
    gate: ['sales', 'head', 'management'],
  },
  {
    id: 'order.pause',
    zh: ['暂停'],
    en: ['pause'],
    summary: '暂停分配单（计时停止；因未付款暂停的单在 /收款 后自动恢复，3.5.2）',
    usage: '/暂停 <单号> [类型=未付款|等客户|其他] <原因>',
    example: '/暂停 D12 客户暂未付款',
    args: {
      positional: [order],
      named: [{ key: 'kind', names: ['类型', 'kind'], label: '未付款|等客户|其他', kind: 'word', choices: ['未付款', '等客户', '其他'] }],
      rest: { name: 'reason', label: '暂停原因' },
    },
    gate: 'staff',
  },
  {
    id: 'order.resume',
    zh: ['恢复'],
    en: ['resume'],
    summary: '恢复已暂停的分配单',
    usage: '/恢复 <单号>',
    example: '/恢复 D12',
    args: { positional: [order] },
    gate: 'staff',
  },
  {
    id: 'order.transfer',
    zh: ['转交'],
    en: ['transfer'],
    aliases: [['移交']],
    summary: '申请更换负责人（项目移交申请，需部门负责人批准，3.5.5）',
    usage: '/转交 <单号> <新负责人> <原因>',
    example: '/转交 D12 @李四 客户希望更换负责人',
    args: { positional: [order, person('person', '新负责人（@姓名 或 userid）')], rest: { name: 'reason', label: '转交原因' } },
    gate: 'staff',
  },
  {
    id: 'order.approve',
    zh: ['批准'],
    en: ['approve'],
    summary: '批准转交申请（部门负责人）',
    usage: '/批准 <单号>',
    example: '/批准 D12',
    args: { positional: [order] },
    gate: ['head', 'management'],
  },
  {
    id: 'order.reject',
    zh: ['驳回'],
    en: ['reject'],
    summary: '驳回转交申请（部门负责人）',
    usage: '/驳回 <单号> <原因>',
    example: '/驳回 D12 请先与客户再沟通一次',
    args: { positional: [order], rest: { name: 'reason', label: '驳回原因' } },
    gate: ['head', 'management'],
  },
  {
    id: 'order.done',
    zh: ['完成'],
    en: ['done'],
    summary: '分配单全部完成',
    usage: '/完成 <单号> [备注]',
    example: '/完成 D12 已提交专利局',
    args: { positional: [order], rest: { name: 'note', label: '备注', optional: true } },
    gate: 'staff',
  },
  {
    id: 'order.cancel',
    zh: ['取消'],
    en: ['cancel'],
    summary: '取消分配单（客户无法继续或退出，3.5.1/3.5.3）',
    usage: '/取消 <单号> <原因>',
    example: '/取消 D12 客户决定不再申请，已告知业务员',
    args: { positional: [order], rest: { name: 'reason', label: '取消原因' } },
    gate: ['head', 'management', 'sales'],
  },
  {
    id: 'order.dropout',
    zh: ['退出'],
    en: ['dropout'],
    aliases: [['无法继续'], ['客户退出']],
    summary: '负责人登记客户无法继续或中途退出：立即通知业务员，提醒负责人留存证据（3.5.1/3.5.3）',
    usage: '/退出 <单号> <原因>',
    example: '/退出 D12 客户辅导后决定今年不申请',
    args: { positional: [order], rest: { name: 'reason', label: '客户无法继续或退出的原因' } },
    gate: 'staff',
    internal: true,
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
  },
  {
    id: 'group.bind',
    zh: ['绑定'],
    en: ['bind'],
    summary: '把本群绑定到分配单',
    usage: '/绑定 <单号>',
    example: '/绑定 D12',
    args: { positional: [order] },
    gate: 'staff',
  },
  {
    id: 'group.set',
    zh: ['群'],
    en: ['group'],
    summary: '查看本群的类型和发消息的渠道；设置类型（内部群或客户群）或本群发消息用的机器人',
    usage: '/群 ｜ /群 类型=内部|客户 ｜ /群 机器人=<Webhook 地址或 key> [密钥=<钉钉加签密钥>] ｜ /群 应用群聊=<chatid>',
    example: '/群 类型=客户',
    args: {
      named: [
        { key: 'kind', names: ['类型', 'kind'], label: '内部|客户', choices: ['内部', '客户', 'internal', 'client'] },
        { key: 'robot', names: ['机器人', 'robot', 'webhook'], label: 'Webhook 地址或 key', kind: 'text' },
        { key: 'secret', names: ['密钥', 'secret'], label: '钉钉加签密钥', kind: 'text' },
        { key: 'appChat', names: ['应用群聊', 'appchat'], label: '应用群聊 chatid', kind: 'text' },
      ],
      // A signing secret written after the URL with a space (as DingTalk shows it) lands here.
      rest: { name: 'extra', label: '加签密钥', optional: true },
      // 确认: the group has people outside the firm and is still made internal (they will see internal replies).
      flags: [{ key: 'confirm', names: ['确认', 'confirm'] }],
    },
    gate: ['head', 'supervisor', 'management'],
  },
  {
    id: 'group.dept',
    zh: ['部门群'],
    en: ['deptgroup'],
    summary: '把本群设为某部门的部门群（该部门的提醒都发到这里，原部门群不再收到）',
    usage: '/部门群 <部门名称>',
    example: '/部门群 专利部',
    args: { positional: [{ name: 'dept', label: '部门名称', kind: 'text' }] },
    gate: ['head', 'management'],
  },
  {
    id: 'order.set',
    zh: ['单', '设置'],
    en: ['order', 'set'],
    summary: '设置分配单上的日期或事实（申报截止、提交时间、年费到期、合同开始、合同结束等），相关计时随之开始或重算',
    usage: '/单 设置 <单号> 字段=值 …（字段：申报截止、提交时间、年费到期、合同开始、合同结束、资助申报截止、执行期月数、事务、需要答辩、截止）',
    example: '/单 设置 D12 申报截止=2026-12-20',
    args: { positional: [order], rest: { name: 'pairs', label: '字段=值' } },
    gate: 'staff',
  },
  {
    id: 'order.checkoff',
    zh: ['已办'],
    en: ['checkoff'],
    summary: '把分配单上的某一项计时标记为已完成（编号见 /查）',
    usage: '/已办 <单号> <计时编号或步骤关键词>',
    example: '/已办 D12 1',
    args: { positional: [order], rest: { name: 'which', label: '计时编号或步骤关键词' } },
    gate: 'staff',
  },
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
];

export function commandById(id: string): CommandDef {
  const c = COMMANDS.find((x) => x.id === id);
  if (!c) throw new Error(`unknown command id ${id}`);
  return c;
}

/** Commands of the table above with their handlers, in the table's order (a feature's command list). */
export function commandsFromTable<H>(handlers: Record<string, H>): { spec: CommandDef; handler: H }[] {
  const ids = new Set(Object.keys(handlers));
  const picked = COMMANDS.filter((c) => ids.has(c.id));
  if (picked.length !== ids.size) throw new Error(`unknown command ids: ${[...ids].filter((i) => !COMMANDS.some((c) => c.id === i)).join(', ')}`);
  return picked.map((spec) => ({ spec, handler: handlers[spec.id]! }));
}
