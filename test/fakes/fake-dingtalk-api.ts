import { createHmac } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { FakeHttpServer, genericFailure, type Failure, type RecordedRequest, type Reply } from './fake-http-server';

/**
 * A fake DingTalk API on 127.0.0.1 (random port). It stands for both oapi.dingtalk.com and
 * api.dingtalk.com: point DINGTALK_OAPI_BASE and DINGTALK_API_BASE at `baseUrl`.
 *
 * Endpoints: POST /robot/send (custom robot; checks access_token, and timestamp + sign the way DingTalk
 * does when the robot has a secret: 310000 on a bad sign or a timestamp over an hour off),
 * POST /robot/sendBySession, POST /v1.0/oauth2/accessToken, POST /v1.0/robot/groupMessages/send
 * (header x-acs-dingtalk-access-token), POST /v1.0/robot/oToMessages/batchSend (private: userIds).
 * Bodies over 20000 bytes answer 460101.
 * `fail(path, n, failure)`: 'http500', 'rate-limit' (130101 on webhooks, HTTP 429 on the OpenAPI),
 * 'expired-token' (HTTP 401 InvalidAuthentication), 'hang', or { errcode }; `expireAllTokens()` makes
 * issued OpenAPI tokens answer 401 InvalidAuthentication.
 */
export interface FakeDingtalkApiOptions {
  /** Custom robots: access_token → signing secret (null: no signing). */
  robots?: Record<string, string | null>;
  appKey?: string;
  appSecret?: string;
  tokenTtlSec?: number;
  /** Staff ids of the organisation (oToMessages/batchSend answers others in invalidStaffIdList). */
  staff?: string[];
  /** The fake's own clock for the sign window (defaults to real time). */
  now?: () => number;
  /** Published card templates associated with the app (createAndDeliver answers others templateNotExist). */
  cardTemplates?: string[];
}

export const DINGTALK_PATHS = {
  robotSend: '/robot/send',
  sessionSend: '/robot/sendBySession',
  accessToken: '/v1.0/oauth2/accessToken',
  groupSend: '/v1.0/robot/groupMessages/send',
  otoSend: '/v1.0/robot/oToMessages/batchSend',
  cardCreateAndDeliver: '/v1.0/card/instances/createAndDeliver',
  streamGateway: '/v1.0/gateway/connections/open',
} as const;

/** A Stream frame as the client answers a push: {code, headers: {messageId, contentType}, message, data}. */
export interface StreamAck {
  code: number;
  headers: { messageId: string };
}

/** A card delivered through createAndDeliver, as the fake keeps it (one per outTrackId). */
export interface FakeCard {
  outTrackId: string;
  openSpaceId: string;
  cardParamMap: Record<string, string>;
  atUserIds?: Record<string, string>;
}

export class FakeDingtalkApi extends FakeHttpServer {
  readonly issuedTokens: string[] = [];
  /** Cards delivered, by outTrackId: DingTalk keeps one card per outTrackId, so a repeat adds none. */
  readonly cards = new Map<string, FakeCard>();
  private readonly expiredTokens = new Set<string>();

  /** Make every token issued so far answer 401 InvalidAuthentication. */
  expireAllTokens(): void {
    for (const t of this.issuedTokens) this.expiredTokens.add(t);
  }

  constructor(private readonly opts: Required<FakeDingtalkApiOptions>) {
    super((req, failure) => this.answer(req, failure));
  }

  // ---- Stream mode: the gateway hands out a ws:// endpoint on this same server ----
  private wss: WebSocketServer | null = null;
  private socket: WebSocket | null = null;
  private readonly waitingAcks = new Map<string, (ack: StreamAck) => void>();
  private connectedWaiters: ((ws: WebSocket) => void)[] = [];

