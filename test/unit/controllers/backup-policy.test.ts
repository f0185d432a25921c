// The BackupPolicy reconciler with fakes at its ports (Backup and Restore objects in memory, a recording
// prune engine): wrong references are Ready=False at once, a failed replica shows on the policy, the
// drill is a Restore the policy creates and records, and pruning never deletes what an unfinished
// Restore reads, runs under the database's lock and never waits for it, touches only the policy's own
// backups (adopting unowned ones only where it is alone), and overlapping destinations are reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/clock.ts';
import { KeyedMutex } from '../../../src/controllers/shared/database-mutex.ts';
import type { PruneEngines, PruneRequest } from '../../../src/controllers/backup/engines.ts';
import type { PruneResult } from '../../../src/engines/backup/index.ts';
import type { PolicyForOverlap } from '../../../src/controllers/backup/overlap.ts';
import {
  DRILL_LABEL,
  RECHECK_MS,
  reconcileBackupPolicy,
  type BackupObjects,
  type BackupPolicyResource,
  type BackupPolicyStatus,
  type RestoreObjects,
} from '../../../src/controllers/backup/policy-reconciler.ts';
import type { BackupResource, BackupStatus } from '../../../src/controllers/backup/reconciler.ts';
import type { RestoreResource } from '../../../src/controllers/backup/restore-reconciler.ts';
import { databaseMutexKey } from '../../../src/controllers/lokdarpan-database/reconciler.ts';
import { NS, condition, destination, fakeDatabases, fakeSecrets, policySpec } from './backup-fakes.ts';

function policy(spec: Record<string, unknown>, status?: BackupPolicyStatus): BackupPolicyResource {
  return {
    apiVersion: 'lokdarpan.io/v1alpha1',
    kind: 'BackupPolicy',
    metadata: { name: 'nightly', namespace: NS, generation: 1, uid: 'uid-nightly', creationTimestamp: '2026-03-01T00:00:00Z' },
    spec,
    ...(status ? { status } : {}),
  };
}

function completedBackup(name: string, at: string, status: Partial<BackupStatus> = {}): BackupResource {
  return {
    apiVersion: 'lokdarpan.io/v1alpha1',
    kind: 'Backup',
    metadata: { name, namespace: NS, creationTimestamp: at },
    spec: { policyRef: { name: 'nightly' } },
    status: { phase: 'Completed', reason: 'Completed', backupId: name, database: 'lokdarpan', completionTime: at, manifestKey: `lokdarpan/lokdarpan/${name}.manifest.json`, replicated: true, ...status },
  };
}

function failedBackup(name: string, at: string): BackupResource {
  return { apiVersion: 'lokdarpan.io/v1alpha1', kind: 'Backup', metadata: { name, namespace: NS, creationTimestamp: at }, spec: { policyRef: { name: 'nightly' } }, status: { phase: 'Failed', reason: 'DumpFailed', message: 'pg_dump exited 1', completionTime: at } };
}

function restoreOf(name: string, backup: string, phase?: 'Pending' | 'Running' | 'Completed' | 'Failed', extra: Partial<RestoreResource> = {}): RestoreResource {
  return {
    apiVersion: 'lokdarpan.io/v1alpha1',
    kind: 'Restore',
    metadata: { name, namespace: NS, creationTimestamp: '2026-03-10T03:00:00Z', ...(extra.metadata ?? {}) },
    spec: { backupRef: { name: backup }, target: { connectionSecret: 'scratch-server', databaseName: 'x' }, identitySecret: { name: 'age-identity' } },
    ...(phase ? { status: { phase, ...(extra.status ?? {}) } } : {}),
  };
}

