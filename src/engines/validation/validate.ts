// Performance validation: runs each probe query a bounded number of times on one read-only
// connection, takes the p95 of the wall times, and asks the planner (with sequential scans
// discouraged) whether an index can serve the query at all. A probe passes when p95 <= threshold and,
// if it needs one, an index is usable: so a dropped index fails even on a small table.
import type pg from 'pg';
import type { PgConnector } from '../../adapters/postgres/index.ts';
import { OperatorError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../observability/logger.ts';
import { systemClock, type Clock } from '../../clock.ts';

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
  /** Parameters for the query, read from the database (a real ward, a real embedding); undefined skips the probe. */
  parameters(client: pg.Client): Promise<unknown[] | undefined>;
  sql: string;
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

export const VALIDATION_REASONS = { ValidationQueryFailed: 'ValidationQueryFailed' } as const;

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
  const client = await connector.connect({
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
        const index = await usableIndex(client, probe.sql, params, probe.indexes);
        const usesIndex = index !== undefined;
        const timings: number[] = [];
        for (let i = 0; i < options.samples; i++) {
          options.signal?.throwIfAborted();
          const t0 = performance.now();
          await client.query(probe.sql, params);
          timings.push(performance.now() - t0);
        }
        const p95Ms = Math.round(percentile(timings, 95) * 100) / 100;
        const passed = p95Ms <= thresholdMs && (usesIndex || !probe.requiresIndex);
        const missingIndex = probe.requiresIndex && !usesIndex ? (probe.indexes?.join(' or ') ?? 'an index') : undefined;
        const result = {
          query: probe.name, p95Ms, thresholdMs, usesIndex,
          ...(index === undefined ? {} : { index }),
          ...(missingIndex === undefined ? {} : { missingIndex }),
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

/** Names of the indexes that index-scan nodes of an EXPLAIN (FORMAT JSON) plan use. */
export function indexScans(plan: unknown): string[] {
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (typeof record['Node Type'] === 'string' && INDEX_NODE.test(record['Node Type']) && typeof record['Index Name'] === 'string') {
      found.push(record['Index Name']);
    }
    for (const value of Object.values(record)) if (typeof value === 'object') visit(value);
  };
  visit(plan);
  return found;
}

/** A one-line summary of failing probes for a condition message. */
export function describeFailures(results: readonly ProbeResult[]): string {
  return results
    .filter((r) => !r.passed)
    .map((r) => (r.p95Ms > r.thresholdMs ? `${r.query} p95 ${r.p95Ms} ms > ${r.thresholdMs} ms` : `${r.query} cannot use ${r.missingIndex ?? 'an index'} (p95 ${r.p95Ms} ms, threshold ${r.thresholdMs} ms)`))
    .join('; ');
}
