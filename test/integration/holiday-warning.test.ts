import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { demoBot, fakeClock, playbook, yearWarning } from '../helpers/bot';
import { drivers } from '../helpers/databases';
import { capturingLogger } from '../helpers/platform-test-kit';

describe.each(drivers)('the uncovered-year warning on $name', (driver) => {
  let database: Database;
  beforeAll(async () => {
    database = await driver.open();
  });
  afterAll(async () => database?.close());

  it('is logged once per process and year, however often housekeeping runs', async () => {
    const clock = fakeClock('2027-03-01T02:00:00Z');
    const bot = await demoBot(database.db, { clock });
    const { log, lines } = capturingLogger();
    const scheduler = { warnUncoveredYears: yearWarning(database.db, bot.calendar, log, clock) };
    const warnings = () => lines.map((l) => JSON.parse(l)).filter((l) => l.msg?.startsWith('holiday data does not cover'));
    // Twenty minutes of housekeeping, one run every 65 s (as the scheduler loop does).
    for (let i = 0; i < 19; i++) {
      expect(await scheduler.warnUncoveredYears()).toEqual([2027]);
      clock.advance(65_000);
    }
    expect(warnings().map((w) => w.year)).toEqual([2027]);
    // Late in the year the next one comes into view (60 days ahead): one line for it, none again for 2027.
    clock.set('2027-12-15T02:00:00Z');
    for (let i = 0; i < 5; i++) await scheduler.warnUncoveredYears();
    expect(warnings().map((w) => w.year)).toEqual([2027, 2028]);
  });
});
