import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Controller, splitKey, objectKey, type ReconcileContext } from '../../../src/runtime/controller.ts';
import { ManualTimers, flushMicrotasks } from '../../../src/runtime/timers.ts';
import { OperatorError } from '../../../src/errors.ts';
import { createOperatorMetrics } from '../../../src/observability/metrics.ts';
import { createLogger } from '../../../src/observability/logger.ts';

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function metricValue(metrics: ReturnType<typeof createOperatorMetrics>, name: string, labels: Record<string, string>) {
  const metric = metrics.registry.getSingleMetric(name);
  assert.ok(metric, `metric ${name} exists`);
  const data = await metric.get();
  const found = data.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return found?.value;
}

test('splitKey and objectKey', () => {
  assert.deepEqual(splitKey('ns/a'), { namespace: 'ns', name: 'a' });
  assert.deepEqual(splitKey('cluster-wide'), { namespace: undefined, name: 'cluster-wide' });
  assert.equal(objectKey({ metadata: { namespace: 'ns', name: 'a' } }), 'ns/a');
  assert.equal(objectKey({ metadata: { name: 'a' } }), 'a');
});

test('success forgets backoff; result metrics counted with the controller label', async () => {
  const timers = new ManualTimers();
  const metrics = createOperatorMetrics(undefined, { defaultMetrics: false });
  const seen: ReconcileContext[] = [];
  const c = new Controller({
    name: 'demo',
    timers,
    metrics,
    reconcile: async (_key, ctx) => {
      seen.push(ctx);
    },
  });
  c.enqueue('ns/a');
  c.start();
  await flushMicrotasks();
  assert.equal(seen.length, 1);
  assert.equal(seen[0]?.namespace, 'ns');
  assert.equal(seen[0]?.name, 'a');
  assert.equal(seen[0]?.retries, 0);
  assert.equal(await metricValue(metrics, 'controller_runtime_reconcile_total', { controller: 'demo', result: 'success' }), 1);
  assert.equal(await metricValue(metrics, 'workqueue_adds_total', { controller: 'demo', name: 'demo' }), 1);
  assert.equal(await metricValue(metrics, 'controller_runtime_max_concurrent_reconciles', { controller: 'demo' }), 1);
  const text = await metrics.registry.metrics();
  for (const name of [
    'controller_runtime_reconcile_time_seconds_bucket',
    'controller_runtime_reconcile_errors_total',
    'workqueue_depth',
    'workqueue_queue_duration_seconds_bucket',
    'workqueue_work_duration_seconds_bucket',
    'workqueue_retries_total',
  ]) {
    assert.match(text, new RegExp(`^${name}\\{[^}]*controller="demo"`, 'm'), name);
  }
  await c.stop();
});

test('a throw retries with growing backoff; success afterwards resets it', async () => {
  const timers = new ManualTimers();
  const metrics = createOperatorMetrics(undefined, { defaultMetrics: false });
  let calls = 0;
  const retries: number[] = [];
  const c = new Controller({
    name: 'demo',
    timers,
    metrics,
    reconcile: async (_key, ctx) => {
      calls++;
      retries.push(ctx.retries);
      if (calls <= 3) throw new Error('database unreachable');
    },
  });
  c.enqueue('k');
  c.start();
  await flushMicrotasks();
  assert.equal(calls, 1);
  assert.deepEqual(timers.pendingDelays(), [5]);
  await timers.advance(5);
  assert.equal(calls, 2);
  assert.deepEqual(timers.pendingDelays(), [10]);
  await timers.advance(10);
  assert.equal(calls, 3);
  assert.deepEqual(timers.pendingDelays(), [20]);
  await timers.advance(20);
  assert.equal(calls, 4);
  assert.deepEqual(retries, [0, 1, 2, 3]);
  assert.equal(c.queue.numRequeues('k'), 0, 'success forgot the failures');
  assert.equal(await metricValue(metrics, 'controller_runtime_reconcile_errors_total', { controller: 'demo' }), 3);
  assert.equal(await metricValue(metrics, 'controller_runtime_reconcile_total', { controller: 'demo', result: 'error' }), 3);
  assert.equal(await metricValue(metrics, 'workqueue_retries_total', { controller: 'demo' }), 3);
  await c.stop();
});

