import type { ComplaintPlaybook } from '../../domain/complaints';
import type { ParsedArgs } from '../../core/command-parser';
import type { ChatContext } from '../../core/context';
import type { ComplaintClocks } from './complaint-clocks';
import { createClosingCommands } from './complaint-closing';
import { createHandlingCommands } from './complaint-handling';
import { createIntakeCommands } from './complaint-intake';
import { createComplaintKit } from './complaint-kit';
import { createReportCommands } from './complaint-reports';
import { createVoidCommand } from './complaint-void';

/** The complaint commands, by what they do, on one shared kit (complaint-kit.ts). */
export function createComplaintCommands(deps: { playbook: ComplaintPlaybook; clocks: ComplaintClocks }) {
  const kit = createComplaintKit(deps);
  const reports = createReportCommands(kit);
  const intake = createIntakeCommands(kit);
  const handlers: Record<string, (ctx: ChatContext, args: ParsedArgs) => Promise<void>> = {
    ...intake.handlers,
    ...createHandlingCommands(kit).handlers,
    ...createClosingCommands(kit).handlers,
    ...reports.handlers,
    ...createVoidCommand(kit).handlers,
  };
  return { handlers, show: reports.show, fileComplaint: intake.fileComplaint };
}
