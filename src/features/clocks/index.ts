import * as clk from './clock-commands';
import { commandsFromTable } from '../../core/commands';
import type { CalendarProvider } from '../../core/clocks/clock-store';
import type { Engine, Feature, Handler, WatchContext } from '../../core/feature';
import type { HandlerArgs } from '../../core/context';
import { UserInputError } from '../../core/errors';
import { calendarNotices } from '../../db/schema';
import { applyNotice, awaitingNotice, previewNotice, type NoticeContext } from './calendar-import';
import { CLOCK_COMMANDS } from './specs';
import { uncoveredYearWarning } from './uncovered-years';
import { calendarChanged } from './recompute';

export { wallTimeText } from './clock-commands';
export { uncoveredYearWarning } from './uncovered-years';
export { previewNotice, applyNotice, AWAIT_NOTICE_MS, type NoticeContext } from './calendar-import';
export type { ClockServices } from './services';
export { calendarChanged } from './recompute';

/**
 * 计时: overdue and due lists over every feature's timers, the working-day calendar (`/日历`, its
 * company adjustments and imported holiday notices), and the warning to 总经办 when the calendar does
 * not cover the coming year (minute upkeep).
 */
export function clocksFeature(deps: { calendar: CalendarProvider }): Feature {
  let engine: Engine | null = null;
  const services: clk.ClockServices = {
    calendar: deps.calendar,
    ruleOf: (row) => engine?.ruleOf(row),
    emit: (c, event, payload) => (engine ? engine.emit(c, event, payload) : Promise.resolve([])),
  };
  const withServices = (h: (ctx: clk.ClockContext, a: HandlerArgs) => Promise<void>): Handler => (ctx, a) => h({ ...ctx, clocks: services }, a);
  const noticeContext = (c: { tx: NoticeContext['tx']; now: Date; actor: { userid: string }; audit: NoticeContext['audit'] }): NoticeContext => ({
    tx: c.tx,
    now: c.now,
    userid: c.actor.userid,
    audit: c.audit,
    clocks: services,
  });

  const importNotice: Handler = async (ctx, args) => {
    const text = (args.text as string | undefined)?.trim();
    if (text) {
      ctx.reply(await previewNotice(noticeContext(ctx), text));
      return;
    }
    await ctx.tx.insert(calendarNotices).values({
      status: 'awaiting',
      platform: ctx.message.platform,
      conversationId: ctx.message.conversationId,
      createdBy: ctx.actor.userid,
      createdAt: ctx.now,
    });
    ctx.reply(
      '好的，请在 5 分钟内在这里发送通知全文（从标题「国务院办公厅关于20XX年部分节假日安排的通知」开始，到最后一项节日），' +
        '我会先列出读到的日期请您核对，确认后才生效。在群里发送时请同样 @我。',
    );
  };

  const confirmNotice: Handler = async (ctx, args) => {
    const id = Number(String(args.id).replace(/^[#＃]/, ''));
    if (!Number.isSafeInteger(id) || id <= 0) throw new UserInputError(`抱歉，「${String(args.id)}」不是编号，请写 /日历 导入 回复里的数字，如 /日历 导入 确认 3。`);
    ctx.reply(await applyNotice(noticeContext(ctx), id));
  };

  /** The notice in the next plain message after `/日历 导入` without text (same person, same chat). */
  const watch = async (ctx: WatchContext) => {
    if (ctx.sender !== 'staff' || !ctx.message.text?.trim()) return;
    const row = await awaitingNotice(ctx.tx, { platform: ctx.message.platform, conversationId: ctx.message.conversationId, userid: ctx.actor.userid, now: ctx.now });
    if (!row) return;
    // The same permission as the command, read again (a role may have changed in the meantime).
    if (!(ctx.actor.isAdmin || ctx.actor.person?.role === 'management')) return;
    const text = await previewNotice(noticeContext(ctx), ctx.message.text, row.id);
    await ctx.post({ platform: ctx.message.platform, conversationId: ctx.message.conversationId }, { text, mentions: [] });
  };

  const handlers: Record<string, Handler> = {
    'clock.overdue': withServices(clk.overdue),
    'clock.due': withServices(clk.due),
    'calendar.show': withServices(clk.calendarShow),
    'calendar.adjust': withServices(clk.calendarAdjust),
    'calendar.import': importNotice,
    'calendar.import.confirm': confirmNotice,
  };
  return {
    name: 'clocks',
    help: { topic: '计时', words: ['计时', '时限', '提醒', '日历', 'clock', 'clocks', 'timer', 'timers'] },
    commands: commandsFromTable(CLOCK_COMMANDS, handlers),
    watch,
    emits: [calendarChanged],
    maintain: uncoveredYearWarning(),
    init: (e) => {
      engine = e;
    },
  };
}
