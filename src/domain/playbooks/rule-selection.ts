import { isIsoDate } from '../calendar/civil-date';
import type { OrderEvent } from './order-events';
import type { Condition, Playbook, PlaybookRule } from './playbook-schema';

/**
 * Which rules concern an order right now. Pure lookups over the playbook; the caller keeps at most one
 * timer per (order, rule) and ignores a start for a rule that already has one.
 */

/** The facts about an order the rules read. */
export interface OrderFacts {
  serviceType: string;
  paid: boolean;
  /** Order paused (unpaid, or /暂停). */
  paused?: boolean;
  /** orders.fields: 申报截止, 提交时间, 年费到期, 合同结束, 执行期月数, 事务, 需要答辩 … */
  fields?: Readonly<Record<string, string>>;
  /** Order events that have already happened (needed when payment arrives after the trigger). */
  occurred?: readonly OrderEvent[];
}

export function appliesToService(rule: PlaybookRule, serviceType: string): boolean {
  return rule.services === 'all' || (rule.services as readonly string[]).includes(serviceType);
}

export function conditionHolds(c: Condition, fields: Readonly<Record<string, string>> = {}): boolean {
  const actual = fields[c.field];
  const present = actual !== undefined && actual.trim() !== '';
  switch (c.op) {
    case 'present':
      return present;
    case 'absent':
      return !present;
    case 'eq':
      return present && actual === String(c.value);
    case 'ne':
      return !present || actual !== String(c.value);
    case 'in':
      return present && Array.isArray(c.value) && c.value.includes(actual);
    default: {
      if (!present) return false;
      const a = Number(actual);
      const b = Number(c.value);
      if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
      return c.op === 'lt' ? a < b : c.op === 'lte' ? a <= b : c.op === 'gt' ? a > b : a >= b;
    }
  }
}

/** The rule applies to this order: service type matches and every condition holds. */
export function ruleApplies(rule: PlaybookRule, order: OrderFacts): boolean {
  return appliesToService(rule, order.serviceType) && rule.when.every((c) => conditionHolds(c, order.fields));
}

/**
 * Event-triggered rules to start when `event` happens on the order. A rule that needs payment starts on
 * its own trigger only if the order is paid, and otherwise on payment.confirmed once its trigger has
 * occurred (`order.occurred`). Pass the order as it is after the event (paid = true after payment.confirmed).
 */
export function rulesStartedBy(playbook: Playbook, event: OrderEvent, order: OrderFacts): PlaybookRule[] {
  const occurred = new Set(order.occurred ?? []);
  return playbook.rules.filter((rule) => {
    if (rule.trigger.kind !== 'event' || !ruleApplies(rule, order)) return false;
    if (rule.trigger.event === event) return !rule.requiresPayment || order.paid;
    return rule.requiresPayment && event === 'payment.confirmed' && occurred.has(rule.trigger.event);
  });
}

/** Rules whose running timers on this order the event completes. */
export function rulesCompletedBy(playbook: Playbook, event: OrderEvent, order: Pick<OrderFacts, 'serviceType'>): PlaybookRule[] {
  return playbook.rules.filter((r) => r.completedBy.includes(event) && appliesToService(r, order.serviceType));
}

/** Date-anchored rules whose date field is set on the order (start or restart them when the field changes). */
export function dateRulesFor(playbook: Playbook, order: OrderFacts): PlaybookRule[] {
  return playbook.rules.filter(
    (r) => r.trigger.kind === 'date' && ruleApplies(r, order) && isIsoDate(order.fields?.[r.trigger.field] ?? ''),
  );
}

/** Recurring rules of one scope (department series are run per department, order series per open order). */
export function scheduleRules(playbook: Playbook, scope: 'order' | 'department' | 'complaint'): PlaybookRule[] {
  return playbook.rules.filter((r) => r.trigger.kind === 'schedule' && r.trigger.scope === scope);
}

/**
 * An order-scope series runs once its `from` event has occurred and until one of its completedBy
 * events occurs.
 */
export function orderSeriesActive(rule: PlaybookRule, order: OrderFacts): boolean {
  if (rule.trigger.kind !== 'schedule' || rule.trigger.scope !== 'order' || !ruleApplies(rule, order)) return false;
  const occurred = new Set(order.occurred ?? []);
  if (rule.trigger.from && !occurred.has(rule.trigger.from)) return false;
  return !rule.completedBy.some((e) => occurred.has(e));
}