function setup(options: { backups?: BackupResource[]; restores?: RestoreResource[]; now?: string; prune?: (request: PruneRequest) => PruneResult; policies?: PolicyForOverlap[] } = {}) {
  const backups = new Map((options.backups ?? []).map((b) => [b.metadata.name, b]));
  const restores = new Map((options.restores ?? []).map((r) => [r.metadata.name, r]));
  const deletedBackups: string[] = [];
  const deletedRestores: string[] = [];
  const pruneCalls: Array<{ destination: string; inUse: string[]; lockHolder: string | undefined; request: PruneRequest }> = [];
  const mutex = new KeyedMutex();
  const backupObjects: BackupObjects = {
    list: async () => [...backups.values()],
    create: async (b) => {
      if (backups.has(b.metadata.name)) return false;
      backups.set(b.metadata.name, b);
      return true;
    },
    delete: async (_ns, name) => {
      deletedBackups.push(name);
      backups.delete(name);
    },
  };
  const restoreObjects: RestoreObjects = {
    list: async () => [...restores.values()],
    create: async (r) => {
      if (restores.has(r.metadata.name)) return false;
      restores.set(r.metadata.name, { ...r, metadata: { ...r.metadata, creationTimestamp: options.now ?? '2026-03-10T10:00:00Z' } });
      return true;
    },
    delete: async (_ns, name) => {
      deletedRestores.push(name);
      restores.delete(name);
    },
  };
  const engines: PruneEngines = {
    prune: async (request) => {
      pruneCalls.push({ destination: request.destination.name, inUse: [...request.protect].sort(), lockHolder: mutex.holder(databaseMutexKey(NS, 'ldb')), request });
      return options.prune?.(request) ?? { destination: request.destination.name, plan: { keep: [], delete: [] }, deleted: [], locked: [], failed: [], orphansDeleted: [] };
    },
  };
  const secrets = fakeSecrets();
  const databases = fakeDatabases();
  const clock = new ManualClock(options.now ?? '2026-03-10T10:00:00Z');
  const allPolicies = { list: async () => options.policies ?? [] };
  const deps = { backups: backupObjects, restores: restoreObjects, databases, secrets, engines, allPolicies, mutex, clock };
  return { deps, backups, restores, deletedBackups, deletedRestores, pruneCalls, secrets, databases, mutex, clock, reconcile: (r: BackupPolicyResource) => reconcileBackupPolicy(r, deps) };
}

test('everything it names exists and no backup yet: Ready True NoBackupYet', async () => {
  const { reconcile } = setup();
  const outcome = await reconcile(policy(policySpec()));
  assert.equal(outcome.error, undefined);
  assert.equal(condition(outcome.status, 'Ready')?.status, 'True');
  assert.equal(condition(outcome.status, 'Ready')?.reason, 'NoBackupYet');
});

test('a missing database, Secret or key is Ready False with the reason on the first reconcile, and looked at again soon', async () => {
  const cases: Array<[string, (s: ReturnType<typeof setup>) => void, Record<string, unknown>, string, RegExp]> = [
    ['database', () => {}, policySpec({ databaseRef: { name: 'nope' } }), 'DatabaseNotFound', /LokdarpanDatabase ns\/nope not found/],
    ['connection Secret of the database', (s) => s.secrets.data.delete('db'), policySpec(), 'SecretNotFound', /Secret ns\/db not found/],
    ['S3 credentials', (s) => s.secrets.data.delete('s3-dr'), policySpec(), 'SecretNotFound', /Secret ns\/s3-dr not found/],
    ['S3 key', (s) => s.secrets.data.set('s3-primary', { accessKeyId: 'AK1' }), policySpec(), 'SecretKeyMissing', /no key "secretAccessKey"/],
    ['drill identity', () => {}, policySpec({ restoreDrill: { schedule: '0 4 * * 0', identitySecret: { name: 'nope-identity' } } }), 'SecretNotFound', /nope-identity/],
    ['drill server', () => {}, policySpec({ restoreDrill: { schedule: '0 4 * * 0', identitySecret: { name: 'age-identity' }, connectionSecret: 'nope-server' } }), 'SecretNotFound', /nope-server/],
    ['webhook URL', () => {}, policySpec({ webhook: { urlSecret: { name: 'hook' } } }), 'SecretNotFound', /hook/],
  ];
  for (const [what, breakIt, spec, reason, message] of cases) {
    const s = setup();
    breakIt(s);
    const outcome = await s.reconcile(policy(spec));
    const ready = condition(outcome.status, 'Ready');
    assert.equal(ready?.status, 'False', what);
    assert.equal(ready?.reason, reason, what);
    assert.match(ready?.message ?? '', message, what);
    assert.ok(outcome.events.some((e) => e.type === 'Warning' && e.reason === reason), what);
    assert.ok(outcome.requeueAfterMs !== undefined && outcome.requeueAfterMs <= RECHECK_MS, `${what}: requeue ${outcome.requeueAfterMs}`);
    assert.doesNotMatch(JSON.stringify(outcome), /AK1|SK1|SK2|AGE-SECRET|:pw@/, `${what}: no secret value`);
    // The same problem on the next reconcile adds no new event.
    const again = await s.reconcile(policy(spec, outcome.status));
    assert.equal(again.events.filter((e) => e.reason === reason).length, 0, `${what}: one event per problem`);
  }
});

