/**
 * Is a client's message in the 讨论组 a question that someone must answer? Pure rule function: a question
 * mark or one of the playbook's question words. The triage of the LLM issue plugs in through `triage`:
 * when it gives a verdict, that verdict wins; when it has none (no model configured, or it failed), the
 * rule decides.
 */

export interface QuestionWords {
  marks: readonly string[];
  words: readonly string[];
}

/** A triage result for one message (e.g. from a model); `undefined` = no opinion, use the rule. */
export type QuestionTriage = (text: string) => Promise<{ question: boolean } | undefined>;

/** Phrases that contain a question word but say nothing is needed ("没什么问题"). */
const NOT_A_QUESTION = [/没(有)?什么/g, /不知道怎么感谢/g];

export function looksLikeQuestion(text: string, words: QuestionWords): boolean {
  let t = text.trim();
  if (!t) return false;
  if (words.marks.some((m) => t.includes(m))) return true;
  for (const re of NOT_A_QUESTION) t = t.replace(re, '');
  return words.words.some((w) => t.includes(w));
}

/** The triage's verdict when it has one, else the rule's. */
export async function isClientQuestion(text: string, words: QuestionWords, triage?: QuestionTriage): Promise<boolean> {
  if (triage) {
    const verdict = await triage(text).catch(() => undefined);
    if (verdict) return verdict.question;
  }
  return looksLikeQuestion(text, words);
}
