import { FakeHttpServer, type RecordedRequest, type Reply } from './fake-http-server';

/**
 * A fake OpenAI-compatible endpoint (DeepSeek, Qwen/DashScope, Ollama, vLLM speak the same protocol):
 * `POST /v1/chat/completions` on loopback, for the real `openai` client. Each call takes the next
 * scripted answer, else the default one.
 *
 * const llm = await startFakeOpenAi({ defaultContent: (req) => '{"isComplaint":false,…}' });
 * llm.script({ content: 'not json' }, { status: 500 }, 'hang', { rejectSchema: true })
 */
export type FakeAnswer = { content: string } | { status: number } | 'hang' | { rejectSchema: true };

export const CHAT_PATH = '/v1/chat/completions';

export interface FakeOpenAi {
  baseUrl: string;
  requests: RecordedRequest[];
  calls(): RecordedRequest[];
  script(...answers: FakeAnswer[]): void;
  /** Hold the next call (a slow model) until releaseHeld(), which answers it as the next answer would. */
  hold(): void;
  releaseHeld(): number;
  /** Calls held now. */
  readonly heldCount: number;
  /** Forget the scripted answers not used yet and the request log. */
  reset(): void;
  close(): Promise<void>;
}

function completion(content: string, model: string): unknown {
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
  };
}

export async function startFakeOpenAi(opts: { defaultContent?: (req: RecordedRequest) => string; apiKey?: string; noJsonSchema?: boolean } = {}): Promise<FakeOpenAi> {
  const queue: FakeAnswer[] = [];
  const server = new FakeHttpServer((req): Reply => {
    if (req.method !== 'POST' || req.path !== CHAT_PATH) return { status: 404, json: { error: { message: 'not found' } } };
    if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`) return { status: 401, json: { error: { message: 'bad key' } } };
    const body = req.body as { model?: string; response_format?: { type: string } };
    const next = queue.shift();
    if (next === 'hang') return { status: 0, hang: true };
    if (next && 'status' in next) return { status: next.status, json: { error: { message: `scripted ${next.status}` } } };
    if ((next && 'rejectSchema' in next) || (opts.noJsonSchema && body.response_format?.type === 'json_schema')) {
      return { status: 400, json: { error: { message: 'response_format json_schema is not supported', type: 'invalid_request_error' } } };
    }
    const content = next && 'content' in next ? next.content : (opts.defaultContent?.(req) ?? '{}');
    return { status: 200, json: completion(content, body.model ?? 'fake') };
  });
  await server.listen();
  return {
    baseUrl: `${server.baseUrl}/v1`,
    requests: server.requests,
    calls: () => server.requestsTo(CHAT_PATH),
    script: (...answers) => queue.push(...answers),
    hold: () => server.fail(CHAT_PATH, 1, 'hold'),
    releaseHeld: () => server.releaseHeld(),
    get heldCount() {
      return server.heldCount;
    },
    reset: () => {
      queue.length = 0;
      server.requests.length = 0;
    },
    close: () => server.close(),
  };
}
