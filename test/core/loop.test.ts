import { describe, expect, it } from 'vitest';
import { startLoop } from '../../src/core/loop';
import { silentLog } from '../helpers/bot';

/** Real timers, kept short: the loop's job is scheduling, so a fake clock would test nothing. */
describe('startLoop', () => {
  it('never overlaps runs, and pokes during a run cause exactly one more run right after it', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release!: () => void;
    let started!: () => void;
    const firstStarted = new Promise<void>((r) => (started = r));
    const loop = startLoop(
      'test',
      async () => {
        runs++;
        active++;
        maxActive = Math.max(maxActive, active);
        if (runs === 1) {
          started();
          await new Promise<void>((r) => (release = r));
        }
        active--;
      },
      60_000, // the interval alone would never bring a second run inside this test
      silentLog,
    );
    await firstStarted;
    loop.poke();
    loop.poke();
    // Let a wrongly scheduled second run start while the first still holds.
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(1);
    release();
    const deadline = Date.now() + 2000;
    while (runs < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    // Give a wrongly doubled schedule the chance to show itself.
    await new Promise((r) => setTimeout(r, 50));
    await loop.stop();
    expect(runs).toBe(2);
    expect(maxActive).toBe(1);
  });

  it('runs at once when poked while idle, and not after stop()', async () => {
    let runs = 0;
    const loop = startLoop('idle', async () => void runs++, 60_000, silentLog);
    const deadline = Date.now() + 2000;
    while (runs < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    loop.poke();
    while (runs < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(runs).toBe(2);
    await loop.stop();
    loop.poke();
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(2);
  });
});
