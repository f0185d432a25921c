// The workqueue histograms' buckets resolve 1 ms .. 60 s finely enough to read a p99 under 1 s, keep
// their names and labels, and have the bounds the alert and the bench read (1 s, 5 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOperatorMetrics, WORKQUEUE_BUCKETS } from '../../../src/observability/metrics.ts';
import { histogramQuantile, parseHistogram } from '../../integration/operator-harness.ts';

const NAMES = ['workqueue_queue_duration_seconds', 'workqueue_work_duration_seconds'] as const;

test('the bounds run from 1 ms to 60 s, each at most 2.5x the one before, with 1 s and 5 s among them', () => {
  assert.equal(WORKQUEUE_BUCKETS[0], 0.001);
  assert.equal(WORKQUEUE_BUCKETS.at(-1), 60);
  for (let i = 1; i < WORKQUEUE_BUCKETS.length; i++) {
    const ratio = WORKQUEUE_BUCKETS[i]! / WORKQUEUE_BUCKETS[i - 1]!;
    assert.ok(ratio > 1 && ratio <= 2.5, `${WORKQUEUE_BUCKETS[i - 1]} -> ${WORKQUEUE_BUCKETS[i]}`);
  }
  // bench/operator-scale.ts reads the share of waits under 1 s; the LokdarpanWorkqueueSlow alert fires on p99 > 5 s.
  assert.ok(WORKQUEUE_BUCKETS.includes(1) && WORKQUEUE_BUCKETS.includes(5));
});

test('both histograms export these buckets under their names and labels, and a p99 of 300 ms reads within 20 %', async () => {
  const metrics = createOperatorMetrics(undefined, { defaultMetrics: false });
  // 1000 waits: 980 of 10 ms, 20 spread over 250..345 ms; the 990th is 300 ms.
  const waits = [...Array.from({ length: 980 }, () => 0.01), ...Array.from({ length: 20 }, (_, i) => 0.25 + i * 0.005)];
  for (const seconds of waits) {
    metrics.workqueueQueueDurationSeconds.observe({ name: 'demo', controller: 'demo' }, seconds);
    metrics.workqueueWorkDurationSeconds.observe({ name: 'demo', controller: 'demo' }, seconds);
  }
  const text = await metrics.registry.metrics();
  for (const name of NAMES) {
    assert.match(text, new RegExp(`^# TYPE ${name} histogram$`, 'm'));
    const h = parseHistogram(text, name, /name="demo",controller="demo"/);
    assert.deepEqual(h.buckets.map((b) => b.le), [...WORKQUEUE_BUCKETS, Number.POSITIVE_INFINITY], name);
    assert.equal(h.count, waits.length);
    const p99 = histogramQuantile(h, 0.99);
    // With client-go's powers of ten the same waits read 550 ms (interpolated across 0.1 .. 1 s).
    assert.ok(Math.abs(p99 - 0.3) / 0.3 < 0.2, `${name} p99 ${p99} s`);
  }
});
