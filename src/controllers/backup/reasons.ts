// Reasons of the Backup, Restore and BackupPolicy controllers (src/reasons/index.ts collects the catalogs).
import { reasonNames, type ReasonCatalog } from '../../reasons/catalog.ts';
import { CommonReasonCatalog } from '../../reasons/common.ts';
import { BackupReasonCatalog } from '../../engines/backup/reasons.ts';

const { InvalidSpec, Suspended } = CommonReasonCatalog;

/** A Backup's or a Restore's run. */
export const BackupRunReasonCatalog = {
  Completed: 'Backup: dumped, encrypted, stored and verified (sizes and SHA-256 in status). Restore: restored, row counts match the manifest (`status.rowCountCheck`); point the application at the restored database.',
  Running: 'The backup or restore is running (for a backup, `status.runningOn` names the replica). Wait.',
  Interrupted: 'The run ended before finishing (operator restarted, lost leadership). A backup wrote no manifest, so no partial backup exists: create a new Backup (`kubectl lokdarpan backup POLICY`) or wait for the next schedule. A restore ran pg_restore in one transaction, so nothing was committed, but a database created for it may remain: drop it if it is empty, then create a new Restore.',
  Timeout: "The run took longer than `spec.timeout` (a Backup's, else its policy's; a Restore's; default 6h) and was cancelled: a backup's upload was aborted, no manifest, nothing stored; a restore's single transaction rolled back. Raise `spec.timeout` (the BackupPolicy's, for a database this large) and create a new one, or find what slowed it (server load, S3 throughput).",
  PolicyNotFound: '`spec.policyRef` names no BackupPolicy. Fix the name or create the policy; then create a new Backup.',
  InvalidPolicy: "The BackupPolicy's spec is invalid. Fix the policy (its Ready says how).",
  ReplicaFailed: "A replica has no verified copy of the backup (on a Backup: Replicated False, the backup is in the primary; on a BackupPolicy: of its last successful backup). See the Backup's `status.destinations[].error`; check the replica's endpoint and credentials. The next backup copies again.",
} as const satisfies ReasonCatalog;

export const BackupConditionReasons = reasonNames({ InvalidSpec, ...BackupRunReasonCatalog });

export const RestoreReasonCatalog = {
  BackupNotFound: '`spec.backupRef` names no Backup, or its BackupPolicy (which knows the bucket) is gone. Waits and retries every 15 s. Fix the name; without the policy, use `spec.source` with the destination and manifest key.',
  BackupNotCompleted: 'The Backup has not completed yet (waits) or failed (Failed). Wait, or pick a completed Backup.',
  ExtensionVersionKept: "Event (Warning) on a Completed restore, and `status.warnings`: the existing target database has an extension another role (a superuser) installed, which the restore kept as it was (see [restore into an existing database](operations.md#restore-into-an-existing-database-as-a-non-superuser)), at another version than the server's default, the one a superuser's restore would have created. The data is restored. Run the `ALTER EXTENSION ... UPDATE` the warning gives as the extension's owner.",
  DatabaseSettingsNotApplied: "Event (Warning) on a Completed restore, and `status.warnings`: a database setting of the schema's applied migrations (e.g. 008's `hnsw.ef_search`; `ALTER DATABASE ... SET`, which a dump does not carry) could not be made again, usually because the restoring role does not own the target database. The data is restored; queries run with the server's default until then. Run the `ALTER DATABASE` statement the warning gives as the database's owner (or a superuser).",
} as const satisfies ReasonCatalog;

export const RestoreReasons = reasonNames({ InvalidSpec, ...BackupRunReasonCatalog, Cancelled: BackupReasonCatalog.Cancelled, ...RestoreReasonCatalog });

export const BackupPolicyReasonCatalog = {
  NoBackupYet: 'No backup of this policy has finished. Nothing; `status.nextScheduleTime` says when. `kubectl lokdarpan backup POLICY` takes one now.',
  BackupSucceeded: 'The latest finished backup completed.',
  BackupFailed: 'Backups failed since the last success (`status.consecutiveFailures`, `status.lastFailedBackup`). `kubectl describe backup <lastFailedBackup>`: its reason is in the tables below.',
  BackupScheduled: 'Event: a scheduled Backup was created.',
  MissedSchedule: 'Event: a run was later than `spec.startingDeadline` (operator down, suspended) and was skipped, not replayed. Nothing, or take an on-demand backup.',
  NoReplicas: 'No replica destinations are configured. Add `spec.replicas` for cross-region copies.',
  ReplicasVerified: 'The last successful backup is verified in every replica.',
  NoRestoreDrill: 'No `spec.restoreDrill`, or its first run is pending. Configure a restore drill: a checksum proves the bytes, only a restore proves the backup.',
  RestoreDrillStarted: "Event: the drill's Restore (`<policy>-drill-<time>`, owned by the policy) was created; the Restore controller runs it. Nothing; `kubectl get restores` shows it. Delete it to cancel the drill.",
  RestoreDrillSkipped: 'Event: a drill was due while the previous drill Restore still ran (or waited); this slot was skipped. Look at the running drill Restore (`status.restoreDrillRunning`); give it a longer `restoreDrill.timeout`, or a less frequent schedule.',
  RestoreDrillPassed: 'The latest backup restored into a scratch database with matching row counts.',
  RestoreDrillFailed: 'The drill failed; RestoreVerified carries the underlying reason (for example `DecryptionFailed`, `RowCountMismatch`). Act on that reason; `status.lastRestoreDrill.message` has details.',
  BackupsPruned: 'Event: backups beyond the retention rules were deleted.',
  BackupsLocked: 'Event: backups due for deletion are under S3 Object Lock and were skipped (`status.lastPrune.locked`). Nothing; they are deleted once the lock expires.',
  PruneDeferred: 'Event (and `status.pruneWaiting`): the retention pass after the latest backup waits, because the database is busy with another backup, restore or migration. Retried every 30 s.',
  BackupsInUse: 'Event (and `status.lastPrune.keptInUse`): the retention pass kept backups it would delete because an unfinished Restore reads them (or a pending one names them); the rest was pruned. The pass after the next backup prunes them. Nothing; a Restore that stays Pending holds its backup: finish or delete it.',
  DestinationsOverlap: 'Another BackupPolicy writes to the same endpoint, bucket and database folder (condition `DestinationsOverlap`, a warning). Each policy keeps and prunes only its own backups (`<prefix><database>/policies/<cluster>/<namespace>/<policy>/`), so nothing is lost; but backups written without an owner (before owners existed, or by the CLI) in that folder are pruned by neither. Usually a copy-paste mistake: give each policy its own `prefix`. If the sharing is intended, nothing; delete old unowned backups with `lokdarpan backups prune` (it prunes the backups without an owner) when no longer needed.',
  DestinationsExclusive: "No other BackupPolicy writes to the policy's destinations; the policy also prunes the database's backups without an owner there (adopted after an upgrade).",
  WebhookFailed: "Event: the BackupPolicy's webhook could not be called (the backup itself is unaffected). Check the URL Secret and the receiver.",
  PruneFailed: "Event: pruning one destination failed (`status.lastPrune.errors`). Check that destination's credentials may list and delete; retried after the next backup.",
} as const satisfies ReasonCatalog;

export const BackupPolicyReasons = reasonNames({ InvalidSpec, Suspended, ReplicaFailed: BackupRunReasonCatalog.ReplicaFailed, ...BackupPolicyReasonCatalog });
