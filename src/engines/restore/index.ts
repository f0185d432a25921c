// Restore engine: bring a backup back into a fresh or empty database and prove it by row counts.
export { compareRowCounts, runRestore, type RestoreOptions, type RestoreResult, type RowCountCheck } from './engine.ts';
