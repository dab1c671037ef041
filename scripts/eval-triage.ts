/**
 * `npm run eval`: the complaint triage over the labelled sets (test/fixtures/triage-*.json) with
 * the rules, and with the model when LLM_BASE_URL is set. One JSON line per engine: precision, recall,
 * level accuracy (among complaints found), mean latency. Figures go to docs/benchmarks.md.
 */
import pino from 'pino';
import { loadConfig } from '../src/config';
import { classifyMessage } from '../src/features/triage/classify';
import { triageText } from '../src/features/triage/model-triage';
import { createLlmClient } from '../src/llm/client';
import labelled from '../test/fixtures/triage-labelled.json';
import heldOut3 from '../test/fixtures/triage-heldout3.json';
import heldOut4 from '../test/fixtures/triage-heldout4.json';
import heldOut5 from '../test/fixtures/triage-heldout5.json';
import heldOut6 from '../test/fixtures/triage-heldout6.json';
import { figuresOf, type LabelledMessage } from '../test/helpers/triage-figures';
import type { Level } from '../src/features/triage/levels';

interface Row {
  m: LabelledMessage;
  r: { isComplaint: boolean; level: Level | null; levelRange?: [Level, Level] | null };
  ms: number;
}

function figures(engine: string, version: string, rows: Row[], extra: Record<string, unknown> = {}) {
  const f = figuresOf(rows);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return JSON.stringify({
    engine,
    version,
    messages: f.messages,
    complaints: f.complaints,
    precision: round(f.precision),
    recall: round(f.recall),
    // Among complaints found; a range (建议级别 B 或 C) counts when the label is one of the two.
    levelAccuracy: round(f.levelAccuracy),
    levelAccuracyAll: round(f.levelAccuracyAll),
    levelExact: round(f.levelExact),
    ranges: f.ranges,
    meanLatencyMs: round(rows.reduce((n, r) => n + r.ms, 0) / rows.length),
    ...extra,
  });
}

async function main() {
  const config = loadConfig();
  const set = labelled.messages;
  const byRules = (list: readonly LabelledMessage[]): Row[] =>
    list.map((m) => {
      const t0 = performance.now();
      const r = classifyMessage(m.text);
      return { m, r, ms: performance.now() - t0 };
    });
  const version = classifyMessage('').version;
  console.log(figures('rules', version, byRules(set), { set: 'labelled' }));
  // messages, heldOut, heldOut2, held-out-3 and held-out-4 were all used to tune rules-4 + lexicon-1 (the scoring layer);
  // rules-5 + lexicon-2 were tuned on messages (with its issue-25 cases) only.
  console.log(figures('rules', version, byRules(labelled.heldOut), { set: 'held-out-1 (tuning)' }));
  console.log(figures('rules', version, byRules(labelled.heldOut2), { set: 'held-out-2 (tuning)' }));
  console.log(figures('rules', version, byRules(heldOut3.messages), { set: 'held-out-3 (tuning)' }));
  console.log(figures('rules', version, byRules(heldOut4.messages), { set: 'held-out-4 (tuning for lexicon-1; unseen by rules-3)' }));
  // held-out-5 (test/fixtures/triage-heldout5.json) was written and committed before the scoring layer and never
  // used to tune it; its error analysis (docs/benchmarks.md) was read before rules-5, so it is no longer a blind figure.
  console.log(figures('rules', version, byRules(heldOut5.messages), { set: 'held-out-5 (not tuned on; its error analysis was read before rules-5)' }));
  // held-out-6 was written (by the engineer who wrote rules-5 + lexicon-2) and committed before them, and run once
  // after they were frozen: its wording was known to the rule writer, so its figure is optimistic.
  console.log(figures('rules', version, byRules(heldOut6.messages), { set: 'held-out-6 (not run while tuning, wording known)' }));

  if (config.LLM_BASE_URL) {
    const log = pino({ level: 'silent' });
    const llm = createLlmClient(
      { baseURL: config.LLM_BASE_URL, apiKey: config.LLM_API_KEY, model: config.LLM_MODEL, timeoutMs: config.LLM_TIMEOUT_MS, privacy: config.LLM_PRIVACY !== 'off' },
      log,
    );
    const rows: Row[] = [];
    let fallbacks = 0;
    let version = '';
    for (const m of set) {
      const t0 = performance.now();
      const d = await triageText(m.text, { llm, clientName: '客户', log });
      if (d.source === 'rules') fallbacks++;
      else version = d.version;
      rows.push({ m, r: d.triage, ms: performance.now() - t0 });
    }
    console.log(figures('model', version || 'none', rows, { model: config.LLM_MODEL, fallbacksToRules: fallbacks }));
  }
}

void main();
