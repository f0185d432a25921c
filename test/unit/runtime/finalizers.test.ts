import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addFinalizer, removeFinalizer, hasFinalizer, isBeingDeleted, type FinalizerClient } from '../../../src/runtime/finalizers.ts';
import type { KubeObject, ObjectRef } from '../../../src/runtime/kube.ts';

const ref: ObjectRef = { type: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true }, namespace: 'ns', name: 'a' };
const F = 'lokdarpan.io/backup-cleanup';

class Fake implements FinalizerClient {
  obj: KubeObject | undefined = { metadata: { name: 'a', namespace: 'ns', resourceVersion: '1', finalizers: ['other/x'] } };
  patches: Array<Record<string, unknown>> = [];
  conflicts = 0;
  async get() {
    return this.obj ? structuredClone(this.obj) : undefined;
  }
  async mergePatch(_ref: ObjectRef, patch: Record<string, unknown>) {
    this.patches.push(patch);
    if (this.conflicts > 0) {
      this.conflicts--;
      this.obj!.metadata!.resourceVersion = String(Number(this.obj!.metadata!.resourceVersion) + 1);
      throw Object.assign(new Error('conflict'), { code: 409 });
    }
    const meta = (patch['metadata'] as { finalizers: string[]; resourceVersion: string });
    assert.equal(meta.resourceVersion, this.obj!.metadata!.resourceVersion);
    this.obj!.metadata!.finalizers = meta.finalizers;
    return structuredClone(this.obj!);
  }
}

test('adds and removes a finalizer, keeping the others, with the read resourceVersion', async () => {
  const c = new Fake();
  const added = await addFinalizer(c, ref, F);
  assert.deepEqual(added?.metadata?.finalizers, ['other/x', F]);
  assert.ok(hasFinalizer(added, F));
  await addFinalizer(c, ref, F);
  assert.equal(c.patches.length, 1, 'already present: no write');
  const removed = await removeFinalizer(c, ref, F);
  assert.deepEqual(removed?.metadata?.finalizers, ['other/x']);
  await removeFinalizer(c, ref, F);
  assert.equal(c.patches.length, 2, 'already absent: no write');
});

test('retries on conflict and tolerates a gone object', async () => {
  const c = new Fake();
  c.conflicts = 2;
  const added = await addFinalizer(c, ref, F);
  assert.equal(c.patches.length, 3);
  assert.ok(hasFinalizer(added, F));
  c.obj = undefined;
  assert.equal(await removeFinalizer(c, ref, F), undefined);
  assert.equal(isBeingDeleted({ metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } }), true);
  assert.equal(isBeingDeleted({ metadata: {} }), false);
});
