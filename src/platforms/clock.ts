/** Time is a parameter (STYLE.md #12): verification and token caching take a clock, tests pass a fixed one. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
