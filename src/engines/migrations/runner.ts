// Runs one migration file, step by step, on the work session: per-step lock_timeout/statement_timeout,
// a transaction per transactional step, INVALID-index cleanup before a CONCURRENTLY build, and the
// history row written (up) or deleted (down) inside the last step's transaction.
import type { Logger } from '../../observability/logger.ts';
import { sqlState, withTransaction, type Queryable } from '../../adapters/postgres/session.ts';
import { migrationError } from './errors.ts';
import type { MigrationStep } from './format.ts';
import { deleteHistory, insertHistory, type HistoryTable } from './history.ts';
import { dropInvalidIndex } from './invalid-index.ts';
import type { AppliedMigration, Direction, MigrationFile } from './types.ts';

export interface RunnerContext {
  client: Queryable;
  historyTable: HistoryTable;
  appliedBy: string;
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  logger: Logger;
  /** Monotonic milliseconds, for durations. */
  elapsed: () => number;
}

export async function runMigration(ctx: RunnerContext, file: MigrationFile, direction: Direction): Promise<AppliedMigration> {
  const parsed = direction === 'up' ? file.up : file.down;
  const path = direction === 'up' ? file.upPath : file.downPath;
  const lockTimeoutMs = parsed.lockTimeoutMs ?? ctx.lockTimeoutMs;
  const statementTimeoutMs = parsed.statementTimeoutMs ?? ctx.statementTimeoutMs;
  const transactional = parsed.steps.every((s) => s.transactional);
  const started = ctx.elapsed();
  const rebuiltIndexes: string[] = [];
  const log = ctx.logger.child({ migration: file.name, direction });

  const record = async (q: Queryable): Promise<void> => {
    if (direction === 'up') {
      await insertHistory(q, ctx.historyTable, {
        name: file.name,
        checksum: file.checksum,
        durationMs: ctx.elapsed() - started,
        appliedBy: ctx.appliedBy,
        transactional,
        kind: 'applied',
      });
    } else {
      await deleteHistory(q, ctx.historyTable, file.name);
    }
  };

  for (const step of parsed.steps) {
    const last = step.index === parsed.steps.length - 1;
    const stepStarted = ctx.elapsed();
    try {
      if (step.transactional) {
        await withTransaction(ctx.client, async (q) => {
          await setTimeouts(q, lockTimeoutMs, statementTimeoutMs, true);
          await q.query(step.sql);
          if (last) await record(q);
        });
      } else {
        await setTimeouts(ctx.client, lockTimeoutMs, statementTimeoutMs, false);
        if (step.concurrentIndex !== undefined) {
          const dropped = await dropInvalidIndex(ctx.client, step.concurrentIndex, step.sql);
          if (dropped !== undefined) {
            rebuiltIndexes.push(dropped);
            log.warn({ index: dropped }, 'dropped an INVALID index left by an earlier failed concurrent build; rebuilding it');
          }
        }
        await ctx.client.query(step.sql);
        if (last) await withTransaction(ctx.client, record);
      }
    } catch (error) {
      throw stepError(error, path, step, parsed.steps.length, lockTimeoutMs, statementTimeoutMs);
    } finally {
      if (!step.transactional) await resetTimeouts(ctx.client).catch(() => {});
    }
    log.debug({ step: step.index + 1, transactional: step.transactional, ms: Math.round(ctx.elapsed() - stepStarted) }, 'step done');
  }
  return { name: file.name, checksum: file.checksum, durationMs: Math.round(ctx.elapsed() - started), transactional, rebuiltIndexes, warnings: [] };
}

async function setTimeouts(q: Queryable, lockMs: number, statementMs: number, local: boolean): Promise<void> {
  await q.query("SELECT set_config('lock_timeout', $1, $3), set_config('statement_timeout', $2, $3)", [`${lockMs}ms`, `${statementMs}ms`, local]);
}

async function resetTimeouts(q: Queryable): Promise<void> {
  await q.query('RESET lock_timeout; RESET statement_timeout');
}

function stepError(
  error: unknown,
  path: string,
  step: MigrationStep,
  stepCount: number,
  lockMs: number,
  statementMs: number,
): Error {
  const where = `${path} step ${step.index + 1}/${stepCount} (${step.transactional ? 'transaction' : 'no-transaction'}, line ${errorLine(error, step)})`;
  const state = sqlState(error);
  const message = error instanceof Error ? error.message : String(error);
  const tail = step.transactional ? 'the step was rolled back' : 'a no-transaction step is re-run on the next attempt';
  const details = { file: path, step: step.index + 1, transactional: step.transactional, sqlState: state ?? null };
  if (state === '55P03') {
    return migrationError('LockTimeout', `${where}: waited longer than lock_timeout ${lockMs} ms for a lock (${message}); ${tail}; retry when the blocking session is done`, details, error);
  }
  if (state === '57014' && /statement timeout/i.test(message)) {
    return migrationError('StatementTimeout', `${where}: ran longer than statement_timeout ${statementMs} ms; ${tail}; raise "-- lokdarpan:statement-timeout" in the file or the engine default`, details, error);
  }
  return migrationError('MigrationFailed', `${where}: ${message}${state ? ` (SQLSTATE ${state})` : ''}; ${tail}`, details, error);
}

/** The file line of a server error's `position`, or the step's first line. */
function errorLine(error: unknown, step: MigrationStep): number {
  const position = typeof error === 'object' && error !== null ? Number((error as { position?: string }).position) : NaN;
  if (!Number.isFinite(position) || position < 1) return step.line;
  // The step's SQL is trimmed; count newlines up to the position.
  return step.line + (step.sql.slice(0, position - 1).match(/\n/g)?.length ?? 0);
}
