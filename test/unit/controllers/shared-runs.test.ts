// Work shared by reconciles that need it at the same time: who joins a run, who starts one, and what an
// abort (the starter's or a joiner's) does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedRuns } from '../../../src/controllers/shared/shared-runs.ts';

test('a caller that needed a run before one started joins it; one that needed it later starts its own', async () => {
  let now = 100;
  const runs = new SharedRuns<string>(() => now);
  const first = Promise.withResolvers<string>();
  const second = Promise.withResolvers<string>();
  let started = 0;
  const a = runs.run('db1', 100, () => (started++, first.promise));
  const b = runs.run('db1', 90, () => (started++, Promise.resolve('never')));
  now = 150;
  // Needed at 120, after the run in flight began at 100: that run may have read older data.
  const c = runs.run('db1', 120, () => (started++, second.promise));
  assert.equal(started, 2);
  first.resolve('first');
  second.resolve('second');
  assert.deepEqual(await Promise.all([a, b, c]), ['first', 'first', 'second']);
  assert.equal(runs.inFlight, 0, 'a settled run is forgotten');
  assert.equal(await runs.run('db1', 0, async () => 'after'), 'after', 'nothing in flight: a new run');
});

test('other keys never share', async () => {
  const runs = new SharedRuns<string>(() => 0);
  const results = await Promise.all([runs.run('db1', 0, async () => 'one'), runs.run('db2', 0, async () => 'two')]);
  assert.deepEqual(results, ['one', 'two']);
});

test("a failure is everyone's; a run aborted by its starter's signal is not shared, its joiners start their own", async () => {
  const runs = new SharedRuns<string>(() => 0);
  const failing = Promise.withResolvers<string>();
  const a = runs.run('db1', 0, () => failing.promise);
  const b = runs.run('db1', 0, async () => 'unused');
  failing.reject(new Error('REFRESH failed: permission denied'));
  await assert.rejects(a, /permission denied/);
  await assert.rejects(b, /permission denied/);

  const starter = new AbortController();
  const aborted = Promise.withResolvers<string>();
  const c = runs.run('db1', 0, () => aborted.promise, starter.signal);
  let ownRuns = 0;
  const d = runs.run('db1', 0, async () => (ownRuns++, 'own'));
  starter.abort(new Error('lost leadership'));
  aborted.reject(new Error('aborted by the signal'));
  await assert.rejects(c, /aborted by the signal/);
  assert.equal(await d, 'own');
  assert.equal(ownRuns, 1);
});

test("a joiner's own abort stops its wait at once and leaves the run to the others", async () => {
  const runs = new SharedRuns<string>(() => 0);
  const slow = Promise.withResolvers<string>();
  const a = runs.run('db1', 0, () => slow.promise);
  const joiner = new AbortController();
  const b = runs.run('db1', 0, async () => 'unused', joiner.signal);
  joiner.abort(new Error('reconcile timeout'));
  await assert.rejects(b, /reconcile timeout/);
  const already = new AbortController();
  already.abort(new Error('before it asked'));
  await assert.rejects(runs.run('db1', 0, async () => 'unused', already.signal), /before it asked/);
  slow.resolve('done');
  assert.equal(await a, 'done');
});
