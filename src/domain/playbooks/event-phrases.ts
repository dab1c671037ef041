import type { OrderEvent } from './order-events';

/**
 * What people write in `/进度 D12 …` that means a clock event happened. Data, not logic: the firm can
 * add wording here. The longest phrase wins where phrases overlap ("已提交答复" is reply.filed, not
 * submitted), and a matched stretch of text is not read twice.
 */
export const EVENT_PHRASES: Record<OrderEvent, string[]> = {
  'order.created': [],
  'order.assigned': [],
  'client.contacted': ['已联系客户', '联系了客户', '已联系企业', '已与客户沟通', '已和客户沟通', '已电话联系客户'],
  'coaching.done': ['已辅导', '辅导完成', '完成辅导', '已完成辅导', '已上门辅导'],
  'proposal.received': ['收到技术方案', '收到交底书', '收到技术交底书', '技术方案已收到', '交底书已收到'],
  'materials.received': ['收到资料', '收到材料', '资料已收到', '材料已收到'],
  'materials.complete': ['材料齐全', '资料齐全', '资料已齐', '材料已齐', '资料补充完整', '材料补充完整'],
  'payment.requested': ['已通知收款', '通知业务员收款', '通知收款', '已通知业务员收款'],
  'payment.confirmed': ['已收款', '客户已付款', '已付款'],
  submitted: ['已提交', '已递交', '已申报', '已报送'],
  'certificate.received': ['收到证书', '已下证', '证书已到', '已拿到证书'],
  'office_action.received': ['收到通知书', '收到答复通知书', '收到补正通知书', '收到审查意见'],
  'office_action.imported': ['已导入', '已导入系统', '已导入唯德'],
  'reply.received': ['收到答复文件', '收到答复'],
  'reply.filed': ['已提交答复', '答复已提交', '答复已递交'],
  'contacts.multiple': ['多个联系人', '有多位联系人'],
  'review.requested': ['提交复核', '交复核', '送复核'],
  'project_report.received': ['收到项目报告', '项目报告已收到'],
  'attachment.received': ['收到附件', '附件已收到'],
  'inquiry.result': ['查询结果', '查询有结果'],
  'client.changed': ['客户信息变更', '企业信息变更', '企业更名', '客户更名'],
  'contract.signed': ['已签合同', '合同已签', '合同已签订'],
  'acceptance.started': ['启动验收', '开始验收', '已启动验收'],
  published: ['已公示', '公示结果', '结果已公示'],
  'supplement.requested': ['要求补充材料', '紧急补充材料', '要求补正', '需要补充材料'],
};

/** The clock events a progress note mentions, in the order they appear. Pure. */
export function eventsInNote(note: string): OrderEvent[] {
  const phrases = Object.entries(EVENT_PHRASES)
    .flatMap(([event, list]) => list.map((p) => ({ event: event as OrderEvent, p })))
    .sort((a, b) => b.p.length - a.p.length);
  let rest = note;
  const found: { event: OrderEvent; at: number }[] = [];
  for (const { event, p } of phrases) {
    let i = rest.indexOf(p);
    while (i >= 0) {
      if (!found.some((f) => f.event === event)) found.push({ event, at: i });
      rest = rest.slice(0, i) + '\u0000'.repeat(p.length) + rest.slice(i + p.length);
      i = rest.indexOf(p);
    }
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.event);
}
