// Every reason a backup, replica copy, prune or restore can fail with (OperatorError.reason). The
// adapters' own catalogs (age, s3, pgdump) are subsets of this one; controllers copy these into the
// Backup / Restore / BackupPolicy conditions.
export const BackupReasons = {
  // dump side
  /** pg_dump exited non-zero, could not start or was killed; the upload was aborted. */
  DumpFailed: 'DumpFailed',
  /** The server is newer than every configured pg_dump / pg_restore. */
  PgDumpTooOld: 'PgDumpTooOld',
  /** No pg_dump / pg_restore binaries found where configured. */
  PgToolMissing: 'PgToolMissing',
  /** Could not connect to or query the database being backed up or restored into. */
  DatabaseUnavailable: 'DatabaseUnavailable',
  // object store side
  /** The S3 endpoint did not answer. */
  DestinationUnreachable: 'DestinationUnreachable',
  /** Writing the backup or its manifest failed; nothing was left that looks complete. */
  UploadFailed: 'UploadFailed',
  /** Reading a backup object failed. */
  DownloadFailed: 'DownloadFailed',
  /** An object named by a manifest does not exist. */
  ObjectNotFound: 'ObjectNotFound',
  /** Copying to a replica destination failed. */
  CopyFailed: 'CopyFailed',
  /** Deleting an expired backup failed (Object Lock is reported, not a failure). */
  DeleteFailed: 'DeleteFailed',
  // integrity and keys
  /** The stored object's SHA-256 (or size) differs from the manifest. */
  ChecksumMismatch: 'ChecksumMismatch',
  /** No identity matches the backup's recipients, or the payload failed authentication (corrupt or truncated). */
  DecryptionFailed: 'DecryptionFailed',
  /** A recipient or identity is malformed. */
  InvalidKey: 'InvalidKey',
  /** zstd could not decompress the decrypted payload. */
  DecompressionFailed: 'DecompressionFailed',
  /** There is no manifest for the requested backup (it never completed, or it was pruned). */
  ManifestMissing: 'ManifestMissing',
  /** The manifest is not a valid lokdarpan backup manifest. */
  ManifestInvalid: 'ManifestInvalid',
  // restore side
  /** The target database holds user objects and overwrite was not requested. */
  TargetNotEmpty: 'TargetNotEmpty',
  /** The target database does not exist and creating it was not requested. */
  TargetMissing: 'TargetMissing',
  /** pg_restore failed; the single transaction was rolled back. */
  RestoreFailed: 'RestoreFailed',
  /** Row counts after the restore differ from the manifest. */
  RowCountMismatch: 'RowCountMismatch',
  /** A backup with this id already has a manifest (it completed earlier); nothing was written. */
  AlreadyExists: 'AlreadyExists',
  /** The caller's options are invalid (bad backup id, part size, no recipients, a restore into an older major...). */
  InvalidRequest: 'InvalidRequest',
  /** The operation was cancelled through its AbortSignal (leadership lost, shutdown) or ran past its timeout. */
  Cancelled: 'Cancelled',
} as const;

export type BackupReason = (typeof BackupReasons)[keyof typeof BackupReasons];
