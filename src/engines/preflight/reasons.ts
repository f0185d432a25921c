// Reasons of the preflight checks a BackupPolicy or RetentionPolicy runs without writing a backup
// (the checks also raise the S3 probe, pg_dump, age, Secret and retention reasons).
import { reasonNames, type ReasonCatalog } from '../../reasons/catalog.ts';
import { S3ProbeReasonCatalog } from '../../adapters/s3/reasons.ts';

export const PreflightReasonCatalog = {
  DestinationsVerified: 'Every destination accepted its credentials; a probe object under `<prefix>.lokdarpan-probe/` was written, read back and deleted.',
  NoArchiveDestination: 'The RetentionPolicy has no `spec.archive`.',
  DatabaseVerified: 'The database answered; the role may read (backups) or change (retention) what it needs; a matching pg_dump exists.',
  KeysVerified: 'The recipients parse; the drill identity matches one.',
  DestinationSettingsMismatch: 'The destination sets `requireVersioning` or `requireObjectLock` and its bucket lacks that setting (versioning Off or Suspended, no Object Lock), or the credentials may not read it; the message names the destination and each missing setting. Enable the setting on the bucket (or point the destination at a bucket that has it); for an unreadable setting, grant s3:GetBucketVersioning / s3:GetBucketObjectLockConfiguration.',
  TableNotReadable: "The role may not SELECT a table or sequence pg_dump dumps (or has no USAGE on its schema), or may not DELETE / UPDATE a retention rule's table. `GRANT SELECT ON ALL TABLES IN SCHEMA ... TO role` (and sequences, USAGE on the schema), or the privilege the message names.",
  DrillIdentityMismatch: "The restore drill identity is for none of the recipients: the drill could not decrypt a backup. Put the identity of one recipient in the drill's Secret, or add its recipient to `spec.recipients`.",
} as const satisfies ReasonCatalog;

export const PreflightReasons = reasonNames({ ...PreflightReasonCatalog, ...S3ProbeReasonCatalog });

export type PreflightReason = keyof typeof PreflightReasons;
