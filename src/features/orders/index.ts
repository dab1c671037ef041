import * as assign from './assign';
import * as create from './create';
import * as life from './lifecycle';
import * as show from './show';
import { commandsFromTable } from '../../core/commands';
import type { ArgKind } from '../../core/command-parser';
import type { OrderClocks } from './order-clocks';
import { withClocks } from './order-context';
import type { Feature } from '../../core/feature';
import { orderChanged } from './events';
import { orderTimerSubjects } from './order-subjects';
import { ORDER_COMMANDS } from './specs';

export { createOrderClocks, orderFacts, type OrderClocks } from './order-clocks';
export { orderChanged, type ClockChange, type OrderChange } from './events';
export { involvement, loadOrder, type Order } from './shared';
export { EVENT_NAMES } from './show';
export { ORDER_FIELDS } from './lifecycle';
export { ORDER_COMMANDS } from './specs';

/** 「D12」 → 12: an order number as staff type it (D and digits). */
const ORDER_CODE = /^[Dd](\d{1,9})$/;
const orderKind: ArgKind = {
  parse: (value) => {
    const m = ORDER_CODE.exec(value);
    return m ? { ok: true, value: Number(m[1]) } : { ok: false, why: '「{value}」不是分配单编号（应为 D 加数字，如 D12）。' };
  },
};

/**
 * 分配单: the order commands (create, assign, lifecycle, show), an order's dates and checked-off clocks,
 * `/绑定`, `/查 D12`, and the playbook's timers (orders' and departments' series). Emits `orderChanged`
 * inside the order's transaction; features that follow orders subscribe.
 */
export function ordersFeature(deps: { clocks: OrderClocks }): Feature {
  const handlers = withClocks(deps.clocks, {
    'order.new': create.orderNew,
    'order.list': (ctx, a) =>
      show.orderList(ctx, a.scope === '部门' || a.scope === 'dept' ? 'dept' : a.scope === '全部' || a.scope === 'all' ? 'all' : 'mine'),
    mine: (ctx) => show.orderList(ctx, 'mine'),
    'order.assign': assign.orderAssign,
    'order.step': life.orderStep,
    'order.paid': life.orderPaid,
    'order.pause': life.orderPause,
    'order.resume': life.orderResume,
    'order.transfer': assign.orderTransfer,
    'order.approve': life.orderApprove,
    'order.reject': life.orderReject,
    'order.done': (ctx, a) => life.orderFinish(ctx, a, 'done'),
    'order.cancel': (ctx, a) => life.orderFinish(ctx, a, 'cancelled'),
    'order.dropout': life.orderDropOut,
    'group.bind': assign.groupBind,
    'order.set': life.orderSet,
    'order.checkoff': life.orderCheckoff,
  });
  return {
    name: 'orders',
    help: { topic: '分配单', words: ['分配单', '单', '订单', 'order', 'orders'] },
    commands: commandsFromTable(ORDER_COMMANDS, handlers),
    argKinds: { order: orderKind },
    timerSubjects: orderTimerSubjects(deps.clocks.playbook),
    refs: { D: { noun: '分配单', example: 'D12', show: (ctx, id) => show.orderShow({ ...ctx, clocks: deps.clocks }, id) } },
    emits: [orderChanged],
    init: (engine) => deps.clocks.connect(engine),
  };
}
