// The one catalog of every reason the operator writes into a condition, an event or an OperatorError:
// the per-component catalogs (controllers, engines, adapters) merged, each reason with a one-line
// meaning, grouped the way docs/conditions.md explains them, plus the condition types of every kind.
// test/unit/docs/conditions.test.ts fails when a reason here is missing from docs/conditions.md, when
// the doc names one that is not here, and when a catalog or a literal reason in src/ is not merged here.
// This module imports the catalogs; nothing the catalogs import may import it (no cycles).
import { DatabaseConditions, DatabaseReasons } from '../controllers/lokdarpan-database/reasons.ts';
import { BackupConditionReasons } from '../controllers/backup/reconciler.ts';
import { BackupPolicyReasons } from '../controllers/backup/policy-reconciler.ts';
import { RestoreReasons } from '../controllers/backup/restore-reconciler.ts';
import { RetentionPolicyReasons } from '../controllers/retention-policy/reconciler.ts';
import { SECRET_REASONS } from '../controllers/shared/secrets.ts';
import { CONNECTION_REASONS } from '../controllers/shared/database-connection.ts';
import { DATABASE_REF_REASONS } from '../controllers/shared/database-ref.ts';
import { MigrationReasons } from '../engines/migrations/reasons.ts';
import { BackupReasons } from '../engines/backup/reasons.ts';
import { RestoreEngineReasons } from '../engines/restore/reasons.ts';
import { RetentionReasons } from '../engines/retention/reasons.ts';
import { VIEW_REASONS } from '../engines/views/refresh.ts';
import { VALIDATION_REASONS } from '../engines/validation/validate.ts';
import { AgeReasons } from '../adapters/age/reasons.ts';
import { PgDumpReasons } from '../adapters/pgdump/reasons.ts';
import { S3Reasons } from '../adapters/s3/reasons.ts';
import { PreflightReasons } from '../engines/preflight/reasons.ts';

/** Reasons of the controller runtime and the generic fallbacks of the reconcilers. */
export const RuntimeReasons = {
  ReconcileFailed: 'ReconcileFailed',
  ReconcileTimeout: 'ReconcileTimeout',
  InternalError: 'InternalError',
  LeaderElectionLost: 'LeaderElectionLost',
  StatusConflict: 'StatusConflict',
  FinalizerConflict: 'FinalizerConflict',
  Idle: 'Idle',
} as const;

/** Reasons that only appear on Kubernetes events, never in a condition. */
export const EventReasons = {
  MigrationsApplied: 'MigrationsApplied',
  WebhookFailed: 'WebhookFailed',
  PruneFailed: 'PruneFailed',
} as const;

/** Condition types of each kind (the LokdarpanDatabase's come from its controller's catalog). */
export const KindConditions = {
  LokdarpanDatabase: Object.values(DatabaseConditions),
  BackupPolicy: ['Ready', 'Stalled', 'LastBackupSucceeded', 'Replicated', 'RestoreVerified', 'DestinationsReady', 'DatabaseReady', 'KeysReady', 'DestinationsOverlap'],
  Backup: ['Ready', 'Succeeded', 'Replicated'],
  Restore: ['Ready', 'Succeeded'],
  RetentionPolicy: ['Ready', 'Reconciling', 'Stalled', 'DestinationsReady', 'DatabaseReady'],
} as const satisfies Record<string, readonly string[]>;

export type KindName = keyof typeof KindConditions;

/** Every reason, merged: name -> name. */
export const Reasons = {
  ...DatabaseReasons,
  ...BackupConditionReasons,
  ...BackupPolicyReasons,
  ...RestoreReasons,
  ...RetentionPolicyReasons,
  ...SECRET_REASONS,
  ...CONNECTION_REASONS,
  ...DATABASE_REF_REASONS,
  ...MigrationReasons,
  ...BackupReasons,
  ...RestoreEngineReasons,
  ...RetentionReasons,
  ...VIEW_REASONS,
  ...VALIDATION_REASONS,
  ...AgeReasons,
  ...PgDumpReasons,
  ...S3Reasons,
  ...PreflightReasons,
  ...RuntimeReasons,
  ...EventReasons,
} as const;

export type Reason = keyof typeof Reasons;

