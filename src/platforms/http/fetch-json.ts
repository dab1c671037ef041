import { UpstreamHttpError } from '../../core/errors';

export interface JsonResponse {
  status: number;
  /** Parsed JSON body; null when the body was empty. */
  body: unknown;
}

export interface FetchJsonOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
}

/**
 * One HTTP call to a platform with a timeout. Network errors, timeouts, 5xx and unreadable
 * answers become UpstreamHttpError (retryable, URL redacted); 2xx-4xx with JSON are returned for
 * the caller to read the platform's error code.
 */
export async function fetchJson(url: string, options: FetchJsonOptions): Promise<JsonResponse> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: options.method ?? 'POST',
      headers: {
        accept: 'application/json',
        ...(options.body !== undefined ? { 'content-type': 'application/json; charset=utf-8' } : {}),
        ...options.headers,
      },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (cause) {
    throw new UpstreamHttpError(url, null, { cause: stripCause(cause) });
  }
  let text: string;
  try {
    text = await res.text();
  } catch (cause) {
    throw new UpstreamHttpError(url, res.status, { cause: stripCause(cause) });
  }
  if (res.status >= 500) throw new UpstreamHttpError(url, res.status);
  if (text.trim() === '') return { status: res.status, body: null };
  try {
    return { status: res.status, body: JSON.parse(text) as unknown };
  } catch {
    throw new UpstreamHttpError(url, res.status);
  }
}

/** undici's errors can carry the request URL (with its key) in their message: keep name and code only. */
function stripCause(cause: unknown): Error {
  if (cause instanceof Error) {
    const inner = (cause as { cause?: { code?: unknown } }).cause;
    const code = inner && typeof inner.code === 'string' ? ` ${inner.code}` : '';
    const e = new Error(`${cause.name}${code}`);
    e.name = cause.name;
    return e;
  }
  return new Error('network error');
}
