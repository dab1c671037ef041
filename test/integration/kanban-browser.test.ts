import { mkdirSync, statSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { startTestApp } from '../helpers/app';
import { CHROMIUM, haveChromium, launchChromium } from '../helpers/browser';
import { kanbanClock, sayer, seedKanbanData } from '../helpers/kanban';

if (!haveChromium) console.log(`看板 browser test skipped: ${CHROMIUM} is absent (install with: apt-get install chromium; .ci/run does)`);

/**
 * Issue 16 in a real browser (Debian Chromium, phone-sized): 刘经理 asks for /看板 in the sandbox chat,
 * opens the link from the reply, sees the overdue clock in red, sorts a table, clicks into the order's
 * timeline. Screenshots are kept in test-results/ (gitignored) as the test's artifacts.
 */
describe.runIf(haveChromium)('看板 in a real browser (Debian Chromium)', () => {
  let app: App;
  let browser: Browser;
  beforeAll(async () => {
    const clock = kanbanClock();
    app = await startTestApp({ OUTBOX_POLL_MS: '100' }, { clock });
    await seedKanbanData(app.database.db, sayer(app, clock), clock);
    browser = await launchChromium();
    mkdirSync('test-results', { recursive: true });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('opens /看板 from a chat reply, shows the overdue clock in red, and clicks into an order timeline', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await page.goto(`${app.url}/sandbox/`);
    await page.locator('#person option[value="liu"]').waitFor({ state: 'attached' });
    await page.selectOption('#person', 'liu');
    await page.fill('#text', '/看板');
    await page.click('#btn');
    const reply = page.locator('.msg.bot .bubble').filter({ hasText: '看板链接' });
    await reply.waitFor({ timeout: 15_000 });
    const url = /https?:\/\/\S+\/kanban\?k=[A-Za-z0-9_.-]+/.exec((await reply.textContent()) ?? '')?.[0];
    expect(url).toBeTruthy();

    await page.goto(url!);
    await expect(page.title()).resolves.toBe('总览｜看板');
    const late = page.locator('#overdue tbody tr').filter({ hasText: 'D4' }).locator('td.late').first();
    await late.waitFor();
    expect(await late.evaluate((el) => getComputedStyle(el).color)).toBe('rgb(198, 40, 40)');
    // The page fits a phone: no sideways scrolling of the page itself (wide tables scroll in their box).
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    await page.screenshot({ path: 'test-results/kanban-overview.png', fullPage: true });

    // Sorting: click 单号 twice → descending.
    const th = page.locator('#overdue th').first();
    await th.click();
    await th.click();
    expect(await page.locator('#overdue tbody tr td:first-child').allTextContents()).toEqual(['D4', 'D2']);

    await page.locator('#overdue a', { hasText: 'D4' }).click();
    await page.waitForURL(/\/kanban\/orders\/4\?/);
    await expect(page.title()).resolves.toBe('分配单 D4｜看板');
    const timeline = page.locator('#timeline');
    await timeline.waitFor();
    expect(await timeline.locator('tbody tr').first().textContent()).toContain('新建');
    expect(await page.locator('#clocks td.late').first().textContent()).toBe('已超时');
    await page.screenshot({ path: 'test-results/kanban-order.png', fullPage: true });
    expect(statSync('test-results/kanban-overview.png').size).toBeGreaterThan(10_000);
    expect(statSync('test-results/kanban-order.png').size).toBeGreaterThan(5_000);
    await page.close();
  });
});