/** One line per reason: what happened. docs/conditions.md adds what to do. */
export const REASON_MEANINGS = {
  // LokdarpanDatabase
  Ready: 'Everything the resource is responsible for is in its desired state.',
  Reconciling: 'The operator is working towards the desired state (or retrying after a transient error).',
  Suspended: 'spec.suspend is true: no scheduled work runs.',
  InvalidSpec: 'The spec does not pass the operator\'s validation; nothing runs until it is fixed.',
  SchemaUpToDate: 'Every migration up to the target is applied.',
  MigrationsPending: 'Migrations are waiting to be applied.',
  AwaitingApproval: 'spec.migrations.requireApproval is set and the plan hash is not approved yet.',
  ExtensionsAvailable: 'The server version and the required extensions (pgvector) are available.',
  ViewsRefreshed: 'The materialized views were refreshed on the last attempt.',
  ViewsNotRefreshedYet: 'The views have not been refreshed yet (the schema is not ready).',
  ViewsStale: 'The last successful view refresh is older than spec.views.staleAfter.',
  ThresholdsMet: 'Every measured query met its p95 threshold and could use its index.',
  ThresholdsMissed: 'A measured query missed its p95 threshold or could not use its index.',
  NotValidatedYet: 'The performance validation has not run yet.',
  // Backup / Restore / BackupPolicy
  Completed: 'The backup or restore finished and was verified.',
  Running: 'The backup or restore is in progress.',
  Interrupted: 'The run ended before it finished (operator restart or lost leadership); nothing partial is left as complete.',
  PolicyNotFound: 'The Backup names a BackupPolicy that does not exist.',
  InvalidPolicy: 'The Backup\'s BackupPolicy has an invalid spec.',
  ReplicaFailed: 'A replica destination has no verified copy of the backup.',
  NoBackupYet: 'No backup of the policy has finished yet.',
  BackupSucceeded: 'The latest finished backup completed.',
  BackupFailed: 'A backup failed (generic reason when the failure has no more specific one).',
  BackupScheduled: 'A scheduled Backup was created (event).',
  MissedSchedule: 'A scheduled run was more than startingDeadline late and was skipped (event).',
  NoReplicas: 'The policy has no replica destinations.',
  ReplicasVerified: 'The latest successful backup is verified in every replica.',
  NoRestoreDrill: 'No restore drill is configured, or the first one has not run yet.',
  RestoreDrillPassed: 'The last restore drill restored the latest backup and the row counts matched.',
  RestoreDrillStarted: 'The policy created a Restore for its restore drill (event).',
  RestoreDrillSkipped: 'A restore drill was due while the previous drill Restore was still running; it was skipped (event).',
  RestoreDrillFailed: 'The last restore drill failed.',
  PruneDeferred: 'The retention pass waits: the database is busy with a backup, restore or migration.',
  BackupsInUse: 'The retention pass kept backups it would delete because an unfinished Restore reads them (event).',
  DestinationsOverlap: 'Another BackupPolicy writes to the same endpoint, bucket and database folder; each keeps only its own backups.',
  DestinationsExclusive: 'No other BackupPolicy writes to the policy\'s destinations.',
  Timeout: 'The backup or restore ran longer than its spec.timeout and was cancelled.',
  BackupsPruned: 'Backups beyond the retention rules were deleted (event).',
  BackupsLocked: 'Backups due for deletion are protected by S3 Object Lock and were skipped (event).',
  BackupNotFound: 'The Restore names a Backup (or its BackupPolicy) that does not exist.',
  BackupNotCompleted: 'The Restore names a Backup that has not completed (or failed).',
  // RetentionPolicy
  RunSucceeded: 'The last retention run finished every rule.',
  RunPartial: 'The last retention run stopped at its budget; the next run continues.',
  RunFailed: 'The last retention run failed.',
  NotRunYet: 'The policy has not run yet; the first run is scheduled.',
  // Secrets and connections
  SecretNotFound: 'A Secret the resource names does not exist.',
  SecretKeyMissing: 'A Secret lacks a key the resource needs.',
  SecretAccessDenied: 'The operator\'s ServiceAccount may not read the Secret (RBAC).',
  SecretReadFailed: 'Reading the Secret from the API server failed for another reason.',
  InvalidConnection: 'The connection Secret holds an unusable value (not a postgres:// URI, a bad port).',
  // Database references
  DatabaseNotFound: 'The referenced LokdarpanDatabase does not exist.',
  DatabaseNotReady: 'The referenced LokdarpanDatabase has an invalid spec or no ready schema yet.',
  // Migrations
  ChecksumMismatch: 'Migrations: an applied migration file changed since it was applied; backups: a stored object\'s SHA-256 or size differs from its manifest.',
  MigrationMissing: 'A migration recorded in the history has no file any more.',
  OutOfOrderMigration: 'A pending migration sorts before one that is already applied.',
  InvalidMigrationFile: 'The migrations directory or a file in it is malformed.',
  UnknownTarget: 'spec.migrations.targetVersion names no known migration.',
  DowngradeNotAllowed: 'The target is older than the applied schema and allowDowngrade is false.',
  PlanNotApproved: 'The plan changed since it was approved (plan hash differs).',
  MigrationLockBusy: 'Another runner holds the migration lock past lockTimeout.',
  LockTimeout: 'A migration step waited longer than lock_timeout for a table lock.',
  StatementTimeout: 'A migration step ran longer than statement_timeout.',
  MigrationFailed: 'A migration step failed with an SQL error.',
  UnsupportedServerVersion: 'The PostgreSQL server is older than the supported major version.',
  ExtensionMissing: 'A required extension (pgvector) is not available at the required version.',
  InsufficientPrivilege: 'The database role lacks a privilege the migrations need.',
  DatabaseUnavailable: 'The database could not be reached or the login failed.',
  AdoptionVerificationFailed: 'A Flask-era database detected as adoptable lacks what the baseline requires.',
  // Backup engine (and the age, S3 and pg_dump adapters)
  DumpFailed: 'pg_dump exited non-zero, could not start or was killed.',
  PgDumpTooOld: 'The server is newer than every configured pg_dump / pg_restore.',
  PgToolMissing: 'No pg_dump / pg_restore binary was found where configured.',
  DestinationUnreachable: 'The S3 endpoint did not answer.',
  UploadFailed: 'Writing an object to S3 failed.',
  DownloadFailed: 'Reading an object from S3 failed.',
  ObjectNotFound: 'An object named by a manifest does not exist.',
  CopyFailed: 'Copying a backup to a replica destination failed.',
  DeleteFailed: 'Deleting an expired backup failed (Object Lock is reported, not failed).',
  DecryptionFailed: 'No identity matches the backup\'s recipients, or the payload failed authentication.',
  InvalidKey: 'An age recipient or identity is malformed.',
  DecompressionFailed: 'zstd could not decompress the decrypted payload.',
  ManifestMissing: 'There is no manifest for the requested backup.',
  ManifestInvalid: 'The manifest is not a valid lokdarpan backup manifest.',
  TargetNotEmpty: 'The restore target holds user objects and overwrite was not requested.',
  TargetMissing: 'The restore target database does not exist and creating it was not requested.',
  RestorePreflightFailed: 'A new restore target database cannot be made as asked (privilege, extension or template missing); nothing was created.',
  RestoreFailed: 'pg_restore failed; its single transaction was rolled back.',
  RowCountMismatch: 'Row counts after a restore differ from the manifest.',
  AlreadyExists: 'A backup with this id already has a manifest.',
  InvalidRequest: 'The backup or restore request is invalid (bad id, no recipients, no identity).',
  Cancelled: 'The operation was cancelled (shutdown, lost leadership, timeout).',
  // Retention engine
  RetentionRuleInvalid: 'A retention rule does not match the schema.',
  RetentionDurationInvalid: 'A retention duration is malformed or outside 1h..100y.',
  RetentionIdentifierInvalid: 'A table or column name is not a plain SQL identifier.',
  RetentionUnknownTable: 'A rule names a table that is not an ordinary table.',
  RetentionUnknownColumn: 'A rule names a column the table does not have.',
  RetentionColumnTypeMismatch: 'A column\'s type does not fit how the rule uses it.',
  RetentionNoPrimaryKey: 'The table has no single-column primary key to batch by.',
  RetentionTableProtected: 'The rule names a table retention must never touch.',
  RetentionArchiveNotConfigured: 'An archive rule runs without an archive destination.',
  RetentionArchiveVerifyFailed: 'An archive object did not read back intact; nothing was deleted.',
  RetentionRuleBusy: 'Another run holds the rule\'s advisory lock; the rule was skipped.',
  RetentionBatchFailed: 'A retention batch kept failing; the run stopped.',
  // Preflight checks
  DestinationsVerified: 'Every destination accepted its credentials and a probe object was written, read back and deleted under its prefix.',
  NoArchiveDestination: 'The RetentionPolicy has no archive destination: there is nothing to check.',
  DatabaseVerified: 'The database answered, its role may read (or change) what the policy needs, and a matching pg_dump is available.',
  KeysVerified: 'The recipients parse and the restore drill identity, when configured, matches one of them.',
  DestinationCredentialsRejected: 'The S3 endpoint rejected the destination\'s access key or signature.',
  BucketNotFound: 'The destination\'s bucket does not exist.',
  DestinationAccessDenied: 'The destination\'s credentials are valid but may not write, read or delete under its prefix.',
  DestinationProbeFailed: 'The probe object could not be written, read back or deleted for another reason.',
  DestinationSettingsMismatch: 'A destination\'s bucket lacks the versioning or Object Lock setting the destination requires, or the setting could not be read.',
  TableNotReadable: 'The database role may not read a table, sequence or schema pg_dump dumps, or change a table a retention rule touches.',
  DrillIdentityMismatch: 'The restore drill identity belongs to none of the policy\'s recipients.',
  // Views and validation
  ViewMissing: 'A materialized view to refresh does not exist.',
  ViewRefreshFailed: 'REFRESH MATERIALIZED VIEW failed.',
  ViewRefreshLockTimeout: 'The view refresh waited too long for a lock.',
  ValidationQueryFailed: 'A performance validation probe failed with an error.',
  // Runtime
  ReconcileFailed: 'An unexpected error without a more specific reason; retried with backoff.',
  ReconcileTimeout: 'A reconcile took longer than the controller\'s timeout and was aborted.',
  InternalError: 'A non-operator error (a bug) escaped a reconcile; retried with backoff.',
  LeaderElectionLost: 'This replica lost the leader Lease; its in-flight work was aborted.',
  StatusConflict: 'The status or spec changed since the reconcile read it; the reconcile is requeued to compute it again instead of overwriting.',
  FinalizerConflict: 'The finalizers kept changing under the writer; it gave up after its attempts.',
  Idle: 'Nothing is in progress and nothing is stalled.',
  // Events only
  MigrationsApplied: 'Migrations were applied or reverted (event).',
  WebhookFailed: 'The BackupPolicy\'s webhook could not be called (event).',
  PruneFailed: 'Pruning the backups of one destination failed (event).',
} as const satisfies { readonly [K in Reason]: string };

