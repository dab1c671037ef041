/** Platform-neutral message shapes: adapters translate to and from these; the bot never imports a platform. */

export const PLATFORMS = ['wecom', 'dingtalk', 'sandbox'] as const;
export type Platform = (typeof PLATFORMS)[number];

export interface InboundMessage {
  platform: Platform;
  conversationId: string;
  conversationTitle?: string;
  /** 'single' for a one-to-one chat with the bot. Defaults to 'group'. */
  conversationType?: 'group' | 'single';
  /** Enterprise userid of the sender (WeCom userid, DingTalk staffId, sandbox id). */
  senderId: string;
  senderName?: string;
  /** Platform message id: the deduplication key together with platform. */
  messageId: string;
  /** Text with the bot's own @mention already stripped. */
  text: string;
  /** Userids @-mentioned in the message, in order (the bot itself excluded). */
  mentions: string[];
  /** Text of a message this one quotes or replies to, if the platform gives it. */
  quotedText?: string;
  receivedAt: Date;
  /**
   * Route facts learned from this delivery that let the adapter answer into the same conversation
   * (e.g. WeCom AI-bot response_url, DingTalk sessionWebhook + expiry). Stored with the group.
   */
  route?: Record<string, unknown>;
  /**
   * The message carried no text the bot can read: only an image, a file, a video … The bot answers
   * once per group per hour that it reads text only (text is then empty).
   */
  attachment?: 'image' | 'file' | 'video' | 'other';
  /**
   * A card button click reported by the button's token alone (DingTalk interactive cards): the core reads
   * the command and the conversation from card_actions (conversationId and text are then placeholders).
   */
  cardToken?: string;
  /** Not a message but an arrival: WeCom enter_chat, a DingTalk group join. Answered with a one-line welcome. */
  event?: 'welcome';
  /**
   * Epoch ms until which the replies wait in the outbox for the callback's own HTTP answer (the WeCom
   * AI bot's passive reply); after that the outbox worker sends them through the usual channels.
   */
  replyHoldUntil?: number;
}

/** What the bot says: text plus the userids to @-mention. */
export interface OutboundMessage {
  text: string;
  mentions: string[];
  /** Roster names of the mentioned (userid → name), added when sending: a channel whose @ carries a name uses them. */
  mentionNames?: Record<string, string>;
  markdown?: string;
  /**
   * The rest of a longer message whose first parts were already delivered (PartialDeliveryError):
   * labelled "(i/n)" parts, each sent as its own message, in order, instead of `text`/`markdown`.
   */
  parts?: string[];
  /** The parts are markdown (the message had a markdown rendering). */
  partsMarkdown?: boolean;
  /**
   * Buttons that save typing (the text always says the command too): a platform that can show a card
   * (WeCom template_card) shows them; a click comes back as a message carrying `command` from the
   * clicker, run like typed text with the same permission checks.
   */
  buttons?: CardButton[];
}

export interface CardButton {
  label: string;
  /** The full command a click runs, e.g. "/批准 D12". */
  command: string;
  /**
   * The button's id in the card_actions table (set when the outbox row is written): a platform whose
   * click callback names only the button (DingTalk) sends this back, and the core looks the command up.
   */
  token?: string;
}

/** Where an outbound message goes. */
export interface OutboundTarget {
  platform: Platform;
  conversationId: string;
  /** The group's stored route (webhook key/URL, robot code, chat id, session webhook …). */
  route: Record<string, unknown> | null;
  /** Inbound message id this answers, if any. */
  replyTo?: string | null;
  /** The outbox row's key (dedupe key, else its id): stable across retries of one message. */
  messageKey?: string;
  /**
   * Route facts of the message this answers (its own WeCom response_url …), so a reply goes back
   * through its own message's channel even after a later message replaced the group's route.
   */
  replyRoute?: Record<string, unknown> | null;
}

/** An adapter's sending half. Throws a PlatformApiError / UpstreamHttpError on failure. */
export interface PlatformSender {
  readonly platform: Platform;
  send(target: OutboundTarget, message: OutboundMessage): Promise<void>;
  /**
   * Which robot's budget this send spends (e.g. the webhook key). null: unlimited (the sandbox).
   * Default when absent: one budget per conversation.
   */
  rateKey?(target: OutboundTarget, message?: OutboundMessage): string | null;
  /**
   * When this message's mentions would not render as a real @ through the channel the target
   * allows: a short polite note for the group on how to fix that (posted once per group by the
   * outbox worker). null when every mention renders, or there is nothing to mention.
   */
  mentionGap?(target: OutboundTarget, message: OutboundMessage): string | null;
  /**
   * The channel this message would go through now (e.g. webhook, response_url, stream), for the
   * metrics: cheap, no I/O, no side effect. Absent: the platform's name stands for it.
   */
  channelOf?(target: OutboundTarget, message: OutboundMessage): string | null;
}

/**
 * What `/群 机器人=<…> [密钥=<…>]` does on one platform, supplied by the composition root so the core
 * never imports a platform: check the value, and return the group's new route (merged with what is
 * stored) plus a short description for the reply that never contains the secret.
 */
export type RobotSetting = (
  platform: Platform,
  /** robot (+ secret): `/群 机器人=…`; appChat: `/群 应用群聊=<chatid>` (WeCom groups the app created). */
  input: { robot?: string; secret?: string; appChat?: string },
  stored: Record<string, unknown> | null,
) => { ok: true; route: Record<string, unknown>; summary: string } | { ok: false; reason: string };

/**
 * What `/群` shows about how the bot reaches this group, supplied by the platforms: one line per
 * channel, whether an @ there notifies the person, and how to add a channel that can (never a secret).
 */
export type RouteDescription = (platform: Platform, stored: Record<string, unknown> | null) => string[];

/** One outbox delivery attempt, as the outbox worker reports it (OutboxWorkerOptions.onResult). */
export interface DeliveryResult {
  id: number;
  ok: boolean;
  error?: string;
  platform: string;
  /** PlatformSender.channelOf before the send ('' when the sender does not say). */
  channel: string;
  /** sent, or failed for good, or kept to retry. */
  result: 'sent' | 'failed' | 'retry';
}
