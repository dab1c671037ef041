import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake server saw it. */
export interface RecordedRequest {
  method: string;
  /** Path without the query, e.g. "/cgi-bin/webhook/send". */
  path: string;
  /** Query parameters, decoded once (as the real platform decodes them). */
  query: Record<string, string>;
  /** The raw query string, to check encoding. */
  rawQuery: string;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body, or the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
  bodyBytes: number;
  /** What the fake answered (unset while a 'hang' holds the request): HTTP status and errcode, if any. */
  answered?: { status: number; errcode?: number | string };
}

export type Reply = { status: number; json?: unknown; hang?: boolean };

/**
 * A scripted failure for the next N calls of one endpoint:
 * - 'http500': HTTP 500
 * - 'rate-limit': the platform's "too fast" answer
 * - 'expired-token': the platform's "access token expired" answer
 * - 'hang': never answer (to exercise the client timeout)
 * - 'hold': answer normally, but only when the test calls releaseHeld() (a slow platform)
 * - { errcode }: that errcode with HTTP 200
 */
/** 'pass': let this call through (to script a failure on a later call: fail(p, 1, 'pass'); fail(p, 1, 'http500')). */
export type Failure = 'pass' | 'http500' | 'rate-limit' | 'expired-token' | 'hang' | 'hold' | { errcode: number; errmsg?: string };

/** Shared machinery of the fakes: loopback listener, request log, failure script. */
export class FakeHttpServer {
  readonly requests: RecordedRequest[] = [];
  baseUrl = '';
  private readonly script = new Map<string, Failure[]>();
  private readonly hanging = new Set<ServerResponse>();
  private readonly held: (() => void)[] = [];
  protected server = createServer((req, res) => void this.onRequest(req, res));

  constructor(private readonly route: (req: RecordedRequest, failure: Failure | undefined) => Reply) {}

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
  }

  /** Answer the next `times` calls to `path` with `failure` instead of success. */
  fail(path: string, times: number, failure: Failure): void {
    const q = this.script.get(path) ?? [];
    for (let i = 0; i < times; i++) q.push(failure);
    this.script.set(path, q);
  }

  /** Requests to one path that the fake answered with success (HTTP 2xx and errcode 0 or none). */
  delivered(path: string): RecordedRequest[] {
    return this.requestsTo(path).filter((r) => r.answered && r.answered.status < 300 && (r.answered.errcode ?? 0) === 0);
  }

  /** Requests to one path, in arrival order. */
  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Requests a 'hold' failure is holding now. */
  get heldCount(): number {
    return this.held.length;
  }

  /** Answers every request held by a 'hold' failure, as the endpoint would have (the slow platform answers at last). */
  releaseHeld(): number {
    const n = this.held.length;
    for (const answer of this.held.splice(0)) answer();
    return n;
  }

  async close(): Promise<void> {
    this.held.length = 0;
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://fake');
    let body: unknown;
    if (raw.length > 0) {
      const text = raw.toString('utf8');
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      rawQuery: url.search.replace(/^\?/, ''),
      headers: req.headers,
      body,
      bodyBytes: raw.length,
    };
    this.requests.push(rec);
    const scripted = this.script.get(rec.path)?.shift();
    if (scripted === 'hold') {
      this.hanging.add(res);
      this.held.push(() => {
        this.hanging.delete(res);
        this.write(rec, res, this.route(rec, undefined));
      });
      return;
    }
    const failure = scripted === 'pass' ? undefined : scripted;
    this.write(rec, res, this.route(rec, failure));
  }

  private write(rec: RecordedRequest, res: ServerResponse, reply: Reply): void {
    if (!reply.hang) {
      const b = reply.json as { errcode?: number; code?: string } | undefined;
      rec.answered = { status: reply.status, errcode: b?.errcode ?? b?.code };
    }
    if (reply.hang) {
      this.hanging.add(res);
      return;
    }
    res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(reply.json === undefined ? '' : JSON.stringify(reply.json));
  }
}

/** The common part of each fake's answer to a scripted failure. */
export function genericFailure(failure: Failure): Reply | null {
  if (failure === 'http500') return { status: 500, json: { error: 'scripted 500' } };
  if (failure === 'hang') return { status: 0, hang: true };
  if (typeof failure === 'object') return { status: 200, json: { errcode: failure.errcode, errmsg: failure.errmsg ?? 'scripted' } };
  return null;
}