test('a terminal OperatorError is not retried; non-Error throws and sync throws are caught', async () => {
  const timers = new ManualTimers();
  const metrics = createOperatorMetrics(undefined, { defaultMetrics: false });
  const calls: string[] = [];
  const c = new Controller({
    name: 'demo',
    timers,
    metrics,
    reconcile: (key) => {
      calls.push(key);
      if (key === 'terminal') return Promise.reject(new OperatorError('InvalidSpec', 'bad spec', { terminal: true }));
      if (key === 'string') return Promise.reject('a string');
      throw new Error('synchronous throw');
    },
  });
  c.enqueue('terminal');
  c.enqueue('string');
  c.enqueue('sync');
  c.start();
  await flushMicrotasks();
  assert.deepEqual(calls, ['terminal', 'string', 'sync']);
  assert.deepEqual(timers.pendingDelays(), [5, 5], 'only the two non-terminal keys are retried');
  assert.equal(await metricValue(metrics, 'controller_runtime_terminal_reconcile_errors_total', { controller: 'demo' }), 1);
  assert.equal(await metricValue(metrics, 'controller_runtime_reconcile_panics_total', { controller: 'demo' }), 1);
  await c.stop();
});

test('requeueAfterMs schedules the next run and resets backoff; requeue uses backoff', async () => {
  const timers = new ManualTimers();
  const metrics = createOperatorMetrics(undefined, { defaultMetrics: false });
  let calls = 0;
  const c = new Controller({
    name: 'demo',
    timers,
    metrics,
    reconcile: async (key) => {
      calls++;
      if (key === 'later') return { requeueAfterMs: 60_000 };
      return { requeue: true };
    },
  });
  c.enqueue('later');
  c.start();
  await flushMicrotasks();
  assert.equal(calls, 1);
  assert.deepEqual(timers.pendingDelays(), [60_000]);
  await timers.advance(59_999);
  assert.equal(calls, 1);
  await timers.advance(1);
  assert.equal(calls, 2);
  assert.equal(await metricValue(metrics, 'controller_runtime_reconcile_total', { controller: 'demo', result: 'requeue_after' }), 2);
  await c.stop();
  const c2 = new Controller({ name: 'demo2', timers, metrics, reconcile: async () => ({ requeue: true }) });
  c2.enqueue('again');
  c2.start();
  await flushMicrotasks();
  assert.ok(timers.pendingDelays().includes(5));
  assert.equal(await metricValue(metrics, 'controller_runtime_reconcile_total', { controller: 'demo2', result: 'requeue' }), 1);
  await c2.stop();
});

test('events while a key is reconciling give exactly one re-run; concurrency is bounded', async () => {
  const timers = new ManualTimers();
  const gates = new Map<string, ReturnType<typeof deferred<void>>>();
  const runs: string[] = [];
  let active = 0;
  let maxActive = 0;
  const c = new Controller({
    name: 'demo',
    timers,
    concurrency: 2,
    reconcile: async (key) => {
      runs.push(key);
      active++;
      maxActive = Math.max(maxActive, active);
      const gate = deferred();
      gates.set(key, gate);
      await gate.promise;
      active--;
    },
  });
  c.start();
  for (const k of ['a', 'b', 'c']) c.enqueue(k);
  await flushMicrotasks();
  assert.deepEqual(runs, ['a', 'b']);
  for (let i = 0; i < 10; i++) c.enqueue('a');
  gates.get('b')?.resolve();
  await flushMicrotasks();
  assert.deepEqual(runs, ['a', 'b', 'c'], 'a is not run twice at once');
  gates.get('a')?.resolve();
  await flushMicrotasks();
  assert.deepEqual(runs, ['a', 'b', 'c', 'a'], 'one re-run of a after it finished');
  gates.get('c')?.resolve();
  gates.get('a')?.resolve();
  await flushMicrotasks();
  assert.equal(runs.length, 4);
  assert.equal(maxActive, 2);
  await c.stop();
});

test('timeout aborts the signal and counts as an error with backoff', async () => {
  const timers = new ManualTimers();
  let signal: AbortSignal | undefined;
  let calls = 0;
  const c = new Controller({
    name: 'demo',
    timers,
    timeoutMs: 1000,
    reconcile: (_key, ctx) => {
      calls++;
      signal = ctx.signal;
      if (calls > 1) return Promise.resolve();
      return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    },
  });
  c.enqueue('slow');
  c.start();
  await flushMicrotasks();
  await timers.advance(999);
  assert.equal(signal?.aborted, false);
  await timers.advance(1);
  assert.equal(signal?.aborted, true);
  assert.equal((signal?.reason as OperatorError).reason, 'ReconcileTimeout');
  assert.deepEqual(timers.pendingDelays(), [5]);
  await timers.advance(5);
  assert.equal(calls, 2);
  await c.stop();
});

