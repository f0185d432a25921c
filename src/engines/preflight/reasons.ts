// Reasons of the preflight checks a BackupPolicy or RetentionPolicy runs without writing a backup
// (the checks also use the S3, pg_dump, age, Secret and retention catalogs' reasons).
import { S3ProbeReasons } from '../../adapters/s3/probe.ts';

export const PreflightReasons = {
  /** Every destination accepted the credentials and let the operator write, read and delete a probe object. */
  DestinationsVerified: 'DestinationsVerified',
  /** The RetentionPolicy has no archive destination, so there is nothing to check. */
  NoArchiveDestination: 'NoArchiveDestination',
  /** The database answered, the role may read what it must, and a matching pg_dump is available. */
  DatabaseVerified: 'DatabaseVerified',
  /** The recipients parse and the drill identity (when configured) matches one of them. */
  KeysVerified: 'KeysVerified',
  ...S3ProbeReasons,
  /** A destination's bucket lacks a setting it requires (requireVersioning, requireObjectLock), or it could not be read. */
  DestinationSettingsMismatch: 'DestinationSettingsMismatch',
  /** The role may not read a table (or sequence, or schema) that pg_dump dumps, or change one a rule touches. */
  TableNotReadable: 'TableNotReadable',
  /** The restore drill's identity is for none of the policy's recipients. */
  DrillIdentityMismatch: 'DrillIdentityMismatch',
} as const;

export type PreflightReason = (typeof PreflightReasons)[keyof typeof PreflightReasons];
