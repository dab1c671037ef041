const MASK = '***';

/** Query parameters that authorise a request: a robot's key, an access token, a signature. */
const SECRET_QUERY = /([?&](?:key|access_token|token|sign|secret|response_code|code)=)[^&\s#]+/gi;
/** DingTalk signing secrets ("SEC" + 64 hex digits), wherever they are written. */
const SIGNING_SECRET = /\bSEC[0-9A-Za-z+/=_-]{6,}/g;
/** `密钥=…` / `secret=…` (full-width and colon forms too): the value is a secret whatever it looks like. */
const SECRET_ARG = /((?:密钥|secret)\s*[=＝:：]\s*)\S+/gi;
/** `机器人=…` / `robot=…` / `webhook=…`: a URL keeps its address without its credentials; a bare key is masked. */
const ROBOT_ARG = /((?:机器人|robot|webhook)\s*[=＝:：]\s*)(\S+)/gi;

/**
 * The text of a message as it may be kept in the chat log: robot keys, access tokens and signing
 * secrets typed in `/群 机器人=… 密钥=…` are replaced by ***, the rest is kept as written.
 */
export function maskSecrets(text: string): string {
  return text
    .replace(ROBOT_ARG, (_, name: string, value: string) =>
      /^https?:\/\//i.test(value) ? `${name}${value.replace(SECRET_QUERY, `$1${MASK}`)}` : `${name}${MASK}`,
    )
    .replace(SECRET_QUERY, `$1${MASK}`)
    .replace(SECRET_ARG, `$1${MASK}`)
    .replace(SIGNING_SECRET, `SEC${MASK}`);
}
