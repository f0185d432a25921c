import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cachedSecretReader } from '../../../src/controllers/shared/secret-cache.ts';
import { SecretChangePoller, recordingSecretReader } from '../../../src/controllers/shared/secret-poller.ts';
import type { SecretReader } from '../../../src/controllers/shared/secrets.ts';

/** An API server's Secrets, counting GETs. */
function fakeSecrets(initial: Record<string, Record<string, string>>) {
  const store = new Map(Object.entries(initial));
  const api = { gets: 0, failNext: false };
  const reader: SecretReader = {
    async read(namespace, name) {
      api.gets++;
      if (api.failNext) {
        api.failNext = false;
        throw new Error('API server unavailable');
      }
      const data = store.get(`${namespace}/${name}`);
      return data && { ...data };
    },
  };
  return { store, api, reader };
}

test('by default only reads at the same time share a GET: a read after it finished asks the API server again', async () => {
  const { store, api, reader } = fakeSecrets({ 'ns/pg': { password: 'one' } });
  const secrets = cachedSecretReader(reader, { now: () => 0 });
  const reads = await Promise.all(Array.from({ length: 10 }, () => secrets.read('ns', 'pg')));
  assert.equal(api.gets, 1);
  assert.ok(reads.every((r) => r?.['password'] === 'one'));
  // Deleted right after (kubectl delete secret; then a requested reconcile): seen at once, the clock unchanged.
  store.delete('ns/pg');
  assert.equal(await secrets.read('ns', 'pg'), undefined);
  assert.equal(api.gets, 2);
});

test('with a TTL, reads of one Secret within it cost one GET, concurrent ones included; after it, a new GET', async () => {
  const clock = { now: 0 };
  const { store, api, reader } = fakeSecrets({ 'ns/pg': { password: 'one' } });
  const secrets = cachedSecretReader(reader, { ttlMs: 5_000, now: () => clock.now });
  const reads = await Promise.all(Array.from({ length: 20 }, () => secrets.read('ns', 'pg')));
  assert.equal(api.gets, 1);
  assert.ok(reads.every((r) => r?.['password'] === 'one'));
  store.set('ns/pg', { password: 'two' });
  clock.now = 4_999;
  assert.equal((await secrets.read('ns', 'pg'))?.['password'], 'one');
  clock.now = 5_000;
  assert.equal((await secrets.read('ns', 'pg'))?.['password'], 'two');
  assert.equal(api.gets, 2);
  // Other Secrets and namespaces are their own entries.
  assert.equal(await secrets.read('other', 'pg'), undefined);
  assert.equal(api.gets, 3);
});

test('a missing Secret or a failed read is not kept: it is asked again at once', async () => {
  const { store, api, reader } = fakeSecrets({});
  const secrets = cachedSecretReader(reader, { now: () => 0 });
  assert.equal(await secrets.read('ns', 'pg'), undefined);
  store.set('ns/pg', { password: 'p' });
  assert.deepEqual(await secrets.read('ns', 'pg'), { password: 'p' });
  api.failNext = true;
  const fresh = cachedSecretReader(reader, { now: () => 0 });
  await assert.rejects(fresh.read('ns', 'pg'), /unavailable/);
  assert.deepEqual(await fresh.read('ns', 'pg'), { password: 'p' });
});

test('a caller changing what it got does not change what the next one reads', async () => {
  const { reader } = fakeSecrets({ 'ns/pg': { password: 'p' } });
  const secrets = cachedSecretReader(reader, { now: () => 0 });
  const first = (await secrets.read('ns', 'pg'))!;
  first['password'] = 'changed';
  assert.equal((await secrets.read('ns', 'pg'))?.['password'], 'p');
});

test('the change poller reads past the cache, so a changed Secret is noticed at its next poll and the triggered reconcile reads the new value', async () => {
  const { store, reader } = fakeSecrets({ 'ns/keys': { identity: 'old' } });
  const secrets = cachedSecretReader(reader, { ttlMs: 60_000, now: () => 0 }); // a TTL far longer than the poll
  const poller = new SecretChangePoller({ secrets: secrets.fresh });
  const changed: string[] = [];
  poller.onChange((owner) => changed.push(owner));

  const recording = recordingSecretReader(secrets);
  await recording.read('ns', 'keys');
  poller.track('backuppolicy:ns/p', 'ns', recording.seen);
  await poller.poll();
  assert.deepEqual(changed, []);

  store.set('ns/keys', { identity: 'new' });
  await poller.poll();
  assert.deepEqual(changed, ['backuppolicy:ns/p']);
  // The reconcile the notice triggers goes through the cache, which the poll refreshed.
  assert.equal((await secrets.read('ns', 'keys'))?.['identity'], 'new');
});

/** A Secret GET the test answers by hand, so reads can start while it is in flight. */
function manualSecrets() {
  const pending: Array<{ resolve: (data: Record<string, string> | undefined) => void; reject: (error: Error) => void }> = [];
  const reader: SecretReader = {
    read: () =>
      new Promise((resolve, reject) => {
        pending.push({ resolve, reject });
      }),
  };
  return { pending, reader };
}

test('reads that start while a GET is in flight share it, each with its own copy; a read after it finished starts a new GET', async () => {
  const { pending, reader } = manualSecrets();
  const secrets = cachedSecretReader(reader);
  const first = secrets.read('ns', 'pg');
  const joined = secrets.read('ns', 'pg');
  const otherSecret = secrets.read('ns', 'other');
  assert.equal(pending.length, 2); // one GET for ns/pg, one for ns/other
  pending[0]!.resolve({ password: 'one' });
  pending[1]!.resolve(undefined);
  const [a, b] = await Promise.all([first, joined]);
  assert.deepEqual(a, { password: 'one' });
  assert.deepEqual(b, { password: 'one' });
  assert.notEqual(a, b, 'callers never share one mutable object');
  assert.equal(await otherSecret, undefined);

  const later = secrets.read('ns', 'pg');
  assert.equal(pending.length, 3, 'a read that starts after the GET completed issues its own');
  pending[2]!.resolve({ password: 'two' });
  assert.deepEqual(await later, { password: 'two' });
});

test('a failed GET fails every read that shared it, and is not kept: the next read asks again', async () => {
  const { pending, reader } = manualSecrets();
  const secrets = cachedSecretReader(reader);
  const reads = Array.from({ length: 3 }, () => secrets.read('ns', 'pg'));
  assert.equal(pending.length, 1);
  pending[0]!.reject(new Error('API server unavailable'));
  for (const read of reads) await assert.rejects(read, /unavailable/);

  const retry = secrets.read('ns', 'pg');
  assert.equal(pending.length, 2);
  pending[1]!.resolve({ password: 'p' });
  assert.deepEqual(await retry, { password: 'p' });
});
