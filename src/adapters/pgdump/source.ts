// The real BackupSource: an exported REPEATABLE READ snapshot plus `pg_dump --snapshot` with the
// binary matching the server's major.
import type { BackupSource, DumpSnapshot, RunningDump } from '../../engines/backup/ports.ts';
import { chooseTool, DEFAULT_PG_BIN_DIRS, type PgBinDirs } from './binaries.ts';
import { spawnPgDump } from './process.ts';
import { openSnapshotSession, type SnapshotSession } from './session.ts';
import type { PgTarget } from './target.ts';

export interface PgBackupSourceOptions {
  binDirs?: PgBinDirs;
  schemaHistoryTable?: string;
  /** More pg_dump arguments. */
  extraArgs?: readonly string[];
  /** pg_dump --lock-wait-timeout in ms (default DEFAULT_LOCK_WAIT_TIMEOUT_MS, 1 min; 0 waits forever). */
  lockWaitTimeoutMs?: number;
  /** Count rows of every table in the snapshot (exact count(*)). Default true. */
  countRows?: boolean;
}

interface PgSnapshot extends DumpSnapshot {
  readonly session: SnapshotSession;
}

export function pgBackupSource(target: PgTarget, options: PgBackupSourceOptions = {}): BackupSource {
  return {
    async openSnapshot(): Promise<DumpSnapshot> {
      const session = await openSnapshotSession(target, options.schemaHistoryTable === undefined ? {} : { schemaHistoryTable: options.schemaHistoryTable });
      const snapshot: PgSnapshot = {
        session,
        database: target.database,
        serverVersion: session.serverVersion,
        serverVersionNum: session.serverVersionNum,
        serverMajor: session.serverMajor,
        schemaVersion: session.schemaVersion,
        databaseBytes: session.databaseBytes,
        estimatedDumpBytes: session.tablesBytes,
        countRows: options.countRows === false ? async () => [] : () => session.countRows(),
        close: () => session.close(),
      };
      return snapshot;
    },
    async startDump(snapshot: DumpSnapshot): Promise<{ dump: RunningDump; toolVersion: string; toolMajor: number }> {
      const tool = await chooseTool(options.binDirs ?? DEFAULT_PG_BIN_DIRS, 'pg_dump', snapshot.serverMajor);
      const dump = spawnPgDump({
        tool,
        target,
        snapshot: (snapshot as PgSnapshot).session.snapshotId,
        ...(options.extraArgs === undefined ? {} : { extraArgs: options.extraArgs }),
        ...(options.lockWaitTimeoutMs === undefined ? {} : { lockWaitTimeoutMs: options.lockWaitTimeoutMs }),
      });
      return { dump, toolVersion: tool.version, toolMajor: tool.major };
    },
  };
}
