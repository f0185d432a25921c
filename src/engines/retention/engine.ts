// The retention engine: checks rules against the catalog, then per rule removes (delete), exports and
// removes (archive) or flags (mark) expired rows in keyed batches sized to a lock-hold target, each its
// own short transaction with lock and statement timeouts, pausing between batches, within a time
// budget. Kubernetes-free: it takes a PostgreSQL session, an optional archive sink, a clock and a logger,
// and returns counts.
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Queryable } from '../../adapters/postgres/session.ts';
import type { Clock } from '../../clock.ts';
import { systemClock } from '../../clock.ts';
import { OperatorError, describeError, isOperatorError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../observability/logger.ts';
import {
  ARCHIVE_FORMAT,
  archiveKeys,
  encodeArchive,
  pendingPrefix,
  sha256Hex,
  toJsonBuffer,
  type ArchiveEncryptor,
  type ArchiveManifest,
  type ArchiveSink,
  type PendingMarker,
} from './archive.ts';
import { resolveRules, type ResolvedRule } from './catalog.ts';
import { RetentionReasons } from './reasons.ts';
import { parseRules, type RetentionAction, type RetentionRule } from './rules.ts';
import { archiveSelectSql, countKeysSql, countSql, deleteBatchSql, deleteKeysSql, markBatchSql, type BatchSummaryRow, type SqlText } from './sql.ts';
import type { Reason } from '../../reasons/index.ts';

export interface RetentionArchiveOptions {
  sink: ArchiveSink;
  encrypt: ArchiveEncryptor;
  /** Key prefix inside the sink (default "retention/"). */
  prefix?: string;
}

export interface RetentionEngineOptions {
  /** One dedicated session (not shared with other work while the engine runs). */
  db: Queryable;
  archive?: RetentionArchiveOptions;
  clock?: Clock;
  logger?: Logger;
  /** Rows in the first batch (default 1000); later batches adapt to `targetBatchMs`. */
  batchSize?: number;
  /**
   * How long one batch transaction should hold its row locks, in ms (default 20): a writer that needs one of
   * the batch's rows waits at most about this long. Each batch's size is the previous size scaled by
   * target / measured duration (at most 2x up, 4x down per batch). 0 keeps every batch at `batchSize`,
   * and so do archive batches: their time is mostly the upload, and each batch is one object.
   */
  targetBatchMs?: number;
  /** Upper bound of an adapted batch (default 50 000 rows). */
  maxBatchSize?: number;
  /** Pause between batches in ms (default 10). */
  pauseMs?: number;
  /** Time budget of one run in ms (default 10 min); a run that reaches it stops cleanly as partial. */
  budgetMs?: number;
  /** lock_timeout of every batch transaction (default 2000 ms). */
  lockTimeoutMs?: number;
  /** statement_timeout of every statement (default 30 000 ms). */
  statementTimeoutMs?: number;
  /** Retries of a batch that hit a lock or statement timeout, a deadlock or serialization failure (default 3). */
  maxBatchRetries?: number;
  /** "schema.table" names no rule may name (default ["public.post"]: posts are never deleted). */
  protectedTables?: readonly string[];
  /** Count matching rows before a run (default true); the count is reported as `matched`. */
  countBeforeRun?: boolean;
  /** Injected for tests; defaults to a real timer. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Stops the run: checked before every batch and rule, and it cuts pauses short. An aborted run throws the
   * signal's reason (no further statement is sent); the caller closes the session, which rolls back the batch.
   */
  signal?: AbortSignal;
}

export interface RuleOutcome {
  rule: string;
  table: string;
  action: RetentionAction;
  /** Rows matching the rule when the run (or plan) started; null when not counted. */
  matched: number | null;
  deleted: number;
  archived: number;
  marked: number;
  batches: number;
  durationMs: number;
  /** The longest batch (its transaction, including the archive upload), in ms; set by run(). */
  maxBatchMs?: number;
  /** The most rows one batch handled; set by run(). */
  maxBatchRows?: number;
  /** True when the rule stopped before it ran out of rows (budget reached, error, busy). */
  partial: boolean;
  /** Archive objects written and committed in this run. */
  objects: string[];
  error?: { reason: Reason; message: string };
}

export interface RetentionTotals {
  matched: number;
  deleted: number;
  archived: number;
  marked: number;
  batches: number;
}

export interface RetentionRunResult {
  runId: string;
  dryRun: boolean;
  startedAt: string;
  durationMs: number;
  /** complete: every rule ran out of rows; partial: the budget ended the run; failed: a rule failed. */
  status: 'complete' | 'partial' | 'failed';
  partial: boolean;
  rules: RuleOutcome[];
  totals: RetentionTotals;
}

export interface PlannedRule {
  rule: string;
  table: string;
  action: RetentionAction;
  matched: number;
  /** The WHERE condition with $n placeholders and the bound values, for display. */
  where: SqlText;
}

export interface RetentionPlan {
  at: string;
  rules: PlannedRule[];
  totals: { matched: number };
}

export interface RetentionEngine {
  /** Validates the rules (schema + catalog) and counts matching rows in a read-only transaction. */
  plan(rules: unknown): Promise<RetentionPlan>;
  /** Runs the rules; with dryRun it only plans and reports zero changes. */
  run(rules: unknown, options?: { dryRun?: boolean }): Promise<RetentionRunResult>;
  /** Validation only (schema + catalog); throws the first problem as a terminal OperatorError. */
  validate(rules: unknown): Promise<readonly RetentionRule[]>;
}

/** Tables no rule may name unless the engine is told otherwise: posts are never deleted. */
export const DEFAULT_PROTECTED_TABLES: readonly string[] = ['public.post'];

/** Lock-hold target of one batch: well under the 50 ms an application write should ever wait. */
export const DEFAULT_TARGET_BATCH_MS = 20;

const RETRYABLE_SQLSTATES = new Set(['55P03', '57014', '40001', '40P01']);
const ADVISORY_NAMESPACE = 0x4c6b4472; // "LkDr"

export function createRetentionEngine(options: RetentionEngineOptions): RetentionEngine {
  const db = options.db;
  const clock = options.clock ?? systemClock;
  const logger = (options.logger ?? silentLogger).child({ engine: 'retention' });
  const batchSize = positiveInt(options.batchSize ?? 1000, 'batchSize');
  const targetBatchMs = options.targetBatchMs ?? DEFAULT_TARGET_BATCH_MS;
  if (!Number.isFinite(targetBatchMs) || targetBatchMs < 0) throw new Error(`retention option targetBatchMs must be 0 or more, got ${targetBatchMs}`);
  const maxBatchSize = Math.max(batchSize, positiveInt(options.maxBatchSize ?? 50_000, 'maxBatchSize'));
  const pauseMs = options.pauseMs ?? 10;
  const budgetMs = options.budgetMs ?? 10 * 60_000;
  const lockTimeoutMs = positiveInt(options.lockTimeoutMs ?? 2000, 'lockTimeoutMs');
  const statementTimeoutMs = positiveInt(options.statementTimeoutMs ?? 30_000, 'statementTimeoutMs');
  const maxBatchRetries = options.maxBatchRetries ?? 3;
  const protectedTables = options.protectedTables ?? DEFAULT_PROTECTED_TABLES;
  const countBeforeRun = options.countBeforeRun ?? true;
  const signal = options.signal;
  const sleep = async (ms: number): Promise<void> => {
    signal?.throwIfAborted();
    if (options.sleep) await options.sleep(ms);
    else await delay(ms, undefined, signal ? { signal } : {}).catch((error: unknown) => {
      throw signal?.aborted ? signal.reason : error;
    });
    signal?.throwIfAborted();
  };
  const archivePrefix = options.archive?.prefix ?? 'retention/';
  // Every explicit transaction (counts, archive batches): bounded lock waits and statements, UTC for timestamp-without-time-zone columns,
  // and no lock held forever by a stalled engine.
  const txSettings =
    `SET LOCAL lock_timeout = '${lockTimeoutMs}ms'; SET LOCAL statement_timeout = '${statementTimeoutMs}ms'; ` +
    `SET LOCAL idle_in_transaction_session_timeout = '${Math.max(statementTimeoutMs * 2, 60_000)}ms'; SET LOCAL TimeZone = 'UTC'`;

  async function validate(input: unknown): Promise<readonly RetentionRule[]> {
    const rules = parseRules(input);
    await resolveAll(rules);
    return rules;
  }

  async function resolveAll(rules: readonly RetentionRule[]): Promise<ResolvedRule[]> {
    const resolved = await resolveRules(db, rules, { protectedTables });
    const archiving = resolved.find((r) => r.rule.action === 'archive');
    if (archiving && options.archive === undefined) {
      throw new OperatorError(
        RetentionReasons.RetentionArchiveNotConfigured,
        `retention rule "${archiving.rule.name}" archives rows, but no archive destination and recipients are configured`,
        { terminal: true },
      );
    }
    return resolved;
  }

  async function plan(input: unknown): Promise<RetentionPlan> {
    const rules = parseRules(input);
    const resolved = await resolveAll(rules);
    const now = clock.now();
    const planned: PlannedRule[] = [];
    await db.query(`BEGIN READ ONLY; ${txSettings}`);
    try {
      for (const r of resolved) {
        const sql = countSql(r, now);
        const result = await db.query<{ n: string }>(sql.text, sql.values);
        planned.push({
          rule: r.rule.name,
          table: `${r.table.schema}.${r.table.table}`,
          action: r.rule.action,
          matched: Number(result.rows[0]?.n ?? 0),
          where: { text: sql.text.replace(/^.* WHERE /s, ''), values: sql.values },
        });
      }
    } finally {
      await db.query('ROLLBACK').catch(() => {});
    }
    return { at: now.toISOString(), rules: planned, totals: { matched: planned.reduce((sum, p) => sum + p.matched, 0) } };
  }

  async function run(input: unknown, runOptions: { dryRun?: boolean } = {}): Promise<RetentionRunResult> {
    const runId = randomUUID();
    const started = clock.now();
    const log = logger.child({ runId });
    if (runOptions.dryRun === true) {
      const planned = await plan(input);
      const rules = planned.rules.map((p) => ({ ...emptyOutcome(p.rule, p.table, p.action), matched: p.matched }));
      return finish(runId, true, started, rules);
    }
    const rules = parseRules(input);
    const resolved = await resolveAll(rules);
    const deadline = started.getTime() + budgetMs;
    const outcomes: RuleOutcome[] = [];
    for (const r of resolved) {
      signal?.throwIfAborted();
      const outcome = emptyOutcome(r.rule.name, `${r.table.schema}.${r.table.table}`, r.rule.action);
      outcomes.push(outcome);
      const ruleStart = clock.now().getTime();
      if (ruleStart >= deadline) {
        outcome.partial = true;
        continue;
      }
      const locked = await tryLock(r.rule.name);
      if (!locked) {
        outcome.partial = true;
        outcome.error = { reason: RetentionReasons.RetentionRuleBusy, message: `rule "${r.rule.name}" is being run by another session; skipped` };
        continue;
      }
      try {
        await runRule(r, outcome, deadline, runId, log.child({ rule: r.rule.name }));
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        outcome.partial = true;
        outcome.error = {
          reason: isOperatorError(error) ? error.reason : RetentionReasons.RetentionBatchFailed,
          message: `rule "${r.rule.name}": ${describeError(error)}`,
        };
        log.error({ rule: r.rule.name, err: describeError(error) }, 'retention rule failed');
      } finally {
        await unlock(r.rule.name);
        outcome.durationMs = clock.now().getTime() - ruleStart;
      }
    }
    const result = finish(runId, false, started, outcomes);
    log.info({ status: result.status, totals: result.totals, durationMs: result.durationMs }, 'retention run finished');
    return result;
  }

  function finish(runId: string, dryRun: boolean, started: Date, rules: RuleOutcome[]): RetentionRunResult {
    const totals: RetentionTotals = { matched: 0, deleted: 0, archived: 0, marked: 0, batches: 0 };
    for (const r of rules) {
      totals.matched += r.matched ?? 0;
      totals.deleted += r.deleted;
      totals.archived += r.archived;
      totals.marked += r.marked;
      totals.batches += r.batches;
    }
    const failed = rules.some((r) => r.error !== undefined && r.error.reason !== RetentionReasons.RetentionRuleBusy);
    const partial = rules.some((r) => r.partial);
    return {
      runId,
      dryRun,
      startedAt: started.toISOString(),
      durationMs: clock.now().getTime() - started.getTime(),
      status: failed ? 'failed' : partial ? 'partial' : 'complete',
      partial,
      rules,
      totals,
    };
  }

  async function runRule(r: ResolvedRule, outcome: RuleOutcome, deadline: number, runId: string, log: Logger): Promise<void> {
    const now = clock.now();
    if (r.rule.action === 'archive') await recoverPending(r, runId, log);
    if (countBeforeRun) {
      // Informational only: a count that times out on a huge table must not stop the deletion.
      const sql = countSql(r, now);
      try {
        outcome.matched = Number((await inTransaction((tx) => tx.query<{ n: string }>(sql.text, sql.values))).rows[0]?.n ?? 0);
      } catch (error) {
        if (sqlStateOf(error) !== '57014') throw error;
        log.warn({ err: describeError(error) }, 'counting the matching rows timed out; running without a count');
      }
    }
    // Delete and mark batches are single statements: each runs in autocommit under session settings set
    // once here, one round trip per batch instead of BEGIN, statement and COMMIT (archive batches span an
    // upload, so they keep their explicit transaction).
    const restoreSettings = r.rule.action === 'archive' ? undefined : await applySessionSettings();
    try {
      await batchLoop(r, outcome, deadline, now, runId, log);
    } finally {
      await restoreSettings?.();
    }
  }

  async function batchLoop(r: ResolvedRule, outcome: RuleOutcome, deadline: number, now: Date, runId: string, log: Logger): Promise<void> {
    let after: string | undefined;
    let size = batchSize;
    for (;;) {
      signal?.throwIfAborted();
      if (clock.now().getTime() >= deadline) {
        outcome.partial = true;
        log.info({ batches: outcome.batches }, 'retention budget reached; stopping the rule');
        return;
      }
      const batchStart = clock.now().getTime();
      const limit = size;
      const batch = await withRetries(() => runBatch(r, now, limit, after, outcome, runId), log);
      const batchMs = clock.now().getTime() - batchStart;
      outcome.maxBatchMs = Math.max(outcome.maxBatchMs ?? 0, batchMs);
      if (batch.count === 0 || batch.last === undefined) return;
      log.debug({ rows: batch.count, limit, ms: batchMs }, 'retention batch');
      outcome.batches += 1;
      outcome.maxBatchRows = Math.max(outcome.maxBatchRows ?? 0, batch.count);
      after = batch.last;
      if (batch.count < limit) return;
      if (r.rule.action !== 'archive') size = nextBatchSize(limit, batchMs, targetBatchMs, maxBatchSize);
      if (pauseMs > 0) await sleep(pauseMs);
    }
  }

  /** One batch of at most `limit` rows: how many it handled and the largest key (undefined: nothing left). */
  async function runBatch(r: ResolvedRule, now: Date, limit: number, after: string | undefined, outcome: RuleOutcome, runId: string): Promise<BatchResult> {
    if (r.rule.action === 'archive') {
      const keys = await archiveBatch(r, now, limit, after, outcome, runId);
      return { count: keys.length, last: keys[keys.length - 1] };
    }
    const sql = r.rule.action === 'mark' ? markBatchSql(r, now, limit, after) : deleteBatchSql(r, now, limit, after);
    const row = (await db.query<BatchSummaryRow>(sql.text, sql.values)).rows[0];
    const count = Number(row?.n ?? 0);
    if (r.rule.action === 'mark') outcome.marked += count;
    else outcome.deleted += count;
    return { count, last: row?.last ?? undefined };
  }

  async function archiveBatch(r: ResolvedRule, now: Date, limit: number, after: string | undefined, outcome: RuleOutcome, runId: string): Promise<string[]> {
    const archive = options.archive;
    if (archive === undefined) throw new OperatorError(RetentionReasons.RetentionArchiveNotConfigured, 'no archive destination configured', { terminal: true });
    const { sink } = archive;
    let keys: string[] = [];
    let objectKeys: ReturnType<typeof archiveKeys> | undefined;
    let commitSent = false;
    await db.query(`BEGIN; ${txSettings}`);
    try {
      const select = archiveSelectSql(r, now, limit, after);
      const rows = (await db.query<{ pk: string; doc: string }>(select.text, select.values)).rows;
      if (rows.length === 0) {
        await db.query('COMMIT');
        return [];
      }
      keys = rows.map((row) => row.pk);
      const first = keys[0] ?? '';
      const last = keys[keys.length - 1] ?? '';
      objectKeys = archiveKeys(archivePrefix, r, first, last);
      const marker: PendingMarker = {
        version: 1, state: 'pending', rule: r.rule.name, schema: r.table.schema, table: r.table.table,
        primaryKey: r.primaryKey.name, dataKey: objectKeys.data, keys, runId, createdAt: clock.now().toISOString(),
      };
      await sink.put(objectKeys.pending, toJsonBuffer(marker));
      const body = await encodeArchive(rows.map((row) => row.doc), archive.encrypt);
      const written = await sink.put(objectKeys.data, body);
      if (written.sha256 !== sha256Hex(body) || !(await sink.verify(objectKeys.data, written.sha256))) {
        throw new OperatorError(RetentionReasons.RetentionArchiveVerifyFailed, `archive object ${objectKeys.data} did not read back intact; nothing deleted`);
      }
      const del = deleteKeysSql(r, keys);
      const deleted = await db.query(del.text, del.values);
      if (deleted.rowCount !== keys.length) {
        throw new OperatorError(RetentionReasons.RetentionBatchFailed, `expected to delete ${keys.length} archived rows, deleted ${deleted.rowCount}; rolled back`);
      }
      commitSent = true;
      await db.query('COMMIT');
      const manifest: ArchiveManifest = {
        version: 1, state: 'committed', format: ARCHIVE_FORMAT, rule: r.rule.name, schema: r.table.schema, table: r.table.table,
        primaryKey: r.primaryKey.name, dataKey: objectKeys.data, firstKey: first, lastKey: last, count: keys.length,
        sha256: written.sha256, size: written.size, runId, committedAt: clock.now().toISOString(),
      };
      await sink.put(objectKeys.manifest, toJsonBuffer(manifest));
      await sink.delete(objectKeys.pending);
      outcome.archived += keys.length;
      outcome.deleted += keys.length;
      outcome.objects.push(objectKeys.data);
      return keys;
    } catch (error) {
      if (!commitSent) {
        await db.query('ROLLBACK').catch(() => {});
        // Rolled back for certain: the object (if written) names rows that still exist. Remove it now;
        // if this fails too, the pending marker lets the next run's recovery do it.
        if (objectKeys) {
          const k = objectKeys;
          await sink.delete(k.data).then(() => sink.delete(k.pending)).catch(() => {});
        }
        throw error;
      }
      // COMMIT's outcome is unknown (or the manifest write failed): leave the pending marker for recovery.
      throw new OperatorError(RetentionReasons.RetentionBatchFailed, `archive batch ended uncertainly (${describeError(error)}); the next run resolves it`, {
        cause: error,
        terminal: true,
      });
    }
  }

  /**
   * Resolves batches a crashed run left in flight: if any of a marker's rows still exists the delete
   * never committed (it is one transaction), so the object is dropped and the rows will be archived
   * again; if none exists the delete committed, so the manifest is written now.
   */
  async function recoverPending(r: ResolvedRule, runId: string, log: Logger): Promise<void> {
    const archive = options.archive;
    if (archive === undefined) return;
    const { sink } = archive;
    for (const markerKey of await sink.list(pendingPrefix(archivePrefix, r))) {
      const raw = await sink.get(markerKey);
      if (raw === undefined) continue;
      const marker = JSON.parse(raw.toString('utf8')) as PendingMarker;
      const sql = countKeysSql(r, marker.keys);
      const remaining = Number((await inTransaction((tx) => tx.query<{ n: string }>(sql.text, sql.values))).rows[0]?.n ?? 0);
      if (remaining > 0) {
        await sink.delete(marker.dataKey);
        await sink.delete(markerKey);
        log.warn({ object: marker.dataKey, rows: marker.keys.length }, 'dropped the archive object of a batch that never committed');
        continue;
      }
      const data = await sink.get(marker.dataKey);
      if (data === undefined) {
        throw new OperatorError(
          RetentionReasons.RetentionArchiveVerifyFailed,
          `pending archive batch ${markerKey}: its rows are gone but its object ${marker.dataKey} is missing; left for an operator to inspect`,
          { terminal: true },
        );
      }
      const sorted = marker.keys; // written in key order by the batch that made the marker
      const manifest: ArchiveManifest = {
        version: 1, state: 'committed', format: ARCHIVE_FORMAT, rule: marker.rule, schema: marker.schema, table: marker.table,
        primaryKey: marker.primaryKey, dataKey: marker.dataKey, firstKey: sorted[0] ?? '', lastKey: sorted[sorted.length - 1] ?? '',
        count: marker.keys.length, sha256: sha256Hex(data), size: data.length, runId, committedAt: clock.now().toISOString(), recovered: true,
      };
      await sink.put(marker.dataKey.replace(/\.ndjson\.zst\.age$/, '.manifest.json'), toJsonBuffer(manifest));
      await sink.delete(markerKey);
      log.info({ object: marker.dataKey, rows: marker.keys.length }, 'completed the manifest of a batch committed before a crash');
    }
  }

  /** Sets the batch settings for the session (see txSettings); returns what puts the previous values back. */
  async function applySessionSettings(): Promise<() => Promise<void>> {
    const saved = (
      await db.query<{ lt: string; st: string; tz: string }>(
        "SELECT current_setting('lock_timeout') AS lt, current_setting('statement_timeout') AS st, current_setting('TimeZone') AS tz",
      )
    ).rows[0];
    await db.query(`SET lock_timeout = '${lockTimeoutMs}ms'; SET statement_timeout = '${statementTimeoutMs}ms'; SET TimeZone = 'UTC'`);
    return async () => {
      if (saved === undefined) return;
      await db
        .query("SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false), set_config('TimeZone', $3, false)", [saved.lt, saved.st, saved.tz])
        .catch(() => {});
    };
  }

  async function inTransaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    await db.query(`BEGIN; ${txSettings}`);
    try {
      const result = await fn(db);
      await db.query('COMMIT');
      return result;
    } catch (error) {
      await db.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  async function withRetries<T>(fn: () => Promise<T>, log: Logger): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        const code = sqlStateOf(error);
        if (code === undefined || !RETRYABLE_SQLSTATES.has(code) || attempt >= maxBatchRetries) {
          if (code !== undefined && RETRYABLE_SQLSTATES.has(code)) {
            throw new OperatorError(RetentionReasons.RetentionBatchFailed, `batch failed ${attempt + 1} times: ${describeError(error)}`, { cause: error });
          }
          throw error;
        }
        log.warn({ attempt: attempt + 1, sqlstate: code, err: describeError(error) }, 'retention batch hit a timeout or conflict; retrying');
        await sleep(Math.max(pauseMs, 100) * 2 ** attempt);
      }
    }
  }

  async function tryLock(rule: string): Promise<boolean> {
    const result = await db.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [ADVISORY_NAMESPACE, rule]);
    return result.rows[0]?.ok === true;
  }

  async function unlock(rule: string): Promise<void> {
    await db.query('SELECT pg_advisory_unlock($1, hashtext($2))', [ADVISORY_NAMESPACE, rule]).catch(() => {});
  }

  return { plan, run, validate };
}

interface BatchResult {
  count: number;
  last: string | undefined;
}

/**
 * The size of the next batch: the last one scaled so it would have taken `targetMs`, moving at most 2x up
 * and 4x down at a time (one slow batch on a busy machine must not collapse the size). A batch measured
 * at 0 ms (a clock that did not move) says nothing, so the size stays.
 */
export function nextBatchSize(size: number, measuredMs: number, targetMs: number, maxSize: number): number {
  if (targetMs <= 0 || measuredMs <= 0) return size;
  const factor = Math.min(2, Math.max(0.25, targetMs / measuredMs));
  return Math.min(maxSize, Math.max(1, Math.round(size * factor)));
}

function emptyOutcome(rule: string, table: string, action: RetentionAction): RuleOutcome {
  return { rule, table, action, matched: null, deleted: 0, archived: 0, marked: 0, batches: 0, durationMs: 0, maxBatchMs: 0, partial: false, objects: [] };
}

function sqlStateOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof (error as { code: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return undefined;
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`retention option ${name} must be a positive integer, got ${value}`);
  return value;
}