test('a latest backup missing from a replica shows on the policy: Ready False ReplicaFailed naming the replica and error', async () => {
  const { reconcile } = setup({
    backups: [
      completedBackup('nightly-20260309-0200', '2026-03-09T02:00:00Z'),
      completedBackup('nightly-20260310-0200', '2026-03-10T02:00:00Z', {
        reason: 'ReplicaFailed',
        replicated: false,
        destinations: [{ name: 'primary', verified: true }, { name: 'dr', verified: false, error: 'CopyFailed: 503 Slow Down' }],
      }),
    ],
  });
  const outcome = await reconcile(policy(policySpec()));
  const ready = condition(outcome.status, 'Ready');
  assert.equal(ready?.status, 'False');
  assert.equal(ready?.reason, 'ReplicaFailed');
  assert.match(ready?.message ?? '', /nightly-20260310-0200: replica dr: CopyFailed: 503 Slow Down/);
  assert.equal(condition(outcome.status, 'Replicated')?.status, 'False');
  assert.equal(outcome.status.lastSuccessfulBackup, 'nightly-20260310-0200', 'the backup itself counts as a success');
});

test('the drill is a Restore the policy creates (owned, labelled, scratch database, dropped after) without waiting for it', async () => {
  const drill = { schedule: '0 4 * * *', identitySecret: { name: 'age-identity' }, timeout: '3h' };
  const s = setup({ backups: [completedBackup('nightly-20260310-0200', '2026-03-10T02:00:00Z')], now: '2026-03-10T04:00:30Z' });
  const first = await s.reconcile(policy(policySpec({ restoreDrill: drill }), { nextRestoreDrillTime: '2026-03-10T04:00:00Z', lastPrune: { afterBackup: 'nightly-20260310-0200' } }));
  assert.equal(first.error, undefined);
  const created = [...s.restores.values()];
  assert.equal(created.length, 1);
  const r = created[0]!;
  assert.equal(r.metadata.name, 'nightly-drill-20260310-0400');
  assert.equal(r.metadata.labels?.[DRILL_LABEL], 'nightly');
  assert.deepEqual(r.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid, o.controller]), [['BackupPolicy', 'nightly', 'uid-nightly', true]]);
  const spec = r.spec as Record<string, any>;
  assert.deepEqual(spec['backupRef'], { name: 'nightly-20260310-0200' });
  assert.deepEqual(spec['target']['databaseRef'], { name: 'ldb' }, 'default: the database\'s own server');
  assert.match(spec['target']['databaseName'], /^lokdarpan_drill_\d{14}$/);
  assert.equal(spec['dropAfterCheck'], true);
  assert.equal(spec['timeout'], '3h');
  assert.equal(first.status.restoreDrillRunning, r.metadata.name);
  assert.equal(first.status.nextRestoreDrillTime, '2026-03-11T04:00:00.000Z');
  assert.ok(first.events.some((e) => e.reason === 'RestoreDrillStarted'));

  // Next slot while it still runs: skipped, no second Restore.
  s.clock.set(new Date('2026-03-11T04:00:10Z'));
  const skipped = await s.reconcile(policy(policySpec({ restoreDrill: drill }), first.status));
  assert.equal(s.restores.size, 1);
  assert.ok(skipped.events.some((e) => e.reason === 'RestoreDrillSkipped'));

  // It finishes: recorded into lastRestoreDrill and RestoreVerified, once.
  s.restores.set(r.metadata.name, { ...r, status: { phase: 'Completed', completionTime: '2026-03-11T04:03:00Z', durationMs: 4200, rowCountCheck: { passed: true, tablesChecked: 12 } } });
  const recorded = await s.reconcile(policy(policySpec({ restoreDrill: drill }), skipped.status));
  assert.equal(condition(recorded.status, 'RestoreVerified')?.status, 'True');
  assert.equal(recorded.status.lastRestoreDrill?.restore, r.metadata.name);
  assert.equal(recorded.status.lastRestoreDrill?.succeeded, true);
  assert.equal(recorded.status.lastRestoreDrill?.durationMs, 4200);
  assert.match(recorded.status.lastRestoreDrill?.message ?? '', /row counts match/);
  assert.equal(recorded.status.restoreDrillRunning, undefined);
  assert.ok(recorded.events.some((e) => e.reason === 'RestoreDrillPassed'));
  const again = await s.reconcile(policy(policySpec({ restoreDrill: drill }), recorded.status));
  assert.equal(again.events.filter((e) => e.reason === 'RestoreDrillPassed').length, 0);
});

