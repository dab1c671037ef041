export const COMPLAINT_LEVELS = ['A', 'B', 'C', 'D'] as const;
export type Level = (typeof COMPLAINT_LEVELS)[number];
