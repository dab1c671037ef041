import { z } from 'zod';
import rulesDocument from './triage-rules.json';
import { aboutOwnStaff, BUILT_IN_LEXICON, explainsOwnSide, scoreLexicon, type CompiledLexicon } from './lexicon';
import { COMPLAINT_LEVELS, levelRank, type Level } from './levels';

/**
 * Rule-based complaint triage: a pure function of the text (no model, no database). Phrases and
 * patterns come from triage-rules.json, each citing the clause of the standards it is drawn from.
 * Exported on its own so other watchers (e.g. client questions) can share one reading of a message.
 */

export { COMPLAINT_LEVELS, type Level };

export interface Triage {
  isComplaint: boolean;
  /** Suggested level (A 轻微 … D 严重); null when not a complaint. */
  level: Level | null;
  /**
   * [lower, higher] when the words cannot tell two levels apart (又拖了: a one-off A or a repeat B; a regulator
   * named without any money lost: C or D). `level` (the rules' own reading) is one of the two. Absent or null: one level.
   */
  levelRange?: [Level, Level] | null;
  /** A short Chinese summary of what the client is unhappy about. */
  summary: string;
  /** The client's own words that show it (a substring of the message). */
  evidenceQuote: string;
  confidence: number;
}

export interface RuleTriage extends Triage {
  /** Ids of the signals that counted (for the audit trail). */
  signals: string[];
  version: string;
}

const rulesSchema = z.object({
  version: z.string().min(1),
  note: z.string().optional(),
  threshold: z.number().positive(),
  signals: z
    .array(
      z.object({
        id: z.string().min(1),
        label: z.string().min(1),
        clause: z.string().min(1),
        weight: z.number().positive(),
        level: z.enum(COMPLAINT_LEVELS),
        /** Another level the standards allow for these words alone (see `Triage.levelRange`). */
        orLevel: z.enum(COMPLAINT_LEVELS).optional(),
        pattern: z.string().min(1),
        /** Not counted when the words just before it match (我们财务换人了: the client's own staff). */
        unlessBefore: z.string().optional(),
      }),
    )
    .min(1),
  negations: z.string(),
  neutralPhrases: z.string(),
  /** A "but" after the thanks (张工人很好，但是…) keeps the signal: the praise is a cushion, not a retraction. */
  softenUnless: z.string().optional(),
});

export type TriageRules = z.infer<typeof rulesSchema>;

interface Compiled {
  rules: TriageRules;
  signals: (TriageRules['signals'][number] & { re: RegExp; unless: RegExp | null })[];
  negation: RegExp;
  neutral: RegExp;
  softenUnless: RegExp | null;
}

/** Validates a rules document (the built-in one at load; an edited copy in tests). */
export function compileRules(doc: unknown): Compiled {
  const rules = rulesSchema.parse(doc);
  const signals = rules.signals.map((s) => ({ ...s, re: new RegExp(s.pattern, 'g'), unless: s.unlessBefore ? new RegExp(s.unlessBefore) : null }));
  return { rules, signals, negation: new RegExp(rules.negations), neutral: new RegExp(rules.neutralPhrases), softenUnless: rules.softenUnless ? new RegExp(rules.softenUnless) : null };
}

const BUILT_IN = compileRules(rulesDocument);
/** The phrase lists' version plus the scoring layer's (recorded with every decision). */
export const RULES_VERSION = `${BUILT_IN.rules.version}+${BUILT_IN_LEXICON.lexicon.version}`;

const rank = levelRank;

/**
 * The level: the highest among the counted signals, as before ranges existed. A signal with an `orLevel` allows
 * either of its two levels (the standards cannot tell them apart for these words); when the signals together allow
 * two levels, the answer also names both: [the highest of each signal's lower level, the highest of each signal's
 * higher level]. `level` is always within it.
 */
export function levelOf(hits: readonly { level: Level; orLevel?: Level }[]): { level: Level; levelRange: [Level, Level] | null } {
  let level: Level = 'A';
  let lo: Level = 'A';
  let hi: Level = 'A';
  const max = (x: Level, y: Level) => (rank(y) > rank(x) ? y : x);
  const min = (x: Level, y: Level) => (rank(y) < rank(x) ? y : x);
  for (const h of hits) {
    level = max(level, h.level);
    const alt = h.orLevel ?? h.level;
    lo = max(lo, min(h.level, alt));
    hi = max(hi, max(h.level, alt));
  }
  return { level, levelRange: lo === hi ? null : [lo, hi] };
}
const SENTENCE = /[。！？!?；;\n]+/;