export interface ReasonGroup {
  /** Anchor of its section in docs/conditions.md. */
  id: string;
  title: string;
  reasons: Readonly<Record<string, string>>;
}

/** The sections of docs/conditions.md that explain reasons, in order. */
export const REASON_GROUPS: readonly ReasonGroup[] = [
  { id: 'lokdarpandatabase-reasons', title: 'LokdarpanDatabase reasons', reasons: DatabaseReasons },
  { id: 'migration-reasons', title: 'Migration reasons', reasons: MigrationReasons },
  { id: 'view-and-validation-reasons', title: 'View and validation reasons', reasons: { ...VIEW_REASONS, ...VALIDATION_REASONS } },
  { id: 'backuppolicy-reasons', title: 'BackupPolicy reasons', reasons: BackupPolicyReasons },
  { id: 'backup-reasons', title: 'Backup reasons', reasons: BackupConditionReasons },
  { id: 'restore-reasons', title: 'Restore reasons', reasons: RestoreReasons },
  { id: 'backup-engine-reasons', title: 'Backup engine reasons', reasons: { ...BackupReasons, ...RestoreEngineReasons, ...AgeReasons, ...PgDumpReasons, ...S3Reasons } },
  { id: 'preflight-reasons', title: 'Preflight reasons', reasons: PreflightReasons },
  { id: 'retentionpolicy-reasons', title: 'RetentionPolicy reasons', reasons: RetentionPolicyReasons },
  { id: 'retention-engine-reasons', title: 'Retention engine reasons', reasons: RetentionReasons },
  { id: 'secret-and-connection-reasons', title: 'Secret and connection reasons', reasons: CONNECTION_REASONS },
  { id: 'database-reference-reasons', title: 'Database reference reasons', reasons: DATABASE_REF_REASONS },
  { id: 'runtime-reasons', title: 'Runtime reasons', reasons: RuntimeReasons },
  { id: 'event-only-reasons', title: 'Event-only reasons', reasons: EventReasons },
];

