import { Writable } from 'node:stream';
import { asc, eq, like } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Database } from '../../src/db/client';
import { chatLog, events, outbox, timers, triageJobs, triageSuggestions } from '../../src/db/schema';
import { ConfigError, loadConfig } from '../../src/config';
import { createLlmClient } from '../../src/llm/client';
import { fillPrompt, loadPrompt } from '../../src/llm/prompts';
import { triageAnswerSchema } from '../../src/features/triage/model-triage';
import { demoBot, fakeClock } from '../helpers/bot';
import type { TriageWorker } from '../../src/features/triage/worker';
import { drivers } from '../helpers/databases';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/fake-openai';

const KEY = 'sk-test-SECRET-7f3a9c';

function capturingLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

const answer = (o: Partial<z.infer<typeof triageAnswerSchema>> & { isComplaint: boolean }) =>
  JSON.stringify({ level: null, summary: '', evidenceQuote: '', confidence: 0.9, ...o });

const prompt = () => fillPrompt(loadPrompt('complaint-triage'), { client: '客户1', message: '到现在没人回电话' });

describe('model configuration', () => {
  it('defaults to no model, 8 s and privacy on; a bad value is named without echoing the key', () => {
    const c = loadConfig({});
    expect(c.LLM_BASE_URL).toBeUndefined();
    expect(c.LLM_TIMEOUT_MS).toBe(8000);
    expect(c.LLM_PRIVACY).toBe('on');
    let err: unknown;
    try {
      loadConfig({ LLM_BASE_URL: 'ftp://x', LLM_API_KEY: KEY, LLM_TIMEOUT_MS: 'soon' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('LLM_BASE_URL');
    expect(msg).toContain('LLM_TIMEOUT_MS');
    expect(msg).not.toContain(KEY);
  });
});

describe('the model client against a fake OpenAI-compatible server (real HTTP, real openai client)', () => {
  let fake: FakeOpenAi;
  const cap = capturingLog();
  const client = (timeoutMs = 600) => createLlmClient({ baseURL: fake.baseUrl, apiKey: KEY, model: 'fake-model', timeoutMs, maxRetries: 1, privacy: true }, cap.log);
  beforeAll(async () => {
    fake = await startFakeOpenAi({ apiKey: KEY });
  });
  afterAll(async () => {
    await fake.close();
    // The API key is never in a log line.
    expect(cap.lines.join('\n')).not.toContain(KEY);
    expect(cap.lines.length).toBeGreaterThan(0);
  });
  beforeEach(() => fake.reset());

  it('a valid answer is validated and returned; the request asks for a JSON schema and carries the key', async () => {
    fake.script({ content: answer({ isComplaint: true, level: 'A', summary: '没回电话', evidenceQuote: '到现在没人回电话' }) });
    const r = await client().structured(prompt(), triageAnswerSchema);
    expect(r).toMatchObject({ ok: true, value: { isComplaint: true, level: 'A' }, prompt: 'complaint-triage@1', repaired: false });
    const body = fake.calls()[0]!.body as { response_format: { type: string; json_schema: { schema: { properties: Record<string, unknown> } } }; messages: { role: string; content: string }[] };
    expect(body.response_format.type).toBe('json_schema');
    expect(Object.keys(body.response_format.json_schema.schema.properties)).toContain('evidenceQuote');
    expect(body.messages[0]!.content).toContain('A 轻微投诉');
    expect(body.messages[1]!.content).toContain('到现在没人回电话');
  });

  it('invalid JSON gets one repair attempt; a second invalid answer is a failure', async () => {
    fake.script({ content: '我觉得这是投诉' }, { content: '```json\n' + answer({ isComplaint: false }) + '\n```' });
    const fixed = await client().structured(prompt(), triageAnswerSchema);
    expect(fixed).toMatchObject({ ok: true, repaired: true, value: { isComplaint: false } });
    expect(fake.calls()).toHaveLength(2);
    fake.script({ content: 'not json' }, { content: '{"isComplaint": tru' });
    const bad = await client().structured(prompt(), triageAnswerSchema);
    expect(bad).toMatchObject({ ok: false, reason: 'invalid-json' });
  });

  it('an answer of the wrong shape is never returned', async () => {
    fake.script({ content: '{"isComplaint":true,"level":"E","summary":"x","evidenceQuote":"x","confidence":2}' }, { content: '{"isComplaint":true}' });
    const r = await client().structured(prompt(), triageAnswerSchema);
    expect(r).toMatchObject({ ok: false, reason: 'wrong-schema' });
    // A complaint without a level does not validate either.
    fake.script({ content: answer({ isComplaint: true }) }, { content: answer({ isComplaint: true }) });
    expect(await client().structured(prompt(), triageAnswerSchema)).toMatchObject({ ok: false, reason: 'wrong-schema' });
  });

  it('a 500 is retried; 500s throughout are a failure', async () => {
    fake.script({ status: 500 }, { content: answer({ isComplaint: false }) });
    expect(await client(8000).structured(prompt(), triageAnswerSchema)).toMatchObject({ ok: true });
    expect(fake.calls()).toHaveLength(2);
    fake.requests.length = 0;
    fake.script({ status: 500 }, { status: 500 }, { status: 500 });
    expect(await client(8000).structured(prompt(), triageAnswerSchema)).toMatchObject({ ok: false, reason: 'http' });
    expect(fake.calls()).toHaveLength(2); // one retry
  });

  it('a slow answer past the timeout is a timeout, within the deadline', async () => {
    fake.script('hang', 'hang');
    const started = Date.now();
    const r = await client().structured(prompt(), triageAnswerSchema);
    expect(r).toMatchObject({ ok: false, reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('an endpoint without json_schema support is asked again without it, then parsed and validated', async () => {
    const c = client();
    fake.script({ rejectSchema: true }, { content: answer({ isComplaint: false }) }, { content: answer({ isComplaint: false }) });
    expect(await c.structured(prompt(), triageAnswerSchema)).toMatchObject({ ok: true });
    expect(await c.structured(prompt(), triageAnswerSchema)).toMatchObject({ ok: true });
    const formats = fake.calls().map((r) => (r.body as { response_format?: { type: string } }).response_format?.type ?? null);
    expect(formats).toEqual(['json_schema', null, null]);
  });
});

describe.each(drivers)('triage with a model on $name', (driver) => {
  let database: Database;
  let fake: FakeOpenAi;
  let bot: Awaited<ReturnType<typeof demoBot>>;
  const cap = capturingLog();
  const clock = fakeClock('2026-11-23T02:00:00Z');
  const suggestions = async () => database.db.select().from(triageSuggestions).orderBy(asc(triageSuggestions.id));

  beforeAll(async () => {
    database = await driver.open();
    fake = await startFakeOpenAi({ apiKey: KEY });
    // 1.5 s: long enough that a message handled while the model hangs is measurably not waiting for it.
    const llm = createLlmClient({ baseURL: fake.baseUrl, apiKey: KEY, model: 'fake-model', timeoutMs: 1500, maxRetries: 0, privacy: true }, cap.log);
    bot = await demoBot(database.db, { clock, llm, log: cap.log });
  });
  afterAll(async () => {
    await database?.close();
    await fake?.close();
    expect(cap.lines.join('\n')).not.toContain(KEY);
  });

  it("the model's reading is used, names are replaced in the prompt and restored in the notice, and the prompt version is recorded", async () => {
    fake.requests.length = 0;
    fake.script({ content: answer({ isComplaint: true, level: 'C', summary: '〔客户1〕扬言找老板', evidenceQuote: '我直接找你们老板' }) });
    await bot.say('client-a', '你们华星科技的事我直接找你们老板，张工根本不管', { group: 'demo-client' });
    // The message's transaction asked no model: the rules acted, a job waits for the worker.
    expect(fake.calls()).toHaveLength(0);
    expect(await suggestions()).toMatchObject([{ source: 'rules', level: 'C' }]);
    await bot.runWorkers();
    const body = JSON.stringify(fake.calls()[0]!.body);
    expect(body).not.toContain('华星科技');
    expect(body).not.toContain('张工');
    const [s] = await suggestions();
    expect(s).toMatchObject({ source: 'model', version: 'complaint-triage@1', level: 'C', summary: '华星科技扬言找老板', evidenceQuote: '我直接找你们老板' });
  });

  it('a model answer that does not validate creates nothing: the rules decide (a thank-you stays a thank-you)', async () => {
    const before = (await suggestions()).length;
    fake.script({ content: '{"isComplaint":true,"level":"D"}' }, { content: 'yes, complaint' });
    await bot.say('client-b', '谢谢，发票收到了', { group: 'demo-client' });
    await bot.runWorkers();
    // A quote the client never wrote is not acted on either.
    fake.script({ content: answer({ isComplaint: true, level: 'D', summary: '要求赔偿', evidenceQuote: '我们要求赔偿一百万' }) });
    await bot.say('client-b', '好的，周五下午见', { group: 'demo-client' });
    await bot.runWorkers();
    expect(await suggestions()).toHaveLength(before);
    expect(cap.lines.some((l) => l.includes('model answer not used') && l.includes('invalid-json')), cap.lines.join('\n')).toBe(true);
  });

  it('a model that times out or fails: the rules do the job and the log says so', async () => {
    fake.script('hang');
    clock.advance(60 * 60_000);
    await bot.say('client-c', '打了好几个电话都没人接，太不负责了', { group: 'demo-client' });
    await bot.runWorkers();
    fake.script({ status: 500 });
    clock.advance(60 * 60_000);
    await bot.say('client-d', '这个进度太慢了，我们要求退款', { group: 'demo-client' });
    await bot.runWorkers();
    const made = (await suggestions()).slice(-2);
    expect(made.map((s) => s.source)).toEqual(['rules', 'rules']);
    expect(made.map((s) => s.level)).toEqual(['A', 'B']);
    expect(made.map((s) => s.status)).toEqual(['open', 'open']);
    const audits = await database.db.select().from(events).where(eq(events.action, 'triage.model'));
    expect(audits.slice(-2).map((a) => (a.data as { modelFailure?: string }).modelFailure)).toEqual(['timeout', 'http']);
    expect(audits.slice(-2).map((a) => (a.data as { outcome?: string }).outcome)).toEqual(['rules-stand', 'rules-stand']);
    expect(cap.lines.filter((l) => l.includes('model triage failed; the rule-based triage result stands')).length).toBeGreaterThanOrEqual(2);
  });

  it('a slow model does not delay the chat log commit or other messages: no transaction waits for it', async () => {
    clock.advance(60 * 60_000);
    const worker = bot.workers[0] as TriageWorker;
    fake.script('hang');
    await bot.say('client-e', '我们下午再确认一下细节', { group: 'demo-client', id: 'slow-1' });
    const [job] = await worker.claim();
    expect(job).toMatchObject({ messageId: 'slow-1', attempts: 1 });
    let settled = false;
    const call = worker.process(job!).then(() => (settled = true));
    // While the model hangs: another client's message is handled and committed, rules and all.
    const t0 = Date.now();
    await bot.say('client-f', '这个进度太慢了，我们要求退款', { group: 'demo-client', id: 'slow-2' });
    expect(settled).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1500);
    const logged = await database.db.select().from(chatLog).where(like(chatLog.messageId, 'slow-%'));
    expect(logged.map((r) => r.messageId).sort()).toEqual(['slow-1', 'slow-2']);
    expect((await suggestions()).at(-1)).toMatchObject({ source: 'rules', level: 'B', status: 'open' });
    await call;
    const [done] = await database.db.select().from(triageJobs).where(eq(triageJobs.messageId, 'slow-1'));
    expect(done).toMatchObject({ status: 'done', outcome: 'rules-stand' });
    // slow-2's job is still to do.
    fake.script({ content: answer({ isComplaint: true, level: 'B', summary: '要求退款', evidenceQuote: '我们要求退款' }) });
    expect(await bot.runWorkers()).toBe(1);
  });

  it('a job whose worker crashed mid-call is retried after its lease and posts exactly once', async () => {
    clock.advance(60 * 60_000);
    const worker = bot.workers[0] as TriageWorker;
    const text = '你们这样做事让我们很难跟上面交代';
    await bot.say('client-g', text, { group: 'demo-client', id: 'crash-1' });
    const before = (await suggestions()).length;
    // Worker A claims the job and "crashes" (its claim is never finished).
    const [stale] = await worker.claim();
    expect(stale).toMatchObject({ messageId: 'crash-1' });
    // Within the lease nobody else takes it.
    expect(await worker.runOnce()).toBe(0);
    clock.advance(121_000);
    const reading = answer({ isComplaint: true, level: 'B', summary: '对工作方式不满', evidenceQuote: '很难跟上面交代' });
    fake.script({ content: reading });
    expect(await worker.runOnce()).toBe(1);
    // Worker A wakes up with its model answer: its lease is gone, nothing is applied.
    fake.script({ content: reading });
    await worker.process(stale!);
    expect(await worker.runOnce()).toBe(0);
    const made = (await suggestions()).slice(before);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ source: 'model', level: 'B', evidenceQuote: '很难跟上面交代' });
    const [job] = await database.db.select().from(triageJobs).where(eq(triageJobs.messageId, 'crash-1'));
    expect(job).toMatchObject({ status: 'done', outcome: 'created', attempts: 2, ruleSuggestionId: made[0]!.id });
    const notices = await database.db.select().from(outbox).where(eq(outbox.dedupeKey, `triage-job:${job!.id}:notice`));
    expect(notices).toHaveLength(1);
    expect(notices[0]!.payload.text).toContain(`疑似投诉 X${made[0]!.id}`);
    // No order is bound here, so the notice is held for the department (as the rules' would be), never in the client group.
    expect(notices[0]!.conversationId).not.toBe('demo-client');
  });

  it("the model's second reading upgrades the rules' suggestion or notes its doubt, once; it never dismisses, staff keep the last word", async () => {
    clock.advance(60 * 60_000);
    await bot.say('client-h', '打了好几个电话都没人接', { group: 'demo-client', id: 'up-1' });
    const [up] = (await suggestions()).slice(-1);
    expect(up).toMatchObject({ source: 'rules', level: 'A' });
    fake.script({ content: answer({ isComplaint: true, level: 'C', summary: '多次联系不上', evidenceQuote: '打了好几个电话都没人接' }) });
    await bot.runWorkers();
    expect((await suggestions()).find((s) => s.id === up!.id)).toMatchObject({ source: 'model', level: 'C', status: 'open' });
    const upgrade = await database.db.select().from(outbox).where(like(outbox.dedupeKey, 'triage-job:%:upgrade'));
    expect(upgrade).toHaveLength(1);
    expect(upgrade[0]!.payload.text).toContain(`疑似投诉 X${up!.id} 复核：建议级别改为 C`);

    clock.advance(60 * 60_000);
    await bot.say('client-i', '电话一直打不通', { group: 'demo-client', id: 'dis-1' });
    const [dis] = (await suggestions()).slice(-1);
    expect(dis).toMatchObject({ source: 'rules', status: 'open' });
    fake.script({ content: answer({ isComplaint: false }) });
    await bot.runWorkers();
    // The model says "not a complaint": the suggestion stays open, unchanged, for staff.
    expect((await suggestions()).find((s) => s.id === dis!.id)).toMatchObject({ status: 'open', source: 'rules', decidedBy: null });
    expect(await database.db.select().from(outbox).where(like(outbox.dedupeKey, 'triage-job:%:dismiss'))).toHaveLength(0);
    const note = await database.db.select().from(outbox).where(like(outbox.dedupeKey, 'triage-job:%:doubt'));
    expect(note).toHaveLength(1);
    expect(note[0]!.payload.text).toContain(`疑似投诉 X${dis!.id}：模型复核认为可能不是投诉`);
    expect(note[0]!.payload.text).toContain(`/投诉 确认 X${dis!.id}`);
    expect(note[0]!.conversationId).not.toBe('demo-client');
    const [job] = await database.db.select().from(triageJobs).where(eq(triageJobs.messageId, 'dis-1'));
    expect(job).toMatchObject({ status: 'done', outcome: 'model-doubts' });
    const audited = await database.db.select().from(events).where(eq(events.subject, `triage:${dis!.id}`));
    expect(audited.find((a) => a.action === 'triage.model')?.data).toMatchObject({ outcome: 'model-doubts', note: '模型复核认为可能不是投诉' });
    // The 10-minute reminder still fires, once, to the supervisor.
    clock.advance(11 * 60_000);
    await bot.scheduler.tick();
    const [reminderTimer] = await database.db.select().from(timers).where(eq(timers.subject, `triage:${dis!.id}`));
    const reminders = await database.db.select().from(outbox).where(like(outbox.dedupeKey, `timer:${reminderTimer!.id}:%`));
    expect(reminders).toHaveLength(1);
    expect(reminders[0]!.payload.text).toContain(`/投诉 确认 X${dis!.id}`);
    // Staff disagree with the model: the suggestion is still theirs to confirm.
    const reply = await bot.say('li', `/投诉 确认 X${dis!.id}`, { group: 'demo-internal' });
    expect(reply).toContain(`X${dis!.id} 已确认为投诉`);
    // Nothing about any of it in the client group.
    const toClient = await database.db.select().from(outbox).where(eq(outbox.conversationId, 'demo-client'));
    expect(toClient.map((r) => r.payload.text).join('\n')).not.toMatch(/投诉|级别|复核/);
  });

  it('two workers at once (two instances): each job is claimed by one of them (SKIP LOCKED) and answered once', async () => {
    clock.advance(60 * 60_000);
    await bot.say('client-j', '我们下午再确认一下细节', { group: 'demo-client', id: 'pair-1' });
    await bot.say('client-j', '好的，周五下午见', { group: 'demo-client', id: 'pair-2' });
    const second = bot.features.find((f) => f.name === 'triage')!.worker!({ db: database.db, clock, log: cap.log });
    fake.requests.length = 0;
    fake.script({ content: answer({ isComplaint: false }) }, { content: answer({ isComplaint: false }) });
    const [a, b] = await Promise.all([bot.workers[0]!.runOnce(), second.runOnce()]);
    expect(a + b).toBe(2);
    expect(fake.calls()).toHaveLength(2);
    const jobs = await database.db.select().from(triageJobs).where(like(triageJobs.messageId, 'pair-%'));
    expect(jobs.map((j) => [j.status, j.attempts, j.outcome])).toEqual([
      ['done', 1, 'no-complaint'],
      ['done', 1, 'no-complaint'],
    ]);
  });
});
