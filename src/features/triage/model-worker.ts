import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clients, groups, people, triageJobs, triageSuggestions } from '../../db/schema';
import { writeAudit } from '../../core/context';
import type { FeatureWorker, RouteContext } from '../../core/feature';
import { triageText, type TriageDecision } from './model-triage';
import { contextOf, LEVEL_NAMES, postWith, subjectOf, suggestionCode, type Io, type TriageEnv } from './shared';
import { postAbout } from './notices';
import type { Recorder } from './watcher';
import { createTriageWorker, type TriageJob } from './worker';

/** The model's side of the triage: the worker that asks the model for each job and applies its reading. */
export function triageModelWorker(env: TriageEnv, record: Recorder) {
  const { deps } = env;

  /**
   * The model's reading of one job's message, applied in the worker's short transaction (exactly once):
   * - the rules saw a complaint and so does the model: the suggestion takes the model's wording; a higher
   *   level is told to the internal group once;
   * - the rules saw none and the model does: a suggestion as the rules would have made it;
   * - the rules saw a complaint of this one message and the model does not: NOT dismissed (a model changes
   *   nothing on its own); a note 模型复核认为可能不是投诉 goes once to the internal group and the audit, the
   *   suggestion stays open and its 10-minute reminder still fires;
   * - the model failed: the rule result stands, and the log and the audit say so.
   */
  async function applyModel(io: Io, job: TriageJob, d: TriageDecision): Promise<string> {
    const subject = job.ruleSuggestionId ? subjectOf(job.ruleSuggestionId) : null;
    if (d.source !== 'model') {
      io.log.warn({ triageJob: job.id, reason: d.modelFailure }, 'model triage failed; the rule-based triage result stands');
      await io.audit('triage.model', subject, { job: job.id, outcome: 'rules-stand', modelFailure: d.modelFailure ?? null });
      return 'rules-stand';
    }
    const [group] = await io.tx.select().from(groups).where(eq(groups.id, job.groupId));
    const [s] = job.ruleSuggestionId ? await io.tx.select().from(triageSuggestions).where(eq(triageSuggestions.id, job.ruleSuggestionId)).for('update') : [];
    const t = d.triage;
    let outcome: string;
    if (t.isComplaint && t.level) {
      const level = t.level;
      if (s && s.status === 'open') {
        const higher = 'ABCD'.indexOf(level) > 'ABCD'.indexOf(s.level);
        const alone = s.messages.length === 1;
        await io.tx
          .update(triageSuggestions)
          .set({
            source: 'model',
            version: d.version,
            confidence: t.confidence,
            ...(higher ? { level } : {}),
            ...(higher || alone ? { summary: t.summary.slice(0, 500), evidenceQuote: t.evidenceQuote.slice(0, 500) } : {}),
          })
          .where(eq(triageSuggestions.id, s.id));
        if (higher) {
          const code = suggestionCode(s.id);
          await postAbout(
            io,
            s,
            `疑似投诉 ${code} 复核：建议级别改为 ${level}（${LEVEL_NAMES[level]}）${t.summary ? `：${t.summary}` : ''}「${t.evidenceQuote}」\n确认：/投诉 确认 ${code}　忽略：/投诉 忽略 ${code} <原因>`,
            `triage-job:${job.id}:upgrade`,
          );
        }
        outcome = higher ? 'upgraded' : 'agreed';
      } else if (s) {
        outcome = 'decided-already';
      } else if (group) {
        const r = await record(io, group, job, { triage: { ...t, level }, source: 'model', version: d.version }, `triage-job:${job.id}`);
        outcome = r.attached ? 'attached' : r.merged ? 'merged' : 'created';
        if (r.id !== null) await io.tx.update(triageJobs).set({ ruleSuggestionId: r.id }).where(eq(triageJobs.id, job.id));
      } else {
        outcome = 'no-group';
      }
    } else if (s && s.status === 'open' && s.messages.length === 1 && s.messages[0]!.id === job.messageId) {
      // A model cannot change anything on its own: the suggestion stays open (its reminder still fires);
      // staff are told once that the model doubts it, and they confirm or dismiss it as always.
      const code = suggestionCode(s.id);
      await postAbout(
        io,
        s,
        `疑似投诉 ${code}：模型复核认为可能不是投诉（仅供参考）。仍请同事判断后处理：确认：/投诉 确认 ${code}　忽略：/投诉 忽略 ${code} <原因>。谢谢！`,
        `triage-job:${job.id}:doubt`,
      );
      outcome = 'model-doubts';
    } else {
      outcome = s ? 'kept' : 'no-complaint';
    }
    await io.audit('triage.model', subject, {
      job: job.id,
      outcome,
      version: d.version,
      level: t.level,
      confidence: t.confidence,
      ...(outcome === 'model-doubts' ? { note: '模型复核认为可能不是投诉' } : {}),
    });
    return outcome;
  }

  /** Names to replace in the prompt (LLM_PRIVACY): every client and person, and the sender. */
  async function namesFor(db: Db, job: TriageJob) {
    if (!deps.llm?.privacy) return undefined;
    return {
      clients: (await db.select({ n: clients.name }).from(clients)).map((r) => r.n),
      people: [...(await db.select({ n: people.name }).from(people)).map((r) => r.n), ...(job.senderName ? [job.senderName] : [])],
    };
  }

  function worker(wc: RouteContext): FeatureWorker {
    const llm = deps.llm;
    return createTriageWorker({
      db: wc.db,
      clock: wc.clock,
      log: wc.log,
      leaseMs: deps.jobLeaseMs,
      async process(job, commit) {
        // Read-only look-ups and the model call: no transaction is open while the model thinks.
        const [group] = await wc.db.select().from(groups).where(eq(groups.id, job.groupId));
        const cx = group ? await contextOf(wc.db, group) : null;
        const d = await triageText(job.text, { llm, clientName: cx?.client?.name, names: await namesFor(wc.db, job), log: wc.log });
        const applied = await commit(async (tx) => {
          const now = wc.clock();
          const io: Io = {
            tx,
            now,
            log: wc.log.child({ triageJob: job.id }),
            post: postWith(tx, now),
            audit: (action, subject, data) => writeAudit(tx, { at: now, action, subject, data }),
          };
          return applyModel(io, job, d);
        });
        if (applied) wc.log.info({ triageJob: job.id, source: d.source }, 'triage job done');
      },
    });
  }

  return { worker };
}
