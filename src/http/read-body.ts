import type { Context } from 'koa';
import { readRawBody } from '../platforms/http/read-raw-body';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** A JSON body, read with the shared byte-capped UTF-8 reader: 415 / 413 / 400 otherwise. */
export async function readJson(ctx: Context, limitBytes: number): Promise<unknown> {
  if (!ctx.is('application/json')) throw new HttpError(415, 'content-type must be application/json');
  const body = await readRawBody(ctx.req, limitBytes);
  if (!body.ok) throw new HttpError(body.status, body.reason);
  try {
    return JSON.parse(body.text);
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}
