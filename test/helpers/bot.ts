import pino from 'pino';
import type { Logger } from '../../src/log';
import { createChat } from '../../src/core/chat';
import type { Db } from '../../src/db/client';
import { seedDemo } from '../../src/db/seed-demo';
import { createCalendarProvider } from '../../src/core/clocks/clock-store';
import { createOrderClocks } from '../../src/features/orders/order-clocks';
import { createScheduler } from '../../src/core/clocks/scheduler';
import { loadPlaybooks } from '../../src/domain/playbooks';
import { loadComplaintPlaybook } from '../../src/domain/complaints';
import { createFeatures, type FeatureDeps } from '../../src/app';
import { outboundHooksOf, timerSubjectsOf, upkeepOf, type Feature } from '../../src/core/feature';
import { uncoveredYearWarning } from '../../src/features/clocks';
import type { CalendarProvider } from '../../src/core/clocks/clock-store';
import type { LlmClient } from '../../src/llm/client';

export const playbook = loadPlaybooks();

/** The order clocks on the default playbook and calendar, for tests that build the chat core themselves. */
export function testClocks() {
  const calendar = createCalendarProvider({ timeZone: 'Asia/Shanghai', workingHours: { start: '09:00', end: '18:00' } });
  return { calendar, clocks: createOrderClocks({ playbook, calendar }) };
}
export const complaintPlaybook = loadComplaintPlaybook();

export const silentLog = pino({ level: 'silent' });

/** A controllable clock: tests move it instead of sleeping. */
export function fakeClock(start = '2026-11-23T02:00:00Z') {
  let now = new Date(start).getTime();
  const clock = () => new Date(now);
  return Object.assign(clock, {
    set(iso: string) {
      now = new Date(iso).getTime();
    },
    advance(ms: number) {
      now += ms;
    },
  });
}

let seq = 0;

/** The chat core on a test database with the demo organisation, and a `say` helper. */
export async function demoBot(
  db: Db,
  opts: { admins?: string[]; clock?: () => Date; features?: Feature[]; llm?: LlmClient | null; log?: Logger; deps?: Pick<FeatureDeps, 'robotSetting' | 'describeRoute'> } = {},
) {
  const clock = opts.clock ?? fakeClock();
  await seedDemo(db, clock());
  const { calendar, clocks } = testClocks();
  const features = [...createFeatures({ clocks, complaintPlaybook, calendar, llm: opts.llm ?? null, ...opts.deps }), ...(opts.features ?? [])];
  const subjects = timerSubjectsOf(features);
  const scheduler = createScheduler({ db, calendar, log: silentLog, clock, subjects, outbound: outboundHooksOf(features), upkeep: upkeepOf(features) });
  const chat = createChat({ db, log: silentLog, clock, adminUserids: opts.admins ?? [], features });
  // The complaints feature's timers (tests start a second scheduler on them).
  const complaints = { timerSubject: features.find((f) => f.name === 'complaints')!.timerSubjects![0]! };
  const say = async (from: string, text: string, o: { group?: string; mentions?: string[]; id?: string; quote?: string; name?: string } = {}) => {
    const r = await chat.handleNow({
      platform: 'sandbox',
      conversationId: o.group ?? 'demo-internal',
      senderId: from,
      ...(o.name ? { senderName: o.name } : {}),
      messageId: o.id ?? `m${++seq}-${Math.random().toString(36).slice(2)}`,
      text,
      mentions: o.mentions ?? [],
      ...(o.quote ? { quotedText: o.quote } : {}),
      receivedAt: clock(),
    });
    return r.replies.map((x) => x.text).join('\n');
  };
  // The features' background workers (the triage model jobs), driven by hand: `await bot.runWorkers()`.
  const workers = features.flatMap((f) => (f.worker ? [f.worker({ db, clock, log: opts.log ?? silentLog })] : []));
  const runWorkers = async (maxRounds = 20) => {
    let total = 0;
    for (let i = 0; i < maxRounds; i++) {
      let n = 0;
      for (const w of workers) n += await w.runOnce();
      total += n;
      if (n === 0) break;
    }
    return total;
  };
  return { chat, say, clock, scheduler, calendar, clocks, complaints, features, workers, runWorkers, warnUncoveredYears: yearWarning(db, calendar, silentLog, clock) };
}

/** The clocks feature's missing-year warning (minute upkeep), run by hand: returns the uncovered years in view. */
export function yearWarning(db: Db, calendar: CalendarProvider, log: Logger, clock: () => Date) {
  const warn = uncoveredYearWarning();
  return () => warn({ db, now: clock(), calendar, log });
}

export const REFUSED = /^(抱歉|您好！这条命令仅供)/;

/** The `/帮助` topics of the app's features, in their order. */
export const HELP_TOPICS = [...new Set(createFeatures({ ...testClocks(), complaintPlaybook }).flatMap((f) => (f.help ? [f.help.topic] : [])))];
