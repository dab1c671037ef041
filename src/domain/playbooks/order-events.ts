/**
 * The closed set of order events that start and stop clocks. Commands and platform handlers record
 * these (order_events.kind); playbook rules refer to them by name. Adding one is a code change on
 * purpose: a rule that names an event nobody records would never fire.
 *
 * Completing one particular clock by hand ("/完成") is not an event here: the caller completes that
 * timer directly (completeTimer). The events below are facts about the order that may end many clocks.
 */
export const ORDER_EVENT_MEANINGS = {
  'order.created': '分配单 created and reached the centre / department (starts "assign within N wd")',
  'order.assigned': 'a handler (具体负责人, 项目负责人, 答复人) was assigned to the order',
  'client.contacted': 'the handler contacted the client (e.g. to ask whether coaching is needed)',
  'coaching.done': '企业辅导 (coaching at the client) took place',
  'proposal.received': "the client's 技术方案 / 技术交底书 arrived (专利)",
  'materials.received': "client materials arrived and wait for review (布图, 软件 registration materials)",
  'materials.complete': 'the client has supplied all materials the step needs',
  'payment.requested': 'the salesperson was told to collect payment (after search / review)',
  'payment.confirmed': 'the salesperson confirmed that the payment arrived (收款); also lifts an unpaid pause',
  'submitted': 'the application was filed with the authority (版权局, 商标局, 专利局, a funding body)',
  'certificate.received': 'the certificate (证书) arrived',
  'office_action.received': '专利流程 received an office action (答复 / 补正通知书)',
  'office_action.imported': 'the office action was imported into the case system (唯德系统)',
  'reply.received': "专利流程 received the 答复人's reply document",
  'reply.filed': 'the reply was submitted to 专利局',
  'contacts.multiple': 'the client turned out to have several contact persons (审计 2.2.2.7)',
  'review.requested': 'an audit report was handed to the 审计经理 for 复核',
  'project_report.received': "the client's 项目报告 arrived for comments (资助)",
  'attachment.received': "the client's other attachment materials arrived (资助)",
  'inquiry.result': 'the result of a progress inquiry on a submitted project came back',
  'client.changed': "the client's registered details changed (name change …)",
  'contract.signed': 'the grant project contract was signed (资助)',
  'acceptance.started': 'acceptance (验收) of a funded project was started',
  'published': 'the 公示 result was published',
  'supplement.requested': 'the authority asked for supplementary material at short notice (项目 3.4.8)',
} as const;

export type OrderEvent = keyof typeof ORDER_EVENT_MEANINGS;

export const ORDER_EVENTS = Object.keys(ORDER_EVENT_MEANINGS) as OrderEvent[];

export function isOrderEvent(value: string): value is OrderEvent {
  return Object.hasOwn(ORDER_EVENT_MEANINGS, value);
}
