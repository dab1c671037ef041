import * as ord from '../core/commands/order-commands';
import { commandsFromTable } from '../core/commands/specs';
import type { OrderClocks } from '../core/clocks/order-clocks';
import { withClocks } from '../core/commands/order-context';
import type { Feature } from '../core/feature';
import { orderTimerSubjects } from '../core/clocks/order-subjects';

/** 分配单: the order commands, `/绑定`, `/查 D12`, and the playbook's timers (orders' and departments' series). */
export function ordersFeature(deps: { clocks: OrderClocks }): Feature {
  const handlers = withClocks(deps.clocks, {
    'order.new': ord.orderNew,
    'order.list': (ctx, a) =>
      ord.orderList(ctx, a.scope === '部门' || a.scope === 'dept' ? 'dept' : a.scope === '全部' || a.scope === 'all' ? 'all' : 'mine'),
    mine: (ctx) => ord.orderList(ctx, 'mine'),
    'order.assign': ord.orderAssign,
    'order.step': ord.orderStep,
    'order.paid': ord.orderPaid,
    'order.pause': ord.orderPause,
    'order.resume': ord.orderResume,
    'order.transfer': ord.orderTransfer,
    'order.approve': ord.orderApprove,
    'order.reject': ord.orderReject,
    'order.done': (ctx, a) => ord.orderFinish(ctx, a, 'done'),
    'order.cancel': (ctx, a) => ord.orderFinish(ctx, a, 'cancelled'),
    'order.dropout': ord.orderDropOut,
    'group.bind': ord.groupBind,
  });
  return {
    name: 'orders',
    help: { topic: '分配单', words: ['分配单', '单', '订单', 'order', 'orders'] },
    commands: commandsFromTable(handlers),
    timerSubjects: orderTimerSubjects(deps.clocks.playbook),
    refs: { D: { noun: '分配单', example: 'D12', show: (ctx, id) => ord.orderShow({ ...ctx, clocks: deps.clocks }, id) } },
  };
}
