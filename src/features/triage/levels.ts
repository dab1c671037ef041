export const COMPLAINT_LEVELS = ['A', 'B', 'C', 'D'] as const;
export type Level = (typeof COMPLAINT_LEVELS)[number];

/** The standards' names of the complaint levels (000 4.2: A 轻微 … D 严重). */
export const LEVEL_NAMES = { A: '轻微', B: '一般', C: '重大', D: '严重' } as const;

export const levelRank = (l: Level) => COMPLAINT_LEVELS.indexOf(l);

/**
 * The suggested level as the notice words it: one level, or both when the rules cannot tell them apart
 * (建议级别 B 或 C（一般或重大，确认时请定级）). `range` is [lower, higher] and holds `level`.
 */
export function suggestedLevelText(level: Level, range?: readonly [Level, Level] | null): string {
  if (!range || range[0] === range[1]) return `建议级别 ${level}（${LEVEL_NAMES[level]}）`;
  const [lo, hi] = range;
  return `建议级别 ${lo} 或 ${hi}（${LEVEL_NAMES[lo]}或${LEVEL_NAMES[hi]}，确认时请定级）`;
}
