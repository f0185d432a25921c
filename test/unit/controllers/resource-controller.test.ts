// createResourceController over an in-memory API server whose watch events can be held back: the informer's
// copy lags behind the status the controller itself just wrote, as it does for a moment after every write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retentionPolicyKind } from '../../../src/api/resources.ts';
import { createResourceController, type KindReconciler } from '../../../src/controllers/shared/resource-controller.ts';
import { OwnStatusWrites } from '../../../src/controllers/shared/own-status-writes.ts';
import { silentLogger } from '../../../src/observability/logger.ts';
import { createOperatorMetrics, type OperatorMetrics } from '../../../src/observability/metrics.ts';
import { EventRecorder } from '../../../src/runtime/events.ts';
import type { KubeClient, KubeObject } from '../../../src/runtime/kube.ts';
import { StatusWriter, type StatusClient } from '../../../src/runtime/status-writer.ts';
import { eventually } from '../../wait.ts';

const KEY = 'ns/p';
const REQUEST = 'example.io/run-requested-at';

/** One object, a resourceVersion counter, watches whose events wait while held. */
class FakeApiServer {
  object: KubeObject;
  #rv = 10;
  readonly #watchers: Array<(type: string, object: unknown) => void> = [];
  #held: Array<[string, KubeObject]> | undefined;

