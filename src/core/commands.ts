import type { CommandSpec } from './command-parser';

/**
 * Who may run a command at all: `anyone` (people outside the roster too), `staff` (anyone in the
 * roster), or a list of role keys that the access policy of the feature that owns the roster reads
 * (Feature.access). Finer checks are the handler's. Admins (ADMIN_USERIDS or the roster's admin flag)
 * pass every gate.
 */
export type Gate = 'anyone' | 'staff' | readonly string[];

export interface CommandDef extends CommandSpec {
  gate: Gate;
  /** Shows internal detail: refused in a client group so clients never see it. */
  internal?: boolean;
  /**
   * Typed by someone outside the roster in a client group, this command is the client's own words
   * (a client who writes `/投诉 …` is complaining): not refused, but offered to the watchers as a plain
   * message (WatchContext.spelled), and answered by them.
   */
  clientWords?: boolean;
  /** The `/帮助` topic; set from the feature that adds the command unless the spec names one (feature.ts). */
  topic?: string;
}

/** A table of command specs with their handlers, in the table's order (a feature's command list). */
export function commandsFromTable<H>(table: readonly CommandDef[], handlers: Record<string, H>): { spec: CommandDef; handler: H }[] {
  const ids = new Set(Object.keys(handlers));
  const picked = table.filter((c) => ids.has(c.id));
  if (picked.length !== ids.size) throw new Error(`unknown command ids: ${[...ids].filter((i) => !table.some((c) => c.id === i)).join(', ')}`);
  return picked.map((spec) => ({ spec, handler: handlers[spec.id]! }));
}
