import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventRecorder, objectRefOf, type EventBody, type EventSink } from '../../../src/runtime/events.ts';
import { ManualClock } from '../../../src/clock.ts';

class FakeSink implements EventSink {
  created: EventBody[] = [];
  patches: Array<{ name: string; count: number; lastObservedTime: string }> = [];
  failCreate: unknown;
  failPatch: unknown;
  async create(_ns: string, event: EventBody) {
    if (this.failCreate) throw this.failCreate;
    this.created.push(structuredClone(event));
    return event;
  }
  async patchSeries(_ns: string, name: string, series: { count: number; lastObservedTime: string }) {
    if (this.failPatch) throw this.failPatch;
    this.patches.push({ name, ...series });
    return {};
  }
}

const db = objectRefOf({
  apiVersion: 'lokdarpan.io/v1alpha1',
  kind: 'LokdarpanDatabase',
  metadata: { name: 'main', namespace: 'prod', uid: 'u-1', resourceVersion: '9' },
});

function setup(opts: { minSeriesUpdateMs?: number } = {}) {
  const clock = new ManualClock('2026-03-01T10:00:00.123Z');
  const sink = new FakeSink();
  const recorder = new EventRecorder({ sink, clock, reportingInstance: 'operator-0-abc', ...opts });
  return { clock, sink, recorder };
}

test('creates an events.k8s.io/v1 Event with a 6-digit MicroTime and reporting fields', async () => {
  const { sink, recorder } = setup();
  await recorder.warning(db, 'SecretMissing', 'Connect', 'Secret prod/db-credentials not found');
  assert.equal(sink.created.length, 1);
  const e = sink.created[0]!;
  assert.equal(e.eventTime, '2026-03-01T10:00:00.123000Z');
  assert.equal(e.reportingController, 'lokdarpan.io/operator');
  assert.equal(e.reportingInstance, 'operator-0-abc');
  assert.equal(e.type, 'Warning');
  assert.equal(e.reason, 'SecretMissing');
  assert.equal(e.action, 'Connect');
  assert.equal(e.metadata.namespace, 'prod');
  assert.match(e.metadata.name, /^main\.[0-9a-f]+$/);
  assert.deepEqual(e.regarding, { apiVersion: 'lokdarpan.io/v1alpha1', kind: 'LokdarpanDatabase', name: 'main', namespace: 'prod', uid: 'u-1', resourceVersion: '9' });
  assert.equal(e.series, undefined);
});

test('repeats within the window aggregate into series.count, written at most once per interval', async () => {
  const { clock, sink, recorder } = setup({ minSeriesUpdateMs: 30_000 });
  await recorder.warning(db, 'ServerDown', 'Connect', 'connection refused');
  clock.advance(10_000);
  await recorder.warning(db, 'ServerDown', 'Connect', 'connection refused');
  assert.equal(sink.patches.length, 0, 'too soon after the create: only counted');
  clock.advance(25_000);
  await recorder.warning(db, 'ServerDown', 'Connect', 'connection refused');
  assert.equal(sink.created.length, 1);
  assert.deepEqual(sink.patches, [{ name: sink.created[0]!.metadata.name, count: 3, lastObservedTime: '2026-03-01T10:00:35.123000Z' }]);
  for (let i = 0; i < 100; i++) {
    clock.advance(100);
    await recorder.warning(db, 'ServerDown', 'Connect', 'connection refused');
  }
  assert.equal(sink.patches.length, 1, 'a tight retry loop makes no API calls');
  clock.advance(30_000);
  await recorder.warning(db, 'ServerDown', 'Connect', 'connection refused');
  assert.equal(sink.patches.at(-1)?.count, 104);
});

test('a different note, reason or object is a different event; the window expires', async () => {
  const { clock, sink, recorder } = setup({ minSeriesUpdateMs: 0 });
  await recorder.warning(db, 'ServerDown', 'Connect', 'a');
  await recorder.warning(db, 'ServerDown', 'Connect', 'b');
  await recorder.normal(db, 'Migrated', 'Migrate', 'a');
  await recorder.warning({ ...db, name: 'other' }, 'ServerDown', 'Connect', 'a');
  assert.equal(sink.created.length, 4);
  await recorder.warning(db, 'ServerDown', 'Connect', 'a');
  assert.equal(sink.patches.length, 1);
  clock.advance(7 * 60_000);
  await recorder.warning(db, 'ServerDown', 'Connect', 'a');
  assert.equal(sink.created.length, 5, 'a new event after the series window');
});

