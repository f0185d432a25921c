// The engine's public data shapes: migration files as loaded, history rows, plans and results.
import type { ParsedMigrationFile } from './format.ts';

export interface MigrationFile {
  /** Identity in history, e.g. `001_base_tables`; files sort by it. */
  name: string;
  /** sha256 (hex) of the `.up.sql` bytes. */
  checksum: string;
  upPath: string;
  downPath: string;
  up: ParsedMigrationFile;
  down: ParsedMigrationFile;
}

export type HistoryKind = 'applied' | 'adopted';

export interface HistoryRow {
  name: string;
  checksum: string;
  appliedAt: Date;
  durationMs: number;
  appliedBy: string;
  transactional: boolean;
  kind: HistoryKind;
}

export type Direction = 'up' | 'down';

export interface PlannedMigration {
  name: string;
  checksum: string;
  /** True when every step of the file that will run (up or down) is transactional. */
  transactional: boolean;
  steps: number;
}

export interface MigrationPlan {
  direction: Direction;
  /** The version the database will be at afterwards (`null` = nothing applied). */
  target: string | null;
  /** The version it is at now. */
  from: string | null;
  migrations: PlannedMigration[];
  /** sha256 over direction + names + checksums: stable for the same pending work. */
  hash: string;
  /** Set when the database is not yet recorded and an adopter recognised it. */
  adoption?: { adopter: string; baselineThrough: string; names: string[] };
}

export interface AppliedMigration {
  name: string;
  checksum: string;
  durationMs: number;
  transactional: boolean;
  /** INVALID indexes left by an earlier failed CONCURRENTLY build that this run dropped and rebuilt. */
  rebuiltIndexes: string[];
  /** Server WARNINGs the migration raised (e.g. a CHECK left NOT VALID because old rows violate it); always set by the engine. */
  warnings?: string[];
}

export interface MigrationStatus {
  /** Latest applied (or adopted) migration, `null` when none. */
  schemaVersion: string | null;
  /** Last migration file in the directory, `null` when there is none. */
  latest: string | null;
  pending: PlannedMigration[];
  history: HistoryRow[];
  /** Drift found between history and files (what `up` would refuse with); `[]` when clean. */
  problems: Array<{ reason: string; message: string }>;
  /** Set when history is empty and an adopter recognises the database. */
  adoptableBy?: string;
}

export interface MigrationResult extends MigrationStatus {
  direction: Direction;
  applied: AppliedMigration[];
  planHash: string;
  adopted: string[];
}

export interface RepairResult {
  updatedChecksums: Array<{ name: string; recorded: string; actual: string }>;
  removedMissing: string[];
}
