import type { CommandDef } from '../../core/commands';
import { SERVICE_TYPES } from '../../domain/service-types';

/** 管理: the roster (/成员 /部门) and the groups (/群 /部门群). */
export const ROSTER_COMMANDS: CommandDef[] = [
  {
    id: 'member.add',
    zh: ['成员', '添加'],
    en: ['member', 'add'],
    summary: '把同事加入名册',
    usage: '/成员 添加 <userid> 姓名=… 部门=… 角色=负责人|主管|部门负责人|业务员|总经办 [上级=<人员>] [管理员] [新建部门] [确认]',
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
        // 确认: the name is already someone else's and is kept on purpose (commands then need the userid).
        { key: 'confirm', names: ['确认', 'confirm'] },
      ],
    },
    gate: ['head', 'management'],
    internal: true,
  },
  {
    id: 'member.remove',
    zh: ['成员', '删除'],
    en: ['member', 'remove'],
    summary: '把离开的同事移出名册（名下进行中的工作需先交接；历史记录保留）',
    usage: '/成员 删除 <人员>',
    example: '/成员 删除 @赵工',
    args: { positional: [{ name: 'person', label: '人员', kind: 'person' }] },
    gate: ['management'],
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
  },];
