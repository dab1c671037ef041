import * as admin from '../core/commands/admin-commands';
import { commandsFromTable } from '../core/commands/specs';
import type { Feature, Handler } from '../core/feature';
import type { RobotSetting, RouteDescription } from '../core/types';

/** 管理: the roster (/成员 /部门) and the groups (/群 /部门群). `/群 机器人=…` uses the platforms' robot setting. */
export function adminFeature(deps: { robotSetting?: RobotSetting; describeRoute?: RouteDescription } = {}): Feature {
  const handlers: Record<string, Handler> = {
    'member.add': admin.memberAdd,
    'member.list': admin.memberList,
    'dept.add': admin.deptAdd,
    'dept.list': (ctx) => admin.deptList(ctx),
    'group.set': (ctx, a) => admin.groupSet(ctx, a, deps.robotSetting, deps.describeRoute),
    'group.dept': admin.groupDept,
  };
  return {
    name: 'admin',
    help: { topic: '管理', words: ['管理', '设置', '成员', 'admin'] },
    commands: commandsFromTable(handlers),
  };
}
