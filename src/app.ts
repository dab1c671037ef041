import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Router from '@koa/router';
import type { Config } from './config';
import { createChat, type Chat } from './core/chat';
import { createPassiveReplies, createSettleSignal, INBOUND_SETTLED_CHANNEL } from './core/passive-replies';
import { startLoop } from './core/loop';
import { createCalendarProvider } from './core/clocks/clock-store';
import { createScheduler, type Scheduler } from './core/clocks/scheduler';
import { startSchedulerLoop } from './core/clocks/scheduler-loop';
import { loadPlaybooks } from './domain/playbooks';
import { loadComplaintPlaybook } from './domain/complaints';
import { complaintsFeature } from './features/complaints';
import { outboundHooksOf, timerSubjectsOf, upkeepOf, type Feature, type FeatureWorker } from './core/feature';
import { createLinkSigner, type LinkSigner } from './core/signed-link';
import type { RobotSetting, RouteDescription } from './core/types';
import type { ComplaintPlaybook } from './domain/complaints';
import type { CalendarProvider } from './core/clocks/clock-store';
import { rosterFeature } from './features/roster';
import { directoryFeature, proposeDirectoryChanges } from './features/directory';
import type { DirectorySource } from './features/directory';
import { clocksFeature } from './features/clocks';
import { createOrderClocks, ordersFeature, type OrderClocks } from './features/orders';
import { outboxFeature } from './features/outbox-admin';
import { clientGroupsFeature } from './features/client-groups';
import { triageFeature } from './features/triage';
import { helpFeature } from './features/help';
import { orderTextFeature } from './features/order-text';
import { draftingFeature } from './features/drafting';
import { createLlmClient, type LlmClient } from './llm/client';
import { reminderModeFeature } from './features/reminder-mode';
import { visitsFeature } from './features/visits';
import { reportsFeature } from './features/reports';
import { kanbanFeature } from './features/kanban';
import { createOutboxWorker, type OutboxWorker } from './core/outbox-worker';
import { createMetrics, watchDatabase, type Metrics } from './core/metrics';
import { createMetricsRouter, metricsEnabled } from './http/metrics-route';
import type { PlatformSender } from './core/types';
import { openDatabase, type Database } from './db/client';
import { createOutageTracker } from './db/outage';
import { seedDemo } from './db/seed-demo';
import { createHttpApp } from './http/server';
import type { Logger } from './log';
import { createSandboxRouter, sandboxSender } from './platforms/sandbox/sandbox-router';
import { createFastForward } from './platforms/sandbox/fast-forward';
import {
  configuredPlatforms,
  createDirectorySources,
  createDingtalkEventsRouter,
  createDingtalkRouter,
  createDingtalkStream,
  createRobotSetting,
  createRouteDescription,
  createSenders,
  createWecomAibotWs,
  createWecomRouter,
  purgeExpiredSignPairs,
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
  /** The features' background workers (e.g. the triage model jobs); run by the loops, or by hand in tests. */
  workers: FeatureWorker[];
  scheduler: Scheduler;
  /** This app's Prometheus registry and counters (GET /metrics when METRICS_TOKEN or METRICS_LOOPBACK is set). */
  metrics: Metrics;
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
  /** Signs the links features hand out in chat (看板, exports); default: key kept in the database. */
  links?: LinkSigner;
  /** The bot's public base URL (no trailing slash), for links in replies. */
  publicUrl?: () => string;
  /** An OpenAI-compatible model (LLM_BASE_URL); absent: the triage and drafting features use their rules. */
  llm?: LlmClient | null;
  /** What `/群` shows about the group's channels and @ (platforms/robot-setting.ts). */
  describeRoute?: RouteDescription;
  /** How long a `/看板` link works, in hours (KANBAN_LINK_HOURS; default 12). */
  kanbanLinkHours?: number;
  /** ADMIN_USERIDS: admins see everything on the 看板 too. */
  adminUserids?: readonly string[];
  /** The platforms' contact directories for `/成员 同步` (none: the command says how to configure one). */
  directory?: readonly DirectorySource[];
}

/**
 * Every feature of the bot, in one place: the chat core and the scheduler get this list and know no
 * feature by name. Adding a feature is its folder plus one line here (README: 如何添加一个功能).
 * The order is the order of `/帮助`'s topics.
 */
