import type Router from '@koa/router';
import Koa from 'koa';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { loadConfig, type Config } from '../../src/config';
import type { InboundMessage } from '../../src/core/types';

/** Config through the real zod module, as production builds it. */
export function testConfig(env: Record<string, string>): Config {
  return loadConfig({ NODE_ENV: 'test', ...env });
}

/** A clock that stands still unless a test moves it. */
export function fixedClock(ms: number): { (): Date; set(ms: number): void; advance(ms: number): void } {
  let t = ms;
  const clock = () => new Date(t);
  clock.set = (v: number) => {
    t = v;
  };
  clock.advance = (d: number) => {
    t += d;
  };
  return clock;
}

/** A pino logger whose lines are kept, to assert that no secret reaches a log line. */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

/** onInbound double: records messages, answers 'duplicate' for an id seen before (as the database would). */
export function recordingInbound() {
  const messages: InboundMessage[] = [];
  const seen = new Set<string>();
  const onInbound = async (m: InboundMessage): Promise<'accepted' | 'duplicate'> => {
    messages.push(m);
    const key = `${m.platform}:${m.messageId}`;
    if (seen.has(key)) return 'duplicate';
    seen.add(key);
    return 'accepted';
  };
  return { messages, onInbound };
}

/** Mount routers on a real Koa app listening on 127.0.0.1 with a random port. */
export async function serve(...routers: Router[]): Promise<{ baseUrl: string; close: () => Promise<void> }> {
  const app = new Koa();
  for (const r of routers) app.use(r.routes()).use(r.allowedMethods());
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
