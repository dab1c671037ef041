import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import { and, asc, eq, gt } from 'drizzle-orm';
import { z } from 'zod';
import type { Chat } from '../../core/chat';
import { cleanInbound } from '../../core/clean-text';
import type { OutboxWorker } from '../../core/outbox-worker';
import type { PlatformSender } from '../../core/types';
import type { Db } from '../../db/client';
import { chatLog, groups, people } from '../../db/schema';
import { DatabaseTimeoutError, withinBudget } from '../../db/errors';
import { HttpError, readJson } from '../../http/read-body';
import type { WorkCalendar } from '../../domain/calendar';
import { formatInstantInChinese } from '../../domain/calendar';
import { parseFastForward, type FastForward } from './fast-forward';

/** The sandbox "platform": delivering a message means it is in the chat log, which the worker writes. */
export const sandboxSender: PlatformSender = {
  platform: 'sandbox',
  async send() {},
  rateKey: () => null,
};

const id = z
  .string()
  .trim()
  .min(1)
  .max(128)
  .regex(/^[^\s]+$/, 'must not contain spaces');

const postBody = z.object({
  group: id,
  from: id,
  // Longer than MAX_MESSAGE_CHARS is answered politely by the chat core (the body limit bounds it).
  // Empty only for a card click (`card`): the command is the one the button was issued for.
  text: z.string().default(''),
  /** A click on a card button: the token the bot issued for it (card_actions), as the platforms report it. */
  card: z.string().regex(/^b[A-Za-z0-9_-]{16}$/, 'must be a card button token').optional(),
  mentions: z.array(id).max(50).default([]),
  /** Optional: a stable id makes a re-post a retry (deduplicated). */
  id: id.optional(),
  title: z.string().max(100).optional(),
  name: z.string().max(50).optional(),
  /** Text of the message this one replies to or forwards (e.g. a client's message relayed with /投诉). */
  quote: z.string().min(1).max(4000).optional(),
});

const postMessage = postBody.refine((b) => b.text.length > 0 || b.card !== undefined, { message: 'text or card is required', path: ['text'] });

const PAGE = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'sandbox-page.html'), 'utf8');

/** As the WeCom and DingTalk routes (their inbound timeout). */
const SANDBOX_BUDGET_MS = 4000;

