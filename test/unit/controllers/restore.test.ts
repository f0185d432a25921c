// The Restore reconciler with fake engines at the seam: the engine gets the abort signal (timeout,
// deletion), a restore check drops its scratch database, the run holds the source database's lock
// (which pruning takes), and missing Secrets say so before anything runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/clock.ts';
import { OperatorError } from '../../../src/errors.ts';
import { KeyedMutex } from '../../../src/controllers/shared/database-mutex.ts';
import type { RestoreEngines, RestoreRequest } from '../../../src/controllers/backup/engines.ts';
import type { BackupResource } from '../../../src/controllers/backup/reconciler.ts';
import { reconcileRestore, type RestoreResource } from '../../../src/controllers/backup/restore-reconciler.ts';
import { RunningRuns } from '../../../src/controllers/backup/runs.ts';
import { databaseMutexKey } from '../../../src/controllers/lokdarpan-database/reconciler.ts';
import type { PgTarget } from '../../../src/adapters/pgdump/index.ts';
import { ManualTimers } from '../../../src/runtime/timers.ts';
import { NS, condition, fakeDatabases, fakePolicies, fakeSecrets, policySpec, restoreResult, untilAborted } from './backup-fakes.ts';

const completedBackup: BackupResource = {
  apiVersion: 'lokdarpan.io/v1alpha1',
  kind: 'Backup',
  metadata: { name: 'nightly-20260310-0200', namespace: NS },
  spec: { policyRef: { name: 'nightly' } },
  status: { phase: 'Completed', manifestKey: 'lokdarpan/lokdarpan/nightly-20260310-0200.manifest.json' },
};

function restore(name: string, spec: Record<string, unknown>): RestoreResource {
  return {
    apiVersion: 'lokdarpan.io/v1alpha1',
    kind: 'Restore',
    metadata: { name, namespace: NS, generation: 1 },
    spec: { backupRef: { name: completedBackup.metadata.name }, identitySecret: { name: 'age-identity' }, ...spec },
  };
}

function setup(engine: (request: RestoreRequest) => Promise<ReturnType<typeof restoreResult>>) {
  const calls: RestoreRequest[] = [];
  const dropped: PgTarget[] = [];
  const engines: RestoreEngines = {
    restore: (request) => {
      calls.push(request);
      return engine(request);
    },
    dropDatabase: async (target) => void dropped.push(target),
  };
  const timers = new ManualTimers(Date.parse('2026-03-10T03:00:00Z'));
  const secrets = fakeSecrets();
  const mutex = new KeyedMutex();
  const running = new RunningRuns();
  const progress: object[] = [];
  const deps = {
    backups: { get: async (_ns: string, name: string) => (name === completedBackup.metadata.name ? completedBackup : undefined) },
    policies: fakePolicies({ nightly: policySpec() }),
    databases: fakeDatabases(),
    secrets,
    engines,
    mutex,
    clock: new ManualClock('2026-03-10T03:00:00Z'),
    running,
    timers,
  };
  const run = (resource: RestoreResource, signal = new AbortController().signal) => reconcileRestore(resource, deps, async (s) => void progress.push(s), signal);
  return { calls, dropped, timers, secrets, mutex, running, progress, run };
}

const scratchOnOtherServer = { connectionSecret: 'scratch-server', databaseName: 'lokdarpan_drill_1' };

test('a restore check into a scratch database on another server: restored, row counts match, the database dropped after', async () => {
  const { run, calls, dropped } = setup(async (r) => restoreResult(r.target.database));
  const outcome = await run(restore('check', { target: scratchOnOtherServer, dropAfterCheck: true }));
  assert.equal(outcome.status.phase, 'Completed', JSON.stringify(outcome.status));
  assert.equal(calls[0]?.target.host, 'scratch.example', 'restored on the server of the connection Secret');
  assert.equal(calls[0]?.target.database, 'lokdarpan_drill_1');
  assert.equal(calls[0]?.createDatabase, true);
  assert.deepEqual(dropped.map((t) => [t.host, t.database]), [['scratch.example', 'lokdarpan_drill_1']]);
  assert.match(outcome.status.message ?? '', /dropped after the check/);
});

