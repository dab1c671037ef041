import { and, eq, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import { clients, departments, orderDrafts, orders, people } from '../../db/schema';
import { SERVICE_TYPES } from '../../domain/service-types';
import type { LlmClient } from '../../llm/client';
import { createRedaction } from '../../llm/privacy';
import { fillPrompt, loadPrompt } from '../../llm/prompts';
import type { CalendarProvider } from '../../core/clocks/clock-store';
import { parseCommand, type ParsedArgs } from '../../core/command-parser';
import type { CommandDef } from '../../core/commands';
import { ORDER_COMMANDS } from '../orders';
import type { ChatContext } from '../../core/context';
import { UserInputError } from '../../core/errors';
import type { Feature, PrepareContext } from '../../core/feature';
import { impossibleDates, orderCommand, parseOrderText, type OrderFields } from './parse-order-text';

export { parseOrderText, orderCommand, readDate, type OrderFields } from './parse-order-text';

const GATE: CommandDef['gate'] = ['sales', 'head', 'management'];

export const ORDER_TEXT_COMMANDS: CommandDef[] = [
  {
    id: 'order.text',
    zh: ['单'],
    en: ['order'],
    summary: '用一句话新建分配单：先列出读到的内容和对应的 /单 新建 命令，确认后才新建',
    usage: '/单 <一句话描述>',
    example: '/单 星河科技的发明专利，业务员孙业务，12月20号截止',
    args: { rest: { name: 'text', label: '分配单描述', optional: true } },
    gate: GATE,
    internal: true,
  },
  {
    id: 'order.text.confirm',
    zh: ['单', '确认'],
    en: ['order', 'confirm'],
    summary: '按 /单 <一句话> 列出的内容新建分配单',
    usage: '/单 确认 <编号>',
    example: '/单 确认 3',
    args: { positional: [{ name: 'id', label: '编号（/单 <一句话> 回复里的数字）', kind: 'word' }] },
    gate: GATE,
    internal: true,
  },
];

const answerSchema = z
  .object({
    client: z.string().min(1).max(100).nullable(),
    serviceType: z.enum(SERVICE_TYPES).nullable(),
    salesperson: z.string().min(1).max(30).nullable(),
    deadline: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable(),
    department: z.string().min(1).max(30).nullable(),
    paid: z.boolean(),
  })
  .strict();

const FIELD_NAMES: [keyof OrderFields, string][] = [
  ['client', '客户'],
  ['serviceType', '类型'],
  ['salesperson', '业务员'],
  ['deadline', '截止'],
  ['department', '部门'],
];

/**
 * 一句话建单: `/单 <文本>` shows what was read and the exact `/单 新建 …` command; `/单 确认 <编号>` runs
 * that command as if the sender had typed it (ChatContext.dispatch). The model (when configured) only fills the
 * fields; nothing is created until a person confirms.
 */
export function orderTextFeature(deps: { calendar: CalendarProvider; timeZone?: string; llm?: LlmClient | null }): Feature {
  const orderNewSpec = ORDER_COMMANDS.find((c) => c.id === 'order.new')!;

  /** The model's reading, asked before the message's transaction opens (FeatureCommand.prepare): reads only, no transaction. */
  type ModelReading = { ok: true; value: z.infer<typeof answerSchema>; version: string } | { ok: false; reason: string; version: string };
  async function askModel(pc: PrepareContext, args: ParsedArgs): Promise<ModelReading | undefined> {
    const text = (args.text as string | undefined)?.trim();
    if (!deps.llm || !text) return undefined;
    const cal = await deps.calendar(pc.db);
    const staffNames = (await pc.db.select({ n: people.name }).from(people).where(eq(people.active, true))).map((r) => r.n);
    const clientNames = (await pc.db.select({ n: clients.name }).from(clients)).map((r) => r.n);
    const redaction = createRedaction({ clients: clientNames, people: staffNames }, deps.llm.privacy);
    const prompt = fillPrompt(loadPrompt('order-extract'), {
      today: cal.dateOf(pc.now),
      timeZone: deps.timeZone ?? 'Asia/Shanghai',
      serviceTypes: SERVICE_TYPES.join('、'),
      text: redaction.text(text),
    });
    const r = await deps.llm.structured(prompt, answerSchema);
    return r.ok ? { ok: true, value: redaction.restoreDeep(r.value), version: r.prompt } : { ok: false, reason: r.reason, version: r.prompt };
  }

  async function read(ctx: ChatContext, text: string): Promise<{ fields: OrderFields; source: 'rules' | 'model'; version: string }> {
    const cal = await deps.calendar(ctx.tx);
    const today = cal.dateOf(ctx.now);
    const deptNames = (await ctx.tx.select({ n: departments.name }).from(departments)).map((r) => r.n);
    const staffNames = (await ctx.tx.select({ n: people.name }).from(people).where(eq(people.active, true))).map((r) => r.n);
    const rules = { fields: parseOrderText(text, { today, departments: deptNames, people: staffNames }), source: 'rules' as const, version: 'order-rules-1' };
    // The model was asked before this transaction opened; without its reading (none configured, or it
    // was not prepared) the rules read alone: no model call is made inside the transaction.
    const m = ctx.prepared as ModelReading | undefined;
    if (!deps.llm || !m) return rules;
    if (!m.ok) {
      ctx.log.warn({ prompt: m.version, reason: m.reason }, 'model order reading failed; the rule-based reading is used');
      return rules;
    }
    const a = m.value;
    // A model never adds what the rules found missing from nowhere: a client name must be in the text.
    if (a.client && !text.includes(a.client)) return rules;
    return { fields: { ...a, paid: a.paid }, source: 'model', version: m.version };
  }

  async function fromText(ctx: ChatContext, args: ParsedArgs) {
    const text = (args.text as string | undefined)?.trim();
    if (!text) {
      ctx.reply(
        '请在「/单」后面写上要做什么，例如：\n' +
          `· /单 新建 客户=<客户> 类型=<业务类型> 业务员=@<业务员> [截止=YYYY-MM-DD]\n` +
          '· /单 列表 [我的|部门|全部]\n' +
          '· /单 <一句话>，如：/单 星河科技的发明专利，业务员孙业务，12月20号截止',
      );
      return;
    }
    const { fields, source, version } = await read(ctx, text);
    const got = FIELD_NAMES.filter(([k]) => fields[k]).map(([k, name]) => `${name}：${fields[k]}`);
    if (fields.paid) got.push('已付款');
    // What was written but names no day or nobody in the roster is said, not dropped: no draft then.
    const problems = impossibleDates(text).map((d) => `「${d}」不是有效的日期，没有作为截止日期`);
    if (fields.salesperson) {
      const sp = fields.salesperson;
      const [known] = await ctx.tx
        .select({ id: people.id })
        .from(people)
        .where(and(eq(people.active, true), or(eq(people.name, sp), eq(people.userid, sp))))
        .limit(1);
      if (!known) {
        problems.push(`业务员「${sp}」不在名册里（可发送 /成员 列表 查看，或写 userid）`);
        fields.salesperson = null;
      }
    }
    const command = problems.length ? null : orderCommand(fields);
    if (!command) {
      const missing = FIELD_NAMES.slice(0, 3).filter(([k]) => !fields[k]).map(([, n]) => n);
      const partial = [
        '/单 新建',
        `客户=${fields.client ?? '<客户名称>'}`,
        `类型=${fields.serviceType ?? `<${SERVICE_TYPES.join('|')}>`}`,
        `业务员=@${fields.salesperson ?? '<业务员>'}`,
        fields.deadline ? `截止=${fields.deadline}` : '[截止=YYYY-MM-DD]',
        ...(fields.paid ? ['已付款'] : []),
      ].join(' ');
      const lead = problems.length
        ? `抱歉，这句话里有需要核对的内容：\n${problems.map((x) => `· ${x}`).join('\n')}`
        : `抱歉，我没能从这句话里读出：${missing.join('、')}。`;
      ctx.reply(`${lead}${got.length ? `\n已读到：${got.join('　')}` : ''}\n请${problems.length ? '核对' : '补全'}后发送：\n${partial}`);
      return;
    }
    // The command must be one the orders feature accepts as typed.
    const parsed = parseCommand(command, [orderNewSpec]);
    if (!parsed.ok) throw new UserInputError(`抱歉，读到的内容不完整，请直接发送：\n${command}`);
    const [draft] = await ctx.tx
      .insert(orderDrafts)
      .values({ command, fields: fields as unknown as Record<string, unknown>, source, version, createdBy: ctx.actor.userid, createdAt: ctx.now })
      .returning();
    await ctx.audit('order.draft', `order-draft:${draft!.id}`, { source, version, command });
    ctx.reply(
      `我读到的分配单（编号 ${draft!.id}）：\n${got.join('　')}\n对应命令：\n${command}\n` +
        `确认无误请发送 /单 确认 ${draft!.id}；需要修改请直接改上面的命令发送。谢谢！`,
    );
  }

  async function confirm(ctx: ChatContext, args: ParsedArgs) {
    const id = Number(String(args.id).replace(/^#/, ''));
    if (!Number.isSafeInteger(id) || id <= 0) throw new UserInputError(`抱歉，「${String(args.id)}」不是编号，请写 /单 <一句话> 回复里的数字，如 /单 确认 3。`);
    const [draft] = await ctx.tx.select().from(orderDrafts).where(eq(orderDrafts.id, id)).for('update');
    if (!draft) throw new UserInputError(`抱歉，没有找到编号 ${id} 的分配单草稿，请核对。`);
    if (draft.usedAt) throw new UserInputError(`编号 ${id} 已在之前确认过${draft.orderId ? `（分配单 D${draft.orderId}）` : ''}，不会重复新建。`);
    const parsed = parseCommand(draft.command, [orderNewSpec]);
    if (!parsed.ok) throw new UserInputError(`抱歉，编号 ${id} 的命令不完整，请直接发送：\n${draft.command}`);
    const [{ max: before }] = (await ctx.tx.select({ max: sql<number | null>`max(${orders.id})` }).from(orders)) as [{ max: number | null }];
    // The orders feature runs it as if the sender had typed it (same gates and handler, this transaction).
    await ctx.dispatch(draft.command);
    const [{ max: after }] = (await ctx.tx.select({ max: sql<number | null>`max(${orders.id})` }).from(orders)) as [{ max: number | null }];
    if (after !== null && after !== before) {
      await ctx.tx.update(orderDrafts).set({ usedAt: ctx.now, orderId: after }).where(eq(orderDrafts.id, id));
    }
  }

  return {
    name: 'order-text',
    help: { topic: '分配单', words: ['一句话建单'] },
    commands: ORDER_TEXT_COMMANDS.map((spec) =>
      spec.id === 'order.text' ? { spec, handler: fromText, ...(deps.llm ? { prepare: askModel } : {}) } : { spec, handler: confirm },
    ),
  };
}
