// Domain metrics: registration, the status-derived gauges (which must survive an operator restart),
// expected intervals from cron schedules, and removal of a deleted resource's series.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createOperatorMetrics } from '../../../src/observability/metrics.ts';
import { backupPolicySpecSchema, backupPolicyStatusSchema, backupStatusSchema } from '../../../src/api/backup.ts';
import { lokdarpanDatabaseStatusSchema } from '../../../src/api/lokdarpan-database.ts';
import { retentionPolicyStatusSchema } from '../../../src/api/retention-policy.ts';
import type { RetentionRunResult } from '../../../src/engines/retention/index.ts';
import { createDomainMetrics, DOMAIN_METRIC_NAMES, expectedIntervalSeconds, timestampSeconds } from '../../../src/observability/domain-metrics/index.ts';

function fresh() {
  const metrics = createOperatorMetrics(new Registry(), { defaultMetrics: false });
  return { registry: metrics.registry, domain: createDomainMetrics(metrics) };
}

async function value(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric, `${name} is not registered`);
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l) && Object.keys(v.labels).length === Object.keys(labels).length)?.value;
}

async function seriesCount(registry: Registry, labels: Record<string, string>): Promise<number> {
  let n = 0;
  for (const { name } of registry.getMetricsAsArray()) {
    const metric = registry.getSingleMetric(name);
    if (!metric) continue;
    const { values } = await metric.get();
    n += values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).length;
  }
  return n;
}

const db = { namespace: 'prod', name: 'lokdarpan' };
const policy = { namespace: 'prod', policy: 'nightly' };

describe('createDomainMetrics', () => {
  it('registers every name in DOMAIN_METRIC_NAMES, all distinct and prefixed, and is idempotent', () => {
    const { registry, domain } = fresh();
    assert.equal(new Set(DOMAIN_METRIC_NAMES).size, DOMAIN_METRIC_NAMES.length);
    for (const name of DOMAIN_METRIC_NAMES) {
      assert.match(name, /^lokdarpan_[a-z0-9_]+$/);
      assert.ok(registry.getSingleMetric(name), `${name} not registered`);
    }
    for (const required of ['lokdarpan_database_ready', 'lokdarpan_backup_expected_interval_seconds', 'lokdarpan_retention_rows_deleted_total', 'lokdarpan_backups_locked_skipped_total']) {
      assert.ok(DOMAIN_METRIC_NAMES.includes(required), required);
    }
    const metrics = createOperatorMetrics(registry, { defaultMetrics: false });
    assert.equal(createDomainMetrics(metrics).backupBytes, domain.backupBytes);
  });
});