export function createFeatures(deps: FeatureDeps): Feature[] {
  const links = deps.links ?? createLinkSigner();
  const publicUrl = deps.publicUrl ?? (() => 'http://127.0.0.1:3000');
  const { calendar, complaintPlaybook, llm } = deps;
  return [
    ordersFeature({ clocks: deps.clocks }),
    clocksFeature({ calendar }),
    complaintsFeature({ playbook: complaintPlaybook, calendar }),
    rosterFeature({ robotSetting: deps.robotSetting, describeRoute: deps.describeRoute }),
    directoryFeature({ sources: deps.directory ?? [] }),
    outboxFeature(),
    reminderModeFeature(),
    clientGroupsFeature({ clocks: deps.clocks, calendar }),
    triageFeature({ calendar, llm, complaintPlaybook }),
    orderTextFeature({ calendar, llm }),
    draftingFeature({ llm }),
    visitsFeature({ calendar }),
    reportsFeature({ calendar, complaintPlaybook, links, publicUrl }),
    kanbanFeature({ links, publicUrl, linkHours: deps.kanbanLinkHours ?? 12, playbook: deps.clocks.playbook, complaintPlaybook, calendar, adminUserids: deps.adminUserids ?? [] }),
    // Last: `/帮助` and `/查` read what the others registered.
    helpFeature(),
  ];
}

/** The model client when LLM_BASE_URL is set; the startup log says which (never the key). */
function llmFrom(config: Config, log: Logger): LlmClient | null {
  if (!config.LLM_BASE_URL) {
    log.info('no model configured (LLM_BASE_URL): complaint triage, free-text orders and drafts use the rules');
    return null;
  }
  log.info({ model: config.LLM_MODEL, privacy: config.LLM_PRIVACY !== 'off', timeoutMs: config.LLM_TIMEOUT_MS }, 'model configured for complaint triage, free-text orders and drafts');
  return createLlmClient(
    { baseURL: config.LLM_BASE_URL, apiKey: config.LLM_API_KEY, model: config.LLM_MODEL, timeoutMs: config.LLM_TIMEOUT_MS, privacy: config.LLM_PRIVACY !== 'off' },
    log,
  );
}

/** After a sandbox fast-forward: upkeep, every timer that came due (a rung can make the next one due), then delivery. */
async function runDue(scheduler: Scheduler, outbox: OutboxWorker): Promise<number> {
  await scheduler.maintain();
  let sent = 0;
  for (let round = 0; round < 10; round++) {
    const r = await scheduler.tick();
    sent += r.sent;
    if (!r.claimed) break;
  }
  await outbox.drain();
  return sent;
}

