import Router from '@koa/router';
import type Koa from 'koa';
import { stringify } from 'csv-stringify/sync';
import type { Db } from '../../db/client';
import type { Logger } from '../../log';
import type { CalendarProvider } from '../../core/clocks/clock-store';
import { LINK_REFUSAL_TEXT, type LinkSigner } from '../../core/signed-link';
import { scopeText, viewerOf } from './access';
import { parseFilters, type Filters, type Rules } from './data';
import { cell, layout, Raw, refusalPage, renderTable, type Table } from './html';
import { formatInstantInChinese } from '../../domain/calendar';
import { calendarPage, clientPage, complaintPage, orderPage, overviewPage, PageError, peoplePage, type Page, type PageCtx } from './pages';

export const KANBAN_PURPOSE = 'kanban';
export const KANBAN_PATH = '/kanban';

export interface KanbanRouteDeps {
  db: Db;
  clock: () => Date;
  log: Logger;
  links: LinkSigner;
  calendar: CalendarProvider;
  rules: Rules;
  adminUserids: readonly string[];
}

/** A CSV cell that a spreadsheet would run as a formula is written as text. */
const csvSafe = (s: string) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

/**
 * The 看板's pages: `GET /kanban[/people|/calendar|/orders/:id|/complaints/:id|/clients/:id]?k=<signed key>`,
 * and each table of a page as CSV with `&csv=<table id>` (built by the same page code, so the same
 * permissions). The key rides in the query string: the request log writes it as `k=***` (redactUrl).
 */
export function createKanbanRouter(deps: KanbanRouteDeps): Router {
  const router = new Router({ prefix: KANBAN_PATH });

  async function serve(ctx: Koa.Context, build: (p: PageCtx) => Promise<Page>) {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Robots-Tag', 'noindex');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
    const refuse = (status: number, title: string, text: string) => {
      ctx.status = status;
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = refusalPage(title, text);
    };
    const key = typeof ctx.query.k === 'string' ? ctx.query.k : '';
    const now = deps.clock();
    const check = await deps.links.verify(deps.db, key, { purpose: KANBAN_PURPOSE, now });
    if (!check.ok) return refuse(403, '链接无法使用', LINK_REFUSAL_TEXT[check.reason]);
    const v = await viewerOf(deps.db, check.claims.userid, deps.adminUserids);
    if (!v) {
      // Refused for the person's rights: every 看板 link they hold so far is spent (revoked), so it does
      // not open again if the role comes back; a new /看板 gives a new one.
      await deps.links.revoke(deps.db, { purpose: KANBAN_PURPOSE, userid: check.claims.userid, now });
      return refuse(403, '无法查看', '抱歉，看板只对主管、部门负责人、总经办和管理员开放；您在名册中的角色目前不包含查看权限。您此前获取的看板链接已一并作废，角色调整后请在群里重新发 /看板。');
    }
    const f: Filters = parseFilters(ctx.query);
    const filterParams = (): Record<string, string | number | undefined> => ({ dept: f.dept, person: f.person, type: f.type, from: f.from, to: f.to });
    const href = (path: string, params: Record<string, string | number | undefined> = {}, keepFilters = false) => {
      const q = new URLSearchParams({ k: key });
      for (const [name, value] of Object.entries({ ...(keepFilters ? filterParams() : {}), ...params })) if (value !== undefined && value !== '') q.set(name, String(value));
      return `${KANBAN_PATH}${path}?${q.toString()}`;
    };
    const p: PageCtx = { tx: deps.db, v, now, cal: await deps.calendar(deps.db), f, rules: deps.rules, key, href };
    let page: Page;
    try {
      page = await build(p);
    } catch (err) {
      if (err instanceof PageError) return refuse(err.status, err.title, err.text);
      throw err;
    }
    const tables = page.blocks.filter((b): b is Table => !(b instanceof Raw));
    const csvId = typeof ctx.query.csv === 'string' ? ctx.query.csv : undefined;
    if (csvId !== undefined) {
      const t = tables.find((x) => x.id === csvId);
      if (!t) return refuse(404, '没有这个表格', '抱歉，这一页没有这个表格。');
      const rows = [t.columns, ...t.rows.map((r) => r.map((c) => csvSafe(cell(c).text)))];
      ctx.type = 'text/csv; charset=utf-8';
      ctx.set('Content-Disposition', `attachment; filename="kanban.csv"; filename*=UTF-8''${encodeURIComponent(`${page.title}-${t.title.replace(/（\d+）$/, '')}.csv`)}`);
      ctx.body = '\uFEFF' + stringify(rows, { record_delimiter: 'windows' });
      return;
    }
    const here = ctx.path.slice(KANBAN_PATH.length);
    const currentParams = Object.fromEntries(Object.entries(ctx.query).filter(([k, x]) => k !== 'k' && k !== 'csv' && typeof x === 'string')) as Record<string, string>;
    const body: Raw[] = page.blocks.map((b) => (b instanceof Raw ? b : renderTable(b, href(here, { ...currentParams, csv: b.id }))));
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = layout({
      title: page.title,
      who: `${await scopeText(deps.db, v)}｜链接有效至 ${formatInstantInChinese(new Date(check.claims.exp), p.cal, { now })}`,
      nav: [
        { href: href('', {}, true), label: '总览', on: page.nav === 'overview' },
        { href: href('/people', {}, true), label: '人员', on: page.nav === 'people' },
        { href: href('/calendar'), label: '日历', on: page.nav === 'calendar' },
      ],
      body,
    });
  }

  const id = (ctx: Koa.Context) => {
    const s = String(ctx.params.id ?? '');
    return /^\d{1,9}$/.test(s) ? Number(s) : -1;
  };
  router.get('/', (ctx) => serve(ctx, overviewPage));
  router.get('/people', (ctx) => serve(ctx, peoplePage));
  router.get('/calendar', (ctx) => serve(ctx, (p) => calendarPage(p, ctx.query.year)));
  router.get('/orders/:id', (ctx) => serve(ctx, (p) => orderPage(p, id(ctx))));
  router.get('/complaints/:id', (ctx) => serve(ctx, (p) => complaintPage(p, id(ctx))));
  router.get('/clients/:id', (ctx) => serve(ctx, (p) => clientPage(p, id(ctx))));
  return router;
}