test('a restore check whose row counts differ still drops the scratch database and fails RowCountMismatch', async () => {
  const { run, dropped } = setup(async (r) => restoreResult(r.target.database, false));
  const outcome = await run(restore('check-bad', { target: scratchOnOtherServer, dropAfterCheck: true }));
  assert.equal(outcome.status.reason, 'RowCountMismatch');
  assert.equal(dropped.length, 1);
});

test('a restore check the engine fails with RowCountMismatch drops the scratch database it kept', async () => {
  const { run, dropped } = setup(async () => {
    throw new OperatorError('RowCountMismatch', 'row counts differ from the manifest in 1 of 12 tables (first: public.post)', { terminal: true });
  });
  const outcome = await run(restore('check-thrown', { target: scratchOnOtherServer, dropAfterCheck: true }));
  assert.equal(outcome.status.phase, 'Failed');
  assert.equal(outcome.status.reason, 'RowCountMismatch');
  assert.deepEqual(dropped.map((t) => t.database), ['lokdarpan_drill_1']);
});

test('an engine failure other than the row counts drops nothing itself (the engine drops what it created)', async () => {
  const { run, dropped } = setup(async () => {
    throw new OperatorError('TargetNotEmpty', 'the target holds user objects', { terminal: true });
  });
  const outcome = await run(restore('check-busy', { target: scratchOnOtherServer, dropAfterCheck: true }));
  assert.equal(outcome.status.reason, 'TargetNotEmpty');
  assert.deepEqual(dropped, []);
});

test('an ordinary restore keeps its database', async () => {
  const { run, dropped } = setup(async (r) => restoreResult(r.target.database));
  const outcome = await run(restore('keep', { target: { connectionSecret: 'scratch-server', databaseName: 'restored' } }));
  assert.equal(outcome.status.phase, 'Completed');
  assert.deepEqual(dropped, []);
});