test('a series whose Event expired starts a new Event; API errors never throw', async () => {
  const { clock, sink, recorder } = setup({ minSeriesUpdateMs: 0 });
  await recorder.warning(db, 'X', 'Y', 'z');
  sink.failPatch = Object.assign(new Error('gone'), { code: 404 });
  clock.advance(1000);
  await recorder.warning(db, 'X', 'Y', 'z');
  assert.equal(sink.created.length, 2);
  sink.failCreate = Object.assign(new Error('forbidden'), { code: 403 });
  await recorder.warning(db, 'Other', 'Y', 'z');
  sink.failPatch = new Error('boom');
  clock.advance(1000);
  await recorder.warning(db, 'X', 'Y', 'z');
});

test('notes are one line and at most 1024 characters; tracking is bounded', async () => {
  const clock = new ManualClock();
  const sink = new FakeSink();
  const recorder = new EventRecorder({ sink, clock, reportingInstance: 'i', maxTracked: 10 });
  await recorder.normal(db, 'R', 'A', 'line1\nline2' + 'x'.repeat(3000));
  assert.equal(sink.created[0]!.note.length, 1024);
  assert.ok(sink.created[0]!.note.startsWith('line1 line2'));
  for (let i = 0; i < 50; i++) await recorder.normal({ ...db, name: `n${i}` }, 'R', 'A', 'n');
  assert.ok(recorder.trackedCount <= 10);
});

test('a closed fence drops events (no create, no series patch)', async () => {
  const { Fence } = await import('../../../src/runtime/fence.ts');
  const clock = new ManualClock('2026-03-01T10:00:00.123Z');
  const sink = new FakeSink();
  const fence = new Fence();
  const recorder = new EventRecorder({ sink, clock, reportingInstance: 'operator-0-abc', minSeriesUpdateMs: 0, fence });
  await recorder.warning(db, 'ServerDown', 'Connect', 'connection refused');
  assert.equal(sink.created.length, 1);
  fence.close('lost the lease');
  clock.advance(1_000);
  await recorder.warning(db, 'ServerDown', 'Connect', 'connection refused');
  await recorder.normal(db, 'Other', 'Connect', 'something else');
  assert.equal(sink.created.length, 1);
  assert.equal(sink.patches.length, 0);
});

test('background mode: record() returns before the write; identical events queued together form one series; flush() waits', async () => {
  const clock = new ManualClock('2026-03-01T10:00:00.123Z');
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let inFlight = 0;
  let mostInFlight = 0;
  const sink = new FakeSink();
  const create = sink.create.bind(sink);
  sink.create = async (ns, event) => {
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    await gate;
    inFlight--;
    return create(ns, event);
  };
  const recorder = new EventRecorder({ sink, clock, reportingInstance: 'i', minSeriesUpdateMs: 0, background: true, maxInFlight: 2 });
  for (let i = 0; i < 5; i++) await recorder.normal({ ...db, name: `n${i}` }, 'Migrated', 'Migrate', 'done');
  clock.advance(1_000);
  await recorder.normal({ ...db, name: 'n0' }, 'Migrated', 'Migrate', 'done');
  assert.equal(sink.created.length, 0, 'nothing written yet: the writes wait behind the gate');
  release();
  await recorder.flush();
  assert.equal(sink.created.length, 5);
  assert.equal(mostInFlight, 2, 'at most maxInFlight writes at once');
  assert.deepEqual(sink.patches, [{ name: sink.created.find((e) => e.regarding.name === 'n0')!.metadata.name, count: 2, lastObservedTime: '2026-03-01T10:00:01.123000Z' }], 'the repeat patched the series after its create');
});

test('background mode: a failed create is logged, and the next identical event creates it again', async () => {
  const { sink } = setup();
  const clock = new ManualClock();
  const recorder = new EventRecorder({ sink, clock, reportingInstance: 'i', background: true });
  sink.failCreate = Object.assign(new Error('forbidden'), { code: 403 });
  await recorder.warning(db, 'X', 'Y', 'z');
  await recorder.flush();
  sink.failCreate = undefined;
  await recorder.warning(db, 'X', 'Y', 'z');
  await recorder.flush();
  assert.equal(sink.created.length, 1);
});
