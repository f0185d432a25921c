// The operator's domain metrics: database readiness, migrations, view refreshes, query performance,
// backups and their replicas, restore drills, backup pruning and row retention. Registered in the
// operator's registry (src/observability/metrics.ts); controllers update them through the `record*`
// helpers of one recorder per resource kind, which take plain snapshots (status fields, engine
// results) and no Kubernetes types, and remove a deleted resource's series with its `forget*`.
// docs/metrics.md lists every metric; manifests/observability/ alerts and graphs on them.
import type { OperatorMetrics } from '../metrics.ts';
import { registerDomainMetrics, type DomainMetrics } from './definitions.ts';
import { backupRecorder, type BackupRecorder } from './backup.ts';
import { databaseRecorder, type DatabaseRecorder } from './database.ts';
import { retentionRecorder, type RetentionRecorder } from './retention.ts';

export { DOMAIN_METRIC_DEFINITIONS, DOMAIN_METRIC_NAMES, type Definition, type DomainMetrics } from './definitions.ts';
export { expectedIntervalSeconds, timestampSeconds, type ConditionSnapshot, type DatabaseLabels, type PolicyLabels, type ScheduleSpec } from './series.ts';
export type { DatabaseRecorder, DatabaseScheduleSnapshot, DatabaseStatusSnapshot, MigrationDirection } from './database.ts';
export type {
  BackupBytesKind,
  BackupPolicyScheduleSnapshot,
  BackupPolicyStatusSnapshot,
  BackupRecorder,
  BackupStatusSnapshot,
  CompletedBackup,
  DestinationOutcome,
  FailedBackup,
  RestoreOutcome,
  RestoreTrigger,
} from './backup.ts';
export type { RetentionPolicyStatusSnapshot, RetentionRecorder, RetentionRuleOutcome, RetentionRunOutcome, RetentionScheduleSnapshot } from './retention.ts';

/** The metric objects plus every kind's recorder. */
export type DomainMetricsRecorder = DomainMetrics & DatabaseRecorder & BackupRecorder & RetentionRecorder;

/** Register the domain metrics in `metrics.registry` (idempotent: a second call returns the same objects). */
export function createDomainMetrics(metrics: OperatorMetrics): DomainMetricsRecorder {
  const m = registerDomainMetrics(metrics);
  return { ...m, ...databaseRecorder(m), ...backupRecorder(m), ...retentionRecorder(m) };
}
