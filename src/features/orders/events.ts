import { defineEvent } from '../../core/events';
import type { Group } from '../../core/records';
import type { OrderEvent, PlaybookRule } from '../../domain/playbooks';

/** What happened to an order: clock events, or a group bound to it (`/绑定`). */
export interface OrderChange {
  orderId: number;
  events?: OrderEvent[];
  boundGroup?: Group;
}

/** One clock that started, stopped or moved because of a change (the replies list them). */
export interface ClockChange {
  kind: 'started' | 'completed' | 'cancelled' | 'closedWithOrder' | 'paused' | 'resumed' | 'restarted';
  rule: PlaybookRule;
  dueAt: Date;
}

/**
 * Emitted inside the order's transaction whenever its clock events happen or a group is bound; a
 * subscriber (e.g. client groups) answers with the clocks it started or stopped, which the order's
 * reply lists with its own.
 */
export const orderChanged = defineEvent<OrderChange, ClockChange[]>('orders.changed');