  /** Resolves once a Stream client has connected with a ticket this gateway issued. */
  streamConnected(): Promise<void> {
    if (this.socket) return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(() => resolve()));
  }

  /** Push one CALLBACK frame (robot message, card callback) and resolve with the client's acknowledgement. */
  streamPush(topic: string, messageId: string, data: unknown): Promise<StreamAck> {
    const ws = this.socket;
    if (!ws) throw new Error('no Stream client connected');
    const acked = new Promise<StreamAck>((resolve) => this.waitingAcks.set(messageId, resolve));
    ws.send(JSON.stringify({ specVersion: '1.0', type: 'CALLBACK', headers: { appId: 'fake', connectionId: 'conn-1', contentType: 'application/json', messageId, time: String(Date.now()), topic }, data: JSON.stringify(data) }));
    return acked;
  }

  private ensureStream(): void {
    if (this.wss) return;
    this.wss = new WebSocketServer({ server: this.server, path: '/stream' });
    this.wss.on('connection', (ws, req) => {
      if (new URL(req.url ?? '/', 'http://x').searchParams.get('ticket') !== 'fake-ticket') return ws.close();
      this.socket = ws;
      ws.on('message', (raw) => {
        try {
          const ack = JSON.parse(String(raw)) as StreamAck;
          const waiter = this.waitingAcks.get(ack.headers?.messageId);
          if (waiter) {
            this.waitingAcks.delete(ack.headers.messageId);
            waiter(ack);
          }
        } catch {
          // not an acknowledgement
        }
      });
      for (const w of this.connectedWaiters.splice(0)) w(ws);
    });
  }

  override async close(): Promise<void> {
    for (const c of this.wss?.clients ?? []) c.terminate();
    this.wss?.close();
    await super.close();
  }

  /** A sessionWebhook URL on this server, as a callback would carry it. */
  sessionWebhook(session: string): string {
    return `${this.baseUrl}${DINGTALK_PATHS.sessionSend}?session=${encodeURIComponent(session)}`;
  }

  private answer(req: RecordedRequest, failure: Failure | undefined): Reply {
    const openApi = req.path.startsWith('/v1.0/');
    if (failure) {
      const g = genericFailure(failure);
      if (g) return g;
      if (failure === 'rate-limit') {
        return openApi
          ? { status: 429, json: { code: 'Forbidden.AccessDenied.QpsLimitForApi', message: 'qps limit' } }
          : { status: 200, json: { errcode: 130101, errmsg: 'send too fast' } };
      }
      if (failure === 'expired-token') return { status: 401, json: { code: 'InvalidAuthentication', message: 'token expired' } };
    }
    if (req.bodyBytes > 20000) return { status: 200, json: { errcode: 460101, errmsg: 'message too large' } };
    switch (req.path) {
      case DINGTALK_PATHS.robotSend:
        return this.robotSend(req);
      case DINGTALK_PATHS.sessionSend:
        return req.query.session ? { status: 200, json: { errcode: 0, errmsg: 'ok' } } : { status: 200, json: { errcode: 300001, errmsg: 'session invalid' } };
      case DINGTALK_PATHS.accessToken: {
        const b = req.body as { appKey?: string; appSecret?: string } | undefined;
        if (b?.appKey !== this.opts.appKey || b?.appSecret !== this.opts.appSecret) {
          return { status: 400, json: { code: 'invalidClientIdOrSecret', message: 'bad app key or secret' } };
        }
        const token = `fake-dt-token-${this.issuedTokens.length + 1}`;
        this.issuedTokens.push(token);
        return { status: 200, json: { accessToken: token, expireIn: this.opts.tokenTtlSec } };
      }
      case DINGTALK_PATHS.groupSend: {
        const bad = this.checkOpenApi(req);
        if (bad) return bad;
        const b = req.body as { openConversationId?: unknown };
        if (typeof b.openConversationId !== 'string' || !b.openConversationId) {
          return { status: 400, json: { code: 'MissingopenConversationId', message: 'openConversationId is mandatory' } };
        }
        return { status: 200, json: { processQueryKey: `pqk-${this.requests.length}` } };
      }
      case DINGTALK_PATHS.otoSend: {
        // {robotCode, userIds (at most 20), msgKey, msgParam} → {processQueryKey, invalidStaffIdList, flowControlledStaffIdList}
        const bad = this.checkOpenApi(req);
        if (bad) return bad;
        const b = req.body as { userIds?: unknown };
        if (!Array.isArray(b.userIds) || b.userIds.length === 0 || b.userIds.length > 20) {
          return { status: 400, json: { code: 'invalidParameter.userIds', message: 'userIds: 1 to 20 staff ids' } };
        }
        const invalid = (b.userIds as string[]).filter((u) => !this.opts.staff.includes(u));
        return { status: 200, json: { processQueryKey: `pqk-${this.requests.length}`, invalidStaffIdList: invalid, flowControlledStaffIdList: [] } };
      }
      case DINGTALK_PATHS.cardCreateAndDeliver:
        return this.createAndDeliver(req);
      case DINGTALK_PATHS.streamGateway: {
        const b = req.body as { clientId?: string; clientSecret?: string } | undefined;
        if (b?.clientId !== this.opts.appKey || b?.clientSecret !== this.opts.appSecret) return { status: 401, json: { code: 'unauthorized', message: 'bad client id or secret' } };
        this.ensureStream();
        return { status: 200, json: { endpoint: `${this.baseUrl.replace('http', 'ws')}/stream`, ticket: 'fake-ticket' } };
      }
      default:
        return { status: 404, json: { errcode: 404, errmsg: 'not found' } };
    }
  }

  /** Token header, robotCode, and the message template as the OpenAPI sends take them. */
  private checkOpenApi(req: RecordedRequest): Reply | null {
    const token = req.headers['x-acs-dingtalk-access-token'];
    if (typeof token !== 'string' || !this.issuedTokens.includes(token) || this.expiredTokens.has(token)) {
      return { status: 401, json: { code: 'InvalidAuthentication', message: 'bad token' } };
    }
    const b = req.body as { robotCode?: unknown; msgKey?: unknown; msgParam?: unknown; at?: unknown } | undefined;
    if (typeof b?.robotCode !== 'string' || !b.robotCode) return { status: 400, json: { code: 'MissingrobotCode', message: 'robotCode is mandatory' } };
    if (b.msgKey !== 'sampleText' && b.msgKey !== 'sampleMarkdown') return { status: 400, json: { code: 'invalidParameter.msgKey', message: 'unknown msgKey' } };
    try {
      const p = JSON.parse(String(b.msgParam)) as Record<string, unknown>;
      const ok = b.msgKey === 'sampleText' ? typeof p.content === 'string' : typeof p.title === 'string' && typeof p.text === 'string';
      if (!ok) throw new Error('fields');
    } catch {
      return { status: 400, json: { code: 'invalidParameter.msgParam', message: 'msgParam must be the JSON of the template' } };
    }
    return null;
  }

  /**
   * 卡片平台 createAndDeliver: {cardTemplateId, outTrackId, callbackType, cardData: {cardParamMap (all
   * string values)}, openSpaceId "dtv1.card//IM_GROUP.<openConversationId>" with imGroupOpenDeliverModel
   * {robotCode, atUserIds?}, or "dtv1.card//im_robot.<userId>" with imRobotOpenDeliverModel {spaceType}}
   * → {success, result: {outTrackId, deliverResults: [{spaceType, spaceId, success}]}}.
   */
  private createAndDeliver(req: RecordedRequest): Reply {
    const token = req.headers['x-acs-dingtalk-access-token'];
    if (typeof token !== 'string' || !this.issuedTokens.includes(token) || this.expiredTokens.has(token)) {
      return { status: 401, json: { code: 'InvalidAuthentication', message: 'bad token' } };
    }
    const b = (req.body ?? {}) as Record<string, any>;
    const bad = (code: string, message: string): Reply => ({ status: 400, json: { code, message } });
    if (!this.opts.cardTemplates.includes(b.cardTemplateId)) return bad('param.templateNotExist', 'card template does not exist or is not associated with this app');
    if (typeof b.outTrackId !== 'string' || !b.outTrackId) return bad('param.outTrackId', 'outTrackId is mandatory');
    const map = b.cardData?.cardParamMap;
    if (!map || typeof map !== 'object' || !Object.values(map).every((v) => typeof v === 'string')) return bad('param.cardParamMap', 'cardParamMap values must be strings');
    const space = /^dtv1\.card\/\/(IM_GROUP|im_robot)\.(.+)$/.exec(String(b.openSpaceId ?? ''));
    if (!space) return bad('spaces of card is empty', 'openSpaceId is malformed');
    const group = space[1] === 'IM_GROUP';
    const deliver = group ? b.imGroupOpenDeliverModel : b.imRobotOpenDeliverModel;
    if (!deliver || (group ? typeof deliver.robotCode !== 'string' : deliver.spaceType !== 'IM_ROBOT')) return bad('param.deliverModel', 'deliver model missing');
    if (!group && !this.opts.staff.includes(space[2]!)) {
      return { status: 200, json: { success: true, result: { outTrackId: b.outTrackId, deliverResults: [{ spaceType: 'IM_ROBOT', spaceId: space[2], success: false, errorMsg: 'user not found' }] } } };
    }
    if (!this.cards.has(b.outTrackId)) {
      this.cards.set(b.outTrackId, { outTrackId: b.outTrackId, openSpaceId: b.openSpaceId, cardParamMap: map, ...(deliver.atUserIds ? { atUserIds: deliver.atUserIds } : {}) });
    }
    return { status: 200, json: { success: true, result: { outTrackId: b.outTrackId, deliverResults: [{ spaceType: group ? 'IM_GROUP' : 'IM_ROBOT', spaceId: space[2], success: true, carrierId: `carrier-${this.cards.size}` }] } } };
  }

  private robotSend(req: RecordedRequest): Reply {
    const token = req.query.access_token ?? '';
    if (!(token in this.opts.robots)) return { status: 200, json: { errcode: 300001, errmsg: 'token is not exist' } };
    const secret = this.opts.robots[token];
    if (secret) {
      const { timestamp, sign } = req.query;
      if (!timestamp || !sign || Math.abs(this.opts.now() - Number(timestamp)) > 3_600_000) {
        return { status: 200, json: { errcode: 310000, errmsg: 'sign not match / timestamp invalid' } };
      }
      const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
      if (sign !== expected) return { status: 200, json: { errcode: 310000, errmsg: 'sign not match' } };
    }
    return { status: 200, json: { errcode: 0, errmsg: 'ok' } };
  }
}

export async function startFakeDingtalkApi(options: FakeDingtalkApiOptions = {}): Promise<FakeDingtalkApi> {
  const fake = new FakeDingtalkApi({
    robots: options.robots ?? { fakeaccesstoken0000000001: 'SECfakesecret0000000000000001' },
    appKey: options.appKey ?? 'dingfakeappkey',
    appSecret: options.appSecret ?? 'fake-app-secret',
    tokenTtlSec: options.tokenTtlSec ?? 7200,
    now: options.now ?? (() => Date.now()),
    staff: options.staff ?? ['lisi01', 'zhangsan01'],
    cardTemplates: options.cardTemplates ?? [],
  });
  await fake.listen();
  return fake;
}
