import { formatDateInChinese, formatInstantInChinese, isIsoDate, type WorkCalendar } from '../calendar';
import type { LadderStepName, PlaybookRule } from './playbook-schema';

/**
 * Reminder wording, pure: rule + order facts + due time → Chinese text. Staff wording names the order,
 * client, step, due time (with weekday and 补班日) and clause. Client wording (heads-up and due of a
 * client-audience rule) comes from the rule's clientText and carries no internal detail: no staff names,
 * no clause numbers, no talk of being late. Escalations always use staff wording.
 */

export interface ReminderOrder {
  /** Order code shown to people, e.g. "D12". */
  code: string;
  clientName: string;
  /** Absent while nobody is assigned. */
  handlerName?: string;
  /** Order date fields, for {field:名称} in client texts. */
  fields?: Readonly<Record<string, string>>;
}

export interface ReminderInput {
  rule: PlaybookRule;
  step: LadderStepName;
  dueAt: Date;
  calendar: WorkCalendar;
  /** Absent for department-scope recurring rules. */
  order?: ReminderOrder;
  /** When given, a due time in another year is written with its year. */
  now?: Date;
}

/** True when this step of this rule goes to the client group. */
export function isClientStep(rule: PlaybookRule, step: LadderStepName): boolean {
  return rule.audience === 'client' && (step === 'headsup' || step === 'due');
}

export function buildReminderText(input: ReminderInput): string {
  return isClientStep(input.rule, input.step) ? buildClientText(input) : buildStaffText(input);
}

function buildStaffText({ rule, step, dueAt, calendar, order, now }: ReminderInput): string {
  const due = formatInstantInChinese(dueAt, calendar, now ? { now } : {});
  const subject = order ? `订单 ${order.code}（${order.clientName}）` : '本部门';
  const task = `「${rule.step}」`;
  const handler = order ? (order.handlerName ?? '部门负责人（本单尚未指定负责人）') : '各位同事';
  const basis = `依据：服务标准 ${rule.clause}。`;
  switch (step) {
    case 'headsup':
      return `【即将到期】${subject}${task}的期限是 ${due}，请${handler}提前安排，按时完成，谢谢！${basis}`;
    case 'due':
      return `【到期提醒】${subject}${task}已到期限 ${due}，请${handler}尽快完成并在群里登记，谢谢！${basis}`;
    case 'overdue_supervisor':
      return `【超时提醒·主管】${subject}${task}已超过期限 ${due}，负责人：${handler}，尚未完成，请主管督促跟进。${basis}`;
    case 'overdue_head':
      return `【超时提醒·部门负责人】${subject}${task}已超过期限 ${due}，负责人：${handler}，仍未完成，请部门负责人关注并协调处理。${basis}`;
    case 'overdue_management':
      return `【超时通报·总经办】${subject}${task}已超过期限 ${due}，负责人：${handler}，仍未完成，特报总经办知悉。${basis}`;
  }
}

function buildClientText({ rule, dueAt, calendar, order, now }: ReminderInput): string {
  const template = rule.clientText ?? rule.step;
  const fields = order?.fields ?? {};
  return template
    .replaceAll('{client}', order?.clientName ?? '客户')
    .replaceAll('{order}', order?.code ?? '')
    .replaceAll('{due}', formatInstantInChinese(dueAt, calendar, now ? { now } : {}))
    .replace(/\{field:([^}]+)\}/g, (_, name: string) => {
      const value = fields[name];
      if (value === undefined) return '约定时间';
      return isIsoDate(value) ? formatDateInChinese(value, calendar) : value;
    });
}
