import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { createCalendarProvider } from '../../src/core/clocks/clock-store';
import type { WorkCalendar } from '../../src/domain/calendar';
import { createFastForward, MAX_FAST_FORWARD_DAYS, parseFastForward } from '../../src/platforms/sandbox/fast-forward';
import { post, sandboxChat, startTestApp } from '../helpers/app';
import { pgliteDriver } from '../helpers/databases';

/** Tuesday 2026-12-08 10:00 in Shanghai. */
const T0 = new Date('2026-12-08T02:00:00Z');
const MIN = 60_000;

describe('parseFastForward (pure: text, now, calendar)', () => {
  let cal: WorkCalendar;
  beforeAll(async () => {
    const db = await pgliteDriver.open();
    cal = await createCalendarProvider({ timeZone: 'Asia/Shanghai', workingHours: { start: '09:00', end: '18:00' } })(db.db);
    await db.close();
  });
  const target = (text: string, now = T0) => {
    const r = parseFastForward(text, now, cal);
    if (!r.ok) throw new Error(`${text}: ${r.message}`);
    return r.target.toISOString();
  };

  it('reads relative steps in minutes, hours and days (half- and full-width)', () => {
    expect(target('快进 30 分钟')).toBe(new Date(T0.getTime() + 30 * MIN).toISOString());
    expect(target('快进 2 小时')).toBe(new Date(T0.getTime() + 120 * MIN).toISOString());
    expect(target('快进1天')).toBe(new Date(T0.getTime() + 24 * 60 * MIN).toISOString());
    expect(target('／快进 ３０ 分钟')).toBe(new Date(T0.getTime() + 30 * MIN).toISOString());
  });

  it('reads days in the calendar: 明天 9:00, 后天, 周一, a date, 下个工作日 across a weekend and the New Year holiday', () => {
    expect(target('快进到 明天 9:00')).toBe('2026-12-09T01:00:00.000Z');
    expect(target('快进到 明天 9点半')).toBe('2026-12-09T01:30:00.000Z');
    expect(target('快进到 后天')).toBe('2026-12-10T01:00:00.000Z');
    expect(target('快进到 周一 9:00')).toBe('2026-12-14T01:00:00.000Z');
    expect(target('快进到 2026-12-20 14:00')).toBe('2026-12-20T06:00:00.000Z');
    expect(target('快进到 17:30')).toBe('2026-12-08T09:30:00.000Z');
    // Friday 2026-12-11 → Monday; Thursday 2026-12-31 → 2027-01-04 only if 1–3 January are off (chinese-days or an import).
    expect(target('快进到 下个工作日', new Date('2026-12-11T08:00:00Z'))).toBe('2026-12-14T01:00:00.000Z');
    const afterNewYear = target('快进到 下个工作日', new Date('2026-12-31T08:00:00Z'));
    expect(cal.isWorkingDay(cal.dateOf(new Date(afterNewYear)))).toBe(true);
    expect(cal.isWorkingDay('2027-01-01')).toBe(false);
    expect(afterNewYear > '2027-01-01T16:00:00.000Z').toBe(true);
  });

  it('refuses politely what it cannot do: backwards, more than a month, nonsense, impossible dates and times', () => {
    const reason = (text: string) => {
      const r = parseFastForward(text, T0, cal);
      expect(r.ok, text).toBe(false);
      return r.ok ? '' : r.message;
    };
    expect(reason('快进到 2026-12-01 09:00')).toContain('只能向前');
    expect(reason('快进到 今天 9:00')).toContain('只能向前');
    expect(reason(`快进 ${MAX_FAST_FORWARD_DAYS + 1} 天`)).toContain(`最多快进 ${MAX_FAST_FORWARD_DAYS} 天`);
    expect(reason('快进 一会儿')).toMatch(/^抱歉，没有看懂要快进多久。可以这样写：快进 30 分钟/);
    expect(reason('快进到 下辈子')).toContain('没有看懂「下辈子」这一天');
    expect(reason('快进到 2026-02-30')).toContain('没有看懂「2026-02-30」这一天');
    expect(reason('快进到 明天 25:00')).toContain('不是有效的时间');
  });

  it('the offset only moves forward and adds to the base clock', () => {
    let base = T0.getTime();
    const ff = createFastForward(() => new Date(base));
    ff.moveTo(new Date(base + 30 * MIN));
    expect(ff.clock().getTime() - base).toBe(30 * MIN);
    ff.moveTo(new Date(base)); // backwards: ignored
    expect(ff.offsetMs()).toBe(30 * MIN);
    base += 5 * MIN; // real time goes on under the offset
    expect(ff.clock().getTime()).toBe(T0.getTime() + 35 * MIN);
  });
});

