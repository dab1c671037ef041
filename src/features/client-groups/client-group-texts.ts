/**
 * Everything this feature ever posts into a client group (the only texts a rule allows there): the
 * private-answer note, the acknowledgement of an open question, the resolution note and the progress
 * report. Polite, in the standards' tone; never a clock, a level, an escalation or a colleague's role.
 */
export const CLIENT_TEXTS = {
  answeredPrivately: () => '您好，您刚才的问题我们的同事已经私下和您沟通回复了。如还有疑问，欢迎随时在群里留言，谢谢！',
  openNoted: (due: string) => `好的，您的问题我们已经记下，会尽快处理，并在 ${due} 前在群里答复您，谢谢您的耐心！`,
  resolved: (result: string) => `您好，您之前提出的问题已经处理好了：${result}\n如还有疑问，欢迎随时在群里留言，谢谢！`,
  progressReport: (content: string) => `【材料进度】${content}\n如有疑问，欢迎随时在群里留言，谢谢！`,
} as const;

/** Words that must never reach a client group (tests check every text above against them). */
export const INTERNAL_WORDS = ['超时', '逾期', '主管', '总经办', '部门负责人', '计时', '期限', '提醒', '级别', '上报', '催办', 'Q'];
