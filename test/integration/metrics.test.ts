import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { createMetrics } from '../../src/core/metrics';
import { enqueue } from '../../src/core/records';
import { createRegistry } from '../../src/core/registry';
import { tokenMatches } from '../../src/http/metrics-route';
import { vectorPostBody, WECOM_VECTOR as V } from '../fixtures/wecom-official-vector';
import { post, startTestApp } from '../helpers/app';
import { drivers } from '../helpers/databases';
import { capturingLogger, fixedClock } from '../helpers/platform-test-kit';

/** The value of one series in a Prometheus text exposition (undefined when the series is absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.keys(labels).length === Object.keys(got).length && Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[4]);
  }
  return undefined;
}

const wecomEnv = { WECOM_TOKEN: V.token, WECOM_ENCODING_AES_KEY: V.encodingAesKey, WECOM_CORP_ID: V.corpId };
const callbackUrl = (base: string, signature: string = V.message.msgSignature) =>
  `${base}/wecom/callback?${new URLSearchParams({ msg_signature: signature, timestamp: V.message.timestamp, nonce: V.message.nonce })}`;

describe.each(drivers)('GET /metrics ($name)', (driver) => {
  const token = randomBytes(24).toString('hex');
  const logs = capturingLogger();
  // The vector's own time: its timestamp must be fresh for the callback to pass.
  const clock = fixedClock(Number(V.message.timestamp) * 1000 + 1500);
  let app: App;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const database = await driver.open();
    app = await startTestApp({ ...wecomEnv, SANDBOX: 'on', METRICS_TOKEN: token, LOG_LEVEL: 'debug' }, { database, loops: false, clock, log: logs.log });
    close = async () => {
      await app.close();
      await database.close();
    };
  });
  afterAll(async () => close?.());

  const scrape = async (headers: Record<string, string> = { authorization: `Bearer ${token}` }) => {
    const res = await fetch(`${app.url}/metrics`, { headers });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };

  it('refuses a scrape without the token, or with a wrong one (401)', async () => {
    expect((await scrape({})).status).toBe(401);
    expect((await scrape({ authorization: `Bearer ${token.slice(0, -1)}x` })).status).toBe(401);
    expect((await scrape({ authorization: token })).status).toBe(401);
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(ok.type).toContain('text/plain');
    // Process metrics on the app's own registry.
    expect(sample(ok.text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('counts sandbox messages, a callback, its duplicate and a refused one', async () => {
    const say = (id: string, text: string) => post(`${app.url}/sandbox/api/messages`, { group: 'metrics-g', from: 'liu', text, id });
    expect((await say('m1', '/帮助')).status).toBe(200);
    expect((await say('m2', '/帮助')).status).toBe(200);
    expect((await say('m3', '随便说一句')).status).toBe(200);
    expect((await say('m1', '/帮助')).status).toBe(200); // the same id again: a duplicate

    const send = (signature?: string) => fetch(callbackUrl(app.url, signature), { method: 'POST', headers: { 'content-type': 'text/xml' }, body: vectorPostBody() });
    expect((await send()).status).toBe(200);
    expect((await send()).status).toBe(200);
    const refused = await send('0'.repeat(40));
    expect(refused.status).toBe(401);
    const reason = await refused.text();

    const m = (await scrape()).text;
    expect(sample(m, 'bot_inbound_total', { platform: 'sandbox', outcome: 'accepted' })).toBe(3);
    expect(sample(m, 'bot_inbound_total', { platform: 'sandbox', outcome: 'duplicate' })).toBe(1);
    expect(sample(m, 'bot_inbound_total', { platform: 'wecom', outcome: 'accepted' })).toBe(1);
    expect(sample(m, 'bot_inbound_total', { platform: 'wecom', outcome: 'duplicate' })).toBe(1);
    expect(sample(m, 'bot_inbound_total', { platform: 'wecom', outcome: 'rejected', reason })).toBe(1);
    expect(sample(m, 'bot_message_handling_seconds_count', { platform: 'sandbox', outcome: 'done' })).toBe(3);
    // The sandbox answers in its HTTP response: its replies went through the outbox at once.
    expect(sample(m, 'bot_sends_total', { platform: 'sandbox', channel: 'sandbox', result: 'sent' })).toBe(2);
    // The callback's message is recorded, not yet handled.
    expect(sample(m, 'bot_message_handling_seconds_count', { platform: 'wecom', outcome: 'done' })).toBeUndefined();
    expect(sample(m, 'bot_metrics_database_up')).toBe(1);
  });

  it('reads the outbox backlog at scrape time and counts the delivery by channel', async () => {
    expect(await app.chat.processPending(10)).toBe(1);
    // 你好 from outside the roster gets no answer: a notice for that chat is queued by hand.
    await enqueue(app.database.db, { platform: 'wecom', conversationId: 'ChenJiaShun', payload: { text: '提醒', mentions: [] }, now: clock() });
    clock.advance(90_000);
    let m = (await scrape()).text;
    expect(sample(m, 'bot_message_handling_seconds_count', { platform: 'wecom', outcome: 'done' })).toBe(1);
    // It waits in the outbox, queued 90 s ago by the app's clock.
    expect(sample(m, 'bot_outbox_messages', { platform: 'wecom', status: 'pending' })).toBe(1);
    expect(sample(m, 'bot_outbox_oldest_pending_seconds', { platform: 'wecom' })).toBe(90);

    await app.outbox.runOnce();
    m = (await scrape()).text;
    // No channel reaches that chat (no app secret): the sender says none, the row fails for good.
    expect(sample(m, 'bot_sends_total', { platform: 'wecom', channel: 'wecom', result: 'failed' })).toBe(1);
    expect(sample(m, 'bot_outbox_messages', { platform: 'wecom', status: 'pending' })).toBeUndefined();
  });

  it('counts claimed timers, their lateness and the steps posted', async () => {
    clock.set(Date.parse('2026-12-01T02:00:00Z'));
    const created = await post(`${app.url}/sandbox/api/messages`, { group: 'metrics-g', from: 'wang', text: '/单 新建 客户=度量科技 类型=专利 业务员=@王业务 截止=2026-12-31', id: 't1' });
    expect(created.json.replies[0].text).toContain('已新建分配单');
    // Ten days on: the assignment clock's steps are due, hours late.
    clock.advance(10 * 24 * 3600_000);
    let m = (await scrape()).text;
    const due = sample(m, 'bot_timers_due')!;
    expect(due).toBeGreaterThanOrEqual(1);
    expect(sample(m, 'bot_timers_oldest_due_seconds')).toBeGreaterThan(3600);

    const r = await app.scheduler.tick();
    expect(r.claimed).toBeGreaterThanOrEqual(1);
    m = (await scrape()).text;
    const claimed = m.split('\n').filter((l) => l.startsWith('bot_timers_claimed_total{')).reduce((n, l) => n + Number(l.split(' ')[1]), 0);
    expect(claimed).toBe(r.claimed);
    const latenessCount = m.split('\n').filter((l) => l.startsWith('bot_timer_lateness_seconds_count{')).reduce((n, l) => n + Number(l.split(' ')[1]), 0);
    expect(latenessCount).toBe(r.claimed);
    const posted = m.split('\n').filter((l) => l.startsWith('bot_timer_steps_total{') && l.includes('result="posted"')).reduce((n, l) => n + Number(l.split(' ')[1]), 0);
    expect(posted).toBe(r.sent);
    expect(r.sent).toBeGreaterThanOrEqual(1);
    expect(sample(m, 'bot_timers_due')).toBe(0);
  });

  it('never writes the token into a log line', () => {
    expect(logs.lines.length).toBeGreaterThan(5);
    expect(logs.lines.some((l) => l.includes('/metrics'))).toBe(true);
    expect(logs.lines.filter((l) => l.includes(token))).toEqual([]);
  });
});

describe('GET /metrics when off, and from loopback', () => {
  let off: App;
  let loop: App;
  beforeAll(async () => {
    off = await startTestApp({}, { loops: false });
    loop = await startTestApp({ METRICS_LOOPBACK: 'on' }, { loops: false });
  });
  afterAll(async () => {
    await off?.close();
    await loop?.close();
  });

  it('answers 404 when neither METRICS_TOKEN nor METRICS_LOOPBACK is set', async () => {
    expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
  });

  it('serves a loopback request that no proxy relayed, and hides from a relayed one (404)', async () => {
    const direct = await fetch(`${loop.url}/metrics`);
    expect(direct.status).toBe(200);
    expect(await direct.text()).toContain('bot_inbound_total');
    expect((await fetch(`${loop.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } })).status).toBe(404);
  });

  it('keeps each app on its own registry', async () => {
    await post(`${loop.url}/sandbox/api/messages`, { group: 'g', from: 'liu', text: '/帮助', id: 'own-1' });
    const text = await (await fetch(`${loop.url}/metrics`)).text();
    expect(sample(text, 'bot_inbound_total', { platform: 'sandbox', outcome: 'accepted' })).toBe(1);
    expect(off.metrics.registry).not.toBe(loop.metrics.registry);
    expect(await off.metrics.inbound.get()).toMatchObject({ values: [] });
  });
});

describe('the engine counter features use (Engine.count)', () => {
  it('counts by feature name and event', async () => {
    const metrics = createMetrics();
    let count: ((e: string) => void) | undefined;
    createRegistry([{ name: 'probe', init: (e) => void (count = e.count) }], { count: (feature, event) => metrics.featureEvents.inc({ feature, event }) });
    count!('suggested');
    count!('suggested');
    count!('dismissed');
    const text = await metrics.registry.metrics();
    expect(sample(text, 'bot_feature_events_total', { feature: 'probe', event: 'suggested' })).toBe(2);
    expect(sample(text, 'bot_feature_events_total', { feature: 'probe', event: 'dismissed' })).toBe(1);
  });

  it('compares tokens whole', () => {
    expect(tokenMatches('Bearer abcdefghijklmnop', 'abcdefghijklmnop')).toBe(true);
    expect(tokenMatches('Bearer abcdefghijklmno', 'abcdefghijklmnop')).toBe(false);
    expect(tokenMatches('Bearer ', 'abcdefghijklmnop')).toBe(false);
    expect(tokenMatches(undefined, 'abcdefghijklmnop')).toBe(false);
  });
});
