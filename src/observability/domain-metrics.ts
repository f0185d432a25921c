// The operator's domain metrics: database readiness, migrations, view refreshes, query performance,
// backups and their replicas, restore drills, backup pruning and row retention. Registered in the
// operator's registry (src/observability/metrics.ts); controllers update them through the `record*`
// helpers below, which take plain snapshots (status fields, engine results) and no Kubernetes types.
// docs/metrics.md lists every metric; manifests/observability/ alerts and graphs on them.
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { OperatorMetrics } from './metrics.ts';
import { nextRun } from '../api/schedule.ts';

/** Seconds: a migration, a view refresh, a retention run (1 ms .. 1 h). */
const OPERATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
/** Seconds: a backup or a restore of a database up to a few hundred GB (1 s .. 8 h). */
const BACKUP_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800];

type DbL = 'namespace' | 'name';
type PolicyL = 'namespace' | 'policy';

/** A LokdarpanDatabase: its namespace and name. */
export interface DatabaseLabels {
  namespace: string;
  name: string;
}

/** A BackupPolicy or RetentionPolicy: its namespace and name. */
export interface PolicyLabels {
  namespace: string;
  policy: string;
}

/** A cron schedule as the resources write it. */
export interface ScheduleSpec {
  schedule: string;
  timeZone?: string | undefined;
}

export type RestoreTrigger = 'drill' | 'restore';
export type BackupBytesKind = 'plain' | 'encrypted';
export type MigrationDirection = 'up' | 'down';

/** Every domain metric object, for controllers that need one directly. */
export interface DomainMetrics {
  // LokdarpanDatabase
  readonly databaseReady: Gauge<DbL>;
  readonly databaseStalled: Gauge<DbL>;
  readonly databaseInfo: Gauge<DbL | 'schema_version' | 'server_version' | 'pgvector_version'>;
  readonly databasePendingMigrations: Gauge<DbL>;
  readonly migrationDurationSeconds: Histogram<DbL | 'migration' | 'direction'>;
  readonly migrationsAppliedTotal: Counter<DbL | 'direction'>;
  readonly migrationFailuresTotal: Counter<DbL | 'reason'>;
  readonly viewRefreshLastSuccessTimestampSeconds: Gauge<DbL>;
  readonly viewRefreshExpectedIntervalSeconds: Gauge<DbL>;
  readonly viewRefreshDurationSeconds: Histogram<DbL>;
  readonly viewRefreshFailuresTotal: Counter<DbL | 'reason'>;
  readonly queryP95Seconds: Gauge<DbL | 'query'>;
  readonly queryThresholdSeconds: Gauge<DbL | 'query'>;
  readonly performanceHealthy: Gauge<DbL>;
  readonly performanceValidationLastRunTimestampSeconds: Gauge<DbL>;
  // BackupPolicy, Backup, Restore
  readonly backupLastSuccessTimestampSeconds: Gauge<PolicyL>;
  readonly backupLastFailureTimestampSeconds: Gauge<PolicyL>;
  readonly backupDurationSeconds: Histogram<PolicyL>;
  readonly backupBytes: Gauge<PolicyL | 'kind'>;
  readonly backupFailuresTotal: Counter<PolicyL | 'reason'>;
  readonly backupConsecutiveFailures: Gauge<PolicyL>;
  readonly backupExpectedIntervalSeconds: Gauge<PolicyL>;
  readonly backupReplicaVerified: Gauge<PolicyL | 'destination'>;
  readonly backupReplicaFailuresTotal: Counter<PolicyL | 'destination' | 'reason'>;
  readonly restoreDrillLastSuccessTimestampSeconds: Gauge<PolicyL>;
  readonly restoreDrillLastFailureTimestampSeconds: Gauge<PolicyL>;
  readonly restoreDrillExpectedIntervalSeconds: Gauge<PolicyL>;
  readonly restoreDurationSeconds: Histogram<PolicyL | 'trigger'>;
  readonly restoreFailuresTotal: Counter<PolicyL | 'trigger' | 'reason'>;
  readonly backupsPrunedTotal: Counter<PolicyL>;
  readonly backupsLockedSkippedTotal: Counter<PolicyL>;
  readonly backupPolicyCheckPassing: Gauge<PolicyL | 'check'>;
  // RetentionPolicy
  readonly retentionRowsDeletedTotal: Counter<PolicyL | 'table' | 'rule'>;
  readonly retentionRowsArchivedTotal: Counter<PolicyL | 'table' | 'rule'>;
  readonly retentionRowsMarkedTotal: Counter<PolicyL | 'table' | 'rule'>;
  readonly retentionRunDurationSeconds: Histogram<PolicyL>;
  readonly retentionLastSuccessTimestampSeconds: Gauge<PolicyL>;
  readonly retentionLastFailureTimestampSeconds: Gauge<PolicyL>;
  readonly retentionLastRunPartial: Gauge<PolicyL>;
  readonly retentionExpectedIntervalSeconds: Gauge<PolicyL>;
  readonly retentionFailuresTotal: Counter<PolicyL | 'reason'>;
  readonly retentionPolicyCheckPassing: Gauge<PolicyL | 'check'>;
}

