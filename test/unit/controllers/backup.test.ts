// The Backup reconciler with fake engines at the seam: a failed replica is not Ready, the run's own
// timeout cancels the engine (reason Timeout), missing credentials fail before anything runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/clock.ts';
import { KeyedMutex } from '../../../src/controllers/shared/database-mutex.ts';
import { reconcileBackup, type BackupEngines, type BackupResource, type BackupRunRequest } from '../../../src/controllers/backup/reconciler.ts';
import { databaseMutexKey } from '../../../src/controllers/lokdarpan-database/reconciler.ts';
import { ManualTimers } from '../../../src/runtime/timers.ts';
import { NS, backupResult, condition, fakeDatabases, fakePolicies, fakeSecrets, policySpec, untilAborted } from './backup-fakes.ts';

function backup(name: string, spec: Record<string, unknown> = {}): BackupResource {
  return { apiVersion: 'lokdarpan.io/v1alpha1', kind: 'Backup', metadata: { name, namespace: NS, generation: 1 }, spec: { policyRef: { name: 'nightly' }, ...spec } };
}

function setup(engine: (request: BackupRunRequest) => Promise<ReturnType<typeof backupResult>>, policy: Record<string, unknown> = policySpec()) {
  const calls: BackupRunRequest[] = [];
  const engines: BackupEngines = {
    run: (request) => {
      calls.push(request);
      return engine(request);
    },
  };
  const timers = new ManualTimers(Date.parse('2026-03-10T02:00:00Z'));
  const secrets = fakeSecrets();
  const mutex = new KeyedMutex();
  const progress: object[] = [];
  const deps = {
    policies: fakePolicies({ nightly: policy }),
    databases: fakeDatabases(),
    secrets,
    engines,
    mutex,
    clock: new ManualClock('2026-03-10T02:00:00Z'),
    instance: 'operator/test-0',
    running: new Set<string>(),
    timers,
  };
  const run = (resource: BackupResource, signal = new AbortController().signal) =>
    reconcileBackup(resource, deps, async (s) => void progress.push(s), signal);
  return { deps, calls, timers, secrets, mutex, progress, run };
}

test('a backup verified in the primary and every replica: Completed, Ready True, under the database lock', async () => {
  let heldLock: string | undefined;
  const { run, calls, mutex } = setup(async (r) => {
    heldLock = mutex.holder(databaseMutexKey(NS, 'ldb'));
    return backupResult(r.backupId);
  });
  const outcome = await run(backup('b1'));
  assert.equal(outcome.status.phase, 'Completed');
  assert.equal(outcome.status.reason, 'Completed');
  assert.equal(condition(outcome.status, 'Ready')?.status, 'True');
  assert.equal(condition(outcome.status, 'Replicated')?.status, 'True');
  assert.equal(calls.length, 1);
  assert.equal(heldLock, 'backup b1');
  assert.deepEqual(calls[0]?.policy, { namespace: NS, name: 'nightly', uid: 'uid-nightly' }, 'the backup is owned by its policy');
});

test('pg_dump\'s lock wait timeout comes from the policy (default 1m)', async () => {
  const defaults = setup(async (r) => backupResult(r.backupId));
  await defaults.run(backup('b1'));
  assert.equal(defaults.calls[0]?.lockWaitTimeoutMs, 60_000);
  const raised = setup(async (r) => backupResult(r.backupId), policySpec({ lockWaitTimeout: '10m' }));
  await raised.run(backup('b1'));
  assert.equal(raised.calls[0]?.lockWaitTimeoutMs, 600_000);
});

test('a backup whose replica failed is Completed but not Ready: ReplicaFailed names the replica and its error', async () => {
  const { run } = setup(async (r) => backupResult(r.backupId, { reason: 'CopyFailed', message: 'PUT dr-bucket: 503 Slow Down' }));
  const outcome = await run(backup('b2'));
  assert.equal(outcome.status.phase, 'Completed', 'the primary copy restores');
  assert.equal(outcome.status.reason, 'ReplicaFailed');
  assert.equal(outcome.status.replicated, false);
  const ready = condition(outcome.status, 'Ready');
  assert.equal(ready?.status, 'False');
  assert.equal(ready?.reason, 'ReplicaFailed');
  assert.match(ready?.message ?? '', /replica dr failed: CopyFailed: PUT dr-bucket: 503 Slow Down/);
  assert.equal(condition(outcome.status, 'Succeeded')?.status, 'True');
  assert.equal(condition(outcome.status, 'Replicated')?.reason, 'ReplicaFailed');
  assert.ok(outcome.events.some((e) => e.type === 'Warning' && e.reason === 'ReplicaFailed' && /dr/.test(e.note)));
  assert.equal(outcome.status.destinations?.find((d) => d.name === 'dr')?.error, 'CopyFailed: PUT dr-bucket: 503 Slow Down');
});

