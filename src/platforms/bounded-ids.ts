import { z } from 'zod';

/**
 * Bounds on the ids and names a platform sends, checked in the adapters' zod schemas before anything is
 * acknowledged or stored. Without them a 100 KB conversationId was acknowledged and then failed on the
 * groups index on every attempt, and a 100 KB msgId failed the inbound_messages key (503 forever).
 *
 * The platforms' documented id forms, with room to spare:
 * - WeCom userid: 1–64 bytes of letters, digits and "_-@." (通讯录 创建成员, developer.work.weixin.qq.com
 *   /document/path/90195); chatid: at most 32 characters of 0-9a-zA-Z (创建群聊会话, path/90245); MsgId a
 *   64-bit number; the AI bot's msgid/aibotid are opaque ASCII tokens (path/100719, no length given).
 * - DingTalk userid (senderStaffId, atUsers.staffId): 1–64 characters (通讯录 创建用户, open.dingtalk.com;
 *   quoted in docs.rs/dingtalk-rs ParamsCreateUser); msgId, conversationId, senderId, chatbotUserId are
 *   "加密的…ID" strings such as `msg0xxxx`, `cid…==`, `$:LWCP_v1:$…` (机器人接收消息协议,
 *   open.dingtalk.com/document/isvapp/receive-message, no length given); user names at most 80 characters.
 * So an id is 1–128 printable ASCII characters without spaces (base64's "+/=" and "$:" included), a
 * name or title at most 256 characters (control characters dropped), a URL at most 2048 characters.
 */
export const PLATFORM_ID_MAX = 128;
export const PLATFORM_NAME_MAX = 256;
export const PLATFORM_URL_MAX = 2048;

const ID_CHARS = /^[\x21-\x7e]+$/;
const CONTROL_ALL = /\p{Cc}/gu;
const URL_CHARS = /^[\x21-\x7e]+$/;

/** A platform id: 1–128 printable ASCII characters, no whitespace. */
export const platformId = z.string().min(1).max(PLATFORM_ID_MAX).regex(ID_CHARS);
/** An optional id that a platform may also send as "" (e.g. senderStaffId of an external member). */
export const optionalPlatformId = z.union([z.literal(''), platformId]).optional();
/**
 * A display name or title: at most 256 characters; control characters are dropped, not refused (a name
 * is display data: a stray bell in a nickname must not lose the person's message).
 */
export const platformName = z
  .string()
  .max(PLATFORM_NAME_MAX)
  .transform((v) => v.replace(CONTROL_ALL, ''));
/** A URL the platform hands us to answer on (sessionWebhook, response_url). */
export const platformUrl = z.string().min(1).max(PLATFORM_URL_MAX).regex(URL_CHARS);
/** A message or event type word (text, richText, enter_chat, chat_add_member …). */
export const platformKind = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/);

export const isPlatformId = (v: unknown): v is string => platformId.safeParse(v).success;
export const isPlatformKind = (v: unknown): v is string => platformKind.safeParse(v).success;

/**
 * The rejection reason for a failed schema parse: `bad_fields` when a present value broke a bound
 * (too long, wrong characters), else `missing_fields` (absent or of the wrong type), as before.
 */
export function schemaFailureReason(error: z.ZodError): 'bad_fields' | 'missing_fields' {
  const bounded = error.issues.some((i) => i.code === 'too_big' || i.code === 'invalid_format' || i.code === 'custom' || i.code === 'invalid_union');
  return bounded ? 'bad_fields' : 'missing_fields';
}