test('a drill with a connection Secret restores on that server; a drill that timed out is RestoreVerified False Timeout', async () => {
  const drill = { schedule: '0 4 * * *', identitySecret: { name: 'age-identity' }, connectionSecret: 'scratch-server' };
  const s = setup({ backups: [completedBackup('nightly-20260310-0200', '2026-03-10T02:00:00Z')], now: '2026-03-10T04:00:30Z' });
  const first = await s.reconcile(policy(policySpec({ restoreDrill: drill, timeout: '8h' }), { nextRestoreDrillTime: '2026-03-10T04:00:00Z', lastPrune: { afterBackup: 'nightly-20260310-0200' } }));
  const r = [...s.restores.values()][0]!;
  const spec = r.spec as Record<string, any>;
  assert.equal(spec['target']['connectionSecret'], 'scratch-server');
  assert.equal(spec['target']['databaseRef'], undefined);
  assert.equal(spec['timeout'], '8h', 'the policy\'s timeout when the drill has none');
  s.restores.set(r.metadata.name, { ...r, status: { phase: 'Failed', reason: 'Timeout', message: 'the restore ran longer than spec.timeout 8h' } });
  const failed = await s.reconcile(policy(policySpec({ restoreDrill: drill }), first.status));
  assert.equal(condition(failed.status, 'RestoreVerified')?.status, 'False');
  assert.equal(condition(failed.status, 'RestoreVerified')?.reason, 'Timeout');
  assert.equal(failed.status.lastRestoreDrill?.succeeded, false);
  assert.ok(failed.events.some((e) => e.type === 'Warning' && e.reason === 'RestoreDrillFailed'));
});