test('a run longer than the Backup\'s spec.timeout is cancelled through the engine\'s signal: Failed, reason Timeout', async () => {
  let engineSignal: AbortSignal | undefined;
  const { run, timers } = setup(async (r) => {
    engineSignal = r.signal;
    return untilAborted(r.signal);
  });
  const pending = run(backup('slow', { timeout: '90m' }));
  await timers.advance(89 * 60_000);
  assert.equal(engineSignal?.aborted, false, 'not before the timeout');
  await timers.advance(2 * 60_000);
  const outcome = await pending;
  assert.equal(engineSignal?.aborted, true);
  assert.equal(outcome.status.phase, 'Failed');
  assert.equal(outcome.status.reason, 'Timeout');
  assert.match(outcome.status.message ?? '', /longer than its timeout 90m/);
  assert.equal(condition(outcome.status, 'Ready')?.reason, 'Timeout');
  assert.equal(timers.pendingCount, 0, 'no timer left armed');
});

test('without its own timeout a Backup uses the policy\'s; a timeout of days is armed in steps the timer can hold', async () => {
  const requested: number[] = [];
  let engineSignal: AbortSignal | undefined;
  const { run, timers } = setup(
    async (r) => {
      engineSignal = r.signal;
      return untilAborted(r.signal);
    },
    policySpec({ timeout: '40d' }),
  );
  const setTimeout = timers.setTimeout.bind(timers);
  timers.setTimeout = (fn, ms) => {
    requested.push(ms);
    return setTimeout(fn, ms);
  };
  const pending = run(backup('huge'));
  await timers.advance(39 * 86_400_000);
  assert.equal(engineSignal?.aborted, false, 'a 40-day timeout does not fire early (setTimeout overflow would fire it at once)');
  await timers.advance(2 * 86_400_000);
  const outcome = await pending;
  assert.equal(outcome.status.reason, 'Timeout');
  assert.ok(requested.length >= 2 && requested.every((ms) => ms <= 2 ** 31 - 1), `delays ${requested.join(', ')}`);
});

test('losing leadership (the reconcile signal) cancels the run without calling it a timeout', async () => {
  const { run } = setup(async (r) => untilAborted(r.signal));
  const lost = new AbortController();
  const pending = run(backup('b3'), lost.signal);
  await new Promise((r) => setImmediate(r));
  lost.abort(new Error('leader election lost'));
  const outcome = await pending;
  assert.equal(outcome.status.reason, 'Cancelled');
});

test('missing S3 credentials fail the Backup at once, before it is marked Running or the engine runs', async () => {
  const { run, calls, secrets, progress } = setup(async (r) => backupResult(r.backupId));
  secrets.data.delete('s3-dr');
  const outcome = await run(backup('b4'));
  assert.equal(outcome.status.phase, 'Failed');
  assert.equal(outcome.status.reason, 'SecretNotFound');
  assert.match(outcome.status.message ?? '', /Secret ns\/s3-dr not found/);
  assert.equal(calls.length, 0);
  assert.equal(progress.length, 0, 'never Running');

  const second = setup(async (r) => backupResult(r.backupId));
  second.secrets.data.set('s3-primary', { accessKeyId: 'AK1' });
  const missingKey = await second.run(backup('b5'));
  assert.equal(missingKey.status.reason, 'SecretKeyMissing');
  assert.doesNotMatch(JSON.stringify(missingKey), /AK1|SK1|SK2/, 'no credential in status or events');
});

test('a Backup whose database does not exist fails at once with DatabaseNotFound', async () => {
  const { run, calls } = setup(async (r) => backupResult(r.backupId), policySpec({ databaseRef: { name: 'nope' } }));
  const outcome = await run(backup('b6'));
  assert.equal(outcome.status.reason, 'DatabaseNotFound');
  assert.equal(calls.length, 0);
});
