import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { desc } from 'drizzle-orm';
import { enqueue } from '../../src/core/context';
import { complaints } from '../../src/db/schema';
import { startTestApp } from '../helpers/app';
import { CHROMIUM, haveChromium, launchChromium } from '../helpers/browser';

if (!haveChromium) console.log(`sandbox browser test skipped: ${CHROMIUM} is absent (install with: apt-get install chromium; .ci/run does)`);

/** A running app with the sandbox (outbox polled every 100 ms) and a browser, for one describe block. */
function sandboxInBrowser() {
  const env = { app: undefined as unknown as App, browser: undefined as unknown as Browser };
  beforeAll(async () => {
    env.app = await startTestApp({ OUTBOX_POLL_MS: '100' });
    env.browser = await launchChromium();
  });
  afterAll(async () => {
    await env.browser?.close();
    await env.app?.close();
  });
  return env;
}

describe.runIf(haveChromium)('sandbox page in a real browser (Debian Chromium)', () => {
  const env = sandboxInBrowser();

  it('sends a command, shows the reply, and shows a later bot post live', async () => {
    const page = await env.browser.newPage();
    await page.goto(`${env.app.url}/sandbox/`);
    await page.locator('#person option[value="wang"]').waitFor({ state: 'attached' });
    await page.selectOption('#person', 'wang');
    await page.fill('#text', '/单 新建 客户=浏览器科技 类型=专利 业务员=@王业务');
    await page.click('#btn');
    const reply = page.locator('.msg.bot .bubble').filter({ hasText: '已新建分配单' });
    await reply.waitFor({ timeout: 10_000 });
    expect(await reply.textContent()).toContain('浏览器科技');
    expect(await page.locator('.msg.me .bubble').first().textContent()).toContain('/单 新建');

    // A post the bot makes later (a reminder) goes through the outbox and appears without a reload.
    await enqueue(env.app.database.db, {
      platform: 'sandbox',
      conversationId: 'demo-internal',
      payload: { text: '提醒：D1 需在今天 18:00 前派单 @刘经理', mentions: ['liu'] },
      now: new Date(), // this app runs on the real clock
    });
    const later = page.locator('.msg.bot .bubble').filter({ hasText: '提醒：D1' });
    await later.waitFor({ timeout: 10_000 });
    expect(await later.locator('.mention').first().textContent()).toBe('@刘经理');
    await page.screenshot({ path: 'test-results/sandbox.png' }).catch(() => {});
  });

  it('shows card buttons under the reply; a click is the selected person\'s own command, permission checks included', async () => {
    const page = await env.browser.newPage();
    await page.goto(`${env.app.url}/sandbox/`);
    await page.locator('#person option[value="wang"]').waitFor({ state: 'attached' });
    await page.fill('#group', 'card-demo');
    await page.selectOption('#person', 'wang');
    await page.fill('#text', '/单 新建 客户=按钮科技 类型=专利 业务员=@王业务');
    await page.click('#btn');
    const card = page.locator('.msg.bot').filter({ hasText: '按钮科技' });
    await card.waitFor({ timeout: 10_000 });
    const code = /D\d+/.exec((await card.locator('.bubble').textContent()) ?? '')![0];
    const toZhang = card.locator('.card-button', { hasText: '派给 张工' });
    await toZhang.waitFor({ timeout: 10_000 });

    // 王业务 (sales) clicks: refused politely, exactly as if typed.
    await toZhang.click();
    await page.locator('.msg.bot .bubble').filter({ hasText: '抱歉' }).first().waitFor({ timeout: 10_000 });
    // 刘经理 (head of 专利部) clicks the same button: assigned.
    await page.selectOption('#person', 'liu');
    await toZhang.click();
    const done = page.locator('.msg.bot .bubble').filter({ hasText: `${code} 已派给` });
    await done.waitFor({ timeout: 10_000 });
    expect(await done.textContent()).toContain('张工');
    await page.screenshot({ path: 'test-results/sandbox-card.png' }).catch(() => {});
  });
});

