import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Workqueue, type WorkqueueMetrics } from '../../../src/runtime/workqueue.ts';
import { ItemExponentialFailureRateLimiter, JitteredBackoff } from '../../../src/runtime/backoff.ts';
import { ManualTimers, flushMicrotasks } from '../../../src/runtime/timers.ts';

function recordingMetrics() {
  const m = { adds: 0, depth: [] as number[], queue: [] as number[], work: [] as number[], retries: 0 };
  const metrics: WorkqueueMetrics = {
    add: () => void m.adds++,
    depth: (n) => void m.depth.push(n),
    queueDuration: (s) => void m.queue.push(s),
    workDuration: (s) => void m.work.push(s),
    retry: () => void m.retries++,
  };
  return { m, metrics };
}

test('rate limiter: 5 ms doubling to the 1000 s cap, per key, reset by forget', () => {
  const rl = new ItemExponentialFailureRateLimiter();
  assert.deepEqual([rl.when('a'), rl.when('a'), rl.when('a'), rl.when('a')], [5, 10, 20, 40]);
  assert.equal(rl.when('b'), 5);
  assert.equal(rl.numRequeues('a'), 4);
  for (let i = 0; i < 40; i++) rl.when('a');
  assert.equal(rl.when('a'), 1_000_000);
  for (let i = 0; i < 2000; i++) rl.when('a');
  assert.equal(rl.when('a'), 1_000_000, 'stays finite after huge failure counts');
  rl.forget('a');
  assert.equal(rl.numRequeues('a'), 0);
  assert.equal(rl.when('a'), 5);
});

test('jittered backoff doubles, caps, jitters within [base, 2*base) and resets', () => {
  let r = 0;
  const b = new JitteredBackoff({ initialMs: 100, maxMs: 400, jitter: 1, random: () => r });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 400]);
  r = 0.5;
  assert.equal(b.next(), 600);
  b.reset();
  assert.equal(b.next(), 150);
});

test('N adds of a queued key hand it out once', async () => {
  const q = new Workqueue({ timers: new ManualTimers() });
  for (let i = 0; i < 5; i++) q.add('ns/a');
  q.add('ns/b');
  assert.equal(q.length, 2);
  assert.equal(await q.get(), 'ns/a');
  assert.equal(await q.get(), 'ns/b');
  assert.equal(q.length, 0);
});

test('N adds while a key is processing give exactly one re-run after done()', async () => {
  const q = new Workqueue({ timers: new ManualTimers() });
  q.add('k');
  const k = await q.get();
  assert.equal(k, 'k');
  for (let i = 0; i < 7; i++) q.add('k');
  assert.equal(q.length, 0, 'not handed to another worker while processing');
  q.done('k');
  assert.equal(q.length, 1);
  assert.equal(await q.get(), 'k');
  q.done('k');
  assert.equal(q.length, 0);
});

test('a blocked get() receives the next added key', async () => {
  const q = new Workqueue({ timers: new ManualTimers() });
  const pending = q.get();
  q.add('x');
  assert.equal(await pending, 'x');
  assert.deepEqual(q.processingKeys(), ['x']);
});

test('addAfter fires after the delay; an earlier addAfter is not postponed by a later one', async () => {
  const timers = new ManualTimers();
  const q = new Workqueue({ timers });
  q.addAfter('k', 100);
  q.addAfter('k', 5000);
  await timers.advance(99);
  assert.equal(q.length, 0);
  await timers.advance(1);
  assert.equal(q.length, 1);
  assert.equal(await q.get(), 'k');
  q.done('k');
  await timers.advance(10_000);
  assert.equal(q.length, 0, 'the later addAfter was collapsed into the earlier one');
  q.addAfter('j', 5000);
  q.addAfter('j', 10);
  await timers.advance(10);
  assert.equal(q.length, 1, 'a sooner addAfter replaces a later one');
});

test('addRateLimited backs off per key and forget resets it', async () => {
  const timers = new ManualTimers();
  const { m, metrics } = recordingMetrics();
  const q = new Workqueue({ timers, metrics });
  q.addRateLimited('k');
  assert.deepEqual(timers.pendingDelays(), [5]);
  await timers.advance(5);
  assert.equal(await q.get(), 'k');
  q.done('k');
  q.addRateLimited('k');
  assert.deepEqual(timers.pendingDelays(), [10]);
  await timers.advance(10);
  await q.get();
  q.done('k');
  q.forget('k');
  q.addRateLimited('k');
  assert.deepEqual(timers.pendingDelays(), [5]);
  assert.equal(m.retries, 3);
});

test('metrics: adds, depth, queue and work durations', async () => {
  const timers = new ManualTimers();
  const { m, metrics } = recordingMetrics();
  const q = new Workqueue({ timers, metrics });
  q.add('a');
  q.add('a');
  q.add('b');
  assert.equal(m.adds, 2);
  assert.equal(m.depth.at(-1), 2);
  await timers.advance(1500);
  await q.get();
  assert.deepEqual(m.queue, [1.5]);
  await timers.advance(250);
  q.done('a');
  assert.deepEqual(m.work, [0.25]);
  assert.equal(m.depth.at(-1), 1);
});

test('shutdown abandons queued and delayed keys, wakes blocked getters, refuses adds', async () => {
  const timers = new ManualTimers();
  const q = new Workqueue({ timers });
  q.add('a');
  q.add('b');
  q.addAfter('c', 100);
  const taken = await q.get();
  assert.equal(taken, 'a');
  q.shutdown();
  assert.equal(await q.get(), undefined);
  assert.equal(q.delayedCount, 0);
  assert.equal(timers.pendingCount, 0);
  q.add('d');
  assert.equal(q.length, 0);
  let idle = false;
  void q.whenIdle().then(() => (idle = true));
  await flushMicrotasks();
  assert.equal(idle, false, 'a key is still being processed');
  q.add('a');
  q.done('a');
  await flushMicrotasks();
  assert.equal(idle, true);
  assert.equal(q.length, 0, 'a re-add after shutdown does not requeue');
});

test('shutdown with drainQueued keeps handing out queued keys, then undefined', async () => {
  const q = new Workqueue({ timers: new ManualTimers() });
  q.add('a');
  q.add('b');
  const blocked = new Workqueue({ timers: new ManualTimers() });
  const waiter = blocked.get();
  blocked.shutdown({ drainQueued: true });
  assert.equal(await waiter, undefined);
  q.shutdown({ drainQueued: true });
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(await q.get(), undefined);
  q.done('a');
  q.done('b');
  await q.whenIdle();
});
