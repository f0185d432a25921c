// Every domain metric: name, type, help, labels (and buckets), grouped by the resource kind it
// belongs to. The DomainMetrics type is derived from these definitions, so a metric is declared once.
// docs/metrics.md lists them in this order (test/unit/observability/kit.test.ts checks it).
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { OperatorMetrics } from '../metrics.ts';

/** Seconds: a migration, a view refresh, a retention run (1 ms .. 1 h). */
const OPERATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
/** Seconds: a backup or a restore of a database up to a few hundred GB (1 s .. 8 h). */
const BACKUP_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800];

const DB = ['namespace', 'name'] as const;
const POLICY = ['namespace', 'policy'] as const;

/** What docs/metrics.md and the kit tests read of a definition. */
export interface Definition {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  labelNames: readonly string[];
  buckets?: number[];
}

interface Spec<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
}

// Each builder keeps the label names' literal type, so `create` returns e.g. Gauge<'namespace' | 'name'>.
const counter = <const L extends string>(d: Spec<L>) => ({ ...d, type: 'counter' as const, create: (m: OperatorMetrics): Counter<L> => m.counter(d) });
const gauge = <const L extends string>(d: Spec<L>) => ({ ...d, type: 'gauge' as const, create: (m: OperatorMetrics): Gauge<L> => m.gauge(d) });
const histogram = <const L extends string>(d: Spec<L> & { buckets: number[] }) => ({
  ...d,
  type: 'histogram' as const,
  create: (m: OperatorMetrics): Histogram<L> => m.histogram(d),
});

/** A LokdarpanDatabase's metrics (labels namespace, name). */
export const DATABASE_METRICS = {
  databaseReady: gauge({ name: 'lokdarpan_database_ready', help: '1 while the LokdarpanDatabase condition Ready is True, else 0.', labelNames: DB }),
  databaseStalled: gauge({ name: 'lokdarpan_database_stalled', help: '1 while the LokdarpanDatabase condition Stalled is True (needs a human), else 0.', labelNames: DB }),
  databaseInfo: gauge({
    name: 'lokdarpan_database_info',
    help: 'Always 1; labels carry the applied schema version and the server and pgvector versions.',
    labelNames: [...DB, 'schema_version', 'server_version', 'pgvector_version'],
  }),
  databasePendingMigrations: gauge({ name: 'lokdarpan_database_pending_migrations', help: 'Migrations known to the operator and not yet applied to the database.', labelNames: DB }),
  migrationDurationSeconds: histogram({
    name: 'lokdarpan_migration_duration_seconds',
    help: 'Time one migration took to apply (or revert).',
    labelNames: [...DB, 'migration', 'direction'],
    buckets: OPERATION_BUCKETS,
  }),
  migrationsAppliedTotal: counter({ name: 'lokdarpan_migrations_applied_total', help: 'Migrations applied (direction up) or reverted (direction down) by the operator.', labelNames: [...DB, 'direction'] }),
  migrationFailuresTotal: counter({ name: 'lokdarpan_migration_failures_total', help: 'Migration runs that failed, by condition reason.', labelNames: [...DB, 'reason'] }),
  viewRefreshLastSuccessTimestampSeconds: gauge({
    name: 'lokdarpan_view_refresh_last_success_timestamp_seconds',
    help: 'Unix time the materialized views were last refreshed successfully (from status, so it survives restarts).',
    labelNames: DB,
  }),
  viewRefreshExpectedIntervalSeconds: gauge({
    name: 'lokdarpan_view_refresh_expected_interval_seconds',
    help: 'Longest gap between two runs of the view refresh schedule.',
    labelNames: DB,
  }),
  viewRefreshDurationSeconds: histogram({ name: 'lokdarpan_view_refresh_duration_seconds', help: 'Time a refresh of all materialized views took.', labelNames: DB, buckets: OPERATION_BUCKETS }),
  viewRefreshFailuresTotal: counter({ name: 'lokdarpan_view_refresh_failures_total', help: 'Materialized view refreshes that failed, by condition reason.', labelNames: [...DB, 'reason'] }),
  queryP95Seconds: gauge({ name: 'lokdarpan_query_p95_seconds', help: 'p95 latency of a validation query at the last performance validation.', labelNames: [...DB, 'query'] }),
  queryThresholdSeconds: gauge({ name: 'lokdarpan_query_threshold_seconds', help: 'p95 threshold the validation query is held to.', labelNames: [...DB, 'query'] }),
  performanceHealthy: gauge({ name: 'lokdarpan_performance_healthy', help: '1 while the condition PerformanceHealthy is True (every query within its threshold), else 0.', labelNames: DB }),
  performanceValidationLastRunTimestampSeconds: gauge({
    name: 'lokdarpan_performance_validation_last_run_timestamp_seconds',
    help: 'Unix time of the last performance validation.',
    labelNames: DB,
  }),
};

