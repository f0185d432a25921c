// Failure reasons of the pg_dump / pg_restore adapter.
import { reasonNames, type ReasonCatalog } from '../../reasons/catalog.ts';
import { CommonReasonCatalog } from '../../reasons/common.ts';

export const PgDumpReasonCatalog = {
  DumpFailed: "pg_dump failed; the upload was aborted (nothing looks complete). Read the message (pg_dump's stderr); check privileges and disk.",
  RestoreFailed: 'pg_restore failed; its single transaction rolled back, the target is unchanged. Read the message; usually a missing role or extension on the target server.',
  PgDumpTooOld: 'The server is newer than every configured pg_dump / pg_restore. Add a newer client: `LOKDARPAN_PG_BIN_DIRS=15=/usr/lib/postgresql/15/bin,18=/opt/pg18/bin`.',
  PgToolMissing: 'No pg_dump / pg_restore found where configured. Fix `LOKDARPAN_PG_BIN_DIRS` (or `--pg-bin`).',
} as const satisfies ReasonCatalog;

export const PgDumpReasons = reasonNames({ DatabaseUnavailable: CommonReasonCatalog.DatabaseUnavailable, ...PgDumpReasonCatalog });
