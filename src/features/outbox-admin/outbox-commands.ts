import { and, desc, eq, inArray } from 'drizzle-orm';
import { departments, groups, outbox } from '../../db/schema';
import type { Handler } from '../../core/feature';
import type { ParsedArgs } from '../../core/command-parser';
import type { ChatContext } from '../../core/context';
import { PermissionError, UserInputError } from '../../core/errors';
import type { CommandDef } from '../../core/commands';
import { formatInstant } from '../../domain/calendar/format-instant';

/**
 * Messages the outbox gave up on are kept as `failed`, never dropped: `/发送失败` lists them and
 * `/重发` puts one back in the queue. Staff see their own group's; management and admins may see all.
 */

const LIST_LIMIT = 20;
const PLATFORM_NAMES: Record<string, string> = { wecom: '企业微信', dingtalk: '钉钉', sandbox: '沙盒' };

const failedSpec: CommandDef = {
  id: 'outbox.failed',
  zh: ['发送失败'],
  en: ['failed'],
  summary: '查看本群发送失败的消息（总经办、管理员可加「全部」查看所有群）',
  usage: '/发送失败 [全部]',
  example: '/发送失败',
  args: { positional: [{ name: 'scope', label: '范围', kind: 'word', optional: true, choices: ['全部', 'all'] }] },
  gate: 'staff',
  internal: true,
};

const resendSpec: CommandDef = {
  id: 'outbox.resend',
  zh: ['重发'],
  en: ['resend'],
  summary: '把一条发送失败的消息重新放回发送队列',
  usage: '/重发 <编号>',
  example: '/重发 12',
  args: { positional: [{ name: 'id', label: '消息编号（/发送失败 列出的数字）', kind: 'word' }] },
  gate: 'staff',
  internal: true,
};

const seesAll = (ctx: ChatContext) => ctx.actor.isAdmin || ctx.actor.person?.role === 'management';
const isThisGroup = (ctx: ChatContext, row: { platform: string; conversationId: string }) =>
  row.platform === ctx.message.platform && row.conversationId === ctx.message.conversationId;

/** First words of a message, on one line. */
function firstWords(text: string, chars = 24): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return Array.from(flat).length > chars ? `${Array.from(flat).slice(0, chars).join('')}…` : flat;
}

async function failedList(ctx: ChatContext, args: ParsedArgs) {
  const all = args.scope === '全部' || args.scope === 'all';
  if (all && !seesAll(ctx)) throw new PermissionError('抱歉，查看所有群的发送失败消息需要总经办或管理员权限。发送 /发送失败 可以查看本群的。');
  // `全部` also lists the notices that had no group to go to (status unrouted, department-group.ts).
  const where = all
    ? inArray(outbox.status, ['failed', 'unrouted'])
    : and(eq(outbox.status, 'failed'), eq(outbox.platform, ctx.message.platform), eq(outbox.conversationId, ctx.message.conversationId));
  const rows = await ctx.tx
    .select({ o: outbox, title: groups.title, dept: departments.name })
    .from(outbox)
    .leftJoin(groups, and(eq(groups.platform, outbox.platform), eq(groups.conversationId, outbox.conversationId)))
    .leftJoin(departments, eq(departments.id, outbox.departmentId))
    .where(where)
    .orderBy(desc(outbox.id))
    .limit(LIST_LIMIT + 1);
  if (rows.length === 0) {
    ctx.reply(all ? '目前所有群都没有发送失败的消息。' : '本群目前没有发送失败的消息。');
    return;
  }
  const lines = [`${all ? '所有群' : '本群'}发送失败的消息（最近 ${Math.min(rows.length, LIST_LIMIT)} 条，新的在前）：`];
  for (const { o, title, dept } of rows.slice(0, LIST_LIMIT)) {
    if (o.status === 'unrouted') {
      lines.push(
        `· 编号 ${o.id}｜${formatInstant(o.createdAt)}｜未发出：${dept ?? '该部门'}还没有部门群（用 /部门群 ${dept ?? '<部门名称>'} 设置后自动补发）\n  「${firstWords(o.payload.text)}」`,
      );
      continue;
    }
    const where = all ? `｜${PLATFORM_NAMES[o.platform] ?? o.platform} ${title ?? o.conversationId}` : '';
    lines.push(
      `· 编号 ${o.id}｜${formatInstant(o.createdAt)}${where}｜尝试 ${o.attempts} 次｜原因：${firstWords(o.lastError ?? '未知', 60)}\n  「${firstWords(o.payload.text)}」`,
    );
  }
  if (rows.length > LIST_LIMIT) lines.push(`……还有更早的，请先处理以上这些。`);
  lines.push('确认问题已解决（例如已用 /群 机器人=… 设置好机器人）后，发送 /重发 <编号> 重新发送。');
  ctx.reply(lines.join('\n'));
}

async function resend(ctx: ChatContext, args: ParsedArgs) {
  const m = /^[#＃]?(\d{1,15})$/.exec(String(args.id).replace(/^编号/, ''));
  if (!m) throw new UserInputError(`「${args.id}」不是消息编号。请发送 /发送失败 查看编号，再发送如 /重发 12。`);
  const id = Number(m[1]);
  const [row] = await ctx.tx.select().from(outbox).where(eq(outbox.id, id)).for('update');
  if (!row || (!isThisGroup(ctx, row) && !seesAll(ctx))) {
    // Someone outside that group learns nothing about it, not even that it exists.
    throw new UserInputError(`本群没有编号 ${id} 的消息。请发送 /发送失败 查看本群的编号。`);
  }
  if (row.status === 'unrouted') {
    throw new UserInputError(`编号 ${id} 的消息还没有可发的群：请先用 /部门群 设置该部门的部门群，设置后会自动补发。`);
  }
  if (row.status !== 'failed') {
    throw new UserInputError(row.status === 'sent' ? `编号 ${id} 的消息已经发送成功，不需要重发。` : `编号 ${id} 的消息还在发送队列中，请稍候。`);
  }
  await ctx.tx.update(outbox).set({ status: 'pending', attempts: 0, nextAttemptAt: ctx.now }).where(eq(outbox.id, id));
  await ctx.audit('outbox.resent', `outbox:${id}`, {
    platform: row.platform,
    conversationId: row.conversationId,
    attempts: row.attempts,
    lastError: row.lastError,
  });
  ctx.reply(`已把编号 ${id} 的消息重新放回发送队列，稍后会自动发送，谢谢！`);
}

/** The outbox feature's commands (src/features/outbox.ts). */
export const OUTBOX_COMMANDS: { spec: CommandDef; handler: Handler }[] = [
  { spec: failedSpec, handler: failedList },
  { spec: resendSpec, handler: resend },
];