test('old finished drill Restores are deleted beyond the few kept; running ones never', async () => {
  const drills = ['01', '02', '03', '04', '05'].map((d) =>
    restoreOf(`nightly-drill-202603${d}-0400`, 'b', 'Completed', { metadata: { name: `nightly-drill-202603${d}-0400`, labels: { [DRILL_LABEL]: 'nightly' }, creationTimestamp: `2026-03-${d}T04:00:00Z` } }),
  );
  const running = restoreOf('nightly-drill-20260306-0400', 'b', 'Running', { metadata: { name: 'nightly-drill-20260306-0400', labels: { [DRILL_LABEL]: 'nightly' }, creationTimestamp: '2026-03-06T04:00:00Z' } });
  const s = setup({ restores: [...drills, running] });
  await s.reconcile(policy(policySpec({ restoreDrill: { schedule: '0 4 * * *', identitySecret: { name: 'age-identity' } } })));
  assert.deepEqual(s.deletedRestores.sort(), ['nightly-drill-20260301-0400', 'nightly-drill-20260302-0400']);
});

test('pruning runs under the database\'s lock and keeps the backups unfinished Restores read, pruning the rest', async () => {
  const backups = [
    completedBackup('nightly-20260301-0200', '2026-03-01T02:00:00Z'),
    completedBackup('nightly-20260308-0200', '2026-03-08T02:00:00Z'),
    completedBackup('nightly-20260309-0200', '2026-03-09T02:00:00Z'),
    completedBackup('nightly-20260310-0200', '2026-03-10T02:00:00Z'),
    ...['01', '02', '03', '04', '05', '06', '07'].map((d) => failedBackup(`failed-${d}`, `2026-02-${d}T02:00:00Z`)),
  ];
  const restores = [
    restoreOf('reads-old', 'nightly-20260301-0200', 'Running'),
    restoreOf('waits-on-failed', 'failed-01', 'Pending'),
    restoreOf('done', 'nightly-20260309-0200', 'Completed'),
  ];
  const decision = (id: string, reasons: Array<'last' | 'protected'>) => ({ id, time: '2026-03-01T02:00:00.000Z', keep: true, reasons });
  // As the engine with protect: the protected backup is kept (reason 'protected'), the rest of the plan is deleted.
  const s = setup({
    backups,
    restores,
    prune: (request) => {
      const protectedOld = request.protect.has('nightly-20260301-0200');
      return {
        destination: request.destination.name,
        plan: { keep: [decision('nightly-20260310-0200', ['last']), ...(protectedOld ? [decision('nightly-20260301-0200', ['protected'])] : [])], delete: [] },
        deleted: ['nightly-20260308-0200', 'nightly-20260309-0200', ...(protectedOld ? [] : ['nightly-20260301-0200'])],
        locked: [],
        failed: [],
        orphansDeleted: [],
      };
    },
  });
  const first = await s.reconcile(policy(policySpec()));
  assert.equal(first.error, undefined);
  assert.deepEqual(s.pruneCalls.map((c) => c.destination), ['primary', 'dr']);
  for (const c of s.pruneCalls) {
    assert.deepEqual(c.inUse, ['failed-01', 'nightly-20260301-0200'], 'finished Restores do not hold backups');
    assert.equal(c.lockHolder, 'prune nightly');
  }
  assert.ok(!s.deletedBackups.includes('nightly-20260301-0200'));
  assert.ok(!s.deletedBackups.includes('failed-01'), 'a Backup a pending Restore names is never deleted');
  assert.deepEqual(s.deletedBackups.sort(), ['failed-02', 'nightly-20260308-0200', 'nightly-20260309-0200'], 'the rest is pruned; failed ones beyond the five kept, except the one in use');
  assert.equal(first.status.pruneWaiting, undefined, 'nothing waits');
  assert.equal(first.status.lastPrune?.afterBackup, 'nightly-20260310-0200');
  assert.deepEqual(first.status.lastPrune?.keptInUse, ['nightly-20260301-0200 (Restore reads-old)']);
  assert.equal(first.status.lastPrune?.kept, 2);
  assert.match(first.events.find((e) => e.reason === 'BackupsInUse')?.note ?? '', /kept nightly-20260301-0200 \(Restore reads-old\)/);
});

