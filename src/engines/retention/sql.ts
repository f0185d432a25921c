// Pure SQL building for retention: every name is a catalog-checked identifier quoted with
// pg.escapeIdentifier, every value is a bound parameter. Nothing here touches a database.
import pg from 'pg';
import type { ResolvedRule } from './catalog.ts';
import { parseRetentionDuration, type RetentionFilter } from './rules.ts';

export interface SqlText {
  text: string;
  values: unknown[];
}

const q = (name: string): string => pg.escapeIdentifier(name);

export function qualifiedName(resolved: ResolvedRule): string {
  return `${q(resolved.table.schema)}.${q(resolved.table.table)}`;
}

const COMPARISON = { eq: '=', ne: '<>', lt: '<', le: '<=', gt: '>', ge: '>=' } as const;

/** Collects bound values and hands out $n placeholders. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return `$${this.values.length}${cast === undefined ? '' : `::${cast}`}`;
  }
}

/**
 * The WHERE condition naming the rows a rule expires at `now`: expiry, then every filter, then (for
 * mark) "not already marked". Times are bound as UTC ISO strings cast to timestamptz.
 */
export function buildPredicate(resolved: ResolvedRule, now: Date, params: Params = new Params()): { sql: string; params: Params } {
  const { rule } = resolved;
  const parts: string[] = [];
  const at = (offsetMs: number): string => params.add(new Date(now.getTime() - offsetMs).toISOString(), 'timestamptz');
  if (rule.olderThan) parts.push(`${q(rule.olderThan.column)} < ${at(parseRetentionDuration(rule.olderThan.age))}`);
  if (rule.expiresAtColumn !== undefined) parts.push(`${q(rule.expiresAtColumn)} < ${at(0)}`);
  for (const filter of rule.filters ?? []) parts.push(filterSql(filter, params, at));
  if (rule.action === 'mark' && rule.mark) parts.push(`${q(rule.mark.column)} IS DISTINCT FROM true`);
  return { sql: parts.join(' AND '), params };
}

function filterSql(filter: RetentionFilter, params: Params, at: (offsetMs: number) => string): string {
  const column = q(filter.column);
  let sql: string;
  switch (filter.op) {
    case 'isNull':
      return `${column} IS NULL`;
    case 'isNotNull':
      return `${column} IS NOT NULL`;
    case 'in':
      sql = `${column} = ANY(${params.add((filter.values ?? []).map((v) => String(v)))})`;
      break;
    case 'notIn':
      sql = `${column} <> ALL(${params.add((filter.values ?? []).map((v) => String(v)))})`;
      break;
    default: {
      const right = filter.ago !== undefined ? at(parseRetentionDuration(filter.ago)) : params.add(toParam(filter.value));
      sql = `${column} ${COMPARISON[filter.op]} ${right}`;
    }
  }
  return filter.orNull === true ? `(${sql} OR ${column} IS NULL)` : sql;
}

function toParam(value: string | number | boolean | undefined): string | null {
  return value === undefined ? null : String(value);
}

/** An alias for the target table that no column of it shadows (in PostgreSQL a column wins over an alias). */
export function rowAlias(resolved: ResolvedRule): string {
  let alias = 'retention_row';
  while (resolved.table.columns.has(alias)) alias += '_';
  return alias;
}

export function countSql(resolved: ResolvedRule, now: Date): SqlText {
  const { sql, params } = buildPredicate(resolved, now);
  return { text: `SELECT count(*)::int8 AS n FROM ${qualifiedName(resolved)} WHERE ${sql}`, values: params.values };
}

/**
 * Locks the next batch of expired keys after `after` (keyset order) and skips rows others hold. The
 * delete or update then looks the keys up as an array (`pk = ANY(ARRAY(...))`, an index scan of the
 * primary key): a join on the key made the planner hash the whole table for every batch.
 */
function batchCte(resolved: ResolvedRule, now: Date, batchSize: number, after: string | undefined): { cte: string; params: Params } {
  const { sql, params } = buildPredicate(resolved, now);
  const pk = q(resolved.primaryKey.name);
  const keyset = after === undefined ? '' : ` AND ${pk} > ${params.add(after)}`;
  const cte =
    `SELECT ${pk} AS batch_key FROM ${qualifiedName(resolved)} WHERE ${sql}${keyset} ` +
    `ORDER BY ${pk} LIMIT ${params.add(batchSize, 'int8')} FOR UPDATE SKIP LOCKED`;
  return { cte, params };
}