interface Definition {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  labelNames: readonly string[];
  buckets?: number[];
}

const DB = ['namespace', 'name'] as const;
const POLICY = ['namespace', 'policy'] as const;

/** Definitions in docs/metrics.md order; `key` is the DomainMetrics property. */
const DEFINITIONS = {
  databaseReady: { name: 'lokdarpan_database_ready', type: 'gauge', help: '1 while the LokdarpanDatabase condition Ready is True, else 0.', labelNames: DB },
  databaseStalled: { name: 'lokdarpan_database_stalled', type: 'gauge', help: '1 while the LokdarpanDatabase condition Stalled is True (needs a human), else 0.', labelNames: DB },
  databaseInfo: {
    name: 'lokdarpan_database_info',
    type: 'gauge',
    help: 'Always 1; labels carry the applied schema version and the server and pgvector versions.',
    labelNames: [...DB, 'schema_version', 'server_version', 'pgvector_version'],
  },
  databasePendingMigrations: { name: 'lokdarpan_database_pending_migrations', type: 'gauge', help: 'Migrations known to the operator and not yet applied to the database.', labelNames: DB },
  migrationDurationSeconds: {
    name: 'lokdarpan_migration_duration_seconds',
    type: 'histogram',
    help: 'Time one migration took to apply (or revert).',
    labelNames: [...DB, 'migration', 'direction'],
    buckets: OPERATION_BUCKETS,
  },
  migrationsAppliedTotal: { name: 'lokdarpan_migrations_applied_total', type: 'counter', help: 'Migrations applied (direction up) or reverted (direction down) by the operator.', labelNames: [...DB, 'direction'] },
  migrationFailuresTotal: { name: 'lokdarpan_migration_failures_total', type: 'counter', help: 'Migration runs that failed, by condition reason.', labelNames: [...DB, 'reason'] },
  viewRefreshLastSuccessTimestampSeconds: {
    name: 'lokdarpan_view_refresh_last_success_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time the materialized views were last refreshed successfully (from status, so it survives restarts).',
    labelNames: DB,
  },
  viewRefreshExpectedIntervalSeconds: {
    name: 'lokdarpan_view_refresh_expected_interval_seconds',
    type: 'gauge',
    help: 'Longest gap between two runs of the view refresh schedule.',
    labelNames: DB,
  },
  viewRefreshDurationSeconds: { name: 'lokdarpan_view_refresh_duration_seconds', type: 'histogram', help: 'Time a refresh of all materialized views took.', labelNames: DB, buckets: OPERATION_BUCKETS },
  viewRefreshFailuresTotal: { name: 'lokdarpan_view_refresh_failures_total', type: 'counter', help: 'Materialized view refreshes that failed, by condition reason.', labelNames: [...DB, 'reason'] },
  queryP95Seconds: { name: 'lokdarpan_query_p95_seconds', type: 'gauge', help: 'p95 latency of a validation query at the last performance validation.', labelNames: [...DB, 'query'] },
  queryThresholdSeconds: { name: 'lokdarpan_query_threshold_seconds', type: 'gauge', help: 'p95 threshold the validation query is held to.', labelNames: [...DB, 'query'] },
  performanceHealthy: { name: 'lokdarpan_performance_healthy', type: 'gauge', help: '1 while the condition PerformanceHealthy is True (every query within its threshold), else 0.', labelNames: DB },
  performanceValidationLastRunTimestampSeconds: {
    name: 'lokdarpan_performance_validation_last_run_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time of the last performance validation.',
    labelNames: DB,
  },
  backupLastSuccessTimestampSeconds: {
    name: 'lokdarpan_backup_last_success_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time the last backup of the policy completed (from status, so it survives restarts).',
    labelNames: POLICY,
  },
  backupLastFailureTimestampSeconds: { name: 'lokdarpan_backup_last_failure_timestamp_seconds', type: 'gauge', help: 'Unix time the last backup of the policy failed.', labelNames: POLICY },
  backupDurationSeconds: { name: 'lokdarpan_backup_duration_seconds', type: 'histogram', help: 'Time a completed backup took, dump to verified replicas.', labelNames: POLICY, buckets: BACKUP_BUCKETS },
  backupBytes: { name: 'lokdarpan_backup_bytes', type: 'gauge', help: 'Size of the last completed backup: kind plain is the pg_dump output, kind encrypted the stored object.', labelNames: [...POLICY, 'kind'] },
  backupFailuresTotal: { name: 'lokdarpan_backup_failures_total', type: 'counter', help: 'Backups that failed, by reason.', labelNames: [...POLICY, 'reason'] },
  backupConsecutiveFailures: { name: 'lokdarpan_backup_consecutive_failures', type: 'gauge', help: 'Backups that failed in a row since the last success.', labelNames: POLICY },
  backupExpectedIntervalSeconds: {
    name: 'lokdarpan_backup_expected_interval_seconds',
    type: 'gauge',
    help: 'Longest gap between two runs of the backup schedule; 0 while the policy is suspended.',
    labelNames: POLICY,
  },
  backupReplicaVerified: { name: 'lokdarpan_backup_replica_verified', type: 'gauge', help: '1 when the last backup\'s copy in this destination was verified by SHA-256, else 0.', labelNames: [...POLICY, 'destination'] },
  backupReplicaFailuresTotal: { name: 'lokdarpan_backup_replica_failures_total', type: 'counter', help: 'Copies to a replica destination that failed or did not verify, by reason.', labelNames: [...POLICY, 'destination', 'reason'] },
  restoreDrillLastSuccessTimestampSeconds: {
    name: 'lokdarpan_restore_drill_last_success_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time the last successful restore drill of the policy finished.',
    labelNames: POLICY,
  },
  restoreDrillLastFailureTimestampSeconds: {
    name: 'lokdarpan_restore_drill_last_failure_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time the last failed restore drill of the policy finished.',
    labelNames: POLICY,
  },
  restoreDrillExpectedIntervalSeconds: {
    name: 'lokdarpan_restore_drill_expected_interval_seconds',
    type: 'gauge',
    help: 'Longest gap between two runs of the restore drill schedule; 0 while the policy is suspended.',
    labelNames: POLICY,
  },
  restoreDurationSeconds: {
    name: 'lokdarpan_restore_duration_seconds',
    type: 'histogram',
    help: 'Time a restore took (trigger drill: a scheduled restore drill; restore: a Restore resource).',
    labelNames: [...POLICY, 'trigger'],
    buckets: BACKUP_BUCKETS,
  },
  restoreFailuresTotal: { name: 'lokdarpan_restore_failures_total', type: 'counter', help: 'Restores (drills and Restore resources) that failed, by reason.', labelNames: [...POLICY, 'trigger', 'reason'] },
  backupsPrunedTotal: { name: 'lokdarpan_backups_pruned_total', type: 'counter', help: 'Backups deleted by the retention rules, all destinations together.', labelNames: POLICY },
  backupsLockedSkippedTotal: {
    name: 'lokdarpan_backups_locked_skipped_total',
    type: 'counter',
    help: 'Backups the retention rules would delete but S3 Object Lock protects (skipped, not a failure), all destinations together.',
    labelNames: POLICY,
  },
  backupPolicyCheckPassing: {
    name: 'lokdarpan_backup_policy_check_passing',
    type: 'gauge',
    help: '1 while the BackupPolicy\'s check (DestinationsReady, DatabaseReady, KeysReady) passes, 0 while it fails.',
    labelNames: [...POLICY, 'check'],
  },
  retentionRowsDeletedTotal: { name: 'lokdarpan_retention_rows_deleted_total', type: 'counter', help: 'Rows deleted by a retention rule.', labelNames: [...POLICY, 'table', 'rule'] },
  retentionRowsArchivedTotal: { name: 'lokdarpan_retention_rows_archived_total', type: 'counter', help: 'Rows exported to a verified archive (and then deleted) by a retention rule.', labelNames: [...POLICY, 'table', 'rule'] },
  retentionRowsMarkedTotal: { name: 'lokdarpan_retention_rows_marked_total', type: 'counter', help: 'Rows marked archived (is_archived) by a retention rule.', labelNames: [...POLICY, 'table', 'rule'] },
  retentionRunDurationSeconds: { name: 'lokdarpan_retention_run_duration_seconds', type: 'histogram', help: 'Time a retention run took.', labelNames: POLICY, buckets: OPERATION_BUCKETS },
  retentionLastSuccessTimestampSeconds: {
    name: 'lokdarpan_retention_last_success_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time the last retention run without a failed rule finished (from status, so it survives restarts).',
    labelNames: POLICY,
  },
  retentionLastFailureTimestampSeconds: { name: 'lokdarpan_retention_last_failure_timestamp_seconds', type: 'gauge', help: 'Unix time the last retention run with a failed rule (or that failed to start) finished.', labelNames: POLICY },
  retentionLastRunPartial: { name: 'lokdarpan_retention_last_run_partial', type: 'gauge', help: '1 when the last retention run stopped at its time budget with rows left for the next run, else 0.', labelNames: POLICY },
  retentionExpectedIntervalSeconds: {
    name: 'lokdarpan_retention_expected_interval_seconds',
    type: 'gauge',
    help: 'Longest gap between two runs of the retention schedule; 0 while the policy is suspended.',
    labelNames: POLICY,
  },
  retentionFailuresTotal: { name: 'lokdarpan_retention_failures_total', type: 'counter', help: 'Retention runs that failed (or had a failed rule), by reason.', labelNames: [...POLICY, 'reason'] },
  retentionPolicyCheckPassing: {
    name: 'lokdarpan_retention_policy_check_passing',
    type: 'gauge',
    help: '1 while the RetentionPolicy\'s check (DestinationsReady, DatabaseReady) passes, 0 while it fails.',
    labelNames: [...POLICY, 'check'],
  },
} as const satisfies Record<keyof DomainMetrics, Definition>;