test('the per-reconcile logger carries controller, key and reconcileID', async () => {
  const out = new PassThrough();
  const lines: string[] = [];
  out.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  const logger = createLogger({ level: 'info', destination: out });
  const c = new Controller({
    name: 'demo',
    timers: new ManualTimers(),
    logger,
    reconcile: async (_key, ctx) => {
      ctx.logger.info('inside');
    },
  });
  c.enqueue('ns/x');
  c.start();
  await flushMicrotasks();
  await c.stop();
  await flushMicrotasks();
  const inside = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'inside');
  assert.ok(inside);
  assert.equal(inside['controller'], 'demo');
  assert.equal(inside['key'], 'ns/x');
  assert.match(String(inside['reconcileID']), /^[0-9a-f-]{36}$/);
});

test('stop waits for in-flight work within the grace period, drops queued keys', async () => {
  const timers = new ManualTimers();
  const gate = deferred();
  const runs: string[] = [];
  const c = new Controller({
    name: 'demo',
    timers,
    reconcile: async (key) => {
      runs.push(key);
      if (key === 'a') await gate.promise;
    },
  });
  c.enqueue('a');
  c.enqueue('b');
  c.start();
  await flushMicrotasks();
  let result: { abandoned: string[] } | undefined;
  void c.stop({ graceMs: 10_000 }).then((r) => (result = r));
  await timers.advance(5000);
  assert.equal(result, undefined, 'still waiting for a');
  gate.resolve();
  await flushMicrotasks();
  assert.deepEqual(result, { abandoned: [] });
  assert.deepEqual(runs, ['a'], 'b was dropped, not started during shutdown');
  c.enqueue('c');
  await flushMicrotasks();
  assert.deepEqual(runs, ['a']);
  await c.whenStopped();
});

test('stop aborts reconciles that outlive the grace period; abort() aborts at once without retry', async () => {
  const timers = new ManualTimers();
  const signals: AbortSignal[] = [];
  const never = (_key: string, ctx: ReconcileContext) => {
    signals.push(ctx.signal);
    return new Promise<void>(() => {});
  };
  const c = new Controller({ name: 'demo', timers, timeoutMs: 0, reconcile: never });
  c.enqueue('stuck');
  c.start();
  await flushMicrotasks();
  let result: { abandoned: string[] } | undefined;
  void c.stop({ graceMs: 1000, abandonMs: 500 }).then((r) => (result = r));
  await timers.advance(1000);
  assert.equal(signals[0]?.aborted, true);
  await timers.advance(500);
  assert.deepEqual(result, { abandoned: ['stuck'] });

  const honest = new Controller({
    name: 'demo2',
    timers,
    timeoutMs: 0,
    reconcile: (_key, ctx) =>
      new Promise<void>((_res, rej) => ctx.signal.addEventListener('abort', () => rej(ctx.signal.reason))),
  });
  honest.enqueue('x');
  honest.start();
  await flushMicrotasks();
  const before = timers.pendingCount;
  honest.abort();
  await flushMicrotasks();
  assert.deepEqual(honest.inFlight(), []);
  assert.equal(timers.pendingCount, before, 'no retry scheduled after losing leadership');
  await honest.whenStopped();
});

test('a timed-out reconcile that ignores its signal frees its worker; its key is never run twice at once', async () => {
  const timers = new ManualTimers();
  const hung = deferred();
  const started: string[] = [];
  let hungRunning = 0;
  let maxHungRunning = 0;
  const c = new Controller({
    name: 'demo',
    timers,
    concurrency: 1,
    timeoutMs: 1_000,
    releaseAfterAbortMs: 500,
    reconcile: async (key) => {
      started.push(key);
      if (key !== 'ns/hung') return;
      hungRunning++;
      maxHungRunning = Math.max(maxHungRunning, hungRunning);
      try {
        await hung.promise; // ignores the signal
      } finally {
        hungRunning--;
      }
    },
  });
  c.enqueue('ns/hung');
  c.enqueue('ns/other');
  c.start();
  await flushMicrotasks();
  assert.deepEqual(started, ['ns/hung']);
  await timers.advance(1_000);
  assert.deepEqual(started, ['ns/hung'], 'the worker waits releaseAfterAbortMs for the aborted reconcile');
  await timers.advance(500);
  assert.deepEqual(started, ['ns/hung', 'ns/other'], 'the worker moved on to the next key');
  // The hung key is re-added while its stray reconcile still runs: it waits for it.
  c.enqueue('ns/hung');
  await timers.advance(10_000);
  assert.deepEqual(started, ['ns/hung', 'ns/other']);
  assert.deepEqual(c.inFlight(), ['ns/hung']);
  hung.resolve();
  await timers.advance(60_000);
  assert.ok(started.filter((k) => k === 'ns/hung').length >= 2, 'reconciled again after the stray one returned');
  assert.equal(maxHungRunning, 1, 'never two reconciles of one key at once');
  c.abort();
  await c.whenStopped();
});