describe('database metrics', () => {
  it('derives readiness, versions, refresh time and query figures from status', async () => {
    const { registry, domain } = fresh();
    domain.recordDatabaseStatus(
      db,
      {
        conditions: [
          { type: 'Ready', status: 'False' },
          { type: 'Stalled', status: 'True' },
          { type: 'PerformanceHealthy', status: 'True' },
        ],
        schemaVersion: '006_x',
        pendingCount: 2,
        server: { version: '18.1', pgvectorVersion: '0.8.1' },
        views: { lastSuccessfulRefreshTime: '2026-01-01T00:00:10Z' },
        validation: { lastRunTime: '2026-01-01T00:01:00Z', results: [{ query: 'ward', p95Ms: 12, thresholdMs: 100 }] },
      },
      { views: { schedule: '*/15 * * * *' } },
      new Date('2026-01-01T00:00:00Z'),
    );
    assert.equal(await value(registry, 'lokdarpan_database_ready', db), 0);
    assert.equal(await value(registry, 'lokdarpan_database_stalled', db), 1);
    assert.equal(await value(registry, 'lokdarpan_database_pending_migrations', db), 2);
    assert.equal(await value(registry, 'lokdarpan_performance_healthy', db), 1);
    assert.equal(await value(registry, 'lokdarpan_view_refresh_last_success_timestamp_seconds', db), Date.parse('2026-01-01T00:00:10Z') / 1000);
    assert.equal(await value(registry, 'lokdarpan_view_refresh_expected_interval_seconds', db), 900);
    assert.equal(await value(registry, 'lokdarpan_query_p95_seconds', { ...db, query: 'ward' }), 0.012);
    assert.equal(await value(registry, 'lokdarpan_query_threshold_seconds', { ...db, query: 'ward' }), 0.1);
    const info = { ...db, schema_version: '006_x', server_version: '18.1', pgvector_version: '0.8.1' };
    assert.equal(await value(registry, 'lokdarpan_database_info', info), 1);

    // A new schema version replaces the info series instead of adding a second one.
    domain.recordDatabaseStatus(db, { conditions: [{ type: 'Ready', status: 'True' }], schemaVersion: '007_y', server: { version: '18.1', pgvectorVersion: '0.8.1' } });
    assert.equal(await value(registry, 'lokdarpan_database_info', info), undefined);
    assert.equal(await value(registry, 'lokdarpan_database_info', { ...info, schema_version: '007_y' }), 1);
    assert.equal(await value(registry, 'lokdarpan_database_ready', db), 1);
  });

  it('records migrations, refreshes and validations', async () => {
    const { registry, domain } = fresh();
    domain.recordMigration(db, { name: '001_init', durationMs: 1500 });
    domain.recordMigration(db, { name: '002_more', durationMs: 500 });
    domain.recordViewRefresh(db, { finishedAt: new Date('2026-02-01T00:00:00Z'), durationMs: 2000 });
    domain.recordViewRefreshFailure(db, 'ViewRefreshFailed');
    domain.recordValidation(db, { finishedAt: new Date('2026-02-01T00:00:00Z'), passed: false, results: [{ query: 'vector', p95Ms: 80, thresholdMs: 50 }] });
    assert.equal(await value(registry, 'lokdarpan_migrations_applied_total', { ...db, direction: 'up' }), 2);
    assert.equal(await value(registry, 'lokdarpan_view_refresh_failures_total', { ...db, reason: 'ViewRefreshFailed' }), 1);
    assert.equal(await value(registry, 'lokdarpan_view_refresh_last_success_timestamp_seconds', db), Date.parse('2026-02-01T00:00:00Z') / 1000);
    assert.equal(await value(registry, 'lokdarpan_performance_healthy', db), 0);
    assert.equal(await value(registry, 'lokdarpan_query_p95_seconds', { ...db, query: 'vector' }), 0.08);
    const text = await registry.metrics();
    assert.match(text, /lokdarpan_migration_duration_seconds_count\{namespace="prod",name="lokdarpan",migration="001_init",direction="up"\} 1/);
    assert.match(text, /lokdarpan_view_refresh_duration_seconds_sum\{namespace="prod",name="lokdarpan"\} 2/);
  });
});

