import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Router from '@koa/router';
import type { Config } from './config';
import { createChat, type Chat } from './core/chat';
import { createPassiveReplies } from './core/passive-replies';
import { startLoop } from './core/loop';
import { createCalendarProvider } from './core/clocks/clock-store';
import { createOrderClocks, type OrderClocks } from './core/clocks/order-clocks';
import { createScheduler, type Scheduler } from './core/clocks/scheduler';
import { startSchedulerLoop } from './core/clocks/scheduler-loop';
import { loadPlaybooks } from './domain/playbooks';
import { loadComplaintPlaybook } from './domain/complaints';
import { createComplaints } from './core/complaints';
import { timerSubjectsOf, type Feature } from './core/feature';
import type { RobotSetting } from './core/types';
import type { ComplaintPlaybook } from './domain/complaints';
import type { CalendarProvider } from './core/clocks/clock-store';
import { adminFeature } from './features/admin';
import { directoryFeature, proposeDirectoryChanges } from './features/directory';
import type { DirectorySource } from './core/directory';
import { clocksFeature } from './features/clocks';
import { ordersFeature } from './features/orders';
import { outboxFeature } from './features/outbox';
import { createOutboxWorker, type OutboxWorker } from './core/outbox-worker';
import type { PlatformSender } from './core/types';
import { openDatabase, type Database } from './db/client';
import { seedDemo } from './db/seed-demo';
import { createHttpApp } from './http/server';
import type { Logger } from './log';
import { createSandboxRouter, sandboxSender } from './platforms/sandbox/sandbox-router';
import {
  configuredPlatforms,
  createDirectorySources,
  createDingtalkRouter,
  createDingtalkStream,
  createRobotSetting,
  createSenders,
  createWecomAibotWs,
  createWecomRouter,
  WecomWsSender,
  type DingtalkStream,
  type OnInbound,
} from './platforms';

const INBOUND_BATCH = 20;
const OUTBOX_BATCH = 50;

export interface AppOptions {
  config: Config;
  log: Logger;
  clock?: () => Date;
  /** Use this database instead of opening one from the config (tests). */
  database?: Database;
  /** Background loops (outbox, inbound); tests may drive them by hand. */
  loops?: boolean;
}

export interface App {
  config: Config;
  database: Database;
  chat: Chat;
  outbox: OutboxWorker;
  scheduler: Scheduler;
  server: Server;
  url: string;
  seeded: boolean;
  /** Callback paths mounted for WeCom and DingTalk (for the startup log and the setup steps). */
  callbackPaths: string[];
  close(): Promise<void>;
}

export interface FeatureDeps {
  clocks: OrderClocks;
  complaintPlaybook: ComplaintPlaybook;
  calendar: CalendarProvider;
  /** What `/群 机器人=…` does per platform; absent: the command says it is not needed. */
  robotSetting?: RobotSetting;
  /** The platforms' contact directories for `/成员 同步` (none: the command says how to configure one). */
  directory?: readonly DirectorySource[];
}

/**
 * Every feature of the bot, in one place: the chat core and the scheduler get this list and know no
 * feature by name. Adding a feature is its folder plus one line here (README: 如何添加一个功能).
 * The order is the order of `/帮助`'s topics.
 */
export function createFeatures(deps: FeatureDeps): Feature[] {
  return [
    ordersFeature({ clocks: deps.clocks }),
    clocksFeature({ clocks: deps.clocks }),
    createComplaints({ playbook: deps.complaintPlaybook, calendar: deps.calendar }).feature,
    adminFeature({ robotSetting: deps.robotSetting }),
    directoryFeature({ sources: deps.directory ?? [] }),
    outboxFeature(),
  ];
}

