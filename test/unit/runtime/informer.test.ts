import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Informer, type ListWatchSource, type InformerEvent } from '../../../src/runtime/informer.ts';
import { ManualTimers, flushMicrotasks } from '../../../src/runtime/timers.ts';
import type { KubeObject } from '../../../src/runtime/kube.ts';

interface ActiveWatch {
  rv: string;
  onEvent: (type: string, obj: unknown) => void;
  onDone: (err: unknown) => void;
  aborted: boolean;
}

/** An in-memory API server: objects, a resourceVersion counter, scripted failures. */
class FakeSource implements ListWatchSource<KubeObject> {
  objects = new Map<string, KubeObject>();
  rv = 100;
  watches: ActiveWatch[] = [];
  listCalls = 0;
  listFailures: unknown[] = [];
  watchFailures: unknown[] = [];
  hangList = false;

  put(ns: string, name: string, data: Record<string, string> = {}): KubeObject {
    const obj: KubeObject = { metadata: { namespace: ns, name, resourceVersion: String(++this.rv) }, data };
    const existed = this.objects.has(`${ns}/${name}`);
    this.objects.set(`${ns}/${name}`, obj);
    this.broadcast(existed ? 'MODIFIED' : 'ADDED', obj);
    return obj;
  }

  remove(ns: string, name: string): void {
    const obj = this.objects.get(`${ns}/${name}`);
    this.objects.delete(`${ns}/${name}`);
    if (obj) this.broadcast('DELETED', { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
  }

  broadcast(type: string, obj: unknown): void {
    for (const w of this.watches) if (!w.aborted) w.onEvent(type, obj);
  }

  get current(): ActiveWatch | undefined {
    return this.watches.filter((w) => !w.aborted).at(-1);
  }

  async list() {
    this.listCalls++;
    if (this.hangList) return new Promise<never>(() => {});
    const failure = this.listFailures.shift();
    if (failure) throw failure;
    return { items: [...this.objects.values()], resourceVersion: String(this.rv) };
  }

  async watch(rv: string, onEvent: ActiveWatch['onEvent'], onDone: ActiveWatch['onDone']) {
    const failure = this.watchFailures.shift();
    const w: ActiveWatch = { rv, onEvent, onDone, aborted: false };
    if (failure) {
      w.aborted = true;
      onDone(failure);
    }
    this.watches.push(w);
    return { abort: () => void (w.aborted = true) };
  }
}

function setup(options: { resyncMs?: number; watchdogMs?: number } = {}) {
  const timers = new ManualTimers(1_000_000);
  const source = new FakeSource();
  const informer = new Informer<KubeObject>({
    name: 'test',
    source,
    timers,
    resyncMs: options.resyncMs ?? 0,
    watchdogMs: options.watchdogMs ?? 0,
    backoff: { initialMs: 100, maxMs: 1000, jitter: 0 },
  });
  const events: Array<[string, InformerEvent]> = [];
  informer.onKey((key, event) => events.push([key, event]));
  return { timers, source, informer, events };
}

test('lists, syncs, then delivers add/update/delete keys from the watch', async () => {
  const { source, informer, events } = setup();
  source.put('ns', 'a');
  informer.start();
  await informer.whenSynced();
  await flushMicrotasks();
  assert.deepEqual(events, [['ns/a', 'add']]);
  assert.equal(source.current?.rv, '101', 'watch starts at the list resourceVersion');
  source.put('ns', 'b');
  source.put('ns', 'a', { x: '1' });
  source.remove('ns', 'b');
  assert.deepEqual(events.slice(1), [
    ['ns/b', 'add'],
    ['ns/a', 'update'],
    ['ns/b', 'delete'],
  ]);
  assert.deepEqual(informer.get('ns/a')?.['data'], { x: '1' });
  assert.deepEqual(informer.keys(), ['ns/a']);
  assert.equal(informer.resourceVersion, '104');
  await informer.stop();
});

test('a handler that throws does not break delivery to the others', async () => {
  const { source, informer, events } = setup();
  informer.onKey(() => {
    throw new Error('bad handler');
  });
  informer.start();
  await informer.whenSynced();
  source.put('ns', 'a');
  assert.deepEqual(events, [['ns/a', 'add']]);
  await informer.stop();
});

test('a watch error restarts with growing backoff and a relist that reports missed changes', async () => {
  const { timers, source, informer, events } = setup();
  source.put('ns', 'a');
  source.put('ns', 'b');
  informer.start();
  await informer.whenSynced();
  await flushMicrotasks();
  events.length = 0;
  source.current?.onDone(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
  // While disconnected: b is deleted, c is created, a changes.
  source.watches.forEach((w) => (w.aborted = true));
  source.objects.delete('ns/b');
  source.put('ns', 'c');
  source.put('ns', 'a', { v: '2' });
  source.listFailures.push(new Error('connect ECONNREFUSED'));
  assert.deepEqual(timers.pendingDelays(), [100]);
  await timers.advance(100);
  assert.equal(informer.stats.errors, 2, 'the list failed too');
  assert.deepEqual(timers.pendingDelays(), [200], 'backoff doubled');
  await timers.advance(200);
  assert.equal(source.listCalls, 3);
  assert.deepEqual(events.sort(), [
    ['ns/a', 'update'],
    ['ns/b', 'delete'],
    ['ns/c', 'add'],
  ]);
  assert.ok(source.current, 'watching again');
  source.put('ns', 'd');
  assert.deepEqual(events.at(-1), ['ns/d', 'add']);
  await informer.stop();
});

test('410 Gone (watch ERROR event or HTTP status) relists at once without backoff', async () => {
  const { timers, source, informer } = setup();
  informer.start();
  await informer.whenSynced();
  await flushMicrotasks();
  source.current?.onEvent('ERROR', { kind: 'Status', code: 410, message: 'too old resource version' });
  await flushMicrotasks();
  assert.equal(source.listCalls, 2);
  assert.equal(informer.stats.gone, 1);
  assert.equal(timers.pendingCount, 0);
  source.current?.onDone({ statusCode: 410 });
  await flushMicrotasks();
  assert.equal(source.listCalls, 3);
  assert.equal(informer.stats.errors, 0);
  await informer.stop();
});

test('a normal close or client timeout re-watches from the last resourceVersion without relisting', async () => {
  const { timers, source, informer } = setup();
  informer.start();
  await informer.whenSynced();
  await flushMicrotasks();
  source.put('ns', 'a');
  await timers.advance(5000);
  source.current?.onDone(null);
  await flushMicrotasks();
  assert.equal(source.listCalls, 1);
  assert.equal(source.current?.rv, '101');
  await timers.advance(30_000);
  const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
  source.current?.onDone(timeout);
  await flushMicrotasks();
  assert.equal(source.listCalls, 1);
  assert.equal(source.watches.length, 3);
  // A watch that closes at once without events is a failure (no tight loop).
  source.current?.onDone(null);
  await flushMicrotasks();
  assert.deepEqual(timers.pendingDelays(), [100]);
  await informer.stop();
});

test('the watchdog restarts a silent watch and a hung list', async () => {
  const { timers, source, informer } = setup({ watchdogMs: 60_000 });
  informer.start();
  await informer.whenSynced();
  await flushMicrotasks();
  const first = source.current;
  await timers.advance(45_000);
  assert.equal(informer.stats.watchdogRestarts, 0);
  source.put('ns', 'a'); // activity resets the watchdog
  await timers.advance(45_000);
  assert.equal(informer.stats.watchdogRestarts, 0);
  source.hangList = true;
  await timers.advance(30_000);
  assert.equal(informer.stats.watchdogRestarts, 1);
  assert.equal(first?.aborted, true, 'the silent watch was abandoned');
  assert.equal(source.listCalls, 2);
  // the relist hangs: the watchdog fires again
  await timers.advance(75_000);
  assert.equal(informer.stats.watchdogRestarts, 2);
  source.hangList = false;
  await timers.advance(75_000);
  assert.ok(source.current && !source.current.aborted);
  await informer.stop();
});

test('resync re-delivers every cached key periodically; stop cancels everything', async () => {
  const { timers, source, informer, events } = setup({ resyncMs: 10_000 });
  source.put('ns', 'a');
  source.put('ns', 'b');
  informer.start();
  await informer.whenSynced();
  events.length = 0;
  await timers.advance(10_000);
  assert.deepEqual(events, [
    ['ns/a', 'resync'],
    ['ns/b', 'resync'],
  ]);
  await informer.stop();
  assert.equal(timers.pendingCount, 0);
  assert.equal(source.current, undefined);
});

test('a late handler receives the current cache as adds', async () => {
  const { source, informer } = setup();
  source.put('ns', 'a');
  informer.start();
  await informer.whenSynced();
  const late: string[] = [];
  informer.onKey((key, event) => late.push(`${event}:${key}`));
  assert.deepEqual(late, ['add:ns/a']);
  await informer.stop();
});