describe('backup metrics', () => {
  it('restores the last-success timestamp from status alone (a restarted operator)', async () => {
    const { registry, domain } = fresh();
    domain.recordBackupPolicyStatus(
      policy,
      { lastSuccessfulTime: '2026-03-01T02:00:30Z', consecutiveFailures: 1, lastRestoreDrill: { time: '2026-03-01T04:00:00Z', succeeded: false } },
      { schedule: '0 2 * * 1-5', timeZone: 'Asia/Kolkata', restoreDrill: { schedule: '0 4 * * 0' } },
      new Date('2026-03-02T00:00:00Z'),
    );
    assert.equal(await value(registry, 'lokdarpan_backup_last_success_timestamp_seconds', policy), Date.parse('2026-03-01T02:00:30Z') / 1000);
    assert.equal(await value(registry, 'lokdarpan_backup_consecutive_failures', policy), 1);
    assert.equal(await value(registry, 'lokdarpan_backup_expected_interval_seconds', policy), 3 * 86400, 'Friday to Monday is the longest gap');
    assert.equal(await value(registry, 'lokdarpan_restore_drill_expected_interval_seconds', policy), 7 * 86400);
    assert.equal(await value(registry, 'lokdarpan_restore_drill_last_failure_timestamp_seconds', policy), Date.parse('2026-03-01T04:00:00Z') / 1000);
    assert.equal(await value(registry, 'lokdarpan_restore_drill_last_success_timestamp_seconds', policy), undefined);

    domain.recordBackupPolicyStatus(policy, {}, { schedule: '0 2 * * *', suspend: true });
    assert.equal(await value(registry, 'lokdarpan_backup_expected_interval_seconds', policy), 0, 'a suspended policy expects nothing');
    assert.equal(await value(registry, 'lokdarpan_restore_drill_expected_interval_seconds', policy), 0);
  });

  it('records a completed backup with sizes and replicas, then failures', async () => {
    const { registry, domain } = fresh();
    domain.recordBackupSuccess(policy, {
      finishedAt: new Date('2026-03-01T02:10:00Z'),
      durationMs: 600_000,
      plainBytes: 1000,
      encryptedBytes: 400,
      replicas: [
        { name: 'dr-mumbai', verified: true },
        { name: 'dr-frankfurt', verified: false, error: { reason: 'ReplicaCopyFailed', message: 'timeout' } },
      ],
    });
    assert.equal(await value(registry, 'lokdarpan_backup_bytes', { ...policy, kind: 'plain' }), 1000);
    assert.equal(await value(registry, 'lokdarpan_backup_bytes', { ...policy, kind: 'encrypted' }), 400);
    assert.equal(await value(registry, 'lokdarpan_backup_replica_verified', { ...policy, destination: 'dr-mumbai' }), 1);
    assert.equal(await value(registry, 'lokdarpan_backup_replica_verified', { ...policy, destination: 'dr-frankfurt' }), 0);
    assert.equal(await value(registry, 'lokdarpan_backup_replica_failures_total', { ...policy, destination: 'dr-frankfurt', reason: 'ReplicaCopyFailed' }), 1);
    assert.equal(await value(registry, 'lokdarpan_backup_last_success_timestamp_seconds', policy), Date.parse('2026-03-01T02:10:00Z') / 1000);

    domain.recordBackupFailure(policy, { finishedAt: new Date('2026-03-02T02:00:00Z'), reason: 'DumpFailed' });
    domain.recordBackupFailure(policy, { finishedAt: new Date('2026-03-03T02:00:00Z'), reason: 'DumpFailed' });
    assert.equal(await value(registry, 'lokdarpan_backup_consecutive_failures', policy), 2);
    assert.equal(await value(registry, 'lokdarpan_backup_failures_total', { ...policy, reason: 'DumpFailed' }), 2);
    assert.equal(await value(registry, 'lokdarpan_backup_last_failure_timestamp_seconds', policy), Date.parse('2026-03-03T02:00:00Z') / 1000);

    domain.recordRestore(policy, { trigger: 'drill', finishedAt: new Date('2026-03-03T04:00:00Z'), durationMs: 30_000, succeeded: true });
    domain.recordRestore(policy, { trigger: 'restore', finishedAt: new Date('2026-03-03T05:00:00Z'), durationMs: 1000, succeeded: false, reason: 'WrongKey' });
    assert.equal(await value(registry, 'lokdarpan_restore_drill_last_success_timestamp_seconds', policy), Date.parse('2026-03-03T04:00:00Z') / 1000);
    assert.equal(await value(registry, 'lokdarpan_restore_failures_total', { ...policy, trigger: 'restore', reason: 'WrongKey' }), 1);
  });
});