test('prune requests carry the policy, its schedule\'s time zone, and adopt unowned backups only where the policy is alone', async () => {
  const spec = policySpec({ timeZone: 'Asia/Kolkata' });
  const other: PolicyForOverlap = { metadata: { name: 'hourly', namespace: 'other-ns' }, spec: policySpec({ replicas: [] }), status: { database: 'lokdarpan' } };
  const s = setup({ backups: [completedBackup('nightly-20260310-0200', '2026-03-10T02:00:00Z')], policies: [other] });
  const outcome = await s.reconcile(policy(spec));
  const byDestination = new Map(s.pruneCalls.map((c) => [c.destination, c.request]));
  assert.deepEqual(byDestination.get('primary')?.policy, { namespace: NS, name: 'nightly', uid: 'uid-nightly' });
  assert.equal(byDestination.get('primary')?.timeZone, 'Asia/Kolkata');
  assert.equal(byDestination.get('primary')?.database, 'lokdarpan');
  assert.equal(byDestination.get('primary')?.adoptUnowned, false, 'hourly also writes to primary-bucket/lokdarpan/lokdarpan/');
  assert.equal(byDestination.get('dr')?.adoptUnowned, true, 'no other policy writes to dr');
  assert.equal(outcome.status.database, 'lokdarpan');
  const overlap = condition(outcome.status, 'DestinationsOverlap');
  assert.equal(overlap?.status, 'True');
  assert.equal(overlap?.reason, 'DestinationsOverlap');
  assert.match(overlap?.message ?? '', /^primary \(aws s3:\/\/primary-bucket\/lokdarpan\/lokdarpan\/\) is also written by BackupPolicy other-ns\/hourly primary/);
  assert.equal(condition(outcome.status, 'Ready')?.status, 'True', 'an overlap is a warning, not a failure');
  assert.ok(outcome.events.some((e) => e.type === 'Warning' && e.reason === 'DestinationsOverlap'));

  // Reported once, not on every reconcile.
  const again = await s.reconcile(policy(spec, outcome.status));
  assert.ok(!again.events.some((e) => e.reason === 'DestinationsOverlap'));
});

test('no overlap: another database, another prefix, or a policy whose database is not known yet', async () => {
  const others: PolicyForOverlap[] = [
    { metadata: { name: 'a', namespace: NS }, spec: policySpec(), status: { database: 'analytics' } },
    { metadata: { name: 'b', namespace: NS }, spec: policySpec({ destination: { ...destination('primary', 's3-primary'), prefix: 'staging/' }, replicas: [] }), status: { database: 'lokdarpan' } },
    { metadata: { name: 'c', namespace: NS }, spec: policySpec() },
    { metadata: { name: 'nightly', namespace: NS }, spec: policySpec(), status: { database: 'lokdarpan' } },
  ];
  const s = setup({ backups: [completedBackup('nightly-20260310-0200', '2026-03-10T02:00:00Z')], policies: others });
  const outcome = await s.reconcile(policy(policySpec()));
  assert.equal(condition(outcome.status, 'DestinationsOverlap')?.status, 'False');
  assert.equal(condition(outcome.status, 'DestinationsOverlap')?.reason, 'DestinationsExclusive');
  assert.deepEqual(s.pruneCalls.map((c) => c.request.adoptUnowned), [true, true]);
});

test('a database that does not resolve: no overlap verdict, and nothing unowned is adopted', async () => {
  const s = setup({ backups: [completedBackup('nightly-20260310-0200', '2026-03-10T02:00:00Z')] });
  s.databases.items.delete('ldb');
  const outcome = await s.reconcile(policy(policySpec()));
  assert.equal(condition(outcome.status, 'DestinationsOverlap'), undefined);
  assert.deepEqual(s.pruneCalls.map((c) => c.request.adoptUnowned), [false, false]);
});

