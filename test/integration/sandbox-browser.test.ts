import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { enqueue } from '../../src/core/context';
import { startTestApp } from '../helpers/app';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.log(`sandbox browser test skipped: ${CHROMIUM} is absent (install with: apt-get install chromium; .ci/run does)`);

describe.runIf(haveChromium)('sandbox page in a real browser (Debian Chromium)', () => {
  let app: App;
  let browser: Browser;
  beforeAll(async () => {
    app = await startTestApp({ OUTBOX_POLL_MS: '100' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('sends a command, shows the reply, and shows a later bot post live', async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/sandbox/`);
    await page.locator('#person option[value="wang"]').waitFor({ state: 'attached' });
    await page.selectOption('#person', 'wang');
    await page.fill('#text', '/单 新建 客户=浏览器科技 类型=专利 业务员=@王业务');
    await page.click('#btn');
    const reply = page.locator('.msg.bot .bubble').filter({ hasText: '已新建分配单' });
    await reply.waitFor({ timeout: 10_000 });
    expect(await reply.textContent()).toContain('浏览器科技');
    expect(await page.locator('.msg.me .bubble').first().textContent()).toContain('/单 新建');

    // A post the bot makes later (a reminder) goes through the outbox and appears without a reload.
    await enqueue(app.database.db, {
      platform: 'sandbox',
      conversationId: 'demo-internal',
      payload: { text: '提醒：D1 需在今天 18:00 前派单 @刘经理', mentions: ['liu'] },
    });
    const later = page.locator('.msg.bot .bubble').filter({ hasText: '提醒：D1' });
    await later.waitFor({ timeout: 10_000 });
    expect(await later.locator('.mention').first().textContent()).toBe('@刘经理');
    await page.screenshot({ path: 'test-results/sandbox.png' }).catch(() => {});
  });
});