  constructor() {
    this.object = { metadata: { namespace: 'ns', name: 'p', generation: 1, resourceVersion: String(++this.#rv), annotations: { [REQUEST]: 'r1' } }, spec: {} };
  }

  /** Watch events wait from now on until released. */
  hold(): void {
    this.#held ??= [];
  }

  /** Delivers the first `count` held events (all by default; then events flow again). */
  release(count = Infinity): void {
    const held = this.#held ?? [];
    const now = held.splice(0, count);
    if (held.length === 0 && count === Infinity) this.#held = undefined;
    for (const [type, object] of now) for (const w of this.#watchers) w(type, object);
  }

  readonly client = {
    listAll: async () => ({ items: [structuredClone(this.object)], metadata: { resourceVersion: String(this.#rv) } }),
    watch: async (_path: string, _query: unknown, onEvent: (type: string, object: unknown) => void) => {
      this.#watchers.push(onEvent);
      return new AbortController();
    },
  } as unknown as KubeClient;

  readonly statusClient: StatusClient = {
    get: async () => structuredClone(this.object),
    replaceStatus: async (_ref, object) => {
      if (object.metadata?.resourceVersion !== this.object.metadata?.resourceVersion) throw Object.assign(new Error('conflict'), { code: 409 });
      this.#modify({ ...this.object, status: object['status'] });
      return structuredClone(this.object);
    },
  };

  /** Someone else labels the object (a metadata-only change). */
  label(name: string, value: string): void {
    this.#modify({ ...this.object, metadata: { ...this.object.metadata, labels: { ...this.object.metadata?.labels, [name]: value } } });
  }

  #modify(object: KubeObject): void {
    this.object = { ...object, metadata: { ...object.metadata, resourceVersion: String(++this.#rv) } };
    const event = structuredClone(this.object);
    if (this.#held) this.#held.push(['MODIFIED', event]);
    else for (const w of this.#watchers) w('MODIFIED', event);
  }
}

interface Status {
  phase?: string;
  lastRequest?: string;
  runs?: number;
}

/**
 * A run-now request as the kinds handle them: the work runs when the annotation differs from status.lastRequest,
 * and the status records the request (with `progress`, a phase Running is written first).
 */
function runOnRequest(seen: string[], runs: string[], withProgress: boolean, whileRunning?: () => void): KindReconciler {
  return async (object, _context, progress) => {
    const version = object.metadata?.resourceVersion ?? '';
    seen.push(version);
    const status = (object['status'] ?? {}) as Status;
    const request = object.metadata?.annotations?.[REQUEST];
    if (request === undefined || status.lastRequest === request) return { status, events: [] };
    if (withProgress) await progress({ ...status, phase: 'Running' });
    runs.push(version);
    whileRunning?.();
    return { status: { phase: 'Done', lastRequest: request, runs: (status.runs ?? 0) + 1 }, events: [] };
  };
}

async function reconcileCount(metrics: OperatorMetrics): Promise<number> {
  const data = await metrics.registry.getSingleMetric('controller_runtime_reconcile_total')!.get();
  return data.values.filter((v) => v.labels['controller'] === retentionPolicyKind.singular).reduce((sum, v) => sum + v.value, 0);
}

/** The controller over a fresh FakeApiServer, reconciling with runOnRequest; `seen`/`runs`: the versions it was called with / ran from. */
function start(options: { withProgress: boolean; ignoreStatusOnlyUpdates: boolean; whileRunning?: (api: FakeApiServer) => void }) {
  const api = new FakeApiServer();
  const seen: string[] = [];
  const runs: string[] = [];
  const metrics = createOperatorMetrics(undefined, { defaultMetrics: false });
  const parts = {
    client: api.client,
    statusWriter: new StatusWriter({ client: api.statusClient }),
    recorder: new EventRecorder({ sink: { create: async () => ({}), patchSeries: async () => ({}) }, reportingInstance: 'test' }),
    logger: silentLogger,
    metrics,
    resyncMs: 0,
  };
  const { informer, controller } = createResourceController(retentionPolicyKind, runOnRequest(seen, runs, options.withProgress, () => options.whileRunning?.(api)), parts, { ignoreStatusOnlyUpdates: options.ignoreStatusOnlyUpdates });
  return {
    api,
    seen,
    runs,
    informer,
    controller,
    reconciles: () => reconcileCount(metrics),
    stop: async () => {
      await controller.stop({ graceMs: 1000, abandonMs: 1000 });
      await informer.stop();
    },
  };
}

/** Fills the cache, then holds the watch events back and lets the controller run its first reconcile. */
async function reconcileOnceWithEchoesHeld(c: ReturnType<typeof start>): Promise<void> {
  c.informer.start();
  await c.informer.whenSynced();
  c.api.hold();
  c.controller.start();
  await eventually('the first reconcile', async () => (await c.reconciles()) === 1);
}

for (const ignoreStatusOnlyUpdates of [false, true]) {
  test(`a cached copy that predates our own status write is not reconciled; the write's echo is (ignoreStatusOnlyUpdates: ${ignoreStatusOnlyUpdates})`, async () => {
    const c = start({ withProgress: false, ignoreStatusOnlyUpdates });
    const { api, seen, runs } = c;
    try {
      await reconcileOnceWithEchoesHeld(c);
      assert.deepEqual(runs, ['11'], 'the request ran once and its status was written');
      assert.equal(api.object.metadata?.resourceVersion, '12');
      assert.equal(c.informer.get(KEY)?.metadata?.resourceVersion, '11', 'the cache has not seen the write');

      // A requeue, a resync or a change elsewhere brings the key back before the cache caught up.
      c.controller.enqueue(KEY);
      await eventually('the second reconcile', async () => (await c.reconciles()) === 2);
      assert.deepEqual(seen, ['11'], 'the reconciler was not called with the stale copy');
      assert.deepEqual(runs, ['11']);

      api.release();
      await eventually('a reconcile of the caught-up copy', () => seen.length === 2);
      assert.deepEqual(seen, ['11', '12']);
      assert.deepEqual(runs, ['11'], 'the request did not run again');
      assert.deepEqual((api.object['status'] as Status).runs, 1);
    } finally {
      await c.stop();
    }
  });
}

/**
 * After a first reconcile (from version 11) that wrote twice, 12 then 13: the first held event puts the cache at
 * 12 and reconciles the key, which must not reach the reconciler (12 lacks the final write); the rest brings 13.
 */
async function catchUpInTwoSteps(c: ReturnType<typeof start>, reconcilesSoFar: number): Promise<void> {
  c.api.release(1);
  await eventually('the reconcile after the first held event', async () => (await c.reconciles()) === reconcilesSoFar + 1);
  assert.equal(c.informer.get(KEY)?.metadata?.resourceVersion, '12');
  assert.deepEqual(c.seen, ['11'], 'not called with version 12, which our final write superseded');

  c.api.release();
  await eventually('a reconcile of the caught-up copy', () => c.seen.length === 2);
  assert.deepEqual(c.seen, ['11', '13']);
  assert.deepEqual(c.runs, ['11'], 'the request did not run again');
}

test('a cached copy at the status a progress write left, before the final write, is not reconciled either', async () => {
  const c = start({ withProgress: true, ignoreStatusOnlyUpdates: false });
  try {
    await reconcileOnceWithEchoesHeld(c);
    assert.equal(c.api.object.metadata?.resourceVersion, '13', 'progress (12), then the final status (13)');
    // The progress echo (phase Running, the request not recorded) is reconciled as any status change.
    await catchUpInTwoSteps(c, 1);
  } finally {
    await c.stop();
  }
});

test('a status write retried over a label change (metadata-only conflict) covers both the version read and the labelled one', async () => {
  const c = start({ withProgress: false, ignoreStatusOnlyUpdates: true, whileRunning: (api) => api.label('team', 'a') });
  try {
    await reconcileOnceWithEchoesHeld(c);
    assert.equal(c.api.object.metadata?.resourceVersion, '13', 'the label (12), then our status over it (13)');
    c.controller.enqueue(KEY);
    await eventually('the second reconcile', async () => (await c.reconciles()) === 2);
    assert.deepEqual(c.seen, ['11'], 'not called with the version it read');
    // The label change is a trigger (enqueued despite ignoreStatusOnlyUpdates); its status lacks the request.
    await catchUpInTwoSteps(c, 2);
  } finally {
    await c.stop();
  }
});

test('OwnStatusWrites: behind only at a version our writes replaced; forgets once caught up and on delete', () => {
  const at = (resourceVersion: string): KubeObject => ({ metadata: { resourceVersion } });
  const writes = new OwnStatusWrites();
  assert.equal(writes.isBehind('a', at('1')), false, 'nothing written yet');
  writes.wrote('a', ['1'], at('1'));
  writes.wrote('a', ['2'], at('1'));
  writes.wrote('a', [], at('1'));
  assert.equal(writes.isBehind('b', at('1')), false, 'per key');
  assert.equal(writes.isBehind('a', at('1')), true);
  assert.equal(writes.isBehind('a', at('2')), true);
  assert.equal(writes.takeAwaited('a'), true, 'a skipped reconcile awaits the next event');
  assert.equal(writes.takeAwaited('a'), false, 'once');
  assert.equal(writes.isBehind('a', at('3')), false, 'caught up');
  assert.equal(writes.takeAwaited('a'), false);
  assert.equal(writes.isBehind('a', at('2')), false, 'the record was dropped once the cache caught up');

  writes.wrote('a', ['3'], at('3'));
  assert.equal(writes.isBehind('a', at('3')), true);
  writes.forget('a');
  assert.equal(writes.takeAwaited('a'), false);
  assert.equal(writes.isBehind('a', at('3')), false, 'forgotten on delete');

  // A long run's progress writes: what the cache has already seen is dropped at the next write.
  writes.wrote('a', ['4'], at('4'));
  writes.wrote('a', ['5'], at('5'));
  assert.equal(writes.isBehind('a', at('5')), true);
  assert.equal(writes.isBehind('a', at('4')), false, 'the first write was dropped once the cache had seen it');
});
