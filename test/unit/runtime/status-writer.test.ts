import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusWriter, mergePatchOf, stableEqual, type StatusClient, type StatusRecord } from '../../../src/runtime/status-writer.ts';
import type { KubeObject, ObjectRef } from '../../../src/runtime/kube.ts';
import { OperatorError } from '../../../src/errors.ts';

const ref: ObjectRef = {
  type: { apiVersion: 'lokdarpan.io/v1alpha1', kind: 'Thing', plural: 'things', namespaced: true },
  namespace: 'ns',
  name: 'a',
};

class FakeStatusClient implements StatusClient {
  object: KubeObject | undefined = {
    apiVersion: 'lokdarpan.io/v1alpha1',
    kind: 'Thing',
    metadata: { name: 'a', namespace: 'ns', resourceVersion: '1', generation: 4 },
    spec: { x: 1 },
    status: { phase: 'Old', conditions: [] },
  };
  gets = 0;
  writes: KubeObject[] = [];

  async get(): Promise<KubeObject | undefined> {
    this.gets++;
    return this.object ? structuredClone(this.object) : undefined;
  }

  async replaceStatus(_ref: ObjectRef, obj: KubeObject): Promise<KubeObject> {
    if (!this.object) throw Object.assign(new Error('not found'), { code: 404 });
    if (obj.metadata?.resourceVersion !== this.object.metadata?.resourceVersion) {
      throw Object.assign(new Error('conflict'), { code: 409 });
    }
    this.writes.push(structuredClone(obj));
    this.object = { ...this.object, status: obj['status'] };
    this.bump({});
    return structuredClone(this.object);
  }

  bump(statusPatch: Record<string, unknown>): void {
    const o = this.object!;
    const rv = String(Number(o.metadata!.resourceVersion) + 1);
    this.object = { ...o, metadata: { ...o.metadata, resourceVersion: rv }, status: { ...(o['status'] as object), ...statusPatch } };
  }
}

test('stableEqual ignores key order and undefined keys', () => {
  assert.ok(stableEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }));
  assert.ok(stableEqual({ a: 1, u: undefined }, { a: 1 }));
  assert.ok(!stableEqual({ a: [1, 2] }, { a: [2, 1] }));
  assert.ok(!stableEqual({ a: null }, { a: {} }));
  assert.ok(!stableEqual([], {}));
});

test('replaceFrom: no API call when the status equals the based-on object; else one PUT with its resourceVersion', async () => {
  const client = new FakeStatusClient();
  const writer = new StatusWriter({ client });
  const basedOn = structuredClone(client.object!);
  const same = await writer.replaceFrom(ref, basedOn, { phase: 'Old', conditions: [], observedGeneration: 4 } as Record<string, unknown>);
  // observedGeneration is added, so the first one differs; write it, then the same again is unchanged.
  assert.equal(same.outcome, 'written');
  assert.deepEqual(same.replaced, ['1'], 'the version the write replaced');
  const unchanged = await writer.replaceFrom(ref, same.object!, { phase: 'Old', conditions: [] });
  assert.equal(unchanged.outcome, 'unchanged');
  assert.equal(client.gets, 0, 'never reads');
  assert.equal(client.writes.length, 1);
  assert.equal(client.writes[0]?.metadata?.resourceVersion, '1');
});

test('replaceFrom: a status changed by someone else since it was read is not overwritten (conflict)', async () => {
  const client = new FakeStatusClient();
  const writer = new StatusWriter({ client });
  const basedOn = structuredClone(client.object!);
  client.bump({ phase: 'WrittenByTheNewLeader' });
  const result = await writer.replaceFrom(ref, basedOn, { phase: 'Stale' });
  assert.equal(result.outcome, 'conflict');
  assert.equal(client.writes.length, 0);
  assert.equal((client.object?.['status'] as { phase: string }).phase, 'WrittenByTheNewLeader');
});

test('replaceFrom: when only metadata moved (same generation and status), the write is retried on the fresh object', async () => {
  const client = new FakeStatusClient();
  const writer = new StatusWriter({ client });
  const basedOn = structuredClone(client.object!);
  client.bump({}); // e.g. a label or an annotation changed: new resourceVersion, same status
  const result = await writer.replaceFrom(ref, basedOn, { phase: 'New' });
  assert.equal(result.outcome, 'written');
  assert.equal((client.object?.['status'] as { phase: string }).phase, 'New');
  assert.deepEqual(result.replaced, ['1', '2'], 'the version it was computed from and the fresh one it was retried on');
});

