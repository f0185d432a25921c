// The shared probe cache: one probe per key at a time, successes and failures reused for their TTLs,
// a caller's maxAge honoured, and never more probes in flight than the concurrency limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/clock.ts';
import { ProbeCache, probeKey } from '../../../src/controllers/shared/probe-cache.ts';

test('concurrent callers of one key share one probe; the result is reused until its TTL', async () => {
  const clock = new ManualClock();
  const cache = new ProbeCache({ clock, successTtlMs: 60_000 });
  let calls = 0;
  const probe = async (): Promise<string> => {
    calls++;
    await new Promise((r) => setTimeout(r, 20));
    return 'ok';
  };
  const results = await Promise.all(Array.from({ length: 50 }, () => cache.get('k', probe)));
  assert.equal(calls, 1);
  assert.ok(results.every((r) => r.value === 'ok'));
  clock.advance(59_000);
  await cache.get('k', probe);
  assert.equal(calls, 1, 'still fresh');
  await cache.get('k', probe, { maxAgeMs: 30_000 });
  assert.equal(calls, 2, 'a caller that wants a younger result gets a new probe');
  clock.advance(61_000);
  await cache.get('k', probe);
  assert.equal(calls, 3, 'expired');
});

test('a failure is rethrown to every caller and reused only for the short failure TTL', async () => {
  const clock = new ManualClock();
  const cache = new ProbeCache({ clock, failureTtlMs: 5_000 });
  let calls = 0;
  const probe = async (): Promise<never> => {
    calls++;
    throw new Error(`refused ${calls}`);
  };
  await assert.rejects(cache.get('k', probe), /refused 1/);
  await assert.rejects(cache.get('k', probe), /refused 1/);
  clock.advance(5_001);
  await assert.rejects(cache.get('k', probe), /refused 2/);
  assert.equal(calls, 2);
});

test('no more probes run at once than the concurrency limit', async () => {
  const cache = new ProbeCache({ concurrency: 3 });
  let running = 0;
  let peak = 0;
  const probe = async (): Promise<number> => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 10));
    running--;
    return 1;
  };
  await Promise.all(Array.from({ length: 20 }, (_, i) => cache.get(`key-${i}`, probe)));
  assert.equal(peak, 3);
  assert.equal(cache.probes, 20);
});

test('probe keys are hashes: the credentials in them do not appear', () => {
  const key = probeKey('s3', { bucket: 'b', credentials: { secretAccessKey: 'very-secret-value' } });
  assert.match(key, /^s3:[0-9a-f]{64}$/);
  assert.notEqual(key, probeKey('s3', { bucket: 'b', credentials: { secretAccessKey: 'other' } }));
});
