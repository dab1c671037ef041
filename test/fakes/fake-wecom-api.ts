import { FakeHttpServer, genericFailure, type Failure, type RecordedRequest, type Reply } from './fake-http-server';

/**
 * A fake WeCom API on 127.0.0.1 (random port) for tests: point WECOM_API_BASE at `baseUrl`.
 *
 * Endpoints: GET /cgi-bin/gettoken, POST /cgi-bin/webhook/send, POST /cgi-bin/appchat/send,
 * POST /cgi-bin/message/send (the app's private message), POST /cgi-bin/aibot/response (use
 * `responseUrl(code)` as an AI-bot response_url; each takes one successful POST).
 * Every request is recorded in `requests` (`requestsTo(path)` filters). `fail(path, n, failure)`
 * scripts the next n calls: 'http500', 'rate-limit' (errcode 45009), 'expired-token' (42001),
 * 'hang', or any { errcode }; `expireAllTokens()` makes issued tokens answer 42001. Length limits are checked like WeCom does (40058 when over).
 */
export interface FakeWecomApiOptions {
  corpId?: string;
  corpSecret?: string;
  /** Webhook keys that exist; others answer 93000. */
  webhookKeys?: string[];
  tokenTtlSec?: number;
  /** message/send: the app's AgentId (another answers 40056) and the userids in its visible range. */
  agentId?: number;
  users?: string[];
}

export const WECOM_PATHS = {
  gettoken: '/cgi-bin/gettoken',
  webhook: '/cgi-bin/webhook/send',
  appchat: '/cgi-bin/appchat/send',
  aibotResponse: '/cgi-bin/aibot/response',
  messageSend: '/cgi-bin/message/send',
} as const;

export class FakeWecomApi extends FakeHttpServer {
  /** Tokens handed out by gettoken, in order. */
  readonly issuedTokens: string[] = [];
  private readonly expiredTokens = new Set<string>();
  /** response_codes already answered: a response_url takes one POST (docs path/101138). */
  private readonly usedResponseCodes = new Set<string>();
  /** Text over 2048 bytes that appchat/send or message/send accepted and WeCom would cut ("超过将截断"). */
  readonly truncated: { path: string; bytes: number }[] = [];

  /** Make every token issued so far answer 42001, as WeCom does once a token expires. */
  expireAllTokens(): void {
    for (const t of this.issuedTokens) this.expiredTokens.add(t);
  }

  constructor(private readonly opts: Required<FakeWecomApiOptions>) {
    super((req, failure) => this.answer(req, failure));
  }

  responseUrl(code: string): string {
    return `${this.baseUrl}${WECOM_PATHS.aibotResponse}?response_code=${encodeURIComponent(code)}`;
  }