test('a closed fence refuses every status write with a LeaderElectionLost error', async () => {
  const { Fence } = await import('../../../src/runtime/fence.ts');
  const client = new FakeStatusClient();
  const fence = new Fence();
  const writer = new StatusWriter({ client, fence });
  fence.close('lost the lease');
  await assert.rejects(writer.replaceFrom(ref, structuredClone(client.object!), { phase: 'X' }), (e: unknown) => e instanceof OperatorError && e.reason === 'LeaderElectionLost');
  assert.equal(client.writes.length, 0);
  const guarded = new Fence();
  let holds = true;
  guarded.setGuard(() => holds);
  assert.equal(guarded.closed, false);
  holds = false;
  assert.equal(guarded.closed, true, 'the guard closes it without close()');
});

/** RFC 7386 applied to a JSON value (what the API server does with a merge patch). */
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/** The fake with the API server's merge patch of /status: resourceVersion in the patch is a precondition. */
class PatchingStatusClient extends FakeStatusClient {
  patches: Array<{ resourceVersion: string; patch: StatusRecord }> = [];
  async patchStatus(_ref: ObjectRef, resourceVersion: string, patch: StatusRecord): Promise<KubeObject> {
    if (!this.object) throw Object.assign(new Error('not found'), { code: 404 });
    if (resourceVersion !== this.object.metadata?.resourceVersion) throw Object.assign(new Error('conflict'), { code: 409 });
    this.patches.push(structuredClone({ resourceVersion, patch }));
    this.object = { ...this.object, status: applyMergePatch(this.object['status'], patch) };
    this.bump({});
    return structuredClone(this.object);
  }
}

test('mergePatchOf: changed and new keys, nested objects by key, arrays whole, removed keys as null', () => {
  const before = { phase: 'Old', conditions: [{ type: 'Ready', status: 'False' }], views: { last: 'a', next: 'b' }, gone: 1, same: { x: 1 } };
  const after = { phase: 'New', conditions: [{ type: 'Ready', status: 'True' }], views: { last: 'a', next: 'c' }, added: [1], same: { x: 1 }, skipped: undefined };
  const patch = mergePatchOf(before, after);
  assert.deepEqual(patch, { phase: 'New', conditions: [{ type: 'Ready', status: 'True' }], views: { next: 'c' }, gone: null, added: [1] });
  assert.deepEqual(applyMergePatch(before, patch), { phase: 'New', conditions: [{ type: 'Ready', status: 'True' }], views: { last: 'a', next: 'c' }, added: [1], same: { x: 1 } });
  assert.deepEqual(mergePatchOf({ a: { b: 1 } }, { a: { b: 1 } }), {}, 'equal: empty patch');
  assert.deepEqual(mergePatchOf({ a: { b: 1 } }, { a: [1] }), { a: [1] }, 'an object replaced by an array is sent whole');
});

test('replaceFrom with a patching client: one merge patch of the difference, with the based-on resourceVersion', async () => {
  const client = new PatchingStatusClient();
  const writer = new StatusWriter({ client });
  const basedOn = structuredClone(client.object!);
  const result = await writer.replaceFrom(ref, basedOn, { phase: 'New' });
  assert.equal(result.outcome, 'written');
  assert.equal(client.writes.length, 0, 'no PUT');
  assert.deepEqual(client.patches, [{ resourceVersion: '1', patch: { phase: 'New', conditions: null, observedGeneration: 4 } }]);
  assert.deepEqual(client.object?.['status'], { phase: 'New', observedGeneration: 4 }, 'the status is exactly the one computed');
  assert.deepEqual(result.object?.['status'], { phase: 'New', observedGeneration: 4 });
  assert.equal((await writer.replaceFrom(ref, result.object!, { phase: 'New' })).outcome, 'unchanged');
  assert.equal(client.patches.length, 1);
  assert.equal(client.gets, 0, 'never reads');
});

test('replaceFrom with a patching client: a moved object is refused (409) and not overwritten; a metadata-only move is patched again', async () => {
  const client = new PatchingStatusClient();
  const writer = new StatusWriter({ client });
  const basedOn = structuredClone(client.object!);
  client.bump({ phase: 'WrittenByTheNewLeader' });
  assert.equal((await writer.replaceFrom(ref, basedOn, { phase: 'Stale' })).outcome, 'conflict');
  assert.equal((client.object?.['status'] as { phase: string }).phase, 'WrittenByTheNewLeader');
  assert.equal(client.patches.length, 0);

  const fresh = structuredClone(client.object!);
  client.bump({}); // a label moved: new resourceVersion, same status
  const result = await writer.replaceFrom(ref, fresh, { phase: 'Mine' });
  assert.equal(result.outcome, 'written');
  assert.equal(client.patches.at(-1)?.resourceVersion, '3', 'the retry carries the fresh resourceVersion');
  assert.deepEqual(client.object?.['status'], { phase: 'Mine', observedGeneration: 4 });
});
