// Reasons that several kinds and components raise with one meaning (the message says where it came from).
import { reasonNames, type ReasonCatalog } from './catalog.ts';

export const CommonReasonCatalog = {
  InvalidSpec: "The spec fails the operator's validation (the API server's checks passed); Stalled is True and nothing runs. The message names the field. Fix it (`kubectl explain <kind>.spec.<field>`); for a Backup or Restore, create a new one.",
  Suspended: '`spec.suspend: true`: no scheduled work runs (no migrations, refreshes or validations; no scheduled backups, though on-demand Backups still run; no retention runs). Set `spec.suspend: false` to resume.',
  DatabaseUnavailable: 'The database could not be reached or the login failed (from a migration, a backup, a restore or a retention run). Check host, port, credentials in the connection Secret, network policies, `pg_hba.conf`; retried with backoff.',
  ChecksumMismatch: "Migrations: an applied migration's file changed since it was applied; restore the original file (migrations are immutable) and add a new migration for the change (`lokdarpan migrate repair` re-records checksums only when you are sure). Backups: the stored object's SHA-256 or size differs from the manifest (corrupted or tampered); do not use it, restore from a replica or another backup (`lokdarpan backups verify` checks one).",
} as const satisfies ReasonCatalog;

export const CommonReasons = reasonNames(CommonReasonCatalog);