/** Which reason groups each kind's conditions can carry (ids of REASON_GROUPS). */
export const KIND_REASON_GROUPS: Readonly<Record<KindName, readonly string[]>> = {
  LokdarpanDatabase: ['lokdarpandatabase-reasons', 'migration-reasons', 'view-and-validation-reasons', 'secret-and-connection-reasons', 'runtime-reasons'],
  BackupPolicy: ['backuppolicy-reasons', 'preflight-reasons', 'backup-reasons', 'backup-engine-reasons', 'secret-and-connection-reasons', 'database-reference-reasons', 'runtime-reasons'],
  Backup: ['backup-reasons', 'backup-engine-reasons', 'secret-and-connection-reasons', 'database-reference-reasons', 'runtime-reasons'],
  Restore: ['restore-reasons', 'backup-engine-reasons', 'secret-and-connection-reasons', 'database-reference-reasons', 'runtime-reasons'],
  RetentionPolicy: ['retentionpolicy-reasons', 'preflight-reasons', 'retention-engine-reasons', 'backup-engine-reasons', 'secret-and-connection-reasons', 'database-reference-reasons', 'runtime-reasons'],
};

/** The one-line meaning of a reason, or undefined for an unknown one. */
export function reasonMeaning(reason: string): string | undefined {
  return Object.hasOwn(REASON_MEANINGS, reason) ? REASON_MEANINGS[reason as Reason] : undefined;
}