describe('sandbox fast-forward end to end (demo organisation, no platform configured)', () => {
  let app: App;
  const chat = sandboxChat(() => app);
  let base = T0.getTime();
  beforeAll(async () => {
    app = await startTestApp({ DEMO_SEED: 'on' }, { clock: () => new Date(base), loops: false });
  });
  afterAll(async () => app?.close());

  it('shows the simulated time, and moves a complaint to its 30-minute escalation with a real @ of the department head', async () => {
    const before = await (await fetch(`${app.url}/sandbox/api/clock`)).json();
    expect(before).toMatchObject({ enabled: true, now: T0.toISOString(), aheadMinutes: 0 });
    expect(before.nowText).toContain('10:00');

    const filed = await chat.say('demo-internal', 'li', '/投诉 客户=华星科技 负责人=@张工 客户来电：一周没人回复', { mentions: ['zhang'] });
    const code = /T\d+/.exec(filed)![0];
    const seen = (await chat.messages('demo-internal')).length;

    // Ten minutes: not yet the head's turn.
    const r10 = await post(`${app.url}/sandbox/api/clock`, { text: '快进 10 分钟' });
    expect(r10.status).toBe(200);
    expect(r10.json.aheadMinutes).toBe(10);
    const after10 = (await chat.messages('demo-internal')).slice(seen);
    const aboutIt = (m: { text: string }) => m.text.includes(code);
    expect(after10.some((m) => aboutIt(m) && m.mentions.includes('liu'))).toBe(false);

    const r30 = await post(`${app.url}/sandbox/api/clock`, { text: '快进 20 分钟' });
    expect(r30.status).toBe(200);
    expect(r30.json.now).toBe(new Date(T0.getTime() + 30 * MIN).toISOString());
    expect(r30.json.sent).toBeGreaterThanOrEqual(1);
    const escalation = (await chat.messages('demo-internal')).slice(seen).filter((m) => m.from === 'bot' && aboutIt(m) && m.mentions.includes('liu'));
    expect(escalation).toHaveLength(1);
    expect(escalation[0]!.text).toContain('@刘经理');
    expect(escalation[0]!.text).toMatch(/超时|30 分钟/);
    // The bubble carries the simulated time, and the next step does not repeat it.
    expect(new Date(escalation[0]!.at).getTime()).toBeGreaterThanOrEqual(T0.getTime() + 30 * MIN);
    // README's first run, step 4: the head's /查 shows the breach on record.
    expect(await chat.say('demo-internal', 'liu', `/查 ${code}`)).toContain('超时');
    await post(`${app.url}/sandbox/api/clock`, { text: '快进 1 分钟' });
    expect((await chat.messages('demo-internal')).filter((m) => m.from === 'bot' && m.text === escalation[0]!.text)).toHaveLength(1);

    // Chat reads the same clock: /日历 names the simulated day.
    const next = await post(`${app.url}/sandbox/api/clock`, { text: '快进到 明天 9:00' });
    expect(next.status).toBe(200);
    expect(next.json.now).toBe('2026-12-09T01:00:00.000Z');
    expect(await chat.say('demo-internal', 'li', '/日历')).toContain('12月9日');
  });

  it('answers a malformed or backwards step with 422 and the forms, and moves nothing', async () => {
    const now = (await (await fetch(`${app.url}/sandbox/api/clock`)).json()).now;
    const bad = await post(`${app.url}/sandbox/api/clock`, { text: '快进 一会儿' });
    expect(bad.status).toBe(422);
    expect(bad.json.error).toContain('快进 30 分钟');
    const back = await post(`${app.url}/sandbox/api/clock`, { text: '快进到 2026-12-01' });
    expect(back.status).toBe(422);
    expect((await (await fetch(`${app.url}/sandbox/api/clock`)).json()).now).toBe(now);
    expect((await post(`${app.url}/sandbox/api/clock`, { nope: 1 })).status).toBe(400);
  });
});

describe('sandbox fast-forward is refused when a platform is configured', () => {
  let app: App;
  beforeAll(async () => {
    app = await startTestApp({ DEMO_SEED: 'on', WECOM_AIBOT_TOKEN: 'tok', WECOM_AIBOT_ENCODING_AES_KEY: 'a'.repeat(43) }, { clock: () => T0, loops: false });
  });
  afterAll(async () => app?.close());

  it('GET says it is off, POST is 403 with the reason, and the clock is the real one', async () => {
    const g = await (await fetch(`${app.url}/sandbox/api/clock`)).json();
    expect(g).toMatchObject({ enabled: false, now: T0.toISOString() });
    const r = await post(`${app.url}/sandbox/api/clock`, { text: '快进 30 分钟' });
    expect(r.status).toBe(403);
    expect(r.text).toContain('已接入企业微信或钉钉时不能快进时间');
    expect((await (await fetch(`${app.url}/sandbox/api/clock`)).json()).now).toBe(T0.toISOString());
  });
});
