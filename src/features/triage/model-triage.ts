import { z } from 'zod';
import type { Logger } from '../../log';
import type { LlmClient } from '../../llm/client';
import { createRedaction } from '../../llm/privacy';
import { fillPrompt, loadPrompt } from '../../llm/prompts';
import { classifyMessage, COMPLAINT_LEVELS, type Triage } from './classify';

/** What the model must answer for complaint triage (prompts/complaint-triage.md). */
export const triageAnswerSchema = z
  .object({
    isComplaint: z.boolean(),
    level: z.enum(COMPLAINT_LEVELS).nullable(),
    summary: z.string().max(200),
    evidenceQuote: z.string().max(400),
    confidence: z.number().min(0).max(1),
  })
  .strict()
  .refine((a) => !a.isComplaint || a.level !== null, { message: 'a complaint needs a level', path: ['level'] });

export interface TriageDecision {
  triage: Triage;
  source: 'rules' | 'model';
  /** The rules version or the prompt id (`complaint-triage@1`) that informed the decision. */
  version: string;
  /** Why the model's answer was not used, when a model is configured. */
  modelFailure?: string;
  latencyMs: number;
}

/**
 * The model's reading when a model is configured and answers well; the rules otherwise. A model answer
 * is used only if it validates and its quote is really the client's words; else the log says so and the
 * rule result stands.
 */
export async function triageText(
  text: string,
  opts: { llm?: LlmClient | null; clientName?: string; names?: { clients: string[]; people: string[] }; log: Logger },
): Promise<TriageDecision> {
  const started = Date.now();
  const rules = classifyMessage(text);
  const byRules = (modelFailure?: string): TriageDecision => ({
    triage: rules,
    source: 'rules',
    version: rules.version,
    ...(modelFailure ? { modelFailure } : {}),
    latencyMs: Date.now() - started,
  });
  if (!opts.llm) return byRules();
  const redaction = createRedaction(opts.names ?? { clients: opts.clientName ? [opts.clientName] : [], people: [] }, opts.llm.privacy);
  const prompt = fillPrompt(loadPrompt('complaint-triage'), {
    client: redaction.text(opts.clientName ?? '客户'),
    message: redaction.text(text),
  });
  const r = await opts.llm.structured(prompt, triageAnswerSchema);
  if (!r.ok) {
    opts.log.warn({ prompt: r.prompt, reason: r.reason }, 'model triage failed; the rule-based triage result is used');
    return byRules(r.reason);
  }
  const a = redaction.restoreDeep(r.value);
  if (a.isComplaint && (!a.evidenceQuote.trim() || !text.includes(a.evidenceQuote.trim()))) {
    opts.log.warn({ prompt: r.prompt }, "model triage quoted words the client did not write; the rule-based triage result is used");
    return byRules('quote-not-in-message');
  }
  return {
    triage: {
      isComplaint: a.isComplaint,
      level: a.isComplaint ? a.level : null,
      summary: a.summary,
      evidenceQuote: a.evidenceQuote.trim(),
      confidence: a.confidence,
    },
    source: 'model',
    version: r.prompt,
    latencyMs: r.latencyMs,
  };
}