/** A BackupPolicy's metrics, its Backups' and Restores' included (labels namespace, policy). */
export const BACKUP_METRICS = {
  backupLastSuccessTimestampSeconds: gauge({
    name: 'lokdarpan_backup_last_success_timestamp_seconds',
    help: 'Unix time the last backup of the policy completed (from status, so it survives restarts).',
    labelNames: POLICY,
  }),
  backupLastFailureTimestampSeconds: gauge({ name: 'lokdarpan_backup_last_failure_timestamp_seconds', help: 'Unix time the last backup of the policy failed.', labelNames: POLICY }),
  backupDurationSeconds: histogram({ name: 'lokdarpan_backup_duration_seconds', help: 'Time a completed backup took, dump to verified replicas.', labelNames: POLICY, buckets: BACKUP_BUCKETS }),
  backupBytes: gauge({ name: 'lokdarpan_backup_bytes', help: 'Size of the last completed backup: kind plain is the pg_dump output, kind encrypted the stored object.', labelNames: [...POLICY, 'kind'] }),
  backupFailuresTotal: counter({ name: 'lokdarpan_backup_failures_total', help: 'Backups that failed, by reason.', labelNames: [...POLICY, 'reason'] }),
  backupConsecutiveFailures: gauge({ name: 'lokdarpan_backup_consecutive_failures', help: 'Backups that failed in a row since the last success.', labelNames: POLICY }),
  backupExpectedIntervalSeconds: gauge({
    name: 'lokdarpan_backup_expected_interval_seconds',
    help: 'Longest gap between two runs of the backup schedule; 0 while the policy is suspended.',
    labelNames: POLICY,
  }),
  backupReplicaVerified: gauge({ name: 'lokdarpan_backup_replica_verified', help: '1 when the last backup\'s copy in this destination was verified by SHA-256, else 0.', labelNames: [...POLICY, 'destination'] }),
  backupReplicaFailuresTotal: counter({ name: 'lokdarpan_backup_replica_failures_total', help: 'Copies to a replica destination that failed or did not verify, by reason.', labelNames: [...POLICY, 'destination', 'reason'] }),
  restoreDrillLastSuccessTimestampSeconds: gauge({
    name: 'lokdarpan_restore_drill_last_success_timestamp_seconds',
    help: 'Unix time the last successful restore drill of the policy finished.',
    labelNames: POLICY,
  }),
  restoreDrillLastFailureTimestampSeconds: gauge({
    name: 'lokdarpan_restore_drill_last_failure_timestamp_seconds',
    help: 'Unix time the last failed restore drill of the policy finished.',
    labelNames: POLICY,
  }),
  restoreDrillExpectedIntervalSeconds: gauge({
    name: 'lokdarpan_restore_drill_expected_interval_seconds',
    help: 'Longest gap between two runs of the restore drill schedule; 0 while the policy is suspended.',
    labelNames: POLICY,
  }),
  restoreDurationSeconds: histogram({
    name: 'lokdarpan_restore_duration_seconds',
    help: 'Time a restore took (trigger drill: a scheduled restore drill; restore: a Restore resource).',
    labelNames: [...POLICY, 'trigger'],
    buckets: BACKUP_BUCKETS,
  }),
  restoreFailuresTotal: counter({ name: 'lokdarpan_restore_failures_total', help: 'Restores (drills and Restore resources) that failed, by reason.', labelNames: [...POLICY, 'trigger', 'reason'] }),
  backupsPrunedTotal: counter({ name: 'lokdarpan_backups_pruned_total', help: 'Backups deleted by the retention rules, all destinations together.', labelNames: POLICY }),
  backupsLockedSkippedTotal: counter({
    name: 'lokdarpan_backups_locked_skipped_total',
    help: 'Backups the retention rules would delete but S3 Object Lock protects (skipped, not a failure), all destinations together.',
    labelNames: POLICY,
  }),
  backupPolicyCheckPassing: gauge({
    name: 'lokdarpan_backup_policy_check_passing',
    help: '1 while the BackupPolicy\'s check (DestinationsReady, DatabaseReady, KeysReady) passes, 0 while it fails.',
    labelNames: [...POLICY, 'check'],
  }),
};

