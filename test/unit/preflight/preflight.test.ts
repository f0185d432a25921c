// When a policy's checks run (apply, spec change, Secret change, interval, before a run, soon again
// while failing), what conditions they leave, and that a Ready they turned False is recognisable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/clock.ts';
import { Preflight, isSetByChecks, type CheckResult } from '../../../src/controllers/shared/preflight.ts';
import { ProbeCache } from '../../../src/controllers/shared/probe-cache.ts';
import { SecretChangePoller } from '../../../src/controllers/shared/secret-poller.ts';
import { readSecret, type SecretReader } from '../../../src/controllers/shared/secrets.ts';
import type { Condition } from '../../../src/runtime/conditions.ts';

const HOUR = 3_600_000;

function setup() {
  const clock = new ManualClock('2026-03-01T10:00:00Z');
  const store = new Map<string, Record<string, string>>([['ns/creds', { accessKeyId: 'a', secretAccessKey: 's1' }]]);
  const secrets: SecretReader = { read: async (ns, name) => store.get(`${ns}/${name}`) };
  const poller = new SecretChangePoller({ secrets });
  const changed: string[] = [];
  const preflight = new Preflight({ cache: new ProbeCache({ clock }), probes: { destination: async () => ({ versioning: 'Off', objectLock: 'Off' }), withDatabase: async () => assert.fail(), pgDump: async () => '15' }, secrets, poller });
  poller.onChange((owner) => changed.push(owner));
  let ok = true;
  let runs = 0;
  const checks = async (context: { namespace: string; secrets: SecretReader }): Promise<CheckResult[]> => {
    runs++;
    await readSecret(context.secrets, context.namespace, 'creds');
    return [ok ? { type: 'DestinationsReady', ok: true, reason: 'DestinationsVerified', message: 'fine' } : { type: 'DestinationsReady', ok: false, reason: 'BucketNotFound', message: 'destination primary: bucket b does not exist' }];
  };
  const run = (generation = 1, nextRunTime?: string, previous?: Condition[]) =>
    preflight.run('backuppolicy:ns/p', { namespace: 'ns', generation, intervalMs: HOUR, nextRunTime, now: clock.now(), previous }, checks);
  return { clock, store, poller, changed, preflight, run, setOk: (v: boolean) => (ok = v), runs: () => runs };
}

test('checks run on apply, not again until due, again on a spec change and on the interval', async () => {
  const s = setup();
  const first = await s.run(1);
  assert.equal(s.runs(), 1);
  assert.equal(first.failing, undefined);
  assert.equal(first.nextCheckTime, '2026-03-01T11:00:00.000Z');
  s.clock.advance(60_000);
  await s.run(1);
  assert.equal(s.runs(), 1, 'not due');
  await s.run(2);
  assert.equal(s.runs(), 2, 'spec changed');
  s.clock.advance(HOUR);
  await s.run(2);
  assert.equal(s.runs(), 3, 'interval');
});

test('shortly before a scheduled run the checks run again', async () => {
  const s = setup();
  const next = '2026-03-01T10:30:00.000Z';
  const first = await s.run(1, next);
  assert.equal(first.nextCheckTime, '2026-03-01T10:25:00.000Z');
  s.clock.set('2026-03-01T10:25:00Z');
  await s.run(1, next);
  assert.equal(s.runs(), 2);
  s.clock.set('2026-03-01T10:26:00Z');
  await s.run(1, next);
  assert.equal(s.runs(), 2, 'once per run');
});

test('a failing check sets Ready False with its reason, is retried within 10 s, and the fix clears it', async () => {
  const s = setup();
  s.setOk(false);
  const failing = await s.run(1);
  const now = s.clock.now();
  const conditions = failing.apply([{ type: 'Ready', status: 'True', reason: 'NoBackupYet', message: 'waiting', lastTransitionTime: now.toISOString() }], 1, now);
  const ready = conditions.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'False');
  assert.equal(ready?.reason, 'BucketNotFound');
  assert.match(ready?.message ?? '', /^DestinationsReady: destination primary: bucket b does not exist/);
  assert.ok(isSetByChecks(ready));
  const stalled = conditions.find((c) => c.type === 'Stalled');
  assert.equal(stalled?.status, 'True', 'kstatus reads Stalled: the policy shows as Failed');
  assert.equal(stalled?.reason, 'BucketNotFound');
  assert.equal(conditions.find((c) => c.type === 'DestinationsReady')?.status, 'False');
  assert.deepEqual(failing.events.map((e) => [e.type, e.reason]), [['Warning', 'BucketNotFound']]);
  assert.equal(failing.nextCheckTime, new Date(now.getTime() + 10_000).toISOString());

  s.setOk(true);
  s.clock.advance(10_000);
  const fixed = await s.run(1, undefined, conditions);
  assert.equal(s.runs(), 2);
  assert.equal(fixed.failing, undefined);
  assert.deepEqual(fixed.events.map((e) => [e.type, e.reason]), [['Normal', 'DestinationsVerified']]);
});

test('a changed referenced Secret makes the owner due and notifies it once', async () => {
  const s = setup();
  await s.run(1);
  await s.poller.poll();
  assert.deepEqual(s.changed, []);
  s.store.set('ns/creds', { accessKeyId: 'a', secretAccessKey: 's2' });
  await s.poller.poll();
  await s.poller.poll();
  assert.deepEqual(s.changed, ['backuppolicy:ns/p']);
  await s.run(1);
  assert.equal(s.runs(), 2, 'the Secret change made the checks due');
  s.store.delete('ns/creds');
  await s.poller.poll();
  assert.deepEqual(s.changed, ['backuppolicy:ns/p', 'backuppolicy:ns/p'], 'a deleted Secret is a change too');
  s.preflight.forget('backuppolicy:ns/p');
  s.store.set('ns/creds', { accessKeyId: 'b', secretAccessKey: 's3' });
  await s.poller.poll();
  assert.equal(s.changed.length, 2, 'forgotten owners are not notified');
});
