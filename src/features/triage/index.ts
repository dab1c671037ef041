import { writeAudit } from '../../core/context';
import { on } from '../../core/events';
import type { Feature } from '../../core/feature';
import { attachClientMessage, complaintLevelAsked, continueTriageClock, fileComplaint } from '../complaints';
import { classifyMessage } from './classify';
import { triageHandlers } from './handlers';
import { triageModelWorker } from './model-worker';
import { TRIAGE_COMMANDS } from './specs';
import { triageTimerSubject } from './subject';
import { parseTriagePlaybook } from './triage-playbook';
import type { TriageDeps, TriageEnv } from './shared';
import { triageWatcher } from './watcher';
import { withClientCommands } from './client-command';

export { classifyMessage, type Triage, type RuleTriage } from './classify';
export { MODEL_DECIDER, suggestionCode, type TriageDeps } from './shared';
export { TRIAGE_COMMANDS } from './specs';

/** The triage's rules as the level reader of `/投诉` (its level proposal takes the higher reading; `complaintLevelAsked`). */
export function readComplaintLevel(text: string): { level: 'A' | 'B' | 'C' | 'D'; why: string } | null {
  const r = classifyMessage(text);
  return r.isComplaint && r.level ? { level: r.level, why: `分诊规则（${r.version}）：${r.summary}` } : null;
}

/**
 * 疑似投诉: every client message in a client group is read (the model when one is configured, else the
 * rules); a complaint is told at once to the department's internal group with @ of the handler and the
 * supervisor, and becomes a complaint with one `/投诉 确认`. The client group hears nothing of it.
 */
export function triageFeature(deps: TriageDeps): Feature {
  const pb = deps.playbook ?? parseTriagePlaybook(undefined, deps.complaintPlaybook);
  const rule = pb.reminder;
  const env: TriageEnv = { deps, pb, rule, count: () => {}, emit: async () => [] };
  const { record, watch } = triageWatcher(env);
  const { worker } = triageModelWorker(env, record);
  const { confirm, dismiss, show } = triageHandlers(env);
  const timerSubject = triageTimerSubject(env);

  return {
    name: 'triage',
    help: { topic: '投诉', words: ['疑似投诉', 'triage'] },
    commands: TRIAGE_COMMANDS.map((spec) => ({ spec, handler: spec.id === 'triage.confirm' ? confirm : dismiss })),
    refs: { X: { noun: '疑似投诉', example: 'X3', show } },
    timerSubjects: [timerSubject],
    watch: withClientCommands(record, watch),
    emits: [fileComplaint, attachClientMessage, continueTriageClock],
    on: [on(complaintLevelAsked, async (_e, p) => readComplaintLevel(p.content))],
    ...(deps.llm ? { worker } : {}),
    init: (engine) => {
      env.count = engine.count;
      env.emit = engine.emit;
    },
  };
}

export { writeAudit };