/** The sentence (clause run) of `text` around index `at`, trimmed to 80 characters. */
function sentenceAt(text: string, at: number): string {
  let start = 0;
  for (const m of text.matchAll(new RegExp(SENTENCE.source, 'g'))) {
    if (m.index! + m[0].length <= at) start = m.index! + m[0].length;
    else if (m.index! >= at) {
      return text.slice(start, m.index).trim().slice(0, 80);
    }
  }
  return text.slice(start).trim().slice(0, 80);
}

/** The words of the same clause before index `at` (at most 12 characters). */
function clauseBefore(text: string, at: number): string {
  const head = text.slice(Math.max(0, at - 12), at);
  const parts = head.split(/[，,。！？!?；;]/);
  return parts[parts.length - 1]!;
}

/** Reads one client message. Pure: the same text always gives the same answer. */
export function classifyMessage(text: string, compiled: Compiled = BUILT_IN, lexicon: CompiledLexicon = BUILT_IN_LEXICON): RuleTriage {
  const version = `${compiled.rules.version}+${lexicon.lexicon.version}`;
  const t = text.replace(/\s+/g, ' ').trim();
  const hits: { id: string; label: string; weight: number; level: Level; orLevel?: Level; at: number }[] = [];
  for (const s of compiled.signals) {
    s.re.lastIndex = 0;
    for (const m of t.matchAll(s.re)) {
      // 不用退款 / 不需要换人: a "no need" word just before the phrase cancels it.
      const before = t.slice(Math.max(0, m.index! - 4), m.index!);
      if (compiled.negation.test(before)) continue;
      if (s.unless && s.unless.test(clauseBefore(t, m.index!))) continue;
      hits.push({ id: s.id, label: s.label, weight: s.weight, level: s.level, ...(s.orLevel ? { orLevel: s.orLevel } : {}), at: m.index! });
      break;
    }
  }
  // 刚才电话没接到，在开车，稍后回您: the client explains their own side; weak phrases do not count.
  // 我们的会计联系不上: the client's own staff. Both guards drop weak phrases only.
  const ownSide = explainsOwnSide(t, lexicon);
  for (let i = hits.length - 1; i >= 0; i--) if (hits[i]!.weight < 3 && (ownSide || aboutOwnStaff(t, hits[i]!.at, lexicon))) hits.splice(i, 1);
  let score = hits.reduce((n, h) => n + h.weight, 0);
  const cushioned = compiled.softenUnless?.test(t) ?? false;
  // The scoring layer (triage-lexicon.json): general dissatisfaction signals for wordings the phrase lists miss.
  const lex = scoreLexicon(t, { phraseCore: hits.some((h) => h.weight >= 2), negation: compiled.negation, cushioned }, lexicon);
  // Thanks and "no problem" soften a single weak signal (谢谢，资料寄错地址了我再发一次 is not a complaint),
  // unless the thanks is irony (辛苦你们了，一拖再拖).
  const ironic = lex.hits.some((h) => h.ironic);
  if (hits.length && compiled.neutral.test(t) && !cushioned && !ironic && hits.every((h) => h.weight < 3)) score -= 1;
  score += lex.score;
  for (const h of lex.hits) hits.push({ id: h.id, label: h.label, weight: h.weight, level: h.level, ...(h.orLevel ? { orLevel: h.orLevel } : {}), at: h.at });
  const isComplaint = score >= compiled.rules.threshold;
  if (!isComplaint) {
    return { isComplaint: false, level: null, levelRange: null, summary: '', evidenceQuote: '', confidence: hits.length ? 0.4 : 0.9, signals: hits.map((h) => h.id), version };
  }
  const { level, levelRange } = levelOf(hits);
  const strongest = [...hits].sort((a, b) => b.weight - a.weight || a.at - b.at)[0]!;
  return {
    isComplaint: true,
    level,
    levelRange,
    summary: [...new Set(hits.map((h) => h.label))].join('；'),
    evidenceQuote: sentenceAt(t, strongest.at) || t.slice(0, 80),
    confidence: Math.min(0.95, 0.5 + 0.1 * score),
    signals: hits.map((h) => h.id),
    version,
  };
}