describe('with the resources\' own status types (what the controllers\' hooks pass)', () => {
  const condition = (type: string, status: 'True' | 'False', reason: string) => ({ type, status, reason, message: '', lastTransitionTime: '2026-03-01T00:00:00Z' });
  const spec = backupPolicySpecSchema.parse({
    databaseRef: { name: 'lokdarpan' },
    schedule: '0 2 * * *',
    destination: { name: 'primary', bucket: 'backups', credentialsSecret: 's3' },
    replicas: [{ name: 'dr', bucket: 'backups-dr', credentialsSecret: 's3' }],
    recipients: ['age1' + 'q'.repeat(58)],
    restoreDrill: { schedule: '0 4 * * 0', identitySecret: { name: 'age' } },
  });

  it('recordBackupStatus takes a Backup status: Completed with a failed replica, then Failed', async () => {
    const { registry, domain } = fresh();
    const completed = backupStatusSchema.parse({
      phase: 'Completed',
      startTime: '2026-03-01T02:00:00Z',
      completionTime: '2026-03-01T02:05:00Z',
      plainBytes: 5000,
      encryptedBytes: 2000,
      destinations: [
        { name: 'primary', verified: true },
        { name: 'dr', verified: false, error: 'ReplicaCopyFailed: connect ECONNREFUSED' },
      ],
    });
    domain.recordBackupStatus(policy, completed, { primaryDestination: spec.destination.name });
    assert.equal(await value(registry, 'lokdarpan_backup_last_success_timestamp_seconds', policy), Date.parse('2026-03-01T02:05:00Z') / 1000);
    assert.match(await registry.metrics(), /lokdarpan_backup_duration_seconds_sum\{namespace="prod",policy="nightly"\} 300\n/);
    assert.equal(await value(registry, 'lokdarpan_backup_bytes', { ...policy, kind: 'encrypted' }), 2000);
    assert.equal(await value(registry, 'lokdarpan_backup_replica_verified', { ...policy, destination: 'dr' }), 0);
    assert.equal(await value(registry, 'lokdarpan_backup_replica_verified', { ...policy, destination: 'primary' }), undefined, 'the primary is not a replica');
    assert.equal(await value(registry, 'lokdarpan_backup_replica_failures_total', { ...policy, destination: 'dr', reason: 'ReplicaCopyFailed' }), 1);

    const failed = backupStatusSchema.parse({ phase: 'Failed', reason: 'DumpFailed', startTime: '2026-03-02T02:00:00Z', completionTime: '2026-03-02T02:00:05Z' });
    domain.recordBackupStatus(policy, failed, { primaryDestination: 'primary', consecutiveFailures: 1 });
    assert.equal(await value(registry, 'lokdarpan_backup_failures_total', { ...policy, reason: 'DumpFailed' }), 1);
    assert.equal(await value(registry, 'lokdarpan_backup_last_failure_timestamp_seconds', policy), Date.parse('2026-03-02T02:00:05Z') / 1000);
    assert.equal(await value(registry, 'lokdarpan_backup_consecutive_failures', policy), 1);

    domain.recordBackupStatus(policy, backupStatusSchema.parse({ phase: 'Running' }));
    assert.equal(await value(registry, 'lokdarpan_backup_failures_total', { ...policy, reason: 'DumpFailed' }), 1, 'a running backup records nothing');
  });

  it('recordBackupPolicyStatus counts a new drill or prune once, and nothing already in status at start', async () => {
    const { registry, domain } = fresh();
    const first = backupPolicyStatusSchema.parse({
      lastSuccessfulTime: '2026-03-01T02:05:00Z',
      lastRestoreDrill: { time: '2026-03-01T04:00:00Z', succeeded: true, durationMs: 60_000 },
      lastPrune: { time: '2026-03-01T02:06:00Z', deleted: 2, locked: 0 },
    });
    domain.recordBackupPolicyStatus(policy, first, spec);
    domain.recordBackupPolicyStatus(policy, first, spec);
    assert.equal(await value(registry, 'lokdarpan_backups_pruned_total', policy), undefined, 'seen at start: counted by the process that pruned');
    assert.doesNotMatch(await registry.metrics(), /lokdarpan_restore_duration_seconds_count/);
    assert.equal(await value(registry, 'lokdarpan_restore_drill_last_success_timestamp_seconds', policy), Date.parse('2026-03-01T04:00:00Z') / 1000);
    assert.equal(await value(registry, 'lokdarpan_backup_expected_interval_seconds', policy), 86400);

    const second = backupPolicyStatusSchema.parse({
      ...first,
      conditions: [condition('RestoreVerified', 'False', 'RowCountMismatch')],
      lastRestoreDrill: { time: '2026-03-08T04:00:00Z', succeeded: false, durationMs: 30_000 },
      lastPrune: { time: '2026-03-02T02:06:00Z', deleted: 1, locked: 3 },
    });
    domain.recordBackupPolicyStatus(policy, second, spec);
    domain.recordBackupPolicyStatus(policy, second, spec);
    assert.equal(await value(registry, 'lokdarpan_backups_pruned_total', policy), 1);
    assert.equal(await value(registry, 'lokdarpan_backups_locked_skipped_total', policy), 3);
    assert.equal(await value(registry, 'lokdarpan_restore_failures_total', { ...policy, trigger: 'drill', reason: 'RowCountMismatch' }), 1);
    assert.match(await registry.metrics(), /lokdarpan_restore_duration_seconds_count\{namespace="prod",policy="nightly",trigger="drill"\} 1\n/);
    assert.equal(await value(registry, 'lokdarpan_restore_drill_last_failure_timestamp_seconds', policy), Date.parse('2026-03-08T04:00:00Z') / 1000);
  });

  it('recordDatabaseStatus and recordRetentionPolicyStatus take the statuses, recordRetentionRun the engine result', async () => {
    const { registry, domain } = fresh();
    const status = lokdarpanDatabaseStatusSchema.parse({ conditions: [condition('Ready', 'True', 'Ready')], pendingCount: 0, views: { lastSuccessfulRefreshTime: '2026-03-01T00:00:00Z' } });
    domain.recordDatabaseStatus(db, status, { views: { schedule: '*/30 * * * *', timeZone: 'UTC' } });
    assert.equal(await value(registry, 'lokdarpan_database_ready', db), 1);
    domain.recordRetentionPolicyStatus(policy, retentionPolicyStatusSchema.parse({ lastRun: { startTime: '2026-03-01T03:30:00Z', durationMs: 1000 } }), { schedule: '30 3 * * *' });
    assert.equal(await value(registry, 'lokdarpan_retention_last_success_timestamp_seconds', policy), Date.parse('2026-03-01T03:30:01Z') / 1000);
    const result: RetentionRunResult = {
      runId: 'r1',
      dryRun: false,
      startedAt: '2026-03-02T03:30:00Z',
      durationMs: 2000,
      status: 'complete',
      partial: false,
      rules: [{ rule: 'metrics', table: 'ai_metrics', action: 'delete', matched: 7, deleted: 7, archived: 0, marked: 0, batches: 1, durationMs: 10, partial: false, objects: [] }],
      totals: { matched: 7, deleted: 7, archived: 0, marked: 0, batches: 1 },
    };
    domain.recordRetentionRun(policy, result);
    assert.equal(await value(registry, 'lokdarpan_retention_rows_deleted_total', { ...policy, table: 'ai_metrics', rule: 'metrics' }), 7);
    assert.equal(await value(registry, 'lokdarpan_retention_last_success_timestamp_seconds', policy), Date.parse('2026-03-02T03:30:02Z') / 1000);
  });
});

