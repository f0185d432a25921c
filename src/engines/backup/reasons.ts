// Every reason a backup, replica copy, prune or restore can fail with (OperatorError.reason): the backup
// engine's own, and (in the `BackupReasons` accessor) those of the adapters it drives.
import { reasonNames, type ReasonCatalog } from '../../reasons/catalog.ts';
import { CommonReasonCatalog } from '../../reasons/common.ts';
import { AgeReasonCatalog } from '../../adapters/age/reasons.ts';
import { PgDumpReasonCatalog } from '../../adapters/pgdump/reasons.ts';
import { S3ReasonCatalog } from '../../adapters/s3/reasons.ts';

export const BackupReasonCatalog = {
  DecompressionFailed: 'zstd could not decompress the decrypted payload. The object is corrupt; use another backup.',
  ManifestMissing: 'No manifest for that backup: it never completed, or it was pruned. `lokdarpan backups list` shows what exists.',
  ManifestInvalid: 'The manifest is not a `lokdarpan-backup/v1` manifest. Check the key points at a `.manifest.json` written by the operator.',
  TargetNotEmpty: 'The restore target holds user objects. Restore into a new database (`spec.target.databaseName`) or set `spec.overwrite: true`.',
  TargetMissing: 'The target database does not exist and creating it was not asked for. Create it, or set `spec.target.databaseName` to have it created.',
  RowCountMismatch: 'Row counts after the restore differ from the manifest. Keep the restored database for inspection; do not rely on it; report it.',
  InvalidRequest: 'Invalid options (backup id, part size, no recipients, no identity). Fix the request; the message says which.',
  Cancelled: 'Cancelled by shutdown, lost leadership or the reconcile timeout; nothing partial is left as complete. Retry (a new Backup / Restore).',
} as const satisfies ReasonCatalog;

export const BackupReasons = reasonNames({
  ChecksumMismatch: CommonReasonCatalog.ChecksumMismatch,
  DatabaseUnavailable: CommonReasonCatalog.DatabaseUnavailable,
  ...AgeReasonCatalog,
  ...PgDumpReasonCatalog,
  ...S3ReasonCatalog,
  ...BackupReasonCatalog,
});

export type BackupReason = keyof typeof BackupReasons;