describe.runIf(haveChromium)('sandbox page details (Debian Chromium)', () => {
  const env = sandboxInBrowser();

  it('/sandbox without the trailing slash works: identities load and a command is answered', async () => {
    const page = await env.browser.newPage();
    const res = await page.goto(`${env.app.url}/sandbox`);
    expect(res!.ok()).toBe(true);
    expect(new URL(page.url()).pathname).toBe('/sandbox/');
    await page.locator('#person option[value="liu"]').waitFor({ state: 'attached' });
    // The default identity is the one the startup log suggests (刘经理).
    expect(await page.inputValue('#person')).toBe('liu');
    await page.fill('#text', '/日历 2026-10-01');
    await page.click('#btn');
    await page.locator('.msg.bot .bubble').filter({ hasText: '2026' }).first().waitFor({ timeout: 10_000 });
    await page.close();
  });

  it('shows messages from another identity as theirs, highlights only real mentions, and quotes a message', async () => {
    const page = await env.browser.newPage();
    await page.goto(`${env.app.url}/sandbox/?g=1`);
    await page.fill('#group', 'demo-client');
    await page.dispatchEvent('#group', 'change');
    await page.locator('#person option[value="wang"]').waitFor({ state: 'attached' });
    // The client contact says something (custom userid), then 王业务 writes.
    await page.fill('#custom', 'client-zhao');
    await page.fill('#text', '你们一周都没人回复我！');
    await page.click('#btn');
    await page.locator('.msg.me .bubble').filter({ hasText: '一周都没人回复' }).waitFor({ timeout: 10_000 });
    await page.fill('#custom', '');
    await page.selectOption('#person', 'wang');
    await page.dispatchEvent('#custom', 'input');
    // The client's message is now someone else's bubble, not the green one.
    const clientMsg = page.locator('.msg').filter({ hasText: '一周都没人回复' });
    expect(await clientMsg.getAttribute('class')).toBe('msg other');
    expect(await page.locator('.msg.me').count()).toBe(0);

    // Quote the client's message and log a complaint: the page sends `quote`.
    await clientMsg.locator('.reply').click();
    expect(await page.textContent('#quoteText')).toContain('一周都没人回复');
    const posted = page.waitForRequest((r) => r.url().endsWith('/sandbox/api/messages') && r.method() === 'POST');
    await page.fill('#text', '/投诉 负责人=@张工');
    await page.click('#btn');
    const body = JSON.parse((await posted).postData()!);
    expect(body).toMatchObject({ from: 'wang', quote: '你们一周都没人回复我！', text: '/投诉 负责人=@张工' });
    await page.locator('.msg.bot').filter({ hasText: '您的意见我们已经认真记录' }).first().waitFor({ timeout: 10_000 });
    // The quoted words are the complaint's content.
    const [row] = (await env.app.database.db.select().from(complaints).orderBy(desc(complaints.id)).limit(1)) as { content: string }[];
    expect(row!.content).toBe('你们一周都没人回复我！');
    expect(await page.locator('#quoting').isVisible()).toBe(false);
    expect(await page.locator('.msg.me').count()).toBe(1);

    // Help text with placeholders: "@负责人" is not a mention; a real @ in a bot post is.
    await page.fill('#group', 'demo-internal');
    await page.dispatchEvent('#group', 'change');
    await page.fill('#text', '/帮助 派单');
    await page.click('#btn');
    const help = page.locator('.msg.bot .bubble').filter({ hasText: '用法：/派单' });
    await help.waitFor({ timeout: 10_000 });
    expect(await help.locator('.mention').count()).toBe(0);
    expect(await help.textContent()).toContain('@张三');
    await page.close();
  });

  it('fits a 390 px phone: the header takes at most two rows (screenshot kept in test-results/)', async () => {
    const page = await env.browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${env.app.url}/sandbox/`);
    await page.locator('#person option[value="liu"]').waitFor({ state: 'attached' });
    await page.fill('#text', '/帮助');
    await page.click('#btn');
    await page.locator('.msg.bot .bubble').first().waitFor({ timeout: 10_000 });
    const rows = await page.evaluate(() => {
      const tops = Array.from(document.querySelectorAll('header > *'))
        .filter((el) => (el as HTMLElement).offsetParent !== null)
        .map((el) => Math.round(el.getBoundingClientRect().top));
      return [...new Set(tops.map((t) => Math.round(t / 10)))].length;
    });
    expect(rows).toBeLessThanOrEqual(2);
    const header = await page.locator('header').boundingBox();
    expect(header!.height).toBeLessThan(100);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: 'test-results/sandbox-390px.png' });
    await page.close();
  });
});

describe.runIf(haveChromium)('sandbox page fast-forward in a real browser', () => {
  const env = sandboxInBrowser();

  it('shows the simulated time; a button and a typed 快进 move it and bring the reminders that came due', async () => {
    const page = await env.browser.newPage();
    await page.goto(`${env.app.url}/sandbox/`);
    await page.locator('#person option[value="li"]').waitFor({ state: 'attached' });
    await page.locator('#clockbar').waitFor({ state: 'visible', timeout: 10_000 });
    const shownAt = (await page.textContent('#simNow')) ?? '';
    expect(shownAt).toMatch(/\d{1,2}月\d{1,2}日/);

    await page.selectOption('#person', 'li');
    await page.fill('#text', '/投诉 客户=华星科技 负责人=@张工 客户来电：一周没人回复');
    await page.click('#btn');
    const filed = page.locator('.msg.bot .bubble').filter({ hasText: '华星科技' }).first();
    await filed.waitFor({ timeout: 10_000 });
    const code = /T\d+/.exec((await filed.textContent()) ?? '')![0];

    await page.click('[data-ff="快进 30 分钟"]');
    await page.locator('#simNote').filter({ hasText: '已快进到' }).waitFor({ timeout: 10_000 });
    expect(await page.textContent('#simNow')).toContain('比真实时间快 30 分钟');
    const escalation = page.locator('.msg.bot .bubble').filter({ hasText: `投诉 ${code}` }).filter({ hasText: '请部门负责人' });
    await escalation.waitFor({ timeout: 10_000 });
    expect(await escalation.locator('.mention').first().textContent()).toBe('@刘经理');

    // Typed in the message box: intercepted by the page, not sent to the group.
    await page.fill('#text', '快进 1 小时');
    await page.click('#btn');
    await page.locator('#simNow').filter({ hasText: '比真实时间快 90 分钟' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('.msg.me .bubble').filter({ hasText: '快进 1 小时' }).count()).toBe(0);
    expect(await page.inputValue('#text')).toBe('');
    // A form it cannot read is answered on the bar, and the time stays.
    await page.fill('#text', '快进 一会儿');
    await page.click('#btn');
    await page.locator('#simNote').filter({ hasText: '没有看懂' }).waitFor({ timeout: 10_000 });
    expect(await page.textContent('#simNow')).toContain('比真实时间快 90 分钟');
    await page.screenshot({ path: 'test-results/sandbox-fast-forward.png' }).catch(() => {});
  });
});
