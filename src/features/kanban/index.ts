import { replyPrivately } from '../../core/private-chat';
import type { CalendarProvider } from '../../core/clocks/clock-store';
import type { CommandDef } from '../../core/commands';
import type { Engine, Feature } from '../../core/feature';
import type { LinkSigner } from '../../core/signed-link';
import type { ComplaintPlaybook } from '../../domain/complaints';
import type { Playbook } from '../../domain/playbooks';
import { formatInstantInChinese } from '../../domain/calendar';
import { createKanbanRouter, KANBAN_PATH, KANBAN_PURPOSE } from './routes';

const GATE: CommandDef['gate'] = ['supervisor', 'head', 'management'];

export const KANBAN_COMMANDS: CommandDef[] = [
  {
    id: 'kanban.open',
    zh: ['看板'],
    en: ['kanban'],
    aliases: [['仪表盘']],
    summary: '获取您个人的看板链接（只读网页：逾期、人员负荷、投诉率）',
    usage: '/看板',
    example: '/看板',
    args: {},
    gate: GATE,
    internal: true,
  },
  {
    id: 'kanban.revoke',
    zh: ['看板', '注销'],
    en: ['kanban', 'revoke'],
    summary: '注销您此前获取的全部看板链接',
    usage: '/看板 注销',
    example: '/看板 注销',
    args: {},
    gate: GATE,
    internal: true,
  },
];

export interface KanbanDeps {
  links: LinkSigner;
  publicUrl: () => string;
  /** How long a link works (KANBAN_LINK_HOURS). */
  linkHours: number;
  playbook: Playbook;
  complaintPlaybook: ComplaintPlaybook;
  calendar: CalendarProvider;
  adminUserids: readonly string[];
}

/**
 * 看板: a read-only web view for supervisors, department heads and 总经办, opened from chat. `/看板`
 * replies with a personal signed link (valid KANBAN_LINK_HOURS); `/看板 注销` refuses every link the
 * sender was given. The pages re-read the roster on every request (access.ts).
 */
export function kanbanFeature(deps: KanbanDeps): Feature {
  // The rule of any feature's timer by its subject: the engine's, once every feature is registered.
  let engine: Engine | null = null;
  return {
    name: 'kanban',
    init: (e) => {
      engine = e;
    },
    commands: [
      {
        spec: KANBAN_COMMANDS[0]!,
        handler: async (ctx) => {
          const ttlMs = Math.round(deps.linkHours * 3_600_000);
          const token = await deps.links.sign(ctx.tx, { purpose: KANBAN_PURPOSE, userid: ctx.actor.userid, ttlMs, now: ctx.now });
          const cal = await deps.calendar(ctx.tx);
          const until = formatInstantInChinese(new Date(ctx.now.getTime() + ttlMs), cal, { now: ctx.now });
          // The token itself never goes into the audit trail.
          await ctx.audit('kanban.link', `person:${ctx.actor.userid}`, { expiresAt: new Date(ctx.now.getTime() + ttlMs).toISOString() });
          // The link is the sender's identity: in a group it goes to their private chat where the platform has one.
          await replyPrivately(
            ctx,
            [
              `${ctx.actor.displayName}，这是您个人的看板链接（只读，${until}前有效）：`,
              `${deps.publicUrl()}${KANBAN_PATH}?k=${token}`,
              '页面只显示您有权查看的内容。链接等同于您的身份，请勿转发；如不慎外传，请发送 /看板 注销，谢谢！',
            ].join('\n'),
            `${ctx.actor.displayName}，看板链接已私聊发给您，请在与机器人的单聊里打开，谢谢！`,
          );
        },
      },
      {
        spec: KANBAN_COMMANDS[1]!,
        handler: async (ctx) => {
          await deps.links.revoke(ctx.tx, { purpose: KANBAN_PURPOSE, userid: ctx.actor.userid, now: ctx.now });
          await ctx.audit('kanban.revoke', `person:${ctx.actor.userid}`);
          ctx.reply('已注销您此前获取的全部看板链接，打开时会提示链接已注销。需要时请重新发送 /看板，谢谢！');
        },
      },
    ],
    routes: ({ db, clock, log }) =>
      createKanbanRouter({
        db,
        clock,
        log,
        links: deps.links,
        calendar: deps.calendar,
        rules: { playbook: deps.playbook, complaintPlaybook: deps.complaintPlaybook, ofTimer: (row) => engine?.ruleOf(row) },
        adminUserids: deps.adminUserids,
      }),
  };
}
