/**
 * A reply to a client in the standards' tone (《服务管理制度》2.1.8: 五声 问候、招呼、致谢、致歉、道别;
 * 无四语 蔑视语、烦躁语、否定语、斗气语), built from a template without any model. Pure.
 */

/** Phrasings the standards forbid (四语), never in a draft. */
export const FORBIDDEN_PHRASES = [
  '不知道',
  '不归我管',
  '不关我事',
  '你自己看',
  '自己去查',
  '你听不懂',
  '我说过了',
  '早就告诉过你',
  '早就说了',
  '随便你',
  '爱办不办',
  '没办法',
  '不可能',
  '这不是我们的问题',
  '你们自己的问题',
  '有完没完',
  '急什么',
  '催什么',
  '怎么又是你',
  '规定就是这样',
];

export function forbiddenIn(text: string): string[] {
  return FORBIDDEN_PHRASES.filter((p) => text.includes(p));
}

/** Words in the points that call for an apology (致歉声). */
const APOLOGY_DUE = /抱歉|道歉|延误|延迟|推迟|晚了|迟了|错|漏|不便|没及时|未及时|久等|慢|投诉|不满|问题/;

export interface DraftInput {
  points: string;
  /** The client's name (company), for the greeting. */
  clientName?: string | null;
}

export function templateDraft(input: DraftInput): { draft: string; removed: string[] } {
  let points = input.points.trim().replace(/[。.!！]+$/, '');
  const removed = forbiddenIn(points);
  for (const p of removed) points = points.split(p).join('');
  points = points.replace(/^[，,。；;\s]+|[，,；;\s]+$/g, '');
  const greeting = input.clientName ? `${input.clientName}的领导，您好！` : '您好！';
  const lines = [greeting, '感谢您一直以来对我们工作的信任与支持。'];
  if (APOLOGY_DUE.test(input.points)) lines.push('非常抱歉给您带来了不便，我们已经认真了解情况。');
  if (points) lines.push(`关于${points.startsWith('关于') ? points.slice(2) : points}，我们会尽快跟进，并第一时间向您反馈进展。`);
  lines.push('如有任何疑问，欢迎随时联系我们，我们一定尽心为您服务。', '再次感谢您的理解与支持，祝您工作顺利！');
  return { draft: lines.join('\n'), removed };
}
