import type { ChatContext } from '../../core/context';
import { defineEvent } from '../../core/events';
import type { ComplaintLevel } from '../../domain/complaints';
import type { clients, orders } from '../../db/schema';

type ClientRow = typeof clients.$inferSelect;
type OrderRow = typeof orders.$inferSelect;

/** What a complaint is filed from: `/投诉`'s parsed arguments, or a confirmed triage suggestion. */
export interface FileComplaintInput {
  client: ClientRow;
  order: OrderRow | null | undefined;
  /** The client's words (the evidence). */
  content: string;
  /** The words are the client's own (quoted or read from the client group), not retold by staff. */
  relayed: boolean;
  /** When the client complained: the 30-minute clock counts from here. */
  receivedAt: Date;
  /** 渠道= word (CHANNEL_WORDS); absent: from where it was said and who logs it. */
  channelWord?: string;
  /** 负责人= as typed (a mention or userid); absent: the order's handler. */
  handler?: string;
  dept?: string;
  /** 级别= as typed (A–D); confirmed only when the one filing may confirm levels. */
  level?: string;
  unhappy?: boolean;
  /** The client group the words came from. */
  source: { platform: string; conversationId: string } | null;
  /** Reply with the polite client-group acknowledgement (the command was typed in the client group). */
  clientGroupAck: boolean;
  /**
   * The client's own messages this complaint is filed from (a quote, a suggestion's messages): when an
   * open complaint of the same client already holds one of them, that complaint is named instead.
   */
  clientWords?: string[];
  /** 新: file it even so (another complaint in the same words). */
  forceNew?: boolean;
}

/** A complaint relayed by another feature (e.g. a confirmed triage suggestion), filed through `/投诉`'s intake. */
export interface FileComplaintRequest {
  chat: ChatContext;
  input: FileComplaintInput;
}

/** A request the complaints feature answers: file this complaint, in the caller's transaction. */
export const fileComplaint = defineEvent<FileComplaintRequest, { id: number; code: string }>('complaints.file');

/** Another feature's reading of a complaint's words (its level proposal takes the higher reading). */
export type LevelReading = { level: ComplaintLevel; why: string } | null;

/** Emitted while a complaint is filed: subscribers read its level from the words (none: no reading). */
export const complaintLevelAsked = defineEvent<{ content: string }, LevelReading>('complaints.level-asked');

/** A client's further message, read as a complaint, about complaints that may still be open (newest first). */
export interface ClientFollowUpInput {
  complaintIds: number[];
  message: { id: string; at: Date; text: string; senderName: string | null };
}

/**
 * Attaches a client's message to the first of these complaints that is still open: a timeline entry and
 * a notice to its handler with real @. Answers the complaint, or null when none is open (then the
 * caller raises a suggestion as usual). The same message attached twice is one entry and one notice.
 */
export const attachClientMessage = defineEvent<ClientFollowUpInput, { id: number; code: string } | null>('complaints.client-message');

/**
 * A confirmed suggestion's clock continues as the complaint's: the suggestion's ladder already told its
 * rungs up to `toldUntil` (the department head at minute 30, …), so the complaint's clocks counted from
 * the same client message mark their steps up to then as told (a breach is still recorded), never
 * posting a rung twice.
 */
export const continueTriageClock = defineEvent<{ complaintId: number; toldUntil: Date; suggestion: string }, void>('complaints.continue-triage-clock');
