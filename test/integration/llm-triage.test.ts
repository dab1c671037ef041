import { Writable } from 'node:stream';
import { asc, eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Database } from '../../src/db/client';
import { events, triageSuggestions } from '../../src/db/schema';
import { ConfigError, loadConfig } from '../../src/config';
import { createLlmClient } from '../../src/llm/client';
import { fillPrompt, loadPrompt } from '../../src/llm/prompts';
import { triageAnswerSchema } from '../../src/features/triage/model-triage';
import { demoBot, fakeClock } from '../helpers/bot';
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
    const llm = createLlmClient({ baseURL: fake.baseUrl, apiKey: KEY, model: 'fake-model', timeoutMs: 500, maxRetries: 0, privacy: true }, cap.log);
    bot = await demoBot(database.db, { clock, llm });
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
    // A quote the client never wrote is not acted on either.
    fake.script({ content: answer({ isComplaint: true, level: 'D', summary: '要求赔偿', evidenceQuote: '我们要求赔偿一百万' }) });
    await bot.say('client-b', '好的，周五下午见', { group: 'demo-client' });
    expect(await suggestions()).toHaveLength(before);
    expect(cap.lines.some((l) => l.includes('model answer not used') && l.includes('invalid-json')), cap.lines.join('\n')).toBe(true);
  });

  it('a model that times out or fails: the rules do the job and the log says so', async () => {
    fake.script('hang');
    clock.advance(60 * 60_000);
    await bot.say('client-c', '打了好几个电话都没人接，太不负责了', { group: 'demo-client' });
    fake.script({ status: 500 });
    clock.advance(60 * 60_000);
    await bot.say('client-d', '这个进度太慢了，我们要求退款', { group: 'demo-client' });
    const made = (await suggestions()).slice(-2);
    expect(made.map((s) => s.source)).toEqual(['rules', 'rules']);
    expect(made.map((s) => s.level)).toEqual(['A', 'B']);
    const audits = await database.db.select().from(events).where(eq(events.action, 'triage.suggested'));
    expect(audits.slice(-2).map((a) => (a.data as { modelFailure?: string }).modelFailure)).toEqual(['timeout', 'http']);
  });
});
