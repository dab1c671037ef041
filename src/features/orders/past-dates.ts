import type { OrderContext } from './order-context';
import { UserInputError } from '../../core/errors';

/** Order date fields that are deadlines; a fact that already happened (提交时间) may well be past. */
export const DEADLINE_FIELDS = new Set(['截止', '申报截止', '年费到期', '合同结束', '资助申报截止']);

/**
 * A deadline before today is most likely a typing mistake (2025 for 2026): it is refused politely
 * unless the sender confirms it by adding 「确认」 to the command.
 */
export async function refusePastDeadlines(ctx: OrderContext, dates: { label: string; date: string }[], confirmed: boolean, retry: string) {
  if (confirmed) return;
  const cal = await ctx.clocks.calendar(ctx.tx);
  const today = cal.dateOf(ctx.now);
  const past = dates.filter((d) => d.date < today);
  if (!past.length) return;
  throw new UserInputError(
    `抱歉，${past.map((d) => `${d.label} ${d.date}`).join('、')} 早于今天（${today}），请核对日期。\n` +
      `如果确实如此，请在命令末尾加上「确认」再发送一次：${retry} 确认`,
  );
}
