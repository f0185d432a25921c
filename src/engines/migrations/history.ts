// The history table in the target database: its DDL and every read and write of it. Writes take the
// caller's client so they join the caller's transaction (the migration's own).
import { quoteIdent, type Queryable } from '../../adapters/postgres/session.ts';
import type { HistoryKind, HistoryRow } from './types.ts';

export interface HistoryTable {
  schema: string;
  table: string;
}

export const DEFAULT_HISTORY_TABLE: HistoryTable = { schema: 'public', table: 'lokdarpan_schema_history' };

function qualified(t: HistoryTable): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`;
}

/** Creates the table when missing (callers hold the migration lock, so there is no race). */
export async function ensureHistoryTable(q: Queryable, t: HistoryTable): Promise<void> {
  if (await historyTableExists(q, t)) return;
  await q.query(`CREATE TABLE IF NOT EXISTS ${qualified(t)} (
  name text PRIMARY KEY,
  checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
  applied_at timestamptz NOT NULL DEFAULT now(),
  duration_ms integer NOT NULL CHECK (duration_ms >= 0),
  applied_by text NOT NULL,
  transactional boolean NOT NULL,
  kind text NOT NULL DEFAULT 'applied' CHECK (kind IN ('applied', 'adopted'))
)`);
  await q.query(`COMMENT ON TABLE ${qualified(t)} IS 'Schema migrations applied by lokdarpan-operator (one row per applied or adopted migration)'`);
}

export async function historyTableExists(q: Queryable, t: HistoryTable): Promise<boolean> {
  const { rows } = await q.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [qualified(t)]);
  return rows[0]?.exists === true;
}

interface DbRow {
  name: string;
  checksum: string;
  applied_at: Date;
  duration_ms: number;
  applied_by: string;
  transactional: boolean;
  kind: HistoryKind;
}

/** All rows ordered by name; `[]` when the table does not exist yet. */
export async function readHistory(q: Queryable, t: HistoryTable): Promise<HistoryRow[]> {
  if (!(await historyTableExists(q, t))) return [];
  const { rows } = await q.query<DbRow>(
    `SELECT name, checksum, applied_at, duration_ms, applied_by, transactional, kind FROM ${qualified(t)} ORDER BY name COLLATE "C"`,
  );
  return rows.map((r) => ({
    name: r.name,
    checksum: r.checksum,
    appliedAt: r.applied_at,
    durationMs: r.duration_ms,
    appliedBy: r.applied_by,
    transactional: r.transactional,
    kind: r.kind,
  }));
}

export interface NewHistoryRow {
  name: string;
  checksum: string;
  durationMs: number;
  appliedBy: string;
  transactional: boolean;
  kind: HistoryKind;
}

export async function insertHistory(q: Queryable, t: HistoryTable, row: NewHistoryRow): Promise<void> {
  await q.query(
    `INSERT INTO ${qualified(t)} (name, checksum, duration_ms, applied_by, transactional, kind) VALUES ($1, $2, $3, $4, $5, $6)`,
    [row.name, row.checksum, Math.max(0, Math.round(row.durationMs)), row.appliedBy, row.transactional, row.kind],
  );
}

export async function hasHistoryRow(q: Queryable, t: HistoryTable, name: string): Promise<boolean> {
  const { rows } = await q.query(`SELECT 1 FROM ${qualified(t)} WHERE name = $1`, [name]);
  return rows.length > 0;
}

export async function deleteHistory(q: Queryable, t: HistoryTable, name: string): Promise<void> {
  await q.query(`DELETE FROM ${qualified(t)} WHERE name = $1`, [name]);
}

export async function updateChecksum(q: Queryable, t: HistoryTable, name: string, checksum: string): Promise<void> {
  await q.query(`UPDATE ${qualified(t)} SET checksum = $2 WHERE name = $1`, [name, checksum]);
}