  private answer(req: RecordedRequest, failure: Failure | undefined): Reply {
    if (failure) {
      const g = genericFailure(failure);
      if (g) return g;
      if (failure === 'rate-limit') return { status: 200, json: { errcode: 45009, errmsg: 'api freq out of limit' } };
      if (failure === 'expired-token') return { status: 200, json: { errcode: 42001, errmsg: 'access_token expired' } };
    }
    switch (req.path) {
      case WECOM_PATHS.gettoken: {
        if (req.query.corpid !== this.opts.corpId || req.query.corpsecret !== this.opts.corpSecret) {
          return { status: 200, json: { errcode: 40001, errmsg: 'invalid credential' } };
        }
        const token = `fake-token-${this.issuedTokens.length + 1}`;
        this.issuedTokens.push(token);
        return { status: 200, json: { errcode: 0, errmsg: 'ok', access_token: token, expires_in: this.opts.tokenTtlSec } };
      }
      case WECOM_PATHS.webhook: {
        if (!this.opts.webhookKeys.includes(req.query.key ?? '')) {
          return { status: 200, json: { errcode: 93000, errmsg: 'invalid webhook url' } };
        }
        return this.checkLengths(req.body);
      }
      case WECOM_PATHS.appchat: {
        const bad = this.checkToken(req);
        if (bad) return bad;
        return this.checkAppLengths(req);
      }
      case WECOM_PATHS.messageSend: {
        // docs path/90236: {touser "a|b", agentid, msgtype, text|markdown, safe}; unknown users come back in invaliduser.
        const bad = this.checkToken(req);
        if (bad) return bad;
        const b = req.body as { touser?: unknown; agentid?: unknown } | undefined;
        if (b?.agentid !== this.opts.agentId) return { status: 200, json: { errcode: 40056, errmsg: 'invalid agentid' } };
        const to = typeof b?.touser === 'string' ? b.touser.split('|').filter(Boolean) : [];
        const invalid = to.filter((u) => !this.opts.users.includes(u));
        if (to.length === 0 || invalid.length === to.length) return { status: 200, json: { errcode: 81013, errmsg: 'user & party & tag all invalid' } };
        const checked = this.checkAppLengths(req);
        if ((checked.json as { errcode: number }).errcode !== 0) return checked;
        return { status: 200, json: { errcode: 0, errmsg: 'ok', invaliduser: invalid.join('|'), msgid: `msg-${this.requests.length}` } };
      }
      case WECOM_PATHS.aibotResponse: {
        const code = req.query.response_code ?? '';
        // One POST per response_url. The real errcode for a reused one is unconfirmed; any non-zero fits.
        if (this.usedResponseCodes.has(code)) return { status: 200, json: { errcode: 95000, errmsg: 'response_code already used' } };
        const answer = this.checkLengths(req.body);
        if ((answer.json as { errcode: number }).errcode === 0) this.usedResponseCodes.add(code);
        return answer;
      }
      default:
        return { status: 404, json: { errcode: 404, errmsg: 'not found' } };
    }
  }

  private checkToken(req: RecordedRequest): Reply | null {
    if (!this.issuedTokens.includes(req.query.access_token ?? '')) {
      return { status: 200, json: { errcode: 40014, errmsg: 'invalid access_token' } };
    }
    if (this.expiredTokens.has(req.query.access_token ?? '')) {
      return { status: 200, json: { errcode: 42001, errmsg: 'access_token expired' } };
    }
    return null;
  }

  /** appchat/send, message/send: text and markdown up to 2048 bytes; longer text is cut, markdown refused. */
  private checkAppLengths(req: RecordedRequest): Reply {
    const b = req.body as { text?: { content?: string }; markdown?: { content?: string } } | undefined;
    const text = b?.text?.content;
    const md = b?.markdown?.content;
    if (text === undefined && md === undefined) return { status: 200, json: { errcode: 40008, errmsg: 'invalid message type' } };
    if (md !== undefined && Buffer.byteLength(md) > 2048) return { status: 200, json: { errcode: 40058, errmsg: 'markdown.content exceed max length 2048' } };
    if (text !== undefined && Buffer.byteLength(text) > 2048) this.truncated.push({ path: req.path, bytes: Buffer.byteLength(text) });
    return { status: 200, json: { errcode: 0, errmsg: 'ok' } };
  }

  private checkLengths(body: unknown): Reply {
    const b = body as { msgtype?: string; text?: { content?: string }; markdown?: { content?: string } } | undefined;
    const text = b?.text?.content;
    const md = b?.markdown?.content;
    if ((text !== undefined && Buffer.byteLength(text) > 2048) || (md !== undefined && Buffer.byteLength(md) > 4096)) {
      return { status: 200, json: { errcode: 40058, errmsg: 'content exceed max length' } };
    }
    if (text === undefined && md === undefined) return { status: 200, json: { errcode: 40008, errmsg: 'invalid message type' } };
    return { status: 200, json: { errcode: 0, errmsg: 'ok' } };
  }
}

export async function startFakeWecomApi(options: FakeWecomApiOptions = {}): Promise<FakeWecomApi> {
  const fake = new FakeWecomApi({
    corpId: options.corpId ?? 'ww-fake-corp',
    corpSecret: options.corpSecret ?? 'fake-corp-secret',
    webhookKeys: options.webhookKeys ?? ['fake-webhook-key-0001'],
    tokenTtlSec: options.tokenTtlSec ?? 7200,
    agentId: options.agentId ?? 1000002,
    users: options.users ?? ['zhangsan', 'lisi'],
  });
  await fake.listen();
  return fake;
}
