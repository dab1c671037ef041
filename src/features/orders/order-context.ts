import type { OrderClocks } from './order-clocks';
import type { ChatContext } from '../../core/context';
import type { Handler } from '../../core/feature';

/** A command's context in the orders and clocks features: the chat context plus the order clocks. */
export type OrderContext = ChatContext & { clocks: OrderClocks };

type OrderHandler = (ctx: OrderContext, args: Record<string, string | number | boolean | undefined>) => Promise<void>;

/** Gives each handler the order clocks the feature was built with. */
export function withClocks(clocks: OrderClocks, handlers: Record<string, OrderHandler>): Record<string, Handler> {
  return Object.fromEntries(Object.entries(handlers).map(([id, h]) => [id, (ctx, a) => h({ ...ctx, clocks }, a)]));
}
