/** What a benchmark module is and what `npm run bench` gives it (bench/run.ts lists the modules). */

export interface BenchModule {
  name: string;
  run(ctx: BenchContext): Promise<void>;
}

export interface BenchContext {
  /** `--key=value` command-line options. */
  options: Record<string, string>;
  /** Print one figure as a JSON line. */
  report(figure: Record<string, unknown>): void;
  /** Progress for the reader, on stderr (keeps stdout to JSON lines). */
  note(text: string): void;
}