/** The composition root: database → chat core → adapters → HTTP, plus the background loops. */
export async function startApp(opts: AppOptions): Promise<App> {
  const { config, log } = opts;
  const clock = opts.clock ?? (() => new Date());
  const database =
    opts.database ?? (await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATABASE_URL ? undefined : config.DATA_DIR }));
  await database.migrate();
  const db = database.db;

  let seeded = false;
  if (config.sandboxEnabled && config.DEMO_SEED === 'on') seeded = await seedDemo(db);

  const playbook = loadPlaybooks(config.PLAYBOOK_FILE ? { overridePath: config.PLAYBOOK_FILE } : {});
  const [start, end] = config.WORKING_HOURS.split('-') as [string, string];
  const calendar = createCalendarProvider({ timeZone: config.TIMEZONE, workingHours: { start, end } });
  const clocks = createOrderClocks({ playbook, calendar });
  const directorySources = createDirectorySources(config, { clock });
  const features = createFeatures({
    clocks,
    complaintPlaybook: loadComplaintPlaybook(config.COMPLAINT_PLAYBOOK_FILE ? { overridePath: config.COMPLAINT_PLAYBOOK_FILE } : {}),
    calendar,
    robotSetting: createRobotSetting(config),
    directory: directorySources,
  });
  const scheduler = createScheduler({ db, playbook, calendar, log, clock, subjects: timerSubjectsOf(features) });
  const chat = createChat({ db, log, clock, adminUserids: config.ADMIN_USERIDS, features });
  const senders: PlatformSender[] = [];
  if (config.sandboxEnabled) senders.push(sandboxSender);
  // ---- WeCom / DingTalk: senders (platforms integration) ----
  const platforms = configuredPlatforms(config);
  senders.push(...createSenders(config, { clock, log }));
  // WeCom AI bot long connection: replies and pushes go on the connection; the HTTP sender stays the fallback.
  let pushInbound: OnInbound = async () => 'duplicate';
  const aibotWs = platforms.wecomAibotWs
    ? createWecomAibotWs({
        url: config.WECOM_AIBOT_WS_URL,
        botId: config.WECOM_AIBOT_BOT_ID!,
        secret: config.WECOM_AIBOT_SECRET!,
        clock,
        log,
        botName: config.WECOM_BOT_NAME,
        onInbound: (m) => pushInbound(m),
      })
    : null;
  if (aibotWs) {
    const i = senders.findIndex((s) => s.platform === 'wecom');
    const ws = new WecomWsSender(aibotWs, clock, i >= 0 ? senders[i] : undefined);
    if (i >= 0) senders[i] = ws;
    else senders.push(ws);
  }
  const outbox = createOutboxWorker({
    db,
    senders,
    log,
    clock,
    batch: OUTBOX_BATCH,
    ratePerWindow: config.OUTBOX_RATE_PER_MINUTE,
    concurrency: config.OUTBOX_CONCURRENCY,
  });

  const routers: Router[] = [];
  if (config.sandboxEnabled) {
    routers.push(createSandboxRouter({ db, chat, outbox, clock, bodyLimit: config.BODY_LIMIT_BYTES }));
  }

  // ---- WeCom / DingTalk: callbacks in (platforms integration) ----
  // Acknowledge first, then handle: the callback only records the message (the database's unique key
  // dedupes retries) and wakes the inbound loop; the reply goes out later through the outbox.
  let pokeInbound = () => {};
  let pokeOutbox = () => {};
  const onInbound: OnInbound = async (msg) => {
    const outcome = await chat.accept(msg);
    if (outcome === 'accepted') pokeInbound();
    return outcome;
  };
  pushInbound = onInbound;
  const callbackPaths: string[] = [];
  if (platforms.wecomApp) callbackPaths.push(config.WECOM_CALLBACK_PATH);
  if (platforms.wecomAibot) callbackPaths.push(config.WECOM_AIBOT_PATH);
  if (platforms.wecomApp || platforms.wecomAibot) {
    const passive = { replies: createPassiveReplies({ db, clock }), windowMs: config.WECOM_AIBOT_PASSIVE_MS };
    routers.push(createWecomRouter({ config, clock, onInbound, log, passive }));
  }
  if (platforms.dingtalk && config.DINGTALK_MODE === 'http') {
    callbackPaths.push(config.DINGTALK_CALLBACK_PATH);
    routers.push(createDingtalkRouter({ config, clock, onInbound, log }));
  }
  const stream: DingtalkStream | null =
    platforms.dingtalk && config.DINGTALK_MODE === 'stream' ? createDingtalkStream({ config, clock, onInbound, log }) : null;
  // ---- end platforms integration ----
  const http = createHttpApp({ log, health: database.health, routers });
  const server = http.listen(config.PORT, config.HOST);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 5_000;
  const addr = server.address() as AddressInfo;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  const url = `http://${host}:${addr.port}`;

  let loops: ReturnType<typeof startLoop>[] = [];
  if (opts.loops !== false) {
    const outboxLoop = startLoop(
      'outbox',
      async () => {
        // A full batch means more may be due: go again at once.
        if ((await outbox.runOnce()) >= OUTBOX_BATCH) outboxLoop.poke();
      },
      config.OUTBOX_POLL_MS,
      log,
    );
    const inboundLoop = startLoop(
      'inbound',
      async () => {
        const handled = await chat.processPending(INBOUND_BATCH);
        if (handled > 0) outboxLoop.poke(); // replies were just queued
        if (handled >= INBOUND_BATCH) inboundLoop.poke();
      },
      250,
      log,
    );
    pokeInbound = () => inboundLoop.poke();
    if (directorySources.length) {
      // The daily directory check: at start and then every 24 h on each instance; at most one proposal a day
      // across instances (features/directory).
      loops.push(startLoop('directory', () => proposeDirectoryChanges(db, directorySources, clock()).then(() => outboxLoop.poke()), 24 * 60 * 60_000, log));
    }
    pokeOutbox = () => outboxLoop.poke();
    loops.push(outboxLoop, inboundLoop);
  }
  // Stream mode connects out; connect() retries on its own, so startup does not wait for it.
  const streamStarted = stream ? stream.start() : Promise.resolve();
  aibotWs?.start();

  const schedulerLoop =
    opts.loops === false
      ? null
      : startSchedulerLoop({ db, scheduler, cron: config.SCHEDULER_CRON, log, clock, onSent: () => pokeOutbox() });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Stop accepting, let in-flight requests finish (bounded), stop the loops, then the database.
      if (stream) {
        stream.stop();
        // A connect still in flight would open the socket after stop(): close it once it settles.
        void streamStarted.then(() => stream.stop());
      }
      aibotWs?.stop();
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 3_000);
      await serverClosed;
      clearTimeout(force);
      await schedulerLoop?.stop();
      await Promise.all(loops.map((l) => l.stop()));
      if (!opts.database) await database.close();
    })());

  return { config, database, chat, outbox, scheduler, server, url, seeded, callbackPaths, close };
}
