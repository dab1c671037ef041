import { formatInstantInChinese, type WorkCalendar } from '../calendar';
import type { LadderStepName } from '../playbooks';
import { CHANNEL_NAMES, type ComplaintChannel, type ComplaintLevel, type ComplaintRule } from './complaint-playbook';
import { complaintCode } from './complaint-rules';

/**
 * Complaint reminder wording, pure: always staff wording for the department's internal group (a
 * complaint is never discussed in a client group). Names the complaint, client, what is due, the
 * deadline and the clause.
 */
export interface ComplaintReminderInput {
  rule: ComplaintRule;
  step: LadderStepName;
  dueAt: Date;
  calendar: WorkCalendar;
  now?: Date;
  complaint: {
    id: number;
    clientName: string;
    channel: ComplaintChannel;
    level: ComplaintLevel | null;
    content: string;
    handlerName?: string | null;
    ownerName?: string | null;
  };
}

const short = (s: string, n = 60) => (s.length > n ? s.slice(0, n) + '…' : s);
/** Ends a quoted text with one full stop: none added after the client's own 。！？… */
export const sentence = (s: string) => (/[。！？!?…．.]$/.test(s.trim()) ? s.trim() : `${s.trim()}。`);

export function buildComplaintReminder({ rule, step, dueAt, calendar, now, complaint: c }: ComplaintReminderInput): string {
  const code = complaintCode(c.id);
  const due = formatInstantInChinese(dueAt, calendar, now ? { now } : {});
  const subject = `投诉 ${code}（${c.clientName}，${CHANNEL_NAMES[c.channel]}${c.level ? `，${c.level} 级` : ''}）`;
  const what = `「${rule.step}」`;
  const basis = `依据：服务标准 ${rule.clause}。`;
  if (rule.timer.trigger.kind === 'schedule') {
    return `【投诉周会回顾】${subject}尚未结案：请在本周部门会议上回顾该客户的问题并安排跟进，直到客户满意。内容：${sentence(short(c.content))}${basis}`;
  }
  switch (step) {
    case 'headsup':
      return `【投诉即将到时】${subject}${what}的期限是 ${due}，请抓紧处理，谢谢！内容：${sentence(short(c.content))}${basis}`;
    case 'due':
      return `【投诉到时】${subject}${what}已到期限 ${due}，请尽快完成并在群里登记，谢谢！${basis}`;
    case 'overdue_supervisor':
    case 'overdue_head':
      return (
        `【投诉超时·请部门负责人处理】${subject}${what}已超过期限 ${due}，仍未登记完成` +
        `${c.handlerName ? `（被投诉负责人：${c.handlerName}）` : ''}。请部门负责人立即了解情况并作出处理意见，已记入投诉记录。` +
        `内容：${sentence(short(c.content))}${basis}`
      );
    case 'overdue_management':
      return (
        `【投诉超时·报总经办】${subject}${what}已超过期限 ${due}，仍未登记完成` +
        `${c.ownerName ? `（现由 ${c.ownerName} 负责）` : ''}，特报总经办知悉，已记入投诉记录。${basis}`
      );
  }
}
