// A small HTTP load generator, run as its own process so it does not share the server's event loop.
// Input: a JSON file { requests: [{ path, body }] }. It sends each request once, POST, over
// `concurrency` keep-alive connections: first `warmup` requests (not measured), then the rest.
// Output (stdout, one JSON line): count, errors, statuses, durationMs, rps, p50Ms, p90Ms, p99Ms, maxMs.
import { readFileSync } from 'node:fs';
import http from 'node:http';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const base = new URL(args.url);
const concurrency = Number(args.concurrency ?? 64);
const warmup = Number(args.warmup ?? 0);
const { requests } = JSON.parse(readFileSync(args.requests, 'utf8'));
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });

function send(r) {
  return new Promise((resolve) => {
    const body = Buffer.from(r.body);
    const started = process.hrtime.bigint();
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        path: r.path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      },
    );
    req.on('error', () => resolve({ status: 0, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    req.end(body);
  });
}

async function phase(list) {
  let next = 0;
  const latencies = new Float64Array(list.length);
  const statuses = {};
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, list.length) }, async () => {
      while (next < list.length) {
        const i = next++;
        const r = await send(list[i]);
        latencies[i] = r.ms;
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      }
    }),
  );
  const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { latencies, statuses, durationMs };
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

await phase(requests.slice(0, warmup));
const { latencies, statuses, durationMs } = await phase(requests.slice(warmup));
const sorted = Array.from(latencies).sort((a, b) => a - b);
const count = sorted.length;
const errors = count - (statuses[200] ?? 0);
const round = (x) => Math.round(x * 100) / 100;
process.stdout.write(
  `${JSON.stringify({
    count,
    errors,
    statuses,
    durationMs: round(durationMs),
    rps: Math.round((count / durationMs) * 1000),
    p50Ms: round(pct(sorted, 50)),
    p90Ms: round(pct(sorted, 90)),
    p99Ms: round(pct(sorted, 99)),
    maxMs: round(sorted[count - 1]),
  })}\n`,
);
agent.destroy();