/** Every domain metric's name, as exported (histograms without their _bucket/_sum/_count suffixes). */
export const DOMAIN_METRIC_NAMES: readonly string[] = Object.freeze(Object.values(DEFINITIONS).map((d) => d.name));

/** Name, type, labels and help of every domain metric (docs/metrics.md is checked against it). */
export const DOMAIN_METRIC_DEFINITIONS: ReadonlyArray<Readonly<Definition>> = Object.freeze(Object.values(DEFINITIONS));

// ---------------------------------------------------------------------------------------------
// Snapshots the helpers take: shaped like the resources' status fields so a status object (or an
// engine result) can be passed as it is.

export interface ConditionSnapshot {
  type: string;
  status: string;
  reason?: string | undefined;
}

export interface DatabaseStatusSnapshot {
  conditions?: readonly ConditionSnapshot[] | undefined;
  schemaVersion?: string | undefined;
  pendingCount?: number | undefined;
  server?: { version?: string | undefined; pgvectorVersion?: string | undefined } | undefined;
  views?: { lastSuccessfulRefreshTime?: string | undefined } | undefined;
  validation?:
    | {
        lastRunTime?: string | undefined;
        results?: ReadonlyArray<{ query: string; p95Ms: number; thresholdMs: number }> | undefined;
      }
    | undefined;
}

