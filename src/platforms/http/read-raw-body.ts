import type { IncomingMessage } from 'node:http';

export type RawBodyResult =
  | { ok: true; text: string }
  | { ok: false; status: 400 | 413 | 415; reason: string };

/** Media types without parameters, e.g. "application/json". An absent header is accepted. */
export function contentTypeAllowed(header: string | undefined, allowed: readonly string[]): boolean {
  if (header === undefined || header.trim() === '') return true;
  const type = header.split(';')[0]!.trim().toLowerCase();
  return allowed.includes(type);
}

/**
 * Read the request body ourselves with a byte cap (no body-parser: verification needs the exact
 * bytes, and a parser would buffer whatever size it is sent). Stops reading at the cap and answers
 * 413; bytes that are not valid UTF-8 answer 400.
 */
export async function readRawBody(req: IncomingMessage, limitBytes: number): Promise<RawBodyResult> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) {
    return { ok: false, status: 413, reason: 'body_too_large' };
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      total += buf.length;
      if (total > limitBytes) return { ok: false, status: 413, reason: 'body_too_large' };
      chunks.push(buf);
    }
  } catch {
    return { ok: false, status: 400, reason: 'body_read_failed' };
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(Buffer.concat(chunks));
    return { ok: true, text };
  } catch {
    return { ok: false, status: 400, reason: 'invalid_utf8' };
  }
}
