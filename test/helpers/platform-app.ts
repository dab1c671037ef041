import { createHmac, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { sql } from 'drizzle-orm';
import type { App } from '../../src/app';
import type { Database } from '../../src/db/client';
import { rowsOf } from '../../src/db/rows';
import { seedDemo } from '../../src/db/seed-demo';
import { sealMessage } from '../../src/platforms/wecom/wecom-crypto';
import { startFakeDingtalkApi, type FakeDingtalkApi } from '../fakes/fake-dingtalk-api';
import { startFakeWecomApi, type FakeWecomApi } from '../fakes/fake-wecom-api';
import { startTestApp } from './app';
import { fakeClock, silentLog } from './bot';

/** Credentials of the fake tenant: random per run, so a test can look for them in logs. */
export function tenantSecrets() {
  const aes = () => randomBytes(32).toString('base64').slice(0, 43);
  const hex = (n: number) => randomBytes(n).toString('hex');
  return {
    aibotToken: `aibot${hex(8)}`,
    aibotAesKey: aes(),
    corpId: `ww${hex(6)}`,
    corpSecret: `corpsecret${hex(8)}`,
    webhookKey: `wk-${hex(12)}`,
    dingAppKey: `dingapp${hex(6)}`,
    dingAppSecret: `dingsecret${hex(10)}`,
    robotToken: `robottoken${hex(12)}`,
    robotSecret: `SEC${hex(16)}`,
  };
}
export type TenantSecrets = ReturnType<typeof tenantSecrets>;

export interface PlatformAppOptions {
  database: Database;
  /** Default: a fake clock (tests move it); background loops off unless `loops` is true. */
  clock?: ReturnType<typeof fakeClock>;
  loops?: boolean;
  log?: Logger;
  env?: Record<string, string>;
  /** Card templates the fake DingTalk knows (createAndDeliver). */
  dingtalkCardTemplates?: string[];
}

/**
 * The real app wired to fake WeCom and DingTalk API servers on loopback, on the given test database,
 * with the demo organisation (刘经理 liu = head, 王业务 wang = sales, 陈总 boss = admin …).
 */
export async function startPlatformApp(opts: PlatformAppOptions) {
  const secrets = tenantSecrets();
  const clock = opts.clock ?? fakeClock('2026-12-01T02:00:00Z');
  const wecom: FakeWecomApi = await startFakeWecomApi({ webhookKeys: [secrets.webhookKey], corpId: secrets.corpId, corpSecret: secrets.corpSecret });
  const dingtalk: FakeDingtalkApi = await startFakeDingtalkApi({
    robots: { [secrets.robotToken]: secrets.robotSecret },
    appKey: secrets.dingAppKey,
    appSecret: secrets.dingAppSecret,
    now: () => clock().getTime(),
    ...(opts.dingtalkCardTemplates ? { cardTemplates: opts.dingtalkCardTemplates } : {}),
  });
  await seedDemo(opts.database.db, clock());
  const app: App = await startTestApp(
    {
      SANDBOX: 'off',
      OUTBOX_POLL_MS: '50',
      WECOM_API_BASE: wecom.baseUrl,
      WECOM_AIBOT_TOKEN: secrets.aibotToken,
      WECOM_AIBOT_ENCODING_AES_KEY: secrets.aibotAesKey,
      WECOM_CORP_ID: secrets.corpId,
      WECOM_CORP_SECRET: secrets.corpSecret,
      WECOM_BOT_NAME: '服务助手',
      // Answers through response_url unless a test turns the passive reply on (it waits for the handling).
      WECOM_AIBOT_PASSIVE_MS: '0',
      DINGTALK_OAPI_BASE: dingtalk.baseUrl,
      DINGTALK_API_BASE: dingtalk.baseUrl,
      DINGTALK_APP_KEY: secrets.dingAppKey,
      DINGTALK_APP_SECRET: secrets.dingAppSecret,
      DINGTALK_BOT_NAME: '服务助手',
      ...opts.env,
    },
    { database: opts.database, clock, loops: opts.loops ?? false, log: opts.log ?? silentLog },
  );

  let seq = 0;
  // DingTalk signs the timestamp only, and the bot binds each (timestamp, sign) pair to one message:
  // like the real platform, every callback gets its own millisecond.
  let lastDingtalkTs = 0;
  const nextId = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++seq}`;

  /** POST one signed, encrypted AI-bot (智能机器人) group message, as WeCom does. */
  async function wecomMessage(m: { from: string; chatid: string; text: string; msgid?: string; responseCode?: string; at?: Date }) {
    const msgid = m.msgid ?? nextId('wxmsg');
    const inner = {
      msgid,
      aibotid: 'aibot-fake',
      chatid: m.chatid,
      chattype: 'group',
      from: { userid: m.from },
      response_url: wecom.responseUrl(m.responseCode ?? `code-${msgid}`),
      msgtype: 'text',
      text: { content: `@服务助手 ${m.text}` },
    };
    const timestamp = String(Math.floor((m.at ?? clock()).getTime() / 1000));
    const env = sealMessage({ token: secrets.aibotToken, encodingAesKey: secrets.aibotAesKey, receiveId: '' }, JSON.stringify(inner), timestamp);
    const q = new URLSearchParams({ msg_signature: env.msgsignature, timestamp: env.timestamp, nonce: env.nonce });
    const res = await fetch(`${app.url}/wecom/aibot?${q}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ encrypt: env.encrypt }),
    });
    return { status: res.status, body: await res.text(), msgid, retryAfter: res.headers.get('retry-after') };
  }

  /** POST one signed DingTalk enterprise-robot group message (HTTP callback mode). */
  async function dingtalkMessage(m: { from: string; conversationId: string; text: string; msgId?: string; atStaffIds?: string[]; session?: string }) {
    const msgId = m.msgId ?? nextId('dtmsg');
    const now = clock().getTime();
    const body = {
      msgtype: 'text',
      msgId,
      conversationId: m.conversationId,
      conversationType: '2',
      conversationTitle: '项目交付群',
      senderId: `$:LWCP_v1:$${m.from}`,
      senderStaffId: m.from,
      senderNick: m.from,
      chatbotUserId: '$:LWCP_v1:$bot',
      atUsers: [{ dingtalkId: '$:LWCP_v1:$bot' }, ...(m.atStaffIds ?? []).map((s) => ({ dingtalkId: `$:LWCP_v1:$${s}`, staffId: s }))],
      text: { content: ` ${m.text}` },
      sessionWebhook: dingtalk.sessionWebhook(m.session ?? `session-${m.conversationId}`),
      sessionWebhookExpiredTime: now + 90 * 60_000,
      robotCode: secrets.dingAppKey,
      createAt: now,
    };
    lastDingtalkTs = now > lastDingtalkTs || lastDingtalkTs - now > 60_000 ? now : lastDingtalkTs + 1;
    const timestamp = String(lastDingtalkTs);
    const sign = createHmac('sha256', secrets.dingAppSecret).update(`${timestamp}\n${secrets.dingAppSecret}`).digest('base64');
    const res = await fetch(`${app.url}/dingtalk/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', timestamp, sign },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.text(), msgId, retryAfter: res.headers.get('retry-after') };
  }

  /** Handle what was accepted and deliver what is due (the loops' work, by hand). */
  async function settle() {
    while ((await app.chat.processPending()) > 0);
    await app.outbox.drain();
  }

  async function count(table: string, where = 'true'): Promise<number> {
    const rows = rowsOf<{ n: number | string }>(await opts.database.db.execute(sql.raw(`select count(*) as n from ${table} where ${where}`)));
    return Number(rows[0]!.n);
  }

  return {
    app,
    clock,
    secrets,
    wecom,
    dingtalk,
    wecomMessage,
    dingtalkMessage,
    settle,
    count,
    async close() {
      await app.close();
      await wecom.close();
      await dingtalk.close();
    },
  };
}
export type PlatformApp = Awaited<ReturnType<typeof startPlatformApp>>;