export interface DatabaseScheduleSnapshot {
  /** The view refresh schedule; omitted or suspended: the expected interval is 0. */
  views?: ScheduleSpec | undefined;
  suspended?: boolean | undefined;
}

export interface BackupPolicyStatusSnapshot {
  conditions?: readonly ConditionSnapshot[] | undefined;
  lastSuccessfulTime?: string | undefined;
  /** Not in BackupPolicy status today; set it when known. */
  lastFailedTime?: string | undefined;
  consecutiveFailures?: number | undefined;
  lastRestoreDrill?: { time?: string | undefined; succeeded?: boolean | undefined; durationMs?: number | undefined } | undefined;
  lastPrune?: { time?: string | undefined; deleted?: number | undefined; locked?: number | undefined } | undefined;
}

/** A Backup's status (the fields the metrics use). */
export interface BackupStatusSnapshot {
  phase?: string | undefined;
  reason?: string | undefined;
  startTime?: string | undefined;
  completionTime?: string | undefined;
  plainBytes?: number | undefined;
  encryptedBytes?: number | undefined;
  /** Every destination; `error` is "Reason: message". */
  destinations?: ReadonlyArray<{ name: string; verified?: boolean | undefined; error?: string | undefined }> | undefined;
}

export interface BackupPolicyScheduleSnapshot {
  schedule: string;
  timeZone?: string | undefined;
  suspend?: boolean | undefined;
  restoreDrill?: ScheduleSpec | undefined;
}

export interface DestinationOutcome {
  name: string;
  verified: boolean;
  error?: { reason: string; message?: string } | undefined;
}

export interface CompletedBackup {
  /** When the backup completed. */
  finishedAt: Date;
  durationMs: number;
  plainBytes?: number | undefined;
  encryptedBytes?: number | undefined;
  /** The replicas (not the primary destination) with their verification. */
  replicas?: readonly DestinationOutcome[] | undefined;
}

export interface FailedBackup {
  finishedAt: Date;
  reason: string;
  /** Failures in a row including this one, when the controller knows it. */
  consecutiveFailures?: number | undefined;
}

export interface RestoreOutcome {
  trigger: RestoreTrigger;
  finishedAt: Date;
  durationMs: number;
  succeeded: boolean;
  /** Condition reason when it failed. */
  reason?: string | undefined;
}

export interface PruneOutcome {
  deleted: number;
  locked: number;
}

export interface RetentionRuleOutcome {
  rule: string;
  table: string;
  deleted: number;
  archived: number;
  marked: number;
  error?: { reason: string; message?: string } | undefined;
}

/** A retention run: the retention engine's RetentionRunResult fits as it is. */
export interface RetentionRunOutcome {
  startedAt: string | Date;
  durationMs: number;
  partial: boolean;
  rules: readonly RetentionRuleOutcome[];
}

export interface RetentionPolicyStatusSnapshot {
  conditions?: readonly ConditionSnapshot[] | undefined;
  lastRun?:
    | {
        startTime?: string | undefined;
        durationMs?: number | undefined;
        partial?: boolean | undefined;
        rules?: ReadonlyArray<{ error?: string | undefined }> | undefined;
      }
    | undefined;
}

export interface RetentionScheduleSnapshot {
  schedule: string;
  timeZone?: string | undefined;
  suspend?: boolean | undefined;
}

