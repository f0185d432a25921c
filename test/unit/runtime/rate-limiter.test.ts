import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../../src/runtime/rate-limiter.ts';

/** A clock that only moves when a take sleeps (or the test advances it). */
function fakeTime() {
  const time = { now: 0, sleeps: [] as number[] };
  return {
    time,
    now: () => time.now,
    sleep: async (ms: number) => {
      time.sleeps.push(ms);
    },
  };
}

test('a full bucket lets `burst` requests through at once, then spaces them at 1/qps, in arrival order', async () => {
  const t = fakeTime();
  const bucket = new TokenBucket({ qps: 10, burst: 3, now: t.now, sleep: t.sleep });
  const waits = await Promise.all([1, 2, 3, 4, 5, 6].map(() => bucket.take()));
  // Three free tokens, then one every 100 ms: each waiter reserves its slot when it asks.
  assert.deepEqual(waits.map((w) => Math.round(w)), [0, 0, 0, 100, 200, 300]);
});

test('tokens refill with time, never above burst', async () => {
  const t = fakeTime();
  const bucket = new TokenBucket({ qps: 2, burst: 2, now: t.now, sleep: t.sleep });
  assert.equal(await bucket.take(), 0);
  assert.equal(await bucket.take(), 0);
  t.time.now += 500; // one token back
  assert.equal(await bucket.take(), 0);
  assert.equal(Math.round(await bucket.take()), 500);
  t.time.now += 60_000; // a long quiet time refills only up to burst
  // the balance was -1 at t=500 (its waiter took the token due at t=1000); after a minute: 2 again
  assert.equal(await bucket.take(), 0);
  assert.equal(await bucket.take(), 0);
  assert.ok((await bucket.take()) > 0);
});

test('the real clock: a burst past the bucket is slowed to the rate', async () => {
  const bucket = new TokenBucket({ qps: 50, burst: 5 });
  const started = performance.now();
  await Promise.all(Array.from({ length: 10 }, () => bucket.take()));
  // 5 free, 5 more at 20 ms each: at least ~100 ms whatever the load (an upper bound would be flaky).
  assert.ok(performance.now() - started >= 95, `took ${performance.now() - started} ms`);
});

test('refuses a rate or burst that would never let a request through', () => {
  assert.throws(() => new TokenBucket({ qps: 0, burst: 1 }), /qps/);
  assert.throws(() => new TokenBucket({ qps: Number.NaN, burst: 1 }), /qps/);
  assert.throws(() => new TokenBucket({ qps: 1, burst: 0 }), /burst/);
});