test('a database setting the engine could not re-apply, an extension kept at another version: Completed, in status.warnings and a Warning event each; a restore check drops it with its database', async () => {
  const warning = 'hnsw.ef_search (008_hnsw_ef_search) is not set: role does not own database restored; the owner should run: ALTER DATABASE "restored" SET hnsw.ef_search = 300';
  const kept = 'extension vector stays at version 0.7.4 (its owner postgres installed it; the restore may not re-create it), the server has 0.8.0: postgres may run ALTER EXTENSION vector UPDATE';
  const { run } = setup(async (r) => restoreResult(r.target.database, true, [warning], [kept]));
  const outcome = await run(restore('settings', { target: { connectionSecret: 'scratch-server', databaseName: 'restored' } }));
  assert.equal(outcome.status.phase, 'Completed', JSON.stringify(outcome.status));
  assert.deepEqual(outcome.status.warnings, [warning, kept]);
  assert.match(outcome.status.message ?? '', /1 database setting\(s\) of the schema not re-applied \(status\.warnings\); 1 extension\(s\) kept at another version than the server's \(status\.warnings\)/);
  assert.equal(condition(outcome.status, 'Ready')?.status, 'True', 'the data is restored');
  assert.deepEqual(outcome.events.filter((e) => e.type === 'Warning').map((e) => [e.reason, e.note]), [['DatabaseSettingsNotApplied', warning], ['ExtensionVersionKept', kept]]);

  const check = await run(restore('settings-check', { target: scratchOnOtherServer, dropAfterCheck: true }));
  assert.equal(check.status.phase, 'Completed');
  assert.equal(check.status.warnings, undefined);
  assert.deepEqual(check.events.filter((e) => e.type === 'Warning'), []);
});

test('the restore holds the lock of the database the backup is of (pruning takes it too) as well as its target\'s', async () => {
  let held: Array<string | undefined> = [];
  const { run, mutex } = setup(async (r) => {
    held = [mutex.holder(databaseMutexKey(NS, 'ldb')), mutex.holder('restore-target/scratch.example/lokdarpan_drill_1')];
    return restoreResult(r.target.database);
  });
  await run(restore('locks', { target: scratchOnOtherServer, dropAfterCheck: true }));
  assert.deepEqual(held, ['restore locks', 'restore locks']);
  assert.equal(mutex.busy(databaseMutexKey(NS, 'ldb')), false, 'released');
});

test('a restore that outlives spec.timeout is cancelled through the engine\'s signal: Failed, reason Timeout', async () => {
  let signal: AbortSignal | undefined;
  const { run, timers } = setup(async (r) => {
    signal = r.signal;
    return untilAborted(r.signal);
  });
  const pending = run(restore('slow', { target: scratchOnOtherServer, timeout: '2h' }));
  await timers.advance(119 * 60_000);
  assert.equal(signal?.aborted, false);
  await timers.advance(2 * 60_000);
  const outcome = await pending;
  assert.equal(signal?.aborted, true);
  assert.equal(outcome.status.phase, 'Failed');
  assert.equal(outcome.status.reason, 'Timeout');
  assert.equal(condition(outcome.status, 'Succeeded')?.reason, 'Timeout');
});

test('deleting the Restore (cancel on its key) aborts the engine: Failed, reason Cancelled; the reconcile signal is passed too', async () => {
  let signal: AbortSignal | undefined;
  const { run, running } = setup(async (r) => {
    signal = r.signal;
    return untilAborted(r.signal);
  });
  const pending = run(restore('drill', { target: scratchOnOtherServer, dropAfterCheck: true }));
  for (let i = 0; i < 20 && !signal; i++) await new Promise((r) => setImmediate(r));
  assert.ok(running.has(`${NS}/drill`));
  assert.equal(running.cancel(`${NS}/drill`, 'deleted'), true);
  const outcome = await pending;
  assert.equal(signal?.aborted, true);
  assert.equal(outcome.status.reason, 'Cancelled');
  assert.equal(running.has(`${NS}/drill`), false);

  const lost = new AbortController();
  const second = setup(async (r) => untilAborted(r.signal));
  const leader = second.run(restore('r2', { target: scratchOnOtherServer }), lost.signal);
  await new Promise((r) => setImmediate(r));
  lost.abort(new Error('leadership lost'));
  assert.equal((await leader).status.reason, 'Cancelled');
});

test('a missing identity Secret or S3 credentials: Ready False with the reason at once, Pending, retried; nothing runs', async () => {
  const a = setup(async (r) => restoreResult(r.target.database));
  a.secrets.data.delete('age-identity');
  const noIdentity = await a.run(restore('r3', { target: scratchOnOtherServer }));
  assert.equal(noIdentity.status.phase, 'Pending');
  assert.equal(condition(noIdentity.status, 'Ready')?.reason, 'SecretNotFound');
  assert.ok(noIdentity.error, 'retried with backoff');
  assert.equal(a.calls.length, 0);
  assert.equal(a.progress.length, 0);

  const b = setup(async (r) => restoreResult(r.target.database));
  b.secrets.data.set('s3-primary', { accessKeyId: 'AK1' });
  const noKey = await b.run(restore('r4', { target: scratchOnOtherServer }));
  assert.equal(noKey.status.phase, 'Pending');
  assert.equal(condition(noKey.status, 'Ready')?.reason, 'SecretKeyMissing');
  assert.equal(b.calls.length, 0);

  const c = setup(async (r) => restoreResult(r.target.database));
  const noDb = await c.run(restore('r5', { target: { databaseRef: { name: 'missing' } } }));
  assert.equal(condition(noDb.status, 'Ready')?.reason, 'DatabaseNotFound');
  assert.equal(c.calls.length, 0);
});
