import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TIMER_DELAY_MS, realTimers } from '../../../src/runtime/timers.ts';

describe('realTimers: delays above the platform limit', () => {
  it('arms a long delay in steps and fires once, at the due time, not at the first step', async () => {
    const timers = realTimers({ maxStepMs: 20 });
    const started = Date.now();
    const fired = await new Promise<number>((resolve) => timers.setTimeout(() => resolve(Date.now()), 120));
    assert.ok(fired - started >= 115, `fired after ${fired - started} ms, not after the first 20 ms step`);
  });

  it('clearTimeout cancels a stepped timer between steps', async () => {
    const timers = realTimers({ maxStepMs: 10 });
    let fired = false;
    // A delay far longer than the first steps: a busy machine may stretch the 35 ms wait a lot.
    const handle = timers.setTimeout(() => (fired = true), 1_000);
    await new Promise((r) => setTimeout(r, 35));
    timers.clearTimeout(handle);
    await new Promise((r) => setTimeout(r, 1_100));
    assert.equal(fired, false);
  });

  it('a yearly delay neither fires at once nor prints a TimeoutOverflowWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const timers = realTimers();
      let fired = 0;
      const year = 366 * 24 * 3600_000;
      assert.ok(year > MAX_TIMER_DELAY_MS);
      const handle = timers.setTimeout(() => fired++, year);
      const forever = timers.setTimeout(() => fired++, Number.POSITIVE_INFINITY);
      await new Promise((r) => setTimeout(r, 100));
      timers.clearTimeout(handle);
      timers.clearTimeout(forever);
      assert.equal(fired, 0, 'the long timers did not fire');
      assert.deepEqual(warnings.filter((w) => w === 'TimeoutOverflowWarning'), []);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
