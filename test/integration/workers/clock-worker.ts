/**
 * One "instance" for the multi-instance and crash tests: a scheduler and an outbox worker on a shared
 * PostgreSQL, sending to a fake platform server over real HTTP. argv: <databaseUrl> <fakeServerUrl> <leaseMs>
 */
import pino from 'pino';
import { createCalendarProvider } from '../../../src/core/clocks/clock-store';
import { createScheduler } from '../../../src/core/clocks/scheduler';
import { orderTimerSubjects } from '../../../src/features/orders/order-subjects';
import { createOutboxWorker } from '../../../src/core/outbox-worker';
import { openDatabase } from '../../../src/db/client';
import { loadPlaybooks } from '../../../src/domain/playbooks';

const [databaseUrl, fakeUrl, leaseMs] = process.argv.slice(2) as [string, string, string];
const log = pino({ level: 'silent' });
const database = await openDatabase({ url: databaseUrl, max: 4 });
const playbook = loadPlaybooks({ overridePath: new URL('../../fixtures/load-playbook.json', import.meta.url).pathname });
const calendar = createCalendarProvider({ timeZone: 'Asia/Shanghai', workingHours: { start: '09:00', end: '18:00' } });
const clock = () => new Date();
const scheduler = createScheduler({ db: database.db, calendar, log, clock, batch: 500, subjects: orderTimerSubjects(playbook) });
const outbox = createOutboxWorker({
  db: database.db,
  log,
  clock,
  leaseMs: Number(leaseMs),
  batch: 200,
  senders: [
    {
      platform: 'sandbox',
      rateKey: () => null,
      async send(target, message) {
        const res = await fetch(fakeUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ key: target.messageKey, conversation: target.conversationId, text: message.text, pid: process.pid }),
        });
        if (!res.ok) throw Object.assign(new Error(`fake server ${res.status}`), { retryable: true });
      },
    },
  ],
});

let stop = false;
process.on('SIGTERM', () => (stop = true));
process.send?.('ready');
while (!stop) {
  const t = await scheduler.tick();
  const o = await outbox.runOnce();
  if (t.claimed === 0 && o === 0) await new Promise((r) => setTimeout(r, 100));
}
await database.close();
process.exit(0);
