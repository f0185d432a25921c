// Every reason a migration error can carry: controllers copy these into conditions, the CLI prints them.
import { reasonNames, type ReasonCatalog } from '../../reasons/catalog.ts';
import { CommonReasonCatalog } from '../../reasons/common.ts';

export const MigrationReasonCatalog = {
  MigrationMissing: 'A migration in `lokdarpan_schema_history` has no file in the image. Run an operator image that has it (do not downgrade the operator past applied migrations).',
  OutOfOrderMigration: 'A new migration sorts before one already applied. Rename it so it sorts after the latest applied one.',
  InvalidMigrationFile: 'A migration file is malformed (missing down section, bad directive). Fix the file; the message names it and the line.',
  UnknownTarget: '`spec.migrations.targetVersion` names no migration. Use a name from `status.appliedMigrations` / `status.pendingMigrations`, or remove it.',
  DowngradeNotAllowed: 'The target is older than the applied schema. Set `spec.migrations.allowDowngrade: true` if you mean it (take a backup first).',
  PlanNotApproved: 'The plan changed between approval and execution. Review the new `status.plan` and approve its hash.',
  MigrationLockBusy: 'Another runner (a CLI, another operator) holds the migration lock past `spec.migrations.lockTimeout`; the message names the holder. Wait for it, or stop it; retried with backoff.',
  LockTimeout: 'A step waited longer than `lock_timeout` for a table lock (long transactions on the table). Find the blocker in `pg_stat_activity`; retried with backoff.',
  StatementTimeout: 'A step ran longer than `statement_timeout`. Retried; if it keeps failing, run the migration in a maintenance window with the CLI.',
  MigrationFailed: 'A step failed with an SQL error; transactional migrations rolled back. Read the message (SQL state and statement); fix the data or the migration.',
  UnsupportedServerVersion: 'The server is older than PostgreSQL 15. Upgrade the server.',
  ExtensionMissing: 'pgvector is not installed on the server at the required version. Install pgvector 0.7.0 or newer (halfvec with HNSW) on the server.',
  InsufficientPrivilege: 'The role cannot create the extension or create in the schema. Grant the privilege, or create the extension as a superuser once.',
  AdoptionVerificationFailed: 'A Flask-era database looked adoptable but lacks what the baseline requires. Compare it with [docs/schema.md](schema.md); bring it to the Flask baseline, then retry.',
} as const satisfies ReasonCatalog;

const { ChecksumMismatch, DatabaseUnavailable } = CommonReasonCatalog;
export const MigrationReasons = reasonNames({ ChecksumMismatch, DatabaseUnavailable, ...MigrationReasonCatalog });

export type MigrationReason = (typeof MigrationReasons)[keyof typeof MigrationReasons];

/** Reasons that retrying without a human changing something cannot fix. */
export const TERMINAL_MIGRATION_REASONS: ReadonlySet<MigrationReason> = new Set<MigrationReason>([
  'ChecksumMismatch',
  'MigrationMissing',
  'OutOfOrderMigration',
  'InvalidMigrationFile',
  'UnknownTarget',
  'DowngradeNotAllowed',
  'PlanNotApproved',
  'UnsupportedServerVersion',
  'ExtensionMissing',
  'InsufficientPrivilege',
  'AdoptionVerificationFailed',
]);