/** The metric objects plus helpers that turn statuses and results into metric updates. */
export interface DomainMetricsRecorder extends DomainMetrics {
  /** Every status-derived gauge of a database: call on every reconcile (so nothing goes stale after a restart). */
  recordDatabaseStatus(db: DatabaseLabels, status: DatabaseStatusSnapshot, schedules?: DatabaseScheduleSnapshot, now?: Date): void;
  /** One migration applied (or reverted). */
  recordMigration(db: DatabaseLabels, migration: { name: string; durationMs: number; direction?: MigrationDirection | undefined }): void;
  recordMigrationFailure(db: DatabaseLabels, reason: string): void;
  recordViewRefresh(db: DatabaseLabels, refresh: { finishedAt: Date; durationMs: number }): void;
  recordViewRefreshFailure(db: DatabaseLabels, reason: string): void;
  /** Per-query p95 and threshold and the overall health of one performance validation. */
  recordValidation(db: DatabaseLabels, validation: { finishedAt: Date; passed: boolean; results: ReadonlyArray<{ query: string; p95Ms: number; thresholdMs: number }> }): void;
  /**
   * The status-derived metrics of a BackupPolicy: call on every reconcile (the policy reconciler's
   * onStatus). Sets the timestamps, consecutive failures and expected intervals; a restore drill or
   * a prune that is new in status since the last call is counted once (the first call after a
   * start only remembers them: the process that ran them counted them).
   */
  recordBackupPolicyStatus(policy: PolicyLabels, status: BackupPolicyStatusSnapshot, spec: BackupPolicyScheduleSnapshot, now?: Date): void;
  /**
   * A finished Backup from its status (the Backup reconciler's onFinished): Completed records a
   * success, Failed a failure; other phases nothing. `primaryDestination` (spec.destination.name of
   * the policy) tells the primary from the replicas.
   */
  recordBackupStatus(policy: PolicyLabels, status: BackupStatusSnapshot, options?: { primaryDestination?: string | undefined; consecutiveFailures?: number | undefined }): void;
  recordBackupSuccess(policy: PolicyLabels, backup: CompletedBackup): void;
  recordBackupFailure(policy: PolicyLabels, failure: FailedBackup): void;
  recordRestore(policy: PolicyLabels, restore: RestoreOutcome): void;
  recordPrune(policy: PolicyLabels, prune: PruneOutcome): void;
  /** The status-derived gauges of a RetentionPolicy: call on every reconcile. */
  recordRetentionPolicyStatus(policy: PolicyLabels, status: RetentionPolicyStatusSnapshot, spec: RetentionScheduleSnapshot, now?: Date): void;
  recordRetentionRun(policy: PolicyLabels, run: RetentionRunOutcome): void;
  /** A run that did not start or failed as a whole (unknown table, connection lost). */
  recordRetentionFailure(policy: PolicyLabels, failure: { finishedAt: Date; reason: string }): void;
  /** Remove every series of a deleted LokdarpanDatabase. */
  forgetDatabase(db: DatabaseLabels): Promise<void>;
  /** Remove every series of a deleted BackupPolicy. */
  forgetBackupPolicy(policy: PolicyLabels): Promise<void>;
  /** Remove every series of a deleted RetentionPolicy. */
  forgetRetentionPolicy(policy: PolicyLabels): Promise<void>;
}

// ---------------------------------------------------------------------------------------------

