// Backup engine: streaming encrypted pg_dump to S3 with verified replicas, the manifest, the catalog
// of stored backups, and GFS retention.
export { BackupReasons, type BackupReason } from './reasons.ts';
export { runBackup, type BackupOptions, type BackupResult, type DestinationResult } from './engine.ts';
export {
  assertBackupId, backupKeys, databaseFolder, defaultBackupId, MANIFEST_FORMAT, manifestSchema, parseManifest, sameOwner, serializeManifest,
  type BackupManifest, type BackupOwner, type ManifestDestination,
} from './manifest.ts';
export { listBackups, readManifest, readManifestAt, verifyBackup, type BackupEntry, type ListedBackups, type ListOptions, type VerifyResult } from './catalog.ts';
export {
  assertTimeZone, dayKey, isoWeekKey, monthKey, planRetention, pruneBackups,
  type PlanOptions,
  type KeepReason, type PlannedBackup, type PruneOptions, type PruneResult, type RetentionDecision, type RetentionPlan, type RetentionRules,
} from './retention.ts';
export { verifyStoredObject } from './verify.ts';
export { findOverlappingDestinations, type DestinationOverlap, type DestinationRef } from './overlap.ts';
export { writeManifest, type ManifestWriteOutcome } from './manifest-write.ts';
export { DEFAULT_PROGRESS_INTERVAL_MS, measureTransfer, startProgressSampler, type ProgressListener, type TransferSample } from './progress.ts';
export type { BackupSource, DumpSnapshot, ObjectStore, RunningDump } from './ports.ts';