/** A RetentionPolicy's metrics (labels namespace, policy). */
export const RETENTION_METRICS = {
  retentionRowsDeletedTotal: counter({ name: 'lokdarpan_retention_rows_deleted_total', help: 'Rows deleted by a retention rule.', labelNames: [...POLICY, 'table', 'rule'] }),
  retentionRowsArchivedTotal: counter({ name: 'lokdarpan_retention_rows_archived_total', help: 'Rows exported to a verified archive (and then deleted) by a retention rule.', labelNames: [...POLICY, 'table', 'rule'] }),
  retentionRowsMarkedTotal: counter({ name: 'lokdarpan_retention_rows_marked_total', help: 'Rows marked archived (is_archived) by a retention rule.', labelNames: [...POLICY, 'table', 'rule'] }),
  retentionRunDurationSeconds: histogram({ name: 'lokdarpan_retention_run_duration_seconds', help: 'Time a retention run took.', labelNames: POLICY, buckets: OPERATION_BUCKETS }),
  retentionLastSuccessTimestampSeconds: gauge({
    name: 'lokdarpan_retention_last_success_timestamp_seconds',
    help: 'Unix time the last retention run without a failed rule finished (from status, so it survives restarts).',
    labelNames: POLICY,
  }),
  retentionLastFailureTimestampSeconds: gauge({ name: 'lokdarpan_retention_last_failure_timestamp_seconds', help: 'Unix time the last retention run with a failed rule (or that failed to start) finished.', labelNames: POLICY }),
  retentionLastRunPartial: gauge({ name: 'lokdarpan_retention_last_run_partial', help: '1 when the last retention run stopped at its time budget with rows left for the next run, else 0.', labelNames: POLICY }),
  retentionExpectedIntervalSeconds: gauge({
    name: 'lokdarpan_retention_expected_interval_seconds',
    help: 'Longest gap between two runs of the retention schedule; 0 while the policy is suspended.',
    labelNames: POLICY,
  }),
  retentionFailuresTotal: counter({ name: 'lokdarpan_retention_failures_total', help: 'Retention runs that failed (or had a failed rule), by reason.', labelNames: [...POLICY, 'reason'] }),
  retentionPolicyCheckPassing: gauge({
    name: 'lokdarpan_retention_policy_check_passing',
    help: '1 while the RetentionPolicy\'s check (DestinationsReady, DatabaseReady) passes, 0 while it fails.',
    labelNames: [...POLICY, 'check'],
  }),
};

const DEFINITIONS = { ...DATABASE_METRICS, ...BACKUP_METRICS, ...RETENTION_METRICS };

type Definitions = typeof DEFINITIONS;

/** Every domain metric object, keyed like the definitions, typed from them. */
export type DomainMetrics = { readonly [K in keyof Definitions]: ReturnType<Definitions[K]['create']> };

/** Every domain metric's name, as exported (histograms without their _bucket/_sum/_count suffixes). */
export const DOMAIN_METRIC_NAMES: readonly string[] = Object.freeze(Object.values(DEFINITIONS).map((d) => d.name));

/** Name, type, labels and help of every domain metric (docs/metrics.md is checked against it). */
export const DOMAIN_METRIC_DEFINITIONS: ReadonlyArray<Readonly<Definition>> = Object.freeze(
  Object.values(DEFINITIONS).map(({ name, type, help, labelNames, ...rest }): Definition => ({ name, type, help, labelNames, ...('buckets' in rest ? { buckets: rest.buckets } : {}) })),
);

/** Register every domain metric in `metrics.registry` (idempotent: the registry returns the same objects). */
export function registerDomainMetrics(metrics: OperatorMetrics): DomainMetrics {
  return createAll(DEFINITIONS, metrics);
}

function createAll<D extends Record<string, { create(m: OperatorMetrics): unknown }>>(definitions: D, metrics: OperatorMetrics): { [K in keyof D]: ReturnType<D[K]['create']> } {
  // Object.fromEntries cannot keep the per-key types; each value is its own definition's create() result.
  return Object.fromEntries(Object.entries(definitions).map(([key, d]) => [key, d.create(metrics)])) as { [K in keyof D]: ReturnType<D[K]['create']> };
}
