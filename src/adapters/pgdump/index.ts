// pg_dump / pg_restore process wrappers, binary selection by server major, and the database session
// side of backups and restores.
export { PgDumpReasons } from './reasons.ts';
export { chooseTool, DEFAULT_PG_BIN_DIRS, parseToolVersion, probeTool, serverMajorOf, type PgBinDirs, type PgTool, type PgToolName } from './binaries.ts';
export { DEFAULT_LOCK_WAIT_TIMEOUT_MS, pgDumpArgs, spawnPgDump, spawnPgRestore, type DumpOptions, type DumpProcess, type RestoreOptions, type RestoreProcess } from './process.ts';
export {
  countRows, createDatabase, dropDatabase, inspectTarget, openSnapshotSession,
  type ServerFacts, type SnapshotOptions, type SnapshotSession, type TableRowCount, type TargetInspection,
} from './session.ts';
export { pgBackupSource, type PgBackupSourceOptions } from './source.ts';
export { describeTarget, pgClientConfig, pgTargetFromUrl, pgToolEnv, withDatabase, type PgTarget } from './target.ts';
