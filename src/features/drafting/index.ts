import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { clients, people } from '../../db/schema';
import type { LlmClient } from '../../llm/client';
import { createRedaction } from '../../llm/privacy';
import { fillPrompt, loadPrompt } from '../../llm/prompts';
import type { ParsedArgs } from '../../core/command-parser';
import type { CommandDef } from '../../core/commands';
import type { ChatContext } from '../../core/context';
import type { Feature, PrepareContext } from '../../core/feature';
import { forbiddenIn, templateDraft } from './polite-draft';

export { templateDraft, forbiddenIn, FORBIDDEN_PHRASES } from './polite-draft';

export const DRAFTING_COMMANDS: CommandDef[] = [
  {
    id: 'draft.reply',
    zh: ['草拟'],
    en: ['draft'],
    summary: '按服务规范（五声四语）起草一条给客户的回复，由您自己发送',
    usage: '/草拟 <要点>',
    example: '/草拟 材料延误两天，周五前补交，向客户致歉',
    args: { rest: { name: 'points', label: '回复要点' } },
    gate: 'staff',
    // The draft is for staff to read and send themselves: never shown in a client group.
    internal: true,
  },
];

const answerSchema = z.object({ draft: z.string().min(10).max(600) }).strict();

/**
 * 草拟回复: a polite draft for staff to send themselves. With a model, the model writes it and the
 * draft is checked (no forbidden phrasing, no invented dates); otherwise, or when the check fails, the
 * template writes it.
 */
export function draftingFeature(deps: { llm?: LlmClient | null }): Feature {
  /** The model's draft, asked before the message's transaction opens (FeatureCommand.prepare): reads only, no transaction. */
  type ModelDraft = { ok: true; draft: string; version: string } | { ok: false; reason: string; version: string };
  async function askModel(pc: PrepareContext, args: ParsedArgs): Promise<ModelDraft | undefined> {
    if (!deps.llm) return undefined;
    const points = String(args.points ?? '').trim();
    const names = {
      clients: (await pc.db.select({ n: clients.name }).from(clients)).map((r) => r.n),
      people: (await pc.db.select({ n: people.name }).from(people)).map((r) => r.n),
    };
    const redaction = createRedaction(names, deps.llm.privacy);
    const r = await deps.llm.structured(fillPrompt(loadPrompt('polite-draft'), { points: redaction.text(points) }), answerSchema);
    return r.ok ? { ok: true, draft: redaction.restore(r.value.draft), version: r.prompt } : { ok: false, reason: r.reason, version: r.prompt };
  }

  async function draft(ctx: ChatContext, args: ParsedArgs) {
    const points = String(args.points).trim();
    const [client] = ctx.group.clientId ? await ctx.tx.select().from(clients).where(eq(clients.id, ctx.group.clientId)) : [];
    const template = templateDraft({ points, clientName: client?.name ?? null });
    let text = template.draft;
    let source = 'template';
    // The model was asked before this transaction opened; without its draft the template writes it.
    const m = ctx.prepared as ModelDraft | undefined;
    if (deps.llm && m) {
      if (m.ok) {
        const d = m.draft;
        const bad = forbiddenIn(d);
        const invented = (d.match(/\d+/g) ?? []).filter((n) => !points.includes(n));
        if (!bad.length && !invented.length) {
          text = d;
          source = m.version;
        } else ctx.log.warn({ prompt: m.version, forbidden: bad.length, invented: invented.length }, 'model draft failed the check; the template draft is used');
      } else ctx.log.warn({ prompt: m.version, reason: m.reason }, 'model draft failed; the template draft is used');
    }
    await ctx.audit('draft.reply', null, { source });
    ctx.reply(
      `回复草稿（请核对后由您自己发给客户）：\n\n${text}` +
        (template.removed.length ? `\n\n（要点中的「${template.removed.join('」「')}」属于服务规范要求避免的说法，已从草稿中去掉。）` : ''),
    );
  }
  return {
    name: 'drafting',
    help: { topic: '讨论组', words: ['草拟回复', '草拟', 'draft'] },
    commands: DRAFTING_COMMANDS.map((spec) => ({ spec, handler: draft, ...(deps.llm ? { prepare: askModel } : {}) })),
  };
}
