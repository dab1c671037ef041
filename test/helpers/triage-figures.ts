import type { RuleTriage } from '../../src/features/triage/classify';

export interface LabelledMessage {
  text: string;
  complaint: boolean;
  level: string | null;
}

export interface TriageFigures {
  messages: number;
  complaints: number;
  /** Labelled complaints the classifier found. */
  found: number;
  precision: number;
  recall: number;
  /** Among the complaints found: the labelled level is the suggested one, or one of the two of a range. */
  levelAccuracy: number;
  /** The same over every labelled complaint (a missed complaint counts as a wrong level). */
  levelAccuracyAll: number;
  /** Among the complaints found: the suggested (higher) level alone equals the label, ranges not credited. */
  levelExact: number;
  /** How many of the complaints found were answered with a range (建议级别 B 或 C). */
  ranges: number;
}

type Answer = Pick<RuleTriage, 'isComplaint' | 'level' | 'levelRange'>;

/** Precision and recall (complaint vs not) and level accuracy of a classifier on a labelled set. */
export function triageFigures(set: readonly LabelledMessage[], classify: (text: string) => Answer): TriageFigures {
  return figuresOf(set.map((m) => ({ m, r: classify(m.text) })));
}

/** The same from answers already given (the model's, in `npm run eval`). */
export function figuresOf(rows: readonly { m: LabelledMessage; r: Answer }[]): TriageFigures {
  const found = rows.filter((x) => x.m.complaint && x.r.isComplaint);
  const fp = rows.filter((x) => !x.m.complaint && x.r.isComplaint).length;
  const complaints = rows.filter((x) => x.m.complaint).length;
  // A range (建议级别 B 或 C) is right only when the labelled level is one of its two ends.
  const inRange = (x: (typeof rows)[number]) => x.r.level === x.m.level || (!!x.r.levelRange && (x.r.levelRange as readonly string[]).includes(x.m.level ?? ''));
  const levelOk = found.filter(inRange).length;
  return {
    messages: rows.length,
    complaints,
    found: found.length,
    precision: found.length / Math.max(1, found.length + fp),
    recall: found.length / Math.max(1, complaints),
    levelAccuracy: levelOk / Math.max(1, found.length),
    levelAccuracyAll: levelOk / Math.max(1, complaints),
    levelExact: found.filter((x) => x.r.level === x.m.level).length / Math.max(1, found.length),
    ranges: found.filter((x) => x.r.levelRange).length,
  };
}