/**
 * One delete batch: how many rows it removed and the largest key among them (the keyset position of the
 * next batch). Only the count and one key travel back, whatever the batch size.
 */
export function deleteBatchSql(resolved: ResolvedRule, now: Date, batchSize: number, after: string | undefined): SqlText {
  const { cte, params } = batchCte(resolved, now, batchSize, after);
  const pk = q(resolved.primaryKey.name);
  const alias = q(rowAlias(resolved));
  return {
    text:
      `WITH batch AS (${cte}), changed AS (DELETE FROM ${qualifiedName(resolved)} AS ${alias} ` +
      `WHERE ${alias}.${pk} = ANY(ARRAY(SELECT batch_key FROM batch)) RETURNING ${alias}.${pk} AS k) ${BATCH_SUMMARY}`,
    values: params.values,
  };
}

/** One mark batch: sets the mark column (and mark.set columns) on the next batch; returns count and last key. */
export function markBatchSql(resolved: ResolvedRule, now: Date, batchSize: number, after: string | undefined): SqlText {
  const { rule } = resolved;
  if (!rule.mark) throw new Error(`rule ${rule.name} has no mark`);
  const { cte, params } = batchCte(resolved, now, batchSize, after);
  const pk = q(resolved.primaryKey.name);
  const alias = q(rowAlias(resolved));
  const sets = [`${q(rule.mark.column)} = true`, ...(rule.mark.set ?? []).map((s) => `${q(s.column)} = ${params.add(toParam(s.value))}`)];
  return {
    text:
      `WITH batch AS (${cte}), changed AS (UPDATE ${qualifiedName(resolved)} AS ${alias} SET ${sets.join(', ')} ` +
      `WHERE ${alias}.${pk} = ANY(ARRAY(SELECT batch_key FROM batch)) RETURNING ${alias}.${pk} AS k) ${BATCH_SUMMARY}`,
    values: params.values,
  };
}

/** The row a delete or mark batch returns: `n` rows changed, `last` the largest key (null when none). */
export interface BatchSummaryRow {
  n: string;
  last: string | null;
}

// ORDER BY ... LIMIT 1 rather than max(): uuid has no max() aggregate. The key is compared as its own type
// and only then cast to text. A data-modifying CTE runs once however often it is read.
const BATCH_SUMMARY = 'SELECT count(*)::int8 AS n, (SELECT k FROM changed ORDER BY k DESC LIMIT 1)::text AS last FROM changed';

/** The next archive batch: keys and whole rows as JSON text (PostgreSQL's own rendering of each type), locked. */
export function archiveSelectSql(resolved: ResolvedRule, now: Date, batchSize: number, after: string | undefined): SqlText {
  const { sql, params } = buildPredicate(resolved, now);
  const pk = q(resolved.primaryKey.name);
  const alias = q(rowAlias(resolved));
  const keyset = after === undefined ? '' : ` AND ${alias}.${pk} > ${params.add(after)}`;
  return {
    text:
      `SELECT ${alias}.${pk}::text AS pk, to_jsonb(${alias})::text AS doc FROM ${qualifiedName(resolved)} AS ${alias} ` +
      `WHERE ${sql}${keyset} ORDER BY ${alias}.${pk} LIMIT ${params.add(batchSize, 'int8')} FOR UPDATE SKIP LOCKED`,
    values: params.values,
  };
}

/** Deletes exactly the given keys (the rows of a verified archive object). */
export function deleteKeysSql(resolved: ResolvedRule, keys: readonly string[]): SqlText {
  const pk = q(resolved.primaryKey.name);
  return { text: `DELETE FROM ${qualifiedName(resolved)} WHERE ${pk} = ANY(${keyArray(resolved)})`, values: [keys] };
}

/** `$1::<key type>[]`: the key type is a catalog type name from a fixed allow-list (see catalog.ts). */
function keyArray(resolved: ResolvedRule): string {
  return `$1::${resolved.primaryKey.typeName}[]`;
}

/** How many of the given keys still exist (crash recovery of archive batches). */
export function countKeysSql(resolved: ResolvedRule, keys: readonly string[]): SqlText {
  const pk = q(resolved.primaryKey.name);
  return { text: `SELECT count(*)::int8 AS n FROM ${qualifiedName(resolved)} WHERE ${pk} = ANY(${keyArray(resolved)})`, values: [keys] };
}

export { Params };
