// Every reason a migration error can carry: controllers copy these into conditions, the CLI prints them.
// The lead merges this catalog into src/api/reasons.ts; keep each entry's one-line meaning up to date.
export const MigrationReasons = {
  /** An already-applied migration's file changed since it was applied (checksums differ). */
  ChecksumMismatch: 'ChecksumMismatch',
  /** A migration recorded in history has no file any more. */
  MigrationMissing: 'MigrationMissing',
  /** A pending migration sorts before one that is already applied. */
  OutOfOrderMigration: 'OutOfOrderMigration',
  /** The migrations directory or a file in it is malformed (missing down, bad directive, ...). */
  InvalidMigrationFile: 'InvalidMigrationFile',
  /** A `--to` / target names no known migration. */
  UnknownTarget: 'UnknownTarget',
  /** The target is below the current version and downgrade was not allowed. */
  DowngradeNotAllowed: 'DowngradeNotAllowed',
  /** The plan changed since it was approved (plan hash differs). */
  PlanNotApproved: 'PlanNotApproved',
  /** Another runner holds the migration lock past our deadline. */
  MigrationLockBusy: 'MigrationLockBusy',
  /** A step waited longer than lock_timeout for a table lock. */
  LockTimeout: 'LockTimeout',
  /** A step ran longer than statement_timeout. */
  StatementTimeout: 'StatementTimeout',
  /** A step failed with an SQL error; the migration was rolled back (transactional) or left for a re-run. */
  MigrationFailed: 'MigrationFailed',
  /** The server is older than the supported major version. */
  UnsupportedServerVersion: 'UnsupportedServerVersion',
  /** A required extension is not available on the server at the required version. */
  ExtensionMissing: 'ExtensionMissing',
  /** The role lacks a privilege the migrations need (creating an extension, creating in a schema). */
  InsufficientPrivilege: 'InsufficientPrivilege',
  /** The database could not be reached or the login failed. */
  DatabaseUnavailable: 'DatabaseUnavailable',
  /** A database detected as adoptable lacks what the baseline requires. */
  AdoptionVerificationFailed: 'AdoptionVerificationFailed',
} as const;

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
