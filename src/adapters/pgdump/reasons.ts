// Failure reasons of the pg_dump / pg_restore adapter (also in src/engines/backup/reasons.ts).
export const PgDumpReasons = {
  /** pg_dump exited non-zero, could not start, or was killed. */
  DumpFailed: 'DumpFailed',
  /** pg_restore exited non-zero, could not start, or was killed. */
  RestoreFailed: 'RestoreFailed',
  /** The server is newer than every configured pg_dump / pg_restore. */
  PgDumpTooOld: 'PgDumpTooOld',
  /** No binaries are configured, or the configured directory lacks the tool. */
  PgToolMissing: 'PgToolMissing',
  /** Connecting to or querying the database failed. */
  DatabaseUnavailable: 'DatabaseUnavailable',
} as const;