describe('retention metrics', () => {
  it('counts rows per table and rule and tells success from failure', async () => {
    const { registry, domain } = fresh();
    domain.recordRetentionRun(policy, {
      startedAt: '2026-04-01T03:39:00Z',
      durationMs: 60_000,
      partial: true,
      rules: [
        { rule: 'embeddings-expired', table: 'embedding_store', deleted: 120, archived: 0, marked: 0 },
        { rule: 'reports-idle', table: 'ai_reports', deleted: 5, archived: 5, marked: 0 },
      ],
    });
    assert.equal(await value(registry, 'lokdarpan_retention_rows_deleted_total', { ...policy, table: 'embedding_store', rule: 'embeddings-expired' }), 120);
    assert.equal(await value(registry, 'lokdarpan_retention_rows_archived_total', { ...policy, table: 'ai_reports', rule: 'reports-idle' }), 5);
    assert.equal(await value(registry, 'lokdarpan_retention_last_success_timestamp_seconds', policy), Date.parse('2026-04-01T03:40:00Z') / 1000);
    assert.equal(await value(registry, 'lokdarpan_retention_last_run_partial', policy), 1);

    domain.recordRetentionRun(policy, {
      startedAt: new Date('2026-04-02T03:39:59Z'),
      durationMs: 1000,
      partial: false,
      rules: [{ rule: 'metrics', table: 'ai_metrics', deleted: 0, archived: 0, marked: 0, error: { reason: 'RetentionBatchFailed', message: 'lock timeout' } }],
    });
    assert.equal(await value(registry, 'lokdarpan_retention_failures_total', { ...policy, reason: 'RetentionBatchFailed' }), 1);
    assert.equal(await value(registry, 'lokdarpan_retention_last_failure_timestamp_seconds', policy), Date.parse('2026-04-02T03:40:00Z') / 1000);
    assert.equal(await value(registry, 'lokdarpan_retention_last_success_timestamp_seconds', policy), Date.parse('2026-04-01T03:40:00Z') / 1000);
  });

  it('derives the timestamps from status after a restart', async () => {
    const { registry, domain } = fresh();
    domain.recordRetentionPolicyStatus(policy, { lastRun: { startTime: '2026-04-01T03:30:00Z', durationMs: 120_000, rules: [{}, { error: 'RetentionBatchFailed: lock timeout' }] } }, { schedule: '30 3 * * *' });
    assert.equal(await value(registry, 'lokdarpan_retention_last_failure_timestamp_seconds', policy), Date.parse('2026-04-01T03:32:00Z') / 1000);
    assert.equal(await value(registry, 'lokdarpan_retention_last_success_timestamp_seconds', policy), undefined);
    assert.equal(await value(registry, 'lokdarpan_retention_expected_interval_seconds', policy), 86400);
  });
});