export function createSandboxRouter(deps: {
  db: Db;
  chat: Chat;
  outbox: OutboxWorker;
  clock: () => Date;
  bodyLimit: number;
  /** Time the POST may take before it answers 503 (default 4 s). */
  budgetMs?: number;
  /** Present only when no platform is configured (app.ts): the simulated clock and what runs after a jump. */
  fastForward?: {
    ff: FastForward;
    calendar: (db: Db) => Promise<WorkCalendar>;
    /** Runs everything that came due (timers, then the outbox); returns the reminders posted. */
    runDue: () => Promise<number>;
  };
}) {
  const router = new Router({ prefix: '/sandbox' });

  router.get('/', (ctx) => {
    // Relative API paths on the page need the trailing slash: /sandbox → /sandbox/.
    if (!ctx.path.endsWith('/')) {
      ctx.status = 301;
      ctx.redirect(`${ctx.path}/${ctx.querystring ? `?${ctx.querystring}` : ''}`);
      return;
    }
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = PAGE;
  });

  router.post('/api/messages', async (ctx) => {
    const parsed = postMessage.safeParse(await readJson(ctx, deps.bodyLimit));
    if (!parsed.success) {
      throw new HttpError(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    }
    const b = parsed.data;
    // The platform routes' budget: a database that does not answer in time gets 503 (the HTTP server's
    // mapping of DatabaseTimeoutError), not a hang.
    const deadline = Date.now() + (deps.budgetMs ?? SANDBOX_BUDGET_MS);
    const { replies } = await withinBudget(deadline, deps.chat.handleNow(cleanInbound({
      platform: 'sandbox',
      conversationId: b.group,
      conversationTitle: b.title,
      senderId: b.from,
      senderName: b.name,
      messageId: b.id ?? randomUUID(),
      text: b.text,
      mentions: b.mentions,
      ...(b.quote ? { quotedText: b.quote } : {}),
      ...(b.card ? { cardToken: b.card } : {}),
      receivedAt: deps.clock(),
    })));
    // Replies are in the outbox; deliver them now so the transcript shows them at once (or, when
    // time is up, let the outbox loop deliver them: the message itself is already handled).
    await withinBudget(deadline, deps.outbox.drain(5)).catch((err: unknown) => {
      if (!(err instanceof DatabaseTimeoutError)) throw err;
    });
    ctx.body = { replies: replies.map((r) => ({ text: r.text, mentions: r.mentions })) };
  });

  router.get('/api/messages', async (ctx) => {
    const group = id.safeParse(ctx.query.group);
    if (!group.success) throw new HttpError(400, 'query parameter "group" is required');
    const after = Number(ctx.query.after ?? 0);
    if (!Number.isSafeInteger(after) || after < 0) throw new HttpError(400, '"after" must be a message id');
    const rows = await deps.db
      .select()
      .from(chatLog)
      .where(and(eq(chatLog.platform, 'sandbox'), eq(chatLog.conversationId, group.data), gt(chatLog.id, after)))
      .orderBy(asc(chatLog.id))
      .limit(1000);
    ctx.body = {
      messages: rows.map((r) => ({
        id: r.id,
        group: r.conversationId,
        from: r.direction === 'out' ? 'bot' : r.sender,
        name: r.direction === 'out' ? '服务助手' : (r.senderName ?? r.sender),
        text: r.text,
        mentions: r.mentions,
        ...(r.buttons?.length ? { buttons: r.buttons.filter((x) => x.token).map((x) => ({ label: x.label, token: x.token })) } : {}),
        at: r.at.toISOString(),
      })),
    };
  });

  /** People and groups for the page's pickers. */
  router.get('/api/directory', async (ctx) => {
    const ps = await deps.db
      .select({ userid: people.userid, name: people.name, role: people.role })
      .from(people)
      .where(eq(people.active, true))
      .orderBy(asc(people.id));
    const gs = await deps.db
      .select({ id: groups.conversationId, title: groups.title, kind: groups.kind })
      .from(groups)
      .where(eq(groups.platform, 'sandbox'))
      .orderBy(asc(groups.id));
    ctx.body = { people: ps, groups: gs };
  });

  const clockBody = async (extra: Record<string, unknown> = {}) => {
    const f = deps.fastForward!;
    const now = f.ff.clock();
    const cal = await f.calendar(deps.db);
    return { enabled: true, now: now.toISOString(), nowText: formatInstantInChinese(now, cal), aheadMinutes: Math.round(f.ff.offsetMs() / 60_000), ...extra };
  };
  const NO_FAST_FORWARD = '已接入企业微信或钉钉时不能快进时间：沙盒的时间就是真实时间。';

  /** The simulated time the page shows. */
  router.get('/api/clock', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = deps.fastForward ? await clockBody() : { enabled: false, now: deps.clock().toISOString(), message: NO_FAST_FORWARD };
  });

  /** `{ "text": "快进 30 分钟" }`: moves the bot's clock forward and runs whatever came due. */
  router.post('/api/clock', async (ctx) => {
    if (!deps.fastForward) throw new HttpError(403, NO_FAST_FORWARD);
    const body = z.object({ text: z.string().min(1).max(100) }).safeParse(await readJson(ctx, deps.bodyLimit));
    if (!body.success) throw new HttpError(400, `text: 请写出要快进多久，例如「快进 30 分钟」`);
    const f = deps.fastForward;
    const parsed = parseFastForward(body.data.text, f.ff.clock(), await f.calendar(deps.db));
    if (!parsed.ok) {
      ctx.status = 422;
      ctx.body = { ...(await clockBody()), error: parsed.message };
      return;
    }
    f.ff.moveTo(parsed.target);
    const sent = await f.runDue();
    ctx.body = await clockBody({ sent });
  });

  return router;
}
