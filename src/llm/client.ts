import OpenAI from 'openai';
import { z } from 'zod';
import type { Logger } from '../log';
import type { FilledPrompt } from './prompts';

/**
 * One client for any OpenAI-compatible endpoint (DeepSeek, Qwen/DashScope, Ollama, vLLM…): the official
 * `openai` SDK pointed at LLM_BASE_URL. Structured answers only: asked for with a JSON schema where the
 * endpoint supports `response_format`, else parsed and validated with one repair attempt. An answer that
 * does not validate is a failure, never acted on. The API key is given to the SDK and nowhere else: no
 * log line carries it (the SDK's own logging is off).
 */

export interface LlmSettings {
  baseURL: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
  /** Retries of a failed request (5xx, connection errors) inside the timeout. */
  maxRetries?: number;
  /** Replace client and person names with placeholders in what is sent. */
  privacy: boolean;
}

export type LlmResult<T> =
  | { ok: true; value: T; latencyMs: number; prompt: string; model: string; repaired: boolean }
  | { ok: false; reason: 'timeout' | 'http' | 'invalid-json' | 'wrong-schema' | 'error'; detail: string; latencyMs: number; prompt: string };

export interface LlmClient {
  readonly model: string;
  readonly privacy: boolean;
  structured<T>(prompt: FilledPrompt, schema: z.ZodType<T>): Promise<LlmResult<T>>;
}

/** The first JSON object in a model's text (models like to wrap it in ``` fences or prose). */
export function extractJson(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  const body = (fenced ? fenced[1]! : text).trim();
  try {
    return JSON.parse(body);
  } catch {
    const start = body.indexOf('{');
    const end = body.lastIndexOf('}');
    if (start >= 0 && end > start) return JSON.parse(body.slice(start, end + 1));
    throw new SyntaxError('no JSON object in the answer');
  }
}

export function createLlmClient(settings: LlmSettings, log: Logger): LlmClient {
  const sdk = new OpenAI({
    baseURL: settings.baseURL,
    // Local servers (Ollama, vLLM) take any key; the SDK insists on one.
    apiKey: settings.apiKey ?? 'none',
    timeout: settings.timeoutMs,
    maxRetries: settings.maxRetries ?? 1,
    logLevel: 'off',
  });
  /** Set once the endpoint has refused `response_format: json_schema`; then we parse and validate. */
  let schemaUnsupported = false;

  async function ask(messages: OpenAI.Chat.ChatCompletionMessageParam[], jsonSchema: Record<string, unknown> | null, name: string, signal: AbortSignal) {
    const res = await sdk.chat.completions.create(
      {
        model: settings.model,
        messages,
        temperature: 0,
        ...(jsonSchema ? { response_format: { type: 'json_schema' as const, json_schema: { name, schema: jsonSchema, strict: true } } } : {}),
      },
      { signal },
    );
    return res.choices[0]?.message?.content ?? '';
  }

  return {
    model: settings.model,
    privacy: settings.privacy,
    async structured<T>(prompt: FilledPrompt, schema: z.ZodType<T>): Promise<LlmResult<T>> {
      const started = Date.now();
      const elapsed = () => Date.now() - started;
      // One deadline for the whole exchange (retries and the repair attempt included).
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), settings.timeoutMs);
      const name = prompt.name.replace(/[^a-zA-Z0-9_-]/g, '_');
      const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
        { role: 'system', content: prompt.system },
        { role: 'user', content: prompt.user },
      ];
      const fail = (reason: Extract<LlmResult<T>, { ok: false }>['reason'], detail: string): LlmResult<T> => {
        log.warn({ prompt: prompt.id, model: settings.model, reason, detail: detail.slice(0, 200), ms: elapsed() }, 'model answer not used');
        return { ok: false, reason, detail, latencyMs: elapsed(), prompt: prompt.id };
      };
      try {
        let jsonSchema: Record<string, unknown> | null = null;
        if (!schemaUnsupported) jsonSchema = z.toJSONSchema(schema, { target: 'draft-7' }) as Record<string, unknown>;
        let text: string;
        try {
          text = await ask(messages, jsonSchema, name, controller.signal);
        } catch (err) {
          // An endpoint without structured output says so with a 400: ask again, parse and validate.
          if (jsonSchema && err instanceof OpenAI.BadRequestError && !controller.signal.aborted) {
            schemaUnsupported = true;
            log.info({ model: settings.model }, 'the model endpoint refuses response_format json_schema; parsing answers instead');
            text = await ask(messages, null, name, controller.signal);
          } else throw err;
        }
        let repaired = false;
        for (let attempt = 0; ; attempt++) {
          let problem: { reason: 'invalid-json' | 'wrong-schema'; detail: string };
          try {
            const parsed = schema.safeParse(extractJson(text));
            if (parsed.success) return { ok: true, value: parsed.data, latencyMs: elapsed(), prompt: prompt.id, model: settings.model, repaired };
            problem = { reason: 'wrong-schema', detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
          } catch (err) {
            problem = { reason: 'invalid-json', detail: (err as Error).message };
          }
          if (attempt >= 1) return fail(problem.reason, problem.detail);
          // One repair attempt: show the model its answer and what was wrong with it.
          repaired = true;
          text = await ask(
            [
              ...messages,
              { role: 'assistant', content: text.slice(0, 4000) },
              { role: 'user', content: `上面的回答不是符合要求的 JSON（${problem.detail.slice(0, 300)}）。请只回答一个符合要求的 JSON 对象。` },
            ],
            schemaUnsupported ? null : (z.toJSONSchema(schema, { target: 'draft-7' }) as Record<string, unknown>),
            name,
            controller.signal,
          );
        }
      } catch (err) {
        if (controller.signal.aborted || err instanceof OpenAI.APIConnectionTimeoutError || err instanceof OpenAI.APIUserAbortError) {
          return fail('timeout', `no answer within ${settings.timeoutMs} ms`);
        }
        if (err instanceof OpenAI.APIError) return fail('http', `HTTP ${err.status ?? '?'}`);
        return fail('error', (err as Error).name);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
