// Performance validation: runs each probe query a bounded number of times on one read-only
// connection, takes the p95 of the wall times, and asks the planner (with sequential scans
// discouraged) whether an index can serve the query at all. A probe passes when p95 <= threshold and,
// if it needs one, an index is usable: so a dropped index fails even on a small table. A probe can
// also require that, from some table size on, the plan the connection gets with its own settings
// (the database's and role's, as the app's connections get them) really uses the index: an index
// that exists but that the planner passes over fails with the plan's reason, and that session settings
// the query depends on (e.g. hnsw.ef_search for recall) are at least what the schema sets.
import type pg from 'pg';
import type { PgConnector } from '../../adapters/postgres/index.ts';
import { OperatorError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../observability/logger.ts';
import { systemClock, type Clock } from '../../clock.ts';
import { VALIDATION_REASONS } from './reasons.ts';

export interface Probe {
  /** Stable name used in status and metrics, e.g. "wardQuery". */
  name: string;
  /** Key of the threshold this probe is held to. */
  threshold: string;
  /** Whether the plan must be able to use an index. */
  requiresIndex: boolean;
  /**
   * The indexes built for this query: with requiresIndex, the plan must use one of these (any index when
   * absent). Naming them matters: without ix_post_city_created the ward query still finds ix_post_created_at.
   */
  indexes?: readonly string[];
  /**
   * From `rows` rows in `table` on (the planner's estimate), the plan with the connection's own settings
   * must use one of `indexes`; below that a sequential scan can be the right plan.
   */
  planMustUseIndexFrom?: { table: string; rows: number };
  /**
   * Numeric session settings the query needs at least, as the connection gets them (database and role
   * defaults), checked whenever the probe runs; `why` ends the failure message (where the value should
   * come from).
   */
  settingsAtLeast?: Readonly<Record<string, { value: number; why: string }>>;
  /** Parameters for the query, read from the database (a real ward, a real embedding); undefined skips the probe. */
  parameters(client: pg.Client): Promise<unknown[] | undefined>;
  sql: string;
  /** The query for this database's schema when it depends on it (e.g. on the migration level); default `sql`. */
  sqlFor?(client: pg.Client): Promise<string>;
}

export interface ProbeResult {
  query: string;
  p95Ms: number;
  thresholdMs: number;
  usesIndex: boolean;
  /** The index the plan can use (the expected one when the probe names some). */
  index?: string;
  /** Set when the probe needs an index and the plan cannot use one: what it should have used. */
  missingIndex?: string;
  /** Set when the index is usable but the plan with the connection's settings does not use it, e.g. "does not use ix_a: Seq Scan on t". */
  planReason?: string;
  /** Set when a setting of `settingsAtLeast` is lower on the connection, e.g. "hnsw.ef_search is 40, below 300 (...)". */
  settingReason?: string;
  passed: boolean;
  samples: number;
  skipped?: string;
}

export interface ValidationResult {
  startedAt: Date;
  durationMs: number;
  results: ProbeResult[];
  passed: boolean;
}

export interface ValidationOptions {
  samples: number;
  thresholds: Readonly<Record<string, number>>;
  statementTimeoutMs?: number;
  logger?: Logger;
  clock?: Clock;
  /** Aborting closes the session and stops between samples. */
  signal?: AbortSignal;
}

export { VALIDATION_REASONS } from './reasons.ts';

const INDEX_NODE = /^(Index Scan|Index Only Scan|Bitmap Index Scan)$/;

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? 0;
}

export async function validatePerformance(connector: PgConnector, probes: readonly Probe[], options: ValidationOptions): Promise<ValidationResult> {
  const logger = options.logger ?? silentLogger;
  const startedAt = (options.clock ?? systemClock).now();
  const began = performance.now();
  // A fresh session: the plans and settings measured are the ones the app's own new connections get.
  const client = await connector.connect({
    fresh: true,
    applicationName: 'lokdarpan-validation',
    ...(options.signal ? { signal: options.signal } : {}),
    sessionSettings: { statement_timeout: `${options.statementTimeoutMs ?? 5_000}ms`, default_transaction_read_only: 'on' },
  });
  try {
    const results: ProbeResult[] = [];
    for (const probe of probes) {
      const thresholdMs = options.thresholds[probe.threshold] ?? Number.POSITIVE_INFINITY;
      try {
        const params = await probe.parameters(client);
        if (params === undefined) {
          results.push({ query: probe.name, p95Ms: 0, thresholdMs, usesIndex: false, passed: true, samples: 0, skipped: 'no data to query yet' });
          continue;
        }
        const sql = probe.sqlFor === undefined ? probe.sql : await probe.sqlFor(client);
        const index = await usableIndex(client, sql, params, probe.indexes);
        const large = await tableIsLarge(client, probe);
        const planReason = index === undefined || !large ? undefined : await planPassesOverIndex(client, probe, sql, params);
        const settingReason = await settingsBelow(client, probe);
        const usesIndex = index !== undefined && planReason === undefined;
        const timings: number[] = [];
        for (let i = 0; i < options.samples; i++) {
          options.signal?.throwIfAborted();
          const t0 = performance.now();
          await client.query(sql, params);
          timings.push(performance.now() - t0);
        }
        const p95Ms = Math.round(percentile(timings, 95) * 100) / 100;
        const passed = p95Ms <= thresholdMs && (usesIndex || !probe.requiresIndex) && settingReason === undefined;
        const missingIndex = probe.requiresIndex && index === undefined ? (probe.indexes?.join(' or ') ?? 'an index') : undefined;
        const result = {
          query: probe.name, p95Ms, thresholdMs, usesIndex,
          ...(index === undefined ? {} : { index }),
          ...(missingIndex === undefined ? {} : { missingIndex }),
          ...(planReason === undefined ? {} : { planReason }),
          ...(settingReason === undefined ? {} : { settingReason }),
          passed, samples: timings.length,
        };
        logger.info(result, 'performance probe measured');
        results.push(result);
      } catch (error) {
        options.signal?.throwIfAborted();
        throw new OperatorError(VALIDATION_REASONS.ValidationQueryFailed, `performance probe ${probe.name} failed: ${(error as Error).message}`, { cause: error });
      }
    }
    return { startedAt, durationMs: Math.round(performance.now() - began), results, passed: results.every((r) => r.passed) };
  } finally {
    await client.end().catch(() => {});
  }
}

