import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Manager, type ManagedInformer } from '../../../src/runtime/manager.ts';
import { Controller, type ReconcileContext } from '../../../src/runtime/controller.ts';
import type { Lease, LeaseClient } from '../../../src/runtime/leader-election.ts';
import { ManualTimers, flushMicrotasks } from '../../../src/runtime/timers.ts';
import { HealthServer } from '../../../src/observability/health.ts';

class FakeInformer implements ManagedInformer {
  name = 'fake';
  synced = false;
  started = false;
  stopped = false;
  #waiters: Array<() => void> = [];
  start() {
    this.started = true;
  }
  async stop() {
    this.stopped = true;
  }
  hasSynced() {
    return this.synced;
  }
  whenSynced() {
    return this.synced ? Promise.resolve() : new Promise<void>((r) => this.#waiters.push(r));
  }
  sync() {
    this.synced = true;
    for (const w of this.#waiters) w();
  }
}

class MemoryLeases implements LeaseClient {
  lease: Lease | undefined;
  rv = 0;
  async get() {
    return this.lease ? structuredClone(this.lease) : undefined;
  }
  async create(l: Lease) {
    if (this.lease) throw Object.assign(new Error('exists'), { code: 409 });
    this.lease = { ...l, metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
  async replace(l: Lease) {
    if (l.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) throw Object.assign(new Error('conflict'), { code: 409 });
    this.lease = { ...l, metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('without leader election: health first, controllers only after caches sync; SIGTERM drains', async () => {
  const timers = new ManualTimers();
  const informer = new FakeInformer();
  const gate = deferred();
  const runs: string[] = [];
  const controller = new Controller({
    name: 'demo',
    timers,
    reconcile: async (key) => {
      runs.push(key);
      await gate.promise;
    },
  });
  const health = new HealthServer({ port: 0, host: '127.0.0.1' });
  const manager = new Manager({ health, informers: [informer], controllers: [controller], shutdownGraceMs: 10_000 });
  controller.enqueue('ns/a');
  const starting = manager.start();
  await flushMicrotasks();
  assert.equal(informer.started, true);
  assert.deepEqual(runs, [], 'no reconcile before the caches synced');
  assert.equal(manager.isReady(), false);
  informer.sync();
  await starting;
  await flushMicrotasks();
  assert.deepEqual(runs, ['ns/a']);
  assert.equal(manager.isReady(), true);

  const proc = new EventEmitter() as unknown as NodeJS.Process;
  const remove = manager.installSignalHandlers(proc);
  proc.emit('SIGTERM', 'SIGTERM');
  await flushMicrotasks();
  let exited = false;
  void manager.done.then(() => (exited = true));
  await flushMicrotasks();
  assert.equal(exited, false, 'waits for the in-flight reconcile');
  gate.resolve();
  const exit = await manager.done;
  assert.deepEqual(exit, { reason: 'signal', code: 0, abandoned: [] });
  assert.equal(informer.stopped, true);
  remove();
});

test('with leader election: only the leader reconciles; losing the lease aborts at once and exits 1', async () => {
  const timers = new ManualTimers(1_000_000);
  const leases = new MemoryLeases();
  const makeReplica = (identity: string) => {
    const informer = new FakeInformer();
    const runs: string[] = [];
    const signals: AbortSignal[] = [];
    const controller = new Controller({
      name: 'demo',
      timers,
      timeoutMs: 0,
      reconcile: (key: string, ctx: ReconcileContext) => {
        runs.push(key);
        signals.push(ctx.signal);
        return new Promise<void>((_res, rej) => ctx.signal.addEventListener('abort', () => rej(ctx.signal.reason)));
      },
    });
    const manager = new Manager({
      informers: [informer],
      controllers: [controller],
      leaderElection: { client: leases, namespace: 'ops', name: 'op', identity, timers, random: () => 0 },
    });
    return { informer, runs, signals, controller, manager };
  };
  const a = makeReplica('a');
  const b = makeReplica('b');
  for (const r of [a, b]) {
    r.informer.sync();
    r.controller.enqueue('ns/x');
    await r.manager.start();
  }
  await timers.advance(0);
  assert.deepEqual(a.runs, ['ns/x']);
  assert.deepEqual(b.runs, [], 'the follower does not reconcile');
  assert.equal(a.manager.isReady(), true);
  assert.equal(b.manager.isReady(), true, 'a follower is ready (participating)');

  // Someone else takes the lease from a (e.g. a's renewals failed and the lease expired).
  leases.lease!.spec!.holderIdentity = 'c';
  leases.lease!.metadata.resourceVersion = String(++leases.rv);
  await timers.advance(2000);
  assert.equal(a.signals[0]?.aborted, true, 'in-flight reconcile aborted at once');
  const exit = await a.manager.done;
  assert.equal(exit.reason, 'leadership-lost');
  assert.equal(exit.code, 1);
  await b.manager.stop();
});

test('graceful stop of the leader releases the lease after its reconciles finish', async () => {
  const timers = new ManualTimers(1_000_000);
  const leases = new MemoryLeases();
  const informer = new FakeInformer();
  informer.sync();
  const gate = deferred();
  const controller = new Controller({ name: 'demo', timers, reconcile: () => gate.promise });
  const manager = new Manager({
    informers: [informer],
    controllers: [controller],
    leaderElection: { client: leases, namespace: 'ops', name: 'op', identity: 'a', timers },
  });
  await manager.start();
  await timers.advance(0);
  controller.enqueue('k');
  await flushMicrotasks();
  const stopping = manager.stop();
  await flushMicrotasks();
  assert.equal(leases.lease?.spec?.holderIdentity, 'a', 'still held while the reconcile runs');
  gate.resolve();
  await stopping;
  assert.equal(leases.lease?.spec?.holderIdentity, undefined, 'released');
});

test('lost leadership closes the fence and ends within the abandon time, not the shutdown grace', async () => {
  const { Fence } = await import('../../../src/runtime/fence.ts');
  const timers = new ManualTimers(1_000_000);
  const leases = new MemoryLeases();
  const informer = new FakeInformer();
  informer.sync();
  const fence = new Fence();
  // A reconcile that ignores its abort signal entirely.
  const controller = new Controller({ name: 'demo', timers, timeoutMs: 0, reconcile: () => new Promise<void>(() => {}) });
  const manager = new Manager({
    informers: [informer],
    controllers: [controller],
    shutdownGraceMs: 600_000,
    abandonMs: 3_000,
    fence,
    leaderElection: { client: leases, namespace: 'ops', name: 'op', identity: 'a', timers, random: () => 0 },
  });
  await manager.start();
  await timers.advance(0);
  controller.enqueue('ns/x');
  await flushMicrotasks();
  assert.equal(fence.closed, false, 'open while leading');
  let exit: { reason: string; code: number } | undefined;
  void manager.done.then((e) => (exit = e));
  leases.lease!.spec!.holderIdentity = 'c';
  leases.lease!.metadata.resourceVersion = String(++leases.rv);
  await timers.advance(2_000);
  assert.equal(fence.closed, true, 'closed at step-down');
  assert.equal(fence.signal.aborted, true);
  await timers.advance(3_100);
  assert.deepEqual(exit && { reason: exit.reason, code: exit.code }, { reason: 'leadership-lost', code: 1 }, 'done after the abandon time, far below the 600 s grace');
});

test('stop waits for the queued writes (drain) before releasing the lease, and for at most drainMs', async () => {
  const timers = new ManualTimers(1_000_000);
  const leases = new MemoryLeases();
  const informer = new FakeInformer();
  informer.sync();
  const queued = deferred();
  const manager = new Manager({
    informers: [informer],
    controllers: [new Controller({ name: 'demo', timers, reconcile: async () => {} })],
    leaderElection: { client: leases, namespace: 'ops', name: 'op', identity: 'a', timers },
    drain: () => queued.promise,
  });
  await manager.start();
  await timers.advance(0);
  const stopping = manager.stop();
  await flushMicrotasks();
  assert.equal(leases.lease?.spec?.holderIdentity, 'a', 'held while queued writes drain');
  queued.resolve();
  await stopping;
  assert.equal(leases.lease?.spec?.holderIdentity, undefined, 'released once drained');

  const stuck = new Manager({ informers: [new FakeInformer()], drain: () => new Promise<void>(() => {}), drainMs: 50 });
  const exit = await stuck.stop();
  assert.equal(exit.reason, 'stopped', 'a drain that never ends does not hold the shutdown past drainMs');
});
