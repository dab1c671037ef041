import getRawBody from 'raw-body';
import type { Context } from 'koa';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the request body as UTF-8 text with a byte cap (raw-body enforces the limit while streaming,
 * so a 10 MB body is cut off early → 413). Invalid UTF-8 → 400.
 */
export async function readText(ctx: Context, limitBytes: number): Promise<string> {
  let buf: Buffer;
  try {
    buf = await getRawBody(ctx.req, { limit: limitBytes, length: ctx.get('content-length') || undefined });
  } catch (err) {
    const e = err as { status?: number; type?: string };
    if (e.status === 413 || e.type === 'entity.too.large') throw new HttpError(413, 'request body too large');
    throw new HttpError(400, 'could not read request body');
  }
  try {
    return utf8.decode(buf);
  } catch {
    throw new HttpError(400, 'request body is not valid UTF-8');
  }
}

export async function readJson(ctx: Context, limitBytes: number): Promise<unknown> {
  if (!ctx.is('application/json')) throw new HttpError(415, 'content-type must be application/json');
  const text = await readText(ctx, limitBytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}
