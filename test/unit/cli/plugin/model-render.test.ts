// The plugin's status model (resources read through their zod schemas) and its rendering, from plain
// objects as the API server returns them: no cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, ObjectMetaLike } from '../../../../src/runtime/kube.ts';
import { buildStatusReport, readBackup, readBackupPolicy } from '../../../../src/cli/plugin/model.ts';
import { relative, renderStatusReport } from '../../../../src/cli/plugin/render.ts';
import { stampedName } from '../../../../src/cli/plugin/args.ts';

const NS = 'wards';
const now = new Date('2026-11-25T21:00:00.000Z');
const condition = (type: string, status: 'True' | 'False', reason: string, message: string) => ({ type, status, reason, message, lastTransitionTime: '2026-11-25T20:00:00Z' });
const object = (kind: string, name: string, spec: object, status?: object, namespace = NS): KubeObject => ({
  apiVersion: 'lokdarpan.io/v1alpha1',
  kind,
  metadata: { name, namespace, creationTimestamp: '2026-11-20T00:00:00Z' } as ObjectMetaLike,
  spec,
  ...(status === undefined ? {} : { status }),
});
const s3 = (name: string, bucket: string) => ({ name, bucket, credentialsSecret: 's3' });
const RECIPIENT = `age1${'q'.repeat(58)}`;

function fixture() {
  const policySpec = (database: string) => ({ databaseRef: { name: database }, schedule: '0 2 * * *', timeZone: 'Asia/Kolkata', destination: s3('mumbai', 'backups-mumbai'), replicas: [s3('hyderabad', 'backups-hyd')], recipients: [RECIPIENT] });
  return {
    databases: [
      object('LokdarpanDatabase', 'ward-db', { connection: { secretName: 'ward-db' } }, {
        conditions: [condition('Ready', 'False', 'PerformanceDegraded', 'performance validation failed'), condition('ViewsFresh', 'True', 'ViewsRefreshed', '')],
        schemaVersion: '005_electoral_optimization',
        pendingCount: 0,
        server: { version: '15.18', pgvectorVersion: '0.8.0' },
        validation: { lastRunTime: '2026-11-25T20:30:00.000Z', results: [{ query: 'vector_search', p95Ms: 71.5, thresholdMs: 50, passed: false, usesIndex: false }] },
      }),
    ],
    backupPolicies: [object('BackupPolicy', 'nightly', policySpec('ward-db'), { consecutiveFailures: 2, lastFailedBackup: 'nightly-2' }), object('BackupPolicy', 'orphan', policySpec('gone-db'))],
    backups: [
      object('Backup', 'nightly-1', { policyRef: { name: 'nightly' } }, { phase: 'Completed', size: '1.2 MiB', startTime: '2026-11-24T20:30:00.000Z', replicated: false, destinations: [{ name: 'mumbai', verified: true }, { name: 'hyderabad', error: 'access denied' }] }),
      object('Backup', 'nightly-2', { policyRef: { name: 'nightly' } }, { phase: 'Running', startTime: '2026-11-25T20:30:00.000Z' }),
      object('Backup', 'other-1', { policyRef: { name: 'orphan' } }, { phase: 'Completed', startTime: '2026-11-25T20:40:00.000Z' }),
    ],
    retentionPolicies: [
      object('RetentionPolicy', 'retention', { databaseRef: { name: 'ward-db' } }, {
        conditions: [condition('Ready', 'True', 'RunSucceeded', 'deleted 120 rows')],
        lastRun: { startTime: '2026-11-25T20:00:00.000Z', matched: 130, deleted: 120, archived: 10, marked: 0, rules: [{ name: 'old-posts', table: 'post', action: 'delete', matched: 0, deleted: 0, archived: 0, marked: 0, error: 'lock timeout' }] },
      }),
    ],
    restores: [
      object('Restore', 'into-ward', { backupRef: { name: 'nightly-1' }, target: { connectionSecret: 'ward-db' }, identitySecret: { name: 'id' } }, { phase: 'Failed', reason: 'TargetNotEmpty', message: 'the target has tables' }),
      object('Restore', 'elsewhere', { backupRef: { name: 'other-1' }, target: { connectionSecret: 'x' }, identitySecret: { name: 'id' } }),
    ],
  };
}

