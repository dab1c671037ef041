import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { startTestApp } from '../helpers/app';

/**
 * A client that declares a 100 MiB body and sends it slowly: the server answers 413 at once and then
 * closes the connection, instead of reading (and waiting for) the whole body.
 */

interface Outcome {
  response: string;
  closedAfterMs: number | null;
  bytesSent: number;
}

function sendDeclaredHugeBody(baseUrl: string, path: string, headers: Record<string, string>, giveUpMs: number): Promise<Outcome> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let response = '';
    let bytesSent = 0;
    const started = performance.now();
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let pump: NodeJS.Timeout | undefined;
    const finish = (closedAfterMs: number | null) => {
      clearInterval(pump);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ response, closedAfterMs, bytesSent });
    };
    const giveUp = setTimeout(() => finish(null), giveUpMs);
    socket.on('data', (d: Buffer) => (response += d.toString('latin1')));
    socket.on('error', () => {}); // a reset after the answer is a close too
    socket.on('close', () => finish(performance.now() - started));
    socket.on('connect', () => {
      const head = [`POST ${path} HTTP/1.1`, `Host: ${url.host}`, 'Content-Length: 104857600', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''];
      socket.write(head.join('\r\n'));
      // A slow sender: 64 KiB every 20 ms (the whole body would take over half a minute).
      pump = setInterval(() => {
        if (socket.writable) {
          socket.write(chunk);
          bytesSent += chunk.length;
        }
      }, 20);
    });
  });
}

describe('a declared oversized body', () => {
  let app: App;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => app?.close());

  it('gets 413 with Connection: close, and the socket is closed while the client still has body to send', async () => {
    const r = await sendDeclaredHugeBody(app.url, '/sandbox/api/messages', { 'Content-Type': 'application/json' }, 5_000);
    expect(r.response).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.response.toLowerCase()).toContain('connection: close');
    expect(r.closedAfterMs, 'the server kept the connection open').not.toBeNull();
    expect(r.closedAfterMs!).toBeLessThan(2_000);
    expect(r.bytesSent).toBeLessThan(104_857_600 / 10);
  });

  it('still serves new connections afterwards', async () => {
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });
});
