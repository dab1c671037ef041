import * as admin from './admin-commands';
import { memberRemove } from './member-remove';
import { rosterAccess } from './access';
import { ROSTER_COMMANDS } from './specs';
import { commandsFromTable } from '../../core/commands';
import type { Feature, Handler } from '../../core/feature';
import type { RobotSetting, RouteDescription } from '../../core/types';

export { gateText, rosterAccess } from './access';
export {
  departmentGroup,
  departmentHold,
  groupName,
  holdNotice,
  managementGroup,
  noticeRoute,
  releaseHeldNotices,
  type NoticeRoute,
} from './department-group';
export { outsiderMessages } from './outsider-messages';
export { findDepartment, loadStaff, mention, resolvePerson } from './people';
export { accessScope, canSee, clientRefusalText, inScope, readerOf, refusalText, scopeInWords, type AccessRefusal, type AccessScope, type AccessVerdict, type Reader, type RecordFacts } from './record-access';
export {
  COMPLAINT_FACTS,
  factsOfComplaint,
  factsOfOrder,
  factsOfSuggestion,
  factsOfVisit,
  mustSee,
  ORDER_FACTS,
  ownerOfClient,
  readerForUserid,
  scopeWhere,
  timerComplaintJoin,
  timerScopeWhere,
  VISIT_FACTS,
  type FactColumns,
} from './record-scope';

/**
 * 管理: the roster (/成员 /部门), the groups (/群 /部门群), who passes which role gate (access.ts),
 * who may read which record (record-access.ts: the one rule of /查, lists, exports and the 看板),
 * where a department's notices go (department-group.ts), and finding people by what was typed
 * (people.ts). `/群 机器人=…` uses the platforms' robot setting.
 */
export function rosterFeature(deps: { robotSetting?: RobotSetting; describeRoute?: RouteDescription } = {}): Feature {
  const handlers: Record<string, Handler> = {
    'member.add': admin.memberAdd,
    'member.list': admin.memberList,
    'member.remove': memberRemove,
    'dept.add': admin.deptAdd,
    'dept.list': (ctx) => admin.deptList(ctx),
    'group.set': (ctx, a) => admin.groupSet(ctx, a, deps.robotSetting, deps.describeRoute),
    'group.dept': admin.groupDept,
  };
  return {
    name: 'admin',
    help: { topic: '管理', words: ['管理', '设置', '成员', 'admin'] },
    commands: commandsFromTable(ROSTER_COMMANDS, handlers),
    // 「@张工」 and userids are resolved by the handlers (resolvePerson): the parser keeps the word as typed.
    argKinds: { person: { parse: (value) => ({ ok: true, value }) } },
    access: rosterAccess,
  };
}
