import type { Db } from '../db/client';

/** An outbox row as the scheduler writes it, before it is stored. */
export interface OutboundRow {
  platform: string;
  conversationId: string;
  payload: { text: string; mentions: string[]; markdown?: string; internal?: boolean };
  dedupeKey: string;
  /** 'unrouted': held under `holdKey` until a feature releases it (platform and conversation are ''). */
  status?: 'pending' | 'unrouted';
  holdKey?: string | null;
}

/**
 * Rewrites the rows the scheduler is about to store, in the tick's transaction (a feature's
 * Feature.outbound): it may move a row to another conversation; it must keep every row's dedupe key.
 */
export type OutboundHook = <R extends OutboundRow>(tx: Db, rows: R[], now: Date) => Promise<R[]>;