describe('forget', () => {
  it('removes one resource\'s series only, and keeps a same-named policy of the other kind', async () => {
    const { registry, domain } = fresh();
    const other = { namespace: 'prod', policy: 'weekly' };
    domain.recordBackupSuccess(policy, { finishedAt: new Date(), durationMs: 10, plainBytes: 1, replicas: [{ name: 'dr', verified: true }] });
    domain.recordBackupSuccess(other, { finishedAt: new Date(), durationMs: 10 });
    domain.recordRetentionRun(policy, { startedAt: new Date(), durationMs: 5, partial: false, rules: [{ rule: 'r', table: 't', deleted: 1, archived: 0, marked: 0 }] });
    domain.recordDatabaseStatus(db, { conditions: [{ type: 'Ready', status: 'True' }], schemaVersion: '1' });
    domain.recordMigration(db, { name: '001', durationMs: 1 });

    await domain.forgetBackupPolicy(policy);
    assert.equal(await value(registry, 'lokdarpan_backup_bytes', { ...policy, kind: 'plain' }), undefined);
    assert.equal(await value(registry, 'lokdarpan_backup_replica_verified', { ...policy, destination: 'dr' }), undefined);
    assert.doesNotMatch(await registry.metrics(), /lokdarpan_backup_duration_seconds_count\{namespace="prod",policy="nightly"\}/);
    assert.match(await registry.metrics(), /lokdarpan_backup_duration_seconds_count\{namespace="prod",policy="weekly"\} 1/);
    assert.equal(await value(registry, 'lokdarpan_retention_rows_deleted_total', { ...policy, table: 't', rule: 'r' }), 1, 'the RetentionPolicy of the same name stays');

    assert.ok((await seriesCount(registry, db)) > 0);
    await domain.forgetDatabase(db);
    assert.equal(await seriesCount(registry, db), 0);
    await domain.forgetRetentionPolicy(policy);
    assert.equal(await value(registry, 'lokdarpan_retention_rows_deleted_total', { ...policy, table: 't', rule: 'r' }), undefined);
  });
});

describe('expectedIntervalSeconds', () => {
  it('is the longest gap of the schedule', () => {
    const from = new Date('2026-01-07T12:00:00Z');
    assert.equal(expectedIntervalSeconds('*/5 * * * *', 'UTC', from), 300);
    assert.equal(expectedIntervalSeconds('0 2 * * *', 'UTC', from), 86400);
    assert.equal(expectedIntervalSeconds('0 2 * * 1-5', 'UTC', from), 3 * 86400);
    assert.equal(expectedIntervalSeconds('0 0 1 * *', 'UTC', from), 31 * 86400);
    // 25 hours across the autumn DST change in Berlin.
    assert.equal(expectedIntervalSeconds('30 3 * * *', 'Europe/Berlin', new Date('2026-10-20T00:00:00Z')), 25 * 3600);
    assert.equal(expectedIntervalSeconds('not a cron', 'UTC', from), undefined);
  });

  it('timestampSeconds reads RFC 3339 and ignores garbage', () => {
    assert.equal(timestampSeconds('1970-01-01T00:01:00Z'), 60);
    assert.equal(timestampSeconds('yesterday'), undefined);
    assert.equal(timestampSeconds(undefined), undefined);
  });
});