/** The index (one of `expected`, when given) that an index scan in the plan uses, if any. */
async function usableIndex(client: pg.Client, sql: string, params: unknown[], expected: readonly string[] | undefined): Promise<string | undefined> {
  await client.query('BEGIN');
  try {
    await client.query('SET LOCAL enable_seqscan = off');
    const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    const used = indexScans(rows[0]?.['QUERY PLAN']);
    return expected === undefined ? used[0] : used.find((name) => expected.includes(name));
  } finally {
    await client.query('ROLLBACK');
  }
}

/** Whether the probe has `planMustUseIndexFrom` and its table holds at least that many rows (planner estimate). */
async function tableIsLarge(client: pg.Client, probe: Probe): Promise<boolean> {
  const rule = probe.planMustUseIndexFrom;
  if (rule === undefined) return false;
  const { rows: sized } = await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) SELECT FROM ${quoteIdent(rule.table)}`);
  const estimated = planNodes(sized[0]?.['QUERY PLAN'])[0]?.['Plan Rows'];
  return typeof estimated === 'number' && estimated >= rule.rows;
}

/**
 * For a probe with `planMustUseIndexFrom`, on a table at least that big: undefined when the plan the
 * connection gets with its own settings uses one of the probe's indexes, else why not
 * ("does not use ix_a: Seq Scan on t").
 */
async function planPassesOverIndex(client: pg.Client, probe: Probe, sql: string, params: unknown[]): Promise<string | undefined> {
  const rule = probe.planMustUseIndexFrom;
  if (rule === undefined) return undefined;
  const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  const plan = rows[0]?.['QUERY PLAN'];
  const used = indexScans(plan);
  if (probe.indexes === undefined ? used.length > 0 : used.some((name) => probe.indexes!.includes(name))) return undefined;
  return `does not use ${probe.indexes?.join(' or ') ?? 'an index'}: ${describeScans(plan, rule.table)}`;
}

/** The first of the probe's `settingsAtLeast` that the connection has lower (or not at all), as a reason. */
async function settingsBelow(client: pg.Client, probe: Probe): Promise<string | undefined> {
  for (const [name, { value, why }] of Object.entries(probe.settingsAtLeast ?? {})) {
    const { rows } = await client.query<{ v: string | null }>('SELECT current_setting($1, true) AS v', [name]);
    const current = rows[0]?.v ?? null;
    if (current === null || !(Number(current) >= value)) return `${name} is ${current ?? 'not set'}, below ${value} (${why})`;
  }
  return undefined;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Every node of an EXPLAIN (FORMAT JSON) plan, depth first, parents before children. */
function planNodes(plan: unknown): Array<Record<string, unknown>> {
  const found: Array<Record<string, unknown>> = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (typeof record['Node Type'] === 'string') found.push(record);
    for (const value of Object.values(record)) if (typeof value === 'object') visit(value);
  };
  visit(plan);
  return found;
}

/** Names of the indexes that index-scan nodes of an EXPLAIN (FORMAT JSON) plan use. */
export function indexScans(plan: unknown): string[] {
  return planNodes(plan)
    .filter((n) => INDEX_NODE.test(n['Node Type'] as string) && typeof n['Index Name'] === 'string')
    .map((n) => n['Index Name'] as string);
}

/** How a plan reads `table`, e.g. "Seq Scan on ai_embedding_store" (or the plan's top node when it names no scan of it). */
export function describeScans(plan: unknown, table: string): string {
  const nodes = planNodes(plan);
  const scans = nodes
    .filter((n) => n['Relation Name'] === table)
    .map((n) => `${n['Node Type'] as string}${typeof n['Index Name'] === 'string' ? ` using ${n['Index Name']}` : ''} on ${table}`);
  if (scans.length > 0) return [...new Set(scans)].join(', ');
  return typeof nodes[0]?.['Node Type'] === 'string' ? (nodes[0]['Node Type'] as string) : 'no plan';
}

/** A one-line summary of failing probes for a condition message. */
export function describeFailures(results: readonly ProbeResult[]): string {
  return results
    .filter((r) => !r.passed)
    .map((r) => {
      const reasons = [r.planReason, r.settingReason].filter((x) => x !== undefined);
      if (r.p95Ms > r.thresholdMs) return `${r.query} p95 ${r.p95Ms} ms > ${r.thresholdMs} ms${reasons.length === 0 ? '' : ` (${reasons.join('; ')})`}`;
      if (reasons.length > 0) return `${r.query} ${reasons.join('; ')} (p95 ${r.p95Ms} ms, threshold ${r.thresholdMs} ms)`;
      return `${r.query} cannot use ${r.missingIndex ?? 'an index'} (p95 ${r.p95Ms} ms, threshold ${r.thresholdMs} ms)`;
    })
    .join('; ');
}
