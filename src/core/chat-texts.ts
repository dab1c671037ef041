/** What the chat core itself says (every feature's words are its own). */

/** The answer to someone outside the roster who types a command that is not for anyone. */
export const CLIENT_REFUSAL = '您好！这条命令仅供本公司服务人员使用。如需帮助，请直接在群里留言，我们的同事会尽快回复您，谢谢！';
export const INTERNAL_IN_CLIENT_GROUP = '抱歉，这条命令会显示内部信息，不能在客户群里使用。请到内部群或与我私聊时使用，谢谢！';
/** The answer to a picture, a file, a voice without recognised text …: said at most once per group per hour. */
export const MEDIA_HINT = '您好，谢谢您发来的内容！我目前只能读懂文字，图片、文件和语音我看不到。如需我办理，请用文字发送命令，例如 /帮助。';
export const MEDIA_HINT_EVERY_MS = 60 * 60 * 1000;
/** The one line for someone who enters a chat with the bot or joins a group it is in. */
export const WELCOME = '您好，欢迎！我是服务助手，发送 /帮助 可查看我能为您做的事。';
