import { parseCommand } from '../../src/core/command-parser';
import type { CommandDef } from '../../src/core/commands';
import { createRegistry } from '../../src/core/registry';
import { createFeatures } from '../../src/app';
import { HELP_COMMANDS } from '../../src/features/help';
import { ROSTER_COMMANDS } from '../../src/features/roster/specs';
import { ORDER_COMMANDS } from '../../src/features/orders';
import { CLOCK_COMMANDS } from '../../src/features/clocks/specs';
import { complaintPlaybook, testClocks } from './bot';

const registry = createRegistry(createFeatures({ ...testClocks(), complaintPlaybook }));
const ids = new Set([...HELP_COMMANDS, ...ROSTER_COMMANDS, ...ORDER_COMMANDS, ...CLOCK_COMMANDS].map((c) => c.id));

/** The commands of help, the roster, orders and clocks (what the parser tests read), in the app's order. */
export const COMMANDS: CommandDef[] = registry.specs.filter((c) => ids.has(c.id));

/** The argument kinds the app's features register (e.g. `order`: D12). */
export const KINDS = registry.kinds;

/** Parse as the chat pipeline does, with the features' argument kinds. */
export const parseWith = (specs: readonly CommandDef[]) => (t: string) => parseCommand(t, specs, KINDS);