/** Seconds since the epoch of an RFC 3339 time, or undefined when missing or unreadable. */
export function timestampSeconds(time: string | undefined): number | undefined {
  if (time === undefined || time === '') return undefined;
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

const WINDOW_MS = 8 * 24 * 3600 * 1000;
const MAX_RUNS = 1000;

/**
 * The longest gap, in seconds, between consecutive runs of a cron schedule, looking ahead from
 * `from` for at least eight days and three runs (at most 1000 runs). The longest gap, not the
 * average: "0 2 * * 1-5" gives 3 days (Friday to Monday), so a "no backup within 1.5x the interval"
 * alert never fires on a quiet weekend. Undefined when the schedule cannot be read.
 */
export function expectedIntervalSeconds(schedule: string, timeZone = 'UTC', from: Date = new Date()): number | undefined {
  let previous: Date;
  try {
    previous = nextRun(schedule, timeZone, from);
  } catch {
    return undefined;
  }
  let longest = 0;
  for (let runs = 1; runs < MAX_RUNS; runs++) {
    let next: Date;
    try {
      next = nextRun(schedule, timeZone, previous);
    } catch {
      break;
    }
    longest = Math.max(longest, next.getTime() - previous.getTime());
    previous = next;
    if (runs >= 3 && previous.getTime() - from.getTime() >= WINDOW_MS) break;
  }
  return longest > 0 ? longest / 1000 : undefined;
}

function conditionIs(conditions: readonly ConditionSnapshot[] | undefined, type: string): boolean | undefined {
  const condition = conditions?.find((c) => c.type === type);
  if (!condition) return undefined;
  return condition.status === 'True';
}

type MetricGroup = 'database' | 'backup' | 'retention';

/** Which resource a metric belongs to (a BackupPolicy and a RetentionPolicy may share a name). */
/** One series per check condition the status has: 1 True, 0 False; a check it lacks (or Unknown: suspended) has none. */
function setChecks(gauge: Gauge<string>, labels: Record<string, string>, conditions: readonly ConditionSnapshot[] | undefined, checks: readonly string[]): void {
  for (const check of checks) {
    const status = conditions?.find((c) => c.type === check)?.status;
    if (status === 'True' || status === 'False') gauge.set({ ...labels, check }, bool(status === 'True'));
    else gauge.remove({ ...labels, check });
  }
}

function groupOf(name: string): MetricGroup {
  if (name.startsWith('lokdarpan_backup') || name.startsWith('lokdarpan_restore')) return 'backup';
  if (name.startsWith('lokdarpan_retention')) return 'retention';
  return 'database';
}

/** The reason of a "Reason: message" error string (status.destinations[].error), else ReplicaFailed. */
function reasonOf(error: string): string {
  const match = /^([A-Z][A-Za-z0-9]*):/.exec(error);
  return match?.[1] ?? 'ReplicaFailed';
}

const bool = (value: boolean): number => (value ? 1 : 0);

/** Register the domain metrics in `metrics.registry` (idempotent: a second call returns the same objects). */
export function createDomainMetrics(metrics: OperatorMetrics): DomainMetricsRecorder {
  const objects: Record<string, Counter<string> | Gauge<string> | Histogram<string>> = {};
  for (const [key, d] of Object.entries(DEFINITIONS) as Array<[keyof DomainMetrics, Definition]>) {
    const options = { name: d.name, help: d.help, labelNames: d.labelNames };
    objects[key] =
      d.type === 'counter' ? metrics.counter(options) : d.type === 'gauge' ? metrics.gauge(options) : metrics.histogram({ ...options, ...(d.buckets ? { buckets: d.buckets } : {}) });
  }
  const m = objects as unknown as DomainMetrics;

  /** Per BackupPolicy: the restore drill and prune times last seen in its status. */
  const seenInStatus = new Map<string, { drill: string | undefined; prune: string | undefined }>();
  /** Last databaseInfo label set per database, so a version change replaces the old series. */
  const infoLabels = new Map<string, Record<string, string>>();
  const dbKey = (db: DatabaseLabels) => `${db.namespace}/${db.name}`;
  const dbl = (db: DatabaseLabels) => ({ namespace: db.namespace, name: db.name });
  const pl = (p: PolicyLabels) => ({ namespace: p.namespace, policy: p.policy });
  const setTimestamp = (gauge: Gauge<string>, labels: Record<string, string>, time: string | undefined) => {
    const seconds = timestampSeconds(time);
    if (seconds !== undefined) gauge.set(labels, seconds);
  };
  const setInterval = (gauge: Gauge<string>, labels: Record<string, string>, schedule: ScheduleSpec | undefined, suspended: boolean, now: Date) => {
    if (!schedule || suspended) {
      gauge.set(labels, 0);
      return;
    }
    const seconds = expectedIntervalSeconds(schedule.schedule, schedule.timeZone ?? 'UTC', now);
    if (seconds !== undefined) gauge.set(labels, seconds);
  };

  /** Remove every series of the group's metrics whose labels include all of `match`. */
  const forget = async (group: MetricGroup, match: Record<string, string>) => {
    for (const [key, metric] of Object.entries(objects)) {
      if (groupOf(DEFINITIONS[key as keyof DomainMetrics].name) !== group) continue;
      const { values } = await metric.get();
      const seen = new Set<string>();
      for (const value of values) {
        const labels: Record<string, string | number> = {};
        for (const [k, v] of Object.entries(value.labels)) if (k !== 'le' && v !== undefined) labels[k] = v;
        if (!Object.entries(match).every(([k, v]) => labels[k] === v)) continue;
        const key = JSON.stringify(Object.entries(labels).sort());
        if (seen.has(key)) continue;
        seen.add(key);
        metric.remove(labels);
      }
    }
  };

  const recorder: DomainMetricsRecorder = {
    ...m,

    recordDatabaseStatus(db, status, schedules = {}, now = new Date()) {
      const labels = dbl(db);
      const ready = conditionIs(status.conditions, 'Ready');
      m.databaseReady.set(labels, bool(ready === true));
      m.databaseStalled.set(labels, bool(conditionIs(status.conditions, 'Stalled') === true));
      if (status.pendingCount !== undefined) m.databasePendingMigrations.set(labels, status.pendingCount);
      const info = {
        ...labels,
        schema_version: status.schemaVersion ?? '',
        server_version: status.server?.version ?? '',
        pgvector_version: status.server?.pgvectorVersion ?? '',
      };
      const previous = infoLabels.get(dbKey(db));
      if (previous && JSON.stringify(previous) !== JSON.stringify(info)) m.databaseInfo.remove(previous);
      m.databaseInfo.set(info, 1);
      infoLabels.set(dbKey(db), info);
      setTimestamp(m.viewRefreshLastSuccessTimestampSeconds, labels, status.views?.lastSuccessfulRefreshTime);
      setInterval(m.viewRefreshExpectedIntervalSeconds, labels, schedules.views, schedules.suspended === true, now);
      const healthy = conditionIs(status.conditions, 'PerformanceHealthy');
      if (healthy !== undefined) m.performanceHealthy.set(labels, bool(healthy));
      setTimestamp(m.performanceValidationLastRunTimestampSeconds, labels, status.validation?.lastRunTime);
      for (const r of status.validation?.results ?? []) {
        m.queryP95Seconds.set({ ...labels, query: r.query }, r.p95Ms / 1000);
        m.queryThresholdSeconds.set({ ...labels, query: r.query }, r.thresholdMs / 1000);
      }
    },

    recordMigration(db, migration) {
      const direction = migration.direction ?? 'up';
      m.migrationDurationSeconds.observe({ ...dbl(db), migration: migration.name, direction }, migration.durationMs / 1000);
      m.migrationsAppliedTotal.inc({ ...dbl(db), direction });
    },

    recordMigrationFailure(db, reason) {
      m.migrationFailuresTotal.inc({ ...dbl(db), reason });
    },

    recordViewRefresh(db, refresh) {
      m.viewRefreshDurationSeconds.observe(dbl(db), refresh.durationMs / 1000);
      m.viewRefreshLastSuccessTimestampSeconds.set(dbl(db), refresh.finishedAt.getTime() / 1000);
    },

    recordViewRefreshFailure(db, reason) {
      m.viewRefreshFailuresTotal.inc({ ...dbl(db), reason });
    },

    recordValidation(db, validation) {
      const labels = dbl(db);
      for (const r of validation.results) {
        m.queryP95Seconds.set({ ...labels, query: r.query }, r.p95Ms / 1000);
        m.queryThresholdSeconds.set({ ...labels, query: r.query }, r.thresholdMs / 1000);
      }
      m.performanceHealthy.set(labels, bool(validation.passed));
      m.performanceValidationLastRunTimestampSeconds.set(labels, validation.finishedAt.getTime() / 1000);
    },

    recordBackupPolicyStatus(policy, status, spec, now = new Date()) {
      const labels = pl(policy);
      setTimestamp(m.backupLastSuccessTimestampSeconds, labels, status.lastSuccessfulTime);
      setTimestamp(m.backupLastFailureTimestampSeconds, labels, status.lastFailedTime);
      m.backupConsecutiveFailures.set(labels, status.consecutiveFailures ?? 0);
      setChecks(m.backupPolicyCheckPassing, labels, status.conditions, ['DestinationsReady', 'DatabaseReady', 'KeysReady']);
      const suspended = spec.suspend === true;
      setInterval(m.backupExpectedIntervalSeconds, labels, spec, suspended, now);
      setInterval(m.restoreDrillExpectedIntervalSeconds, labels, spec.restoreDrill, suspended, now);
      const drill = status.lastRestoreDrill;
      if (drill?.succeeded !== undefined) {
        setTimestamp(drill.succeeded ? m.restoreDrillLastSuccessTimestampSeconds : m.restoreDrillLastFailureTimestampSeconds, labels, drill.time);
      }
      const key = `${policy.namespace}/${policy.policy}`;
      const previous = seenInStatus.get(key);
      const seen = { drill: drill?.time, prune: status.lastPrune?.time };
      seenInStatus.set(key, seen);
      if (!previous) return;
      if (drill?.time !== undefined && drill.time !== previous.drill && drill.succeeded !== undefined) {
        if (drill.durationMs !== undefined) m.restoreDurationSeconds.observe({ ...labels, trigger: 'drill' }, drill.durationMs / 1000);
        if (!drill.succeeded) {
          const reason = status.conditions?.find((c) => c.type === 'RestoreVerified' && c.status === 'False')?.reason ?? 'RestoreDrillFailed';
          m.restoreFailuresTotal.inc({ ...labels, trigger: 'drill', reason });
        }
      }
      const prune = status.lastPrune;
      if (prune?.time !== undefined && prune.time !== previous.prune) {
        m.backupsPrunedTotal.inc(labels, prune.deleted ?? 0);
        m.backupsLockedSkippedTotal.inc(labels, prune.locked ?? 0);
      }
    },

    recordBackupStatus(policy, status, options = {}) {
      const started = timestampSeconds(status.startTime);
      const finished = timestampSeconds(status.completionTime);
      const durationMs = started !== undefined && finished !== undefined ? Math.max(0, (finished - started) * 1000) : undefined;
      const finishedAt = new Date((finished ?? Date.now() / 1000) * 1000);
      if (status.phase === 'Completed') {
        recorder.recordBackupSuccess(policy, {
          finishedAt,
          durationMs: durationMs ?? 0,
          plainBytes: status.plainBytes,
          encryptedBytes: status.encryptedBytes,
          replicas: (status.destinations ?? [])
            .filter((d) => d.name !== options.primaryDestination)
            .map((d) => ({ name: d.name, verified: d.verified === true, error: d.error ? { reason: reasonOf(d.error) } : undefined })),
        });
      } else if (status.phase === 'Failed') {
        recorder.recordBackupFailure(policy, { finishedAt, reason: status.reason ?? 'Unknown', consecutiveFailures: options.consecutiveFailures });
      }
    },

    recordBackupSuccess(policy, backup) {
      const labels = pl(policy);
      m.backupDurationSeconds.observe(labels, backup.durationMs / 1000);
      m.backupLastSuccessTimestampSeconds.set(labels, backup.finishedAt.getTime() / 1000);
      m.backupConsecutiveFailures.set(labels, 0);
      if (backup.plainBytes !== undefined) m.backupBytes.set({ ...labels, kind: 'plain' }, backup.plainBytes);
      if (backup.encryptedBytes !== undefined) m.backupBytes.set({ ...labels, kind: 'encrypted' }, backup.encryptedBytes);
      for (const replica of backup.replicas ?? []) {
        const rl = { ...labels, destination: replica.name };
        m.backupReplicaVerified.set(rl, bool(replica.verified && !replica.error));
        if (replica.error || !replica.verified) m.backupReplicaFailuresTotal.inc({ ...rl, reason: replica.error?.reason ?? 'NotVerified' });
      }
    },

    recordBackupFailure(policy, failure) {
      const labels = pl(policy);
      m.backupFailuresTotal.inc({ ...labels, reason: failure.reason });
      m.backupLastFailureTimestampSeconds.set(labels, failure.finishedAt.getTime() / 1000);
      if (failure.consecutiveFailures !== undefined) m.backupConsecutiveFailures.set(labels, failure.consecutiveFailures);
      else m.backupConsecutiveFailures.inc(labels);
    },

    recordRestore(policy, restore) {
      const labels = pl(policy);
      m.restoreDurationSeconds.observe({ ...labels, trigger: restore.trigger }, restore.durationMs / 1000);
      if (!restore.succeeded) m.restoreFailuresTotal.inc({ ...labels, trigger: restore.trigger, reason: restore.reason ?? 'Unknown' });
      if (restore.trigger === 'drill') {
        const gauge = restore.succeeded ? m.restoreDrillLastSuccessTimestampSeconds : m.restoreDrillLastFailureTimestampSeconds;
        gauge.set(labels, restore.finishedAt.getTime() / 1000);
      }
    },

    recordPrune(policy, prune) {
      const labels = pl(policy);
      m.backupsPrunedTotal.inc(labels, prune.deleted);
      m.backupsLockedSkippedTotal.inc(labels, prune.locked);
    },

    recordRetentionPolicyStatus(policy, status, spec, now = new Date()) {
      const labels = pl(policy);
      setInterval(m.retentionExpectedIntervalSeconds, labels, spec, spec.suspend === true, now);
      setChecks(m.retentionPolicyCheckPassing, labels, status.conditions, ['DestinationsReady', 'DatabaseReady']);
      const run = status.lastRun;
      const start = timestampSeconds(run?.startTime);
      if (!run || start === undefined) return;
      const finished = start + (run.durationMs ?? 0) / 1000;
      const failed = (run.rules ?? []).some((r) => r.error !== undefined && r.error !== '');
      (failed ? m.retentionLastFailureTimestampSeconds : m.retentionLastSuccessTimestampSeconds).set(labels, finished);
      m.retentionLastRunPartial.set(labels, bool(run.partial === true));
    },

    recordRetentionRun(policy, run) {
      const labels = pl(policy);
      m.retentionRunDurationSeconds.observe(labels, run.durationMs / 1000);
      for (const rule of run.rules) {
        const rl = { ...labels, table: rule.table, rule: rule.rule };
        // inc(0) keeps every rule's series present, so rate() works from the first real increment.
        m.retentionRowsDeletedTotal.inc(rl, rule.deleted);
        m.retentionRowsArchivedTotal.inc(rl, rule.archived);
        m.retentionRowsMarkedTotal.inc(rl, rule.marked);
      }
      const failures = run.rules.filter((r) => r.error !== undefined);
      for (const f of failures) m.retentionFailuresTotal.inc({ ...labels, reason: f.error?.reason ?? 'Unknown' });
      const at = new Date(run.startedAt).getTime() / 1000 + run.durationMs / 1000;
      (failures.length > 0 ? m.retentionLastFailureTimestampSeconds : m.retentionLastSuccessTimestampSeconds).set(labels, at);
      m.retentionLastRunPartial.set(labels, bool(run.partial));
    },

    recordRetentionFailure(policy, failure) {
      const labels = pl(policy);
      m.retentionFailuresTotal.inc({ ...labels, reason: failure.reason });
      m.retentionLastFailureTimestampSeconds.set(labels, failure.finishedAt.getTime() / 1000);
    },

    async forgetDatabase(db) {
      infoLabels.delete(dbKey(db));
      await forget('database', dbl(db));
    },
    async forgetBackupPolicy(policy) {
      seenInStatus.delete(`${policy.namespace}/${policy.policy}`);
      await forget('backup', pl(policy));
    },
    async forgetRetentionPolicy(policy) {
      await forget('retention', pl(policy));
    },
  };
  return recorder;
}
