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

interface Row {
  complaint: boolean;
  level: string | null;
  got: { isComplaint: boolean; level: string | null };
  ms: number;
}

function figures(engine: string, version: string, rows: Row[], extra: Record<string, unknown> = {}) {
  const tp = rows.filter((r) => r.complaint && r.got.isComplaint).length;
  const fp = rows.filter((r) => !r.complaint && r.got.isComplaint).length;
  const fn = rows.filter((r) => r.complaint && !r.got.isComplaint).length;
  const levelOk = rows.filter((r) => r.complaint && r.got.isComplaint && r.got.level === r.level).length;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return JSON.stringify({
    engine,
    version,
    messages: rows.length,
    complaints: rows.filter((r) => r.complaint).length,
    precision: round(tp / Math.max(1, tp + fp)),
    recall: round(tp / Math.max(1, tp + fn)),
    levelAccuracy: round(levelOk / Math.max(1, tp)),
    meanLatencyMs: round(rows.reduce((n, r) => n + r.ms, 0) / rows.length),
    ...extra,
  });
}

async function main() {
  const config = loadConfig();
  const set = labelled.messages;
  const byRules = (list: typeof set): Row[] =>
    list.map((m) => {
      const t0 = performance.now();
      const got = classifyMessage(m.text);
      return { complaint: m.complaint, level: m.level, got, ms: performance.now() - t0 };
    });
  const version = classifyMessage('').version;
  console.log(figures('rules', version, byRules(set), { set: 'labelled' }));
  // messages, heldOut, heldOut2, held-out-3 and held-out-4 were all used to tune rules-4 + lexicon-1 (the scoring layer).
  console.log(figures('rules', version, byRules(labelled.heldOut), { set: 'held-out-1 (tuning)' }));
  console.log(figures('rules', version, byRules(labelled.heldOut2), { set: 'held-out-2 (tuning)' }));
  console.log(figures('rules', version, byRules(heldOut3.messages), { set: 'held-out-3 (tuning)' }));
  console.log(figures('rules', version, byRules(heldOut4.messages), { set: 'held-out-4 (tuning for lexicon-1; unseen by rules-3)' }));
  // held-out-5 (test/fixtures/triage-heldout5.json) was written and committed before the scoring layer and never
  // used to tune it: the honest figure for wordings nobody tuned on.
  console.log(figures('rules', version, byRules(heldOut5.messages), { set: 'held-out-5 (unseen)' }));

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
      rows.push({ complaint: m.complaint, level: m.level, got: d.triage, ms: performance.now() - t0 });
    }
    console.log(figures('model', version || 'none', rows, { model: config.LLM_MODEL, fallbacksToRules: fallbacks }));
  }
}

void main();
