// How the plugin judges a followed resource (--wait), and the one wait loop: no cluster, a fake read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { KubeObject } from '../../../../src/runtime/kube.ts';
import { phaseVerdict } from '../../../../src/cli/plugin/commands/create.ts';
import { refreshVerdict, retentionRunVerdict, validateVerdict } from '../../../../src/cli/plugin/commands/request.ts';
import { readBackup } from '../../../../src/cli/plugin/model.ts';
import { follow, type Verdict } from '../../../../src/cli/plugin/wait.ts';

const AT = '2026-11-25T21:00:00.000Z';
const withStatus = (status: object, spec: object = {}): KubeObject => ({ apiVersion: 'lokdarpan.io/v1alpha1', kind: 'X', metadata: { name: 'n', namespace: 'ns' }, spec, status });
const condition = (type: string, status: 'True' | 'False', reason: string, message: string, lastTransitionTime = '2026-11-25T21:00:01Z') => ({ type, status, reason, message, lastTransitionTime });

test('a Backup or Restore phase: running with progress, completed, failed with its reason', () => {
  const backup = (status: object) => readBackup(withStatus(status, { policyRef: { name: 'p' } }));
  const progress = { bytes: 1048576, totalBytes: 4194304, percent: 25, bytesPerSecond: 524288, elapsedSeconds: 2, etaSeconds: 6, updateTime: AT };
  const running = phaseVerdict('backup', backup({ phase: 'Running', progress }));
  assert.equal(running.done, false);
  assert.match(running.progress ?? '', /^backup n: Running: .*25%/);
  assert.deepEqual(phaseVerdict('backup', backup({})), { done: false, progress: 'backup n: Pending' });
  assert.deepEqual(phaseVerdict('backup', backup({ phase: 'Completed' })), { done: true, ok: true, progress: 'backup n: Completed', result: 'backup n completed' });
  assert.deepEqual(phaseVerdict('restore', backup({ phase: 'Failed', reason: 'DumpFailed', message: 'no space' })), { done: true, ok: false, progress: 'restore n: Failed', result: 'restore n failed: DumpFailed: no space' });
});

test('refresh: waits for its request, then says how it went', () => {
  assert.equal(refreshVerdict(withStatus({ views: { lastRequest: 'earlier' } }), AT).done, false);
  assert.deepEqual(refreshVerdict(withStatus({ views: { lastRequest: AT, lastRefreshTime: AT, lastSuccessfulRefreshTime: AT, lastDurationMs: 12 } }), AT), { done: true, ok: true, result: `views refreshed at ${AT} in 12 ms` });
  assert.deepEqual(refreshVerdict(withStatus({ views: { lastRequest: AT, lastRefreshTime: AT, lastError: 'lock timeout' } }), AT), { done: true, ok: false, result: 'view refresh failed: lock timeout' });
});

test('validate: the figures of each query, and the verdict of PerformanceHealthy', () => {
  const verdict = validateVerdict(
    withStatus({ conditions: [condition('PerformanceHealthy', 'False', 'ThresholdsMissed', 'vector_search over')], validation: { lastRequest: AT, results: [{ query: 'vector_search', p95Ms: 71.5, thresholdMs: 50, passed: false }] } }),
    AT,
  );
  assert.deepEqual(verdict, { done: true, ok: false, result: 'validation failed: PerformanceHealthy=False ThresholdsMissed: vector_search over\n  vector_search p95 71.5 ms (limit 50 ms) OVER' });
});

test('retention-run: counts and failed rules; a stall after the request fails it before the run starts', () => {
  const lastRun = { matched: 3, deleted: 2, archived: 1, marked: 0, partial: true, rules: [{ name: 'r', table: 't', action: 'delete', matched: 0, deleted: 0, archived: 0, marked: 0, error: 'boom' }] };
  const ran = retentionRunVerdict(withStatus({ lastRequest: AT, conditions: [condition('Ready', 'True', 'RunSucceeded', 'ok')], lastRun }), AT);
  assert.deepEqual(ran, { done: true, ok: false, result: 'retention run failed: matched 3, deleted 2, archived 1, marked 0 (partial); Ready=True RunSucceeded: ok\n  FAILED r: boom' });
  const stalled = withStatus({ conditions: [condition('Stalled', 'True', 'DatabaseNotFound', 'no ward-db')] });
  assert.deepEqual(retentionRunVerdict(stalled, AT), { done: true, ok: false, result: 'retention run failed: Stalled=True DatabaseNotFound: no ward-db' });
  const staleStall = withStatus({ conditions: [condition('Stalled', 'True', 'DatabaseNotFound', 'no ward-db', '2026-11-25T20:00:00Z')] });
  assert.deepEqual(retentionRunVerdict(staleStall, AT), { done: false, progress: 'waiting for the run' });
});

function io(clock: { ms: number }) {
  const out = { stdout: '', stderr: '' };
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c) => (out.stdout += String(c)));
  stderr.on('data', (c) => (out.stderr += String(c)));
  return { out, io: { stdout, stderr, env: {}, pollIntervalMs: 0, now: () => new Date(clock.ms) } };
}

test('the wait loop prints each new progress line once and the result on the stream of its outcome', async () => {
  const clock = { ms: 0 };
  const { out, io: pluginIo } = io(clock);
  const verdicts: Verdict[] = [{ done: false, progress: 'a' }, { done: false, progress: 'a' }, { done: false, progress: 'b' }, { done: true, ok: false, progress: 'c', result: 'failed' }];
  let reads = 0;
  const code = await follow(pluginIo, { limitMs: 60_000, read: async () => withStatus({ n: reads++ }), judge: () => verdicts[Math.min(reads - 1, verdicts.length - 1)] as Verdict, onTimeout: () => 'timeout' });
  await new Promise((r) => setImmediate(r));
  assert.equal(code, 1);
  assert.equal(reads, 4);
  assert.equal(out.stderr, 'a\nb\nc\nfailed\n');
  assert.equal(out.stdout, '');
});

test('the wait loop gives up at its deadline with the timeout message of the last object', async () => {
  const clock = { ms: 0 };
  const { out, io: pluginIo } = io(clock);
  let reads = 0;
  const code = await follow(pluginIo, {
    limitMs: 5_000,
    read: async () => {
      clock.ms += 2_000;
      return withStatus({ n: ++reads });
    },
    judge: () => ({ done: false, progress: 'waiting' }),
    onTimeout: (last) => `gave up after read ${JSON.stringify(last?.['status'])}`,
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(code, 1);
  assert.equal(reads, 3);
  assert.equal(out.stderr, 'waiting\ngave up after read {"n":3}\n');
});
