import type { Duration } from './playbook-schema';

const UNIT_TEXT: Record<Duration['unit'], string> = {
  workingDays: '个工作日',
  calendarDays: '天',
  minutes: '分钟',
  weeks: '周',
  months: '个月',
};

/** A rule's duration as people say it ("1 个工作日", "2 周"), so a reply quotes the rule's own number. */
export function durationInChinese(d: Duration): string {
  return `${d.amount} ${UNIT_TEXT[d.unit]}`;
}

/**
 * The rule that asks for the order to be assigned: started when the order is created, completed by
 * the assignment (专利 3.1.2, 软件 3.3.2, 商标 3.4.2). Types without one have no assignment deadline.
 */
export function isAssignmentRule(rule: { trigger: { kind: string; event?: string }; completedBy: readonly string[] }): boolean {
  return rule.trigger.kind === 'event' && rule.trigger.event === 'order.created' && rule.completedBy.includes('order.assigned');
}