/** The composition root: database → chat core → adapters → HTTP, plus the background loops. */
export async function startApp(opts: AppOptions): Promise<App> {
  const { config, log } = opts;
  const platforms = configuredPlatforms(config);
  // The sandbox may move time forward (sandbox/fast-forward.ts), but only while no real group can see it.
  const fastForward = config.sandboxEnabled && !platforms.wecom && !platforms.dingtalk ? createFastForward(opts.clock ?? (() => new Date())) : null;
  const clock = fastForward?.clock ?? opts.clock ?? (() => new Date());
  const database =
    opts.database ?? (await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATABASE_URL ? undefined : config.DATA_DIR }));
  await database.migrate();
  const db = database.db;

  let seeded = false;
  if (config.sandboxEnabled && config.DEMO_SEED === 'on') seeded = await seedDemo(db, clock());

  const playbook = loadPlaybooks(config.PLAYBOOK_FILE ? { overridePath: config.PLAYBOOK_FILE } : {});
  const [start, end] = config.WORKING_HOURS.split('-') as [string, string];
  const calendar = createCalendarProvider({ timeZone: config.TIMEZONE, workingHours: { start, end } });
  const clocks = createOrderClocks({ playbook, calendar });
  // The listening address is known only after listen(); links read it lazily.
  let baseUrl = '';
  const directorySources = createDirectorySources(config, { clock });
  const features = createFeatures({
    links: createLinkSigner({ secret: config.LINK_SECRET }),
    publicUrl: () => config.PUBLIC_URL ?? baseUrl,
    clocks,
    complaintPlaybook: loadComplaintPlaybook(config.COMPLAINT_PLAYBOOK_FILE ? { overridePath: config.COMPLAINT_PLAYBOOK_FILE } : {}),
    calendar,
    robotSetting: createRobotSetting(config),
    llm: llmFrom(config, log),
    describeRoute: createRouteDescription(),
    kanbanLinkHours: config.KANBAN_LINK_HOURS,
    adminUserids: config.ADMIN_USERIDS,
    directory: directorySources,
  });
  // One registry per app (never prom-client's global one); process metrics only when /metrics is served.
  const metricsAccess = { token: config.METRICS_TOKEN, loopback: config.METRICS_LOOPBACK };
  const metrics = createMetrics({ processMetrics: metricsEnabled(metricsAccess) });
  watchDatabase(metrics, { db, clock, pool: () => (database.poolSize ? { max: database.poolSize } : null) });
  const scheduler = createScheduler({ db, calendar, log, clock, subjects: timerSubjectsOf(features), outbound: outboundHooksOf(features), upkeep: [...upkeepOf(features), purgeExpiredSignPairs], metrics });
  // Wakes a callback waiting for its passive reply when the message is handled (here, or on another instance).
  const settled = createSettleSignal();
  const chat = createChat({ db, log, clock, adminUserids: config.ADMIN_USERIDS, features, metrics, signal: settled });
  const senders: PlatformSender[] = [];
  if (config.sandboxEnabled) senders.push(sandboxSender);
  // ---- WeCom / DingTalk: senders (platforms integration) ----
  // One database outage, one warning line: shared by the HTTP server and every inbound path.
  const outage = createOutageTracker(log, clock);
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
        outage,
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
    onResult: (r) => metrics.sends.inc({ platform: r.platform, channel: r.channel || r.platform, result: r.result }),
  });

  const routers: Router[] = [createMetricsRouter(metrics, metricsAccess)];
  for (const f of features) if (f.routes) routers.push(f.routes({ db, clock, log }));
  const workers = features.flatMap((f) => (f.worker ? [f.worker({ db, clock, log: log.child({ worker: f.name }) })] : []));
  if (config.sandboxEnabled) {
    routers.push(
      createSandboxRouter({
        db,
        chat,
        outbox,
        clock,
        bodyLimit: config.BODY_LIMIT_BYTES,
        ...(fastForward ? { fastForward: { ff: fastForward, calendar, runDue: () => runDue(scheduler, outbox) } } : {}),
      }),
    );
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
    const passive = { replies: createPassiveReplies({ db, clock, signal: settled }), windowMs: config.WECOM_AIBOT_PASSIVE_MS, streamAfterMs: config.WECOM_AIBOT_STREAM_AFTER_MS };
    // Another instance may handle the message: its commit's NOTIFY wakes the request waiting here.
    if (platforms.wecomAibot && passive.windowMs > 0) await database.listen?.(INBOUND_SETTLED_CHANNEL, (key) => settled.settle(key));
    routers.push(createWecomRouter({ config, clock, onInbound, log, passive, metrics, outage }));
  }
  if (platforms.dingtalk && config.DINGTALK_MODE === 'http') {
    callbackPaths.push(config.DINGTALK_CALLBACK_PATH);
    routers.push(createDingtalkRouter({ config, clock, onInbound, log, db, metrics, outage }));
  }
  // Event subscription over HTTP (group joins → a welcome): in either mode, when its keys are set.
  if (platforms.dingtalkEvents) {
    callbackPaths.push(config.DINGTALK_EVENT_PATH);
    routers.push(createDingtalkEventsRouter({ config, clock, onInbound, log, metrics, outage }));
  }
  const stream: DingtalkStream | null =
    platforms.dingtalk && config.DINGTALK_MODE === 'stream' ? createDingtalkStream({ config, clock, onInbound, log, outage }) : null;
  // ---- end platforms integration ----
  const http = createHttpApp({ log, health: database.health, routers, outage, requestTimeoutMs: config.REQUEST_TIMEOUT_MS });
  const server = http.listen(config.PORT, config.HOST);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 5_000;
  const addr = server.address() as AddressInfo;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  const url = `http://${host}:${addr.port}`;
  baseUrl = url;

  let loops: ReturnType<typeof startLoop>[] = [];
  let pokeWorkers = () => {};
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
        if (handled > 0) {
          outboxLoop.poke(); // replies were just queued
          pokeWorkers(); // and perhaps jobs for the workers
        }
        if (handled >= INBOUND_BATCH) inboundLoop.poke();
      },
      250,
      log,
    );
    // Features' background work (model calls) runs here, never inside a message's transaction.
    const workerLoops = workers.map((w) =>
      startLoop(
        `worker:${w.name}`,
        async () => {
          if ((await w.runOnce()) > 0) outboxLoop.poke(); // its notices were just queued
        },
        500,
        log,
      ),
    );
    pokeInbound = () => inboundLoop.poke();
    if (directorySources.length) {
      // The daily directory check: at start and then every 24 h on each instance; at most one proposal a day
      // across instances (features/directory).
      loops.push(startLoop('directory', () => proposeDirectoryChanges(db, directorySources, clock()).then(() => outboxLoop.poke()), 24 * 60 * 60_000, log));
    }
    pokeOutbox = () => outboxLoop.poke();
    pokeWorkers = () => workerLoops.forEach((l) => l.poke());
    loops.push(outboxLoop, inboundLoop, ...workerLoops);
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

  return { config, database, chat, outbox, workers, scheduler, metrics, server, url, seeded, callbackPaths, close };
}