test('pruning never waits for a busy database: the reconcile returns at once and the pass is retried', async () => {
  const s = setup({ backups: [completedBackup('nightly-20260310-0200', '2026-03-10T02:00:00Z')] });
  let release!: () => void;
  const holding = s.mutex.run(databaseMutexKey(NS, 'ldb'), 'restore big-one', () => new Promise<void>((r) => (release = r)));
  const outcome = await s.reconcile(policy(policySpec()));
  assert.equal(s.pruneCalls.length, 0);
  assert.match(outcome.status.pruneWaiting ?? '', /busy \(restore big-one\)/);
  assert.ok(outcome.events.some((e) => e.reason === 'PruneDeferred'), 'said once as an event');
  assert.equal(condition(outcome.status, 'Ready')?.status, 'True', 'waiting to prune is not a failure');
  assert.ok(outcome.requeueAfterMs !== undefined && outcome.requeueAfterMs <= RECHECK_MS);
  release();
  await holding;
  const later = await s.reconcile(policy(policySpec(), outcome.status));
  assert.equal(s.pruneCalls.length, 2);
  assert.equal(later.status.lastPrune?.afterBackup, 'nightly-20260310-0200');
});

test('failures since the last success count by finish time: a failure created in the same second as the success still counts', async () => {
  const success = completedBackup('refused-1', '2026-03-10T09:00:00Z', { completionTime: '2026-03-10T09:00:00.400Z' });
  const sameSecond = { ...failedBackup('refused-2', '2026-03-10T09:00:00Z'), status: { phase: 'Failed' as const, reason: 'DumpFailed', message: 'pg_dump exited 1', completionTime: '2026-03-10T09:00:00.700Z' } };
  const later = failedBackup('refused-3', '2026-03-10T09:00:01Z');
  const before = failedBackup('refused-0', '2026-03-10T08:59:59Z');
  const { reconcile } = setup({ backups: [before, success, sameSecond, later] });
  const outcome = await reconcile(policy(policySpec()));
  assert.equal(outcome.status.consecutiveFailures, 2);
  assert.equal(condition(outcome.status, 'Ready')?.reason, 'BackupFailed');
});

test('the health triple: Idle at rest, Stalled on an invalid spec, Reconciling True with the error\'s reason while a failure is retried', async () => {
  const s = setup();
  const fine = await s.reconcile(policy(policySpec()));
  assert.deepEqual(['Reconciling', 'Stalled'].map((t) => [condition(fine.status, t)?.status, condition(fine.status, t)?.reason]), [['False', 'Idle'], ['False', 'Idle']]);

  const invalid = await s.reconcile(policy({ ...policySpec(), schedule: 42 }));
  assert.equal(invalid.error, undefined, 'nothing to retry');
  assert.equal(condition(invalid.status, 'Stalled')?.status, 'True');
  assert.equal(condition(invalid.status, 'Ready')?.reason, 'InvalidSpec');
  assert.match(condition(invalid.status, 'Ready')?.message ?? '', /^spec is invalid: schedule: /);
  assert.deepEqual(invalid.events.map((e) => [e.type, e.reason]), [['Warning', 'InvalidSpec']]);

  s.deps.backups.list = async () => {
    throw new Error('the API server is unavailable');
  };
  const failed = await s.reconcile(policy(policySpec(), fine.status));
  assert.equal(failed.error?.reason, 'ReconcileFailed');
  assert.equal(condition(failed.status, 'Ready')?.status, 'False');
  assert.equal(condition(failed.status, 'Reconciling')?.status, 'True');
  assert.equal(condition(failed.status, 'Reconciling')?.reason, 'ReconcileFailed');
  assert.equal(condition(failed.status, 'Stalled')?.status, 'False');
  assert.ok(failed.events.some((e) => e.type === 'Warning' && /API server is unavailable/.test(e.note)));
});
