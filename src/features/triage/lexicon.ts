import { z } from 'zod';
import lexiconDocument from './triage-lexicon.json';
import { COMPLAINT_LEVELS, type Level } from './levels';

/**
 * The scoring layer beside the phrase lists: general dissatisfaction signals (negative evaluation,
 * broken promises, long waits with nothing delivered, unreachable staff, consequences and threats,
 * rhetorical questions, strong punctuation) built from small word classes in triage-lexicon.json.
 * Pure: a function of the text only.
 */

const lexiconSchema = z.object({
  version: z.string().min(1),
  note: z.string().optional(),
  contextOnlyThreshold: z.number().positive(),
  classes: z.record(z.string(), z.string().min(1)),
  cues: z
    .array(
      z.object({
        id: z.string().min(1),
        label: z.string().min(1),
        clause: z.string().min(1),
        kind: z.enum(['core', 'context']),
        weight: z.number().positive(),
        level: z.enum(COMPLAINT_LEVELS),
        /** Another level the standards allow for these words alone (see `Triage.levelRange` in classify.ts). */
        orLevel: z.enum(COMPLAINT_LEVELS).optional(),
        pattern: z.string().min(1),
        ownStaffGuard: z.boolean().optional(),
        /** Praise or thanks said in irony (效率真高啊，一个月了还没动静): thanks and calm words do not cancel the layer. */
        ironic: z.boolean().optional(),
      }),
    )
    .min(1),
});

export type Lexicon = z.infer<typeof lexiconSchema>;

const GUARD_CLASSES = ['thanks', 'calm', 'selfSide', 'ownStaff'] as const;

export interface CompiledLexicon {
  lexicon: Lexicon;
  cues: (Lexicon['cues'][number] & { re: RegExp })[];
  thanks: RegExp;
  calm: RegExp;
  selfSide: RegExp;
  ownStaff: RegExp;
}

/** Validates a lexicon and fills the {class} placeholders; an unknown class name is an error. */
export function compileLexicon(doc: unknown): CompiledLexicon {
  const lexicon = lexiconSchema.parse(doc);
  const fill = (p: string) =>
    p.replace(/\{(\w+)\}/g, (_, name: string) => {
      const c = lexicon.classes[name];
      if (c === undefined) throw new Error(`triage lexicon: unknown class {${name}}`);
      return `(?:${c})`;
    });
  for (const g of GUARD_CLASSES) if (!lexicon.classes[g]) throw new Error(`triage lexicon: missing class ${g}`);
  return {
    lexicon,
    cues: lexicon.cues.map((c) => ({ ...c, re: new RegExp(fill(c.pattern)) })),
    thanks: new RegExp(lexicon.classes.thanks!),
    calm: new RegExp(lexicon.classes.calm!),
    selfSide: new RegExp(lexicon.classes.selfSide!),
    ownStaff: new RegExp(lexicon.classes.ownStaff!),
  };
}

export const BUILT_IN_LEXICON = compileLexicon(lexiconDocument);

export interface LexiconHit {
  id: string;
  label: string;
  weight: number;
  level: Level;
  orLevel?: Level;
  kind: 'core' | 'context';
  at: number;
  ironic?: boolean;
}

/** The client explains their own side (刚才在开会，晚点回您) and does not address us: weak cues do not count. */
export function explainsOwnSide(t: string, compiled: CompiledLexicon = BUILT_IN_LEXICON): boolean {
  return compiled.selfSide.test(t) && !/你们|你那边|贵司|贵公司/.test(t);
}

/** The sentence around `at` names the client's own staff (我们的会计联系不上) and not us. */
export function aboutOwnStaff(t: string, at: number, compiled: CompiledLexicon = BUILT_IN_LEXICON): boolean {
  const sentence = sentenceAround(t, at);
  return compiled.ownStaff.test(sentence) && !/你们/.test(sentence);
}

const SENTENCE_END = /[。！？!?；;\n]/;

function sentenceAround(t: string, at: number): string {
  let s = at;
  while (s > 0 && !SENTENCE_END.test(t[s - 1]!)) s--;
  let e = at;
  while (e < t.length && !SENTENCE_END.test(t[e]!)) e++;
  return t.slice(s, e);
}

/**
 * Scores one (whitespace-normalised) message. `phraseCore` says whether the phrase lists already found a
 * signal (context cues may then add to it). `negation` is the rules' "no need" pattern (不用|不需要…$),
 * tested on the four characters before each cue. `softened` is true when a 但是/可是 follows the thanks.
 */
export function scoreLexicon(
  t: string,
  opts: { phraseCore: boolean; negation: RegExp; cushioned: boolean },
  compiled: CompiledLexicon = BUILT_IN_LEXICON,
): { score: number; hits: LexiconHit[] } {
  const hits: LexiconHit[] = [];
  const selfSide = explainsOwnSide(t, compiled);
  for (const c of compiled.cues) {
    const m = c.re.exec(t);
    if (!m) continue;
    const at = m.index;
    if (opts.negation.test(t.slice(Math.max(0, at - 4), at))) continue;
    // 我们出纳离职了、联系不上 / 我们财务换人了: the client's own staff, not ours.
    if ((c.ownStaffGuard || c.kind === 'core') && aboutOwnStaff(t, at, compiled)) continue;
    // 刚才在开会，晚点回您 / 我们这边资料有问题: the client explains their own side.
    if (selfSide && c.weight < 3) continue;
    hits.push({ id: c.id, label: c.label, weight: c.weight, level: c.level, ...(c.orLevel ? { orLevel: c.orLevel } : {}), kind: c.kind, at, ...(c.ironic ? { ironic: true } : {}) });
  }
  const core = hits.filter((h) => h.kind === 'core');
  const context = hits.filter((h) => h.kind === 'context');
  // Thanks, closing politeness or calm words with no strong cue: the layer says nothing (unless the thanks is irony).
  const strong = core.some((h) => h.weight >= 3 || h.ironic);
  if (!strong && !opts.cushioned && (compiled.thanks.test(t) || compiled.calm.test(t))) return { score: 0, hits: [] };
  const coreScore = core.reduce((n, h) => n + h.weight, 0);
  const contextScore = context.reduce((n, h) => n + h.weight, 0);
  if (core.length || opts.phraseCore) return { score: coreScore + contextScore, hits };
  if (context.length >= 2 && contextScore >= compiled.lexicon.contextOnlyThreshold) return { score: contextScore, hits };
  return { score: 0, hits: [] };
}
