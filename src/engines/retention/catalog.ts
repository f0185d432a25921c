// Checks every rule against the database catalog (pg_catalog) before any statement that changes data
// runs: the table must be an ordinary table, every column must exist with a type that fits its use, and
// the table needs a single-column primary key for keyed batches. Names are only ever compared as bound
// parameters here and quoted as identifiers later.
import type { Queryable } from '../../adapters/postgres/session.ts';
import { OperatorError } from '../../errors.ts';
import { RetentionReasons } from './reasons.ts';
import type { RetentionRule } from './rules.ts';
import type { Reason } from '../../reasons/index.ts';

export interface ColumnInfo {
  name: string;
  /** pg_type.typname, e.g. timestamptz, int4, varchar, bool. */
  typeName: string;
  /** pg_type.typcategory: D date/time, N numeric, S string, B boolean, E enum, U user/uuid/json... */
  category: string;
  notNull: boolean;
}

export interface TableInfo {
  schema: string;
  table: string;
  columns: ReadonlyMap<string, ColumnInfo>;
  /** The primary key when it is a single column. */
  primaryKey: ColumnInfo | undefined;
  primaryKeyColumns: readonly string[];
}

/** A rule whose names all exist, with what the SQL builder needs to know about its table. */
export interface ResolvedRule {
  rule: RetentionRule;
  table: TableInfo;
  primaryKey: ColumnInfo;
}

const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema', 'pg_toast']);
/** Column types a filter may compare (scalars with ordinary equality and ordering). */
const COMPARABLE_CATEGORIES = new Set(['S', 'N', 'B', 'D', 'E']);
const COMPARABLE_TYPES = new Set(['uuid']);
const KEY_TYPES = new Set(['int2', 'int4', 'int8', 'uuid', 'text', 'varchar', 'bpchar', 'numeric']);

export async function readTable(db: Queryable, schema: string, table: string): Promise<TableInfo | undefined> {
  const rel = await db.query<{ oid: number }>(
    `SELECT c.oid::int8 AS oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [schema, table],
  );
  const oid = rel.rows[0]?.oid;
  if (oid === undefined) return undefined;
  const cols = await db.query<{ name: string; type_name: string; category: string; not_null: boolean }>(
    `SELECT a.attname AS name, t.typname AS type_name, t.typcategory AS category, a.attnotnull AS not_null
       FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [oid],
  );
  const pk = await db.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_catalog.pg_index i
       JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
       JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1::oid AND i.indisprimary ORDER BY k.ord`,
    [oid],
  );
  const columns = new Map<string, ColumnInfo>();
  for (const row of cols.rows) {
    columns.set(row.name, { name: row.name, typeName: row.type_name, category: row.category, notNull: row.not_null });
  }
  const primaryKeyColumns = pk.rows.map((r) => r.name);
  const onlyKey = primaryKeyColumns.length === 1 ? columns.get(primaryKeyColumns[0] ?? '') : undefined;
  return { schema, table, columns, primaryKey: onlyKey, primaryKeyColumns };
}

export interface ResolveOptions {
  /** "schema.table" names no rule may touch. */
  protectedTables: readonly string[];
}

/**
 * Resolves all rules or none: the first problem throws a terminal OperatorError. Only catalog reads
 * happen here.
 */
export async function resolveRules(db: Queryable, rules: readonly RetentionRule[], options: ResolveOptions): Promise<ResolvedRule[]> {
  const cache = new Map<string, TableInfo | undefined>();
  const resolved: ResolvedRule[] = [];
  for (const rule of rules) {
    const schema = rule.schema ?? 'public';
    const qualified = `${schema}.${rule.table}`;
    const fail = (reason: Reason, message: string): never => {
      throw new OperatorError(reason, `retention rule "${rule.name}": ${message}`, { terminal: true, details: { rule: rule.name, table: qualified } });
    };
    if (SYSTEM_SCHEMAS.has(schema) || schema.startsWith('pg_')) fail(RetentionReasons.RetentionTableProtected, `schema "${schema}" is a system schema`);
    if (options.protectedTables.includes(qualified)) fail(RetentionReasons.RetentionTableProtected, `table ${qualified} is protected from retention`);
    if (!cache.has(qualified)) cache.set(qualified, await readTable(db, schema, rule.table));
    const table = cache.get(qualified);
    if (table === undefined) return fail(RetentionReasons.RetentionUnknownTable, `table ${qualified} does not exist (or is not an ordinary table)`);

    const column = (name: string, use: string): ColumnInfo => {
      const info = table.columns.get(name);
      if (info === undefined) return fail(RetentionReasons.RetentionUnknownColumn, `table ${qualified} has no column "${name}" (used as ${use})`);
      return info;
    };
    const mismatch = (info: ColumnInfo, use: string, wanted: string): never =>
      fail(RetentionReasons.RetentionColumnTypeMismatch, `column "${info.name}" of ${qualified} is ${info.typeName}, but ${use} needs ${wanted}`);

    if (rule.olderThan) {
      const info = column(rule.olderThan.column, 'olderThan.column');
      if (info.category !== 'D') mismatch(info, 'olderThan', 'a date or timestamp column');
    }
    if (rule.expiresAtColumn !== undefined) {
      const info = column(rule.expiresAtColumn, 'expiresAtColumn');
      if (info.category !== 'D') mismatch(info, 'expiresAtColumn', 'a date or timestamp column');
    }
    for (const filter of rule.filters ?? []) {
      const info = column(filter.column, `filter ${filter.op}`);
      if (filter.op === 'isNull' || filter.op === 'isNotNull') continue;
      if (!COMPARABLE_CATEGORIES.has(info.category) && !COMPARABLE_TYPES.has(info.typeName)) {
        mismatch(info, `filter ${filter.op}`, 'a scalar column (text, number, boolean, time, enum, uuid)');
      }
      if (filter.ago !== undefined && info.category !== 'D') mismatch(info, 'a filter with ago', 'a date or timestamp column');
      if (info.category === 'B' && filter.op !== 'eq' && filter.op !== 'ne') mismatch(info, `filter ${filter.op}`, 'eq or ne on a boolean');
    }
    if (rule.mark) {
      const info = column(rule.mark.column, 'mark.column');
      if (info.typeName !== 'bool') mismatch(info, 'mark.column', 'a boolean column');
      for (const set of rule.mark.set ?? []) {
        column(set.column, 'mark.set');
        if (table.primaryKeyColumns.includes(set.column)) fail(RetentionReasons.RetentionRuleInvalid, `mark.set may not change the primary key "${set.column}"`);
        if (set.column === rule.mark.column) fail(RetentionReasons.RetentionRuleInvalid, `mark.set repeats mark.column "${set.column}"`);
      }
    }
    const primaryKey = table.primaryKey;
    if (primaryKey === undefined) {
      return fail(
        RetentionReasons.RetentionNoPrimaryKey,
        table.primaryKeyColumns.length === 0
          ? `table ${qualified} has no primary key; batches are keyed by a single-column primary key`
          : `table ${qualified} has a ${table.primaryKeyColumns.length}-column primary key; batches need a single-column one`,
      );
    }
    if (!KEY_TYPES.has(primaryKey.typeName)) mismatch(primaryKey, 'the batch key', 'an integer, numeric, uuid or text primary key');
    resolved.push({ rule, table, primaryKey });
  }
  return resolved;
}