test('the report attaches policies, backups (newest first) and restores to their database, typed from the status', () => {
  const report = buildStatusReport(fixture(), { namespace: NS, now });
  const [db] = report.databases;
  assert.ok(db);
  assert.deepEqual(db.conditions[1], { type: 'ViewsFresh', status: 'True', reason: 'ViewsRefreshed', lastTransitionTime: '2026-11-25T20:00:00Z' }, 'empty fields are left out');
  assert.equal(db.serverVersion, '15.18');
  assert.deepEqual(db.validation?.results, [{ query: 'vector_search', p95Ms: 71.5, thresholdMs: 50, passed: false, usesIndex: false }]);
  const [policy] = db.backupPolicies;
  assert.deepEqual(policy?.recentBackups.map((b) => b.name), ['nightly-2', 'nightly-1']);
  assert.deepEqual(policy?.replicas, [{ name: 'hyderabad', bucket: 'backups-hyd', error: 'access denied' }], 'replicas as the newest finished backup saw them');
  assert.deepEqual(db.retentionPolicies[0]?.lastRun?.failedRules, ['old-posts: lock timeout']);
  assert.deepEqual(report.otherBackupPolicies.map((p) => p.name), ['orphan']);
  assert.deepEqual(report.restores.map((r) => r.name).sort(), ['elsewhere', 'into-ward']);
});

test('with only, the report keeps that database, its policies and the restores of its backups', () => {
  const report = buildStatusReport(fixture(), { namespace: NS, now, only: 'ward-db' });
  assert.deepEqual(report.otherBackupPolicies, []);
  assert.deepEqual(report.restores.map((r) => r.name), ['into-ward']);
});

test('a field that does not fit its schema reads as absent; the others stay', () => {
  const backup = readBackup(object('Backup', 'b', { policyRef: { name: 'p' } }, { phase: 'Exploded', size: '1 MiB' }));
  assert.deepEqual(backup.status, { size: '1 MiB' });
  assert.deepEqual(backup.spec, { policyRef: { name: 'p' } });
  assert.deepEqual(readBackup(object('Backup', 'c', { policyRef: 'p' })).spec, {});
  const policy = readBackupPolicy(object('BackupPolicy', 'nightly', { databaseRef: { name: 'ward-db' }, schedule: '0 2 * * *', timeZone: 'Mars/Olympus' }));
  assert.deepEqual(policy.spec, { databaseRef: { name: 'ward-db' }, schedule: '0 2 * * *' }, 'an unknown time zone does not hide the database');
});

test('the rendered report shows headlines, figures, replicas, failed rules and restores', () => {
  const text = renderStatusReport(buildStatusReport(fixture(), { namespace: NS, now }), now);
  for (const line of [
    'LokdarpanDatabase ward-db: Ready=False (PerformanceDegraded)  schema 005_electoral_optimization, 0 pending',
    '  server: PostgreSQL 15.18, pgvector 0.8.0',
    '  views: not refreshed yet',
    '    vector_search      71.5        50  OVER THRESHOLD (no index used)',
    '    failures:     2 in a row (last failed: nightly-2)',
    '    destinations: mumbai (primary); replicas: hyderabad FAILED: access denied',
    '      nightly-1  Completed  1.2 MiB    25h ago  replicas not verified',
    '    last run: 2026-11-25T20:00:00.000Z (1h ago): matched 130, deleted 120, archived 10, marked 0',
    '      FAILED old-posts: lock timeout',
    'Policies of databases not shown above:',
    '  BackupPolicy orphan (database gone-db): Ready=?  schedule "0 2 * * *" Asia/Kolkata',
    '  into-ward  Failed     backup nightly-1    TargetNotEmpty: the target has tables',
  ]) {
    assert.ok(text.split('\n').includes(line), `missing line ${JSON.stringify(line)} in:\n${text}`);
  }
  assert.ok(!/[ \t]\n/.test(text), 'no trailing blanks');
});

test('an empty namespace says so', () => {
  const empty = { databases: [], backupPolicies: [], backups: [], retentionPolicies: [], restores: [] };
  assert.equal(renderStatusReport(buildStatusReport(empty, { namespace: 'default', now }), now), 'No LokdarpanDatabases in namespace "default".\n');
  assert.equal(renderStatusReport(buildStatusReport(empty, { namespace: '*', now }), now), 'No LokdarpanDatabases in any namespace.\n');
});

test('relative times', () => {
  assert.equal(relative('2026-11-25T20:59:30.000Z', now), '30s ago');
  assert.equal(relative('2026-11-25T21:05:00.000Z', now), 'in 5m');
  assert.equal(relative('2026-11-25T18:00:00.000Z', now), '3h ago');
  assert.equal(relative('2026-11-20T21:00:00.000Z', now), '5d ago');
  assert.equal(relative('not a time', now), '');
  assert.equal(relative(undefined, now), '');
});

test('stamped names fit in 63 characters and do not end the base in a dash', () => {
  const at = new Date('2026-11-25T20:30:05.000Z');
  assert.equal(stampedName('nightly', 'manual', at), 'nightly-manual-20261125-203005');
  const long = stampedName(`${'a'.repeat(39)}-${'b'.repeat(30)}`, 'restore', at);
  assert.equal(long, `${'a'.repeat(39)}-restore-20261125-203005`);
  assert.ok(long.length <= 63);
});
