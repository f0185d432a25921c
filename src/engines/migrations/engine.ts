// The migration engine: composes loading, preflight, the lock, drift validation, adoption, planning and
// umzug-driven execution into the operations the CLI and the controller call. Kubernetes-free.
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type pg from 'pg';
import type { RunnableMigration, Umzug } from 'umzug';
import type { PgConnector } from '../../adapters/postgres/connection.ts';
import { sqlState } from '../../adapters/postgres/session.ts';
import { systemClock, type Clock } from '../../clock.ts';
import { OperatorError, isOperatorError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../observability/logger.ts';
import { adopt, detectAdopter, resolveBaseline, type Adopter } from './adoption.ts';
import { migrationError } from './errors.ts';
import { DEFAULT_HISTORY_TABLE, deleteHistory, ensureHistoryTable, historyTableExists, readHistory, updateChecksum, type HistoryTable } from './history.ts';
import { acquireMigrationLock, describeHolder, migrationLockKey, releaseMigrationLock } from './lock.ts';
import { currentVersion, describeForPlan, pendingMigrations, planDown, planUp, validateHistory } from './plan.ts';
import { LOKDARPAN_REQUIREMENTS, runPreflight, type PreflightReport, type PreflightRequirements } from './preflight.ts';
import { runMigration } from './runner.ts';
import { loadMigrations } from './source.ts';
import { historyStorage } from './storage.ts';
import type { AppliedMigration, Direction, HistoryRow, MigrationFile, MigrationPlan, MigrationResult, MigrationStatus, RepairResult } from './types.ts';

export interface MigrationEngineOptions {
  /** Where the target database is (see src/adapters/postgres). */
  connection: PgConnector;
  /** Directory of `NAME.up.sql` / `NAME.down.sql` files. */
  migrationsDir: string;
  /**
   * Where the parsed files of `migrationsDir` come from. Default: read and parse the directory on every
   * call; a long-running process passes `cachedMigrations(dir)` so it reads them once.
   */
  files?: () => Promise<readonly MigrationFile[]>;
  /** Who runs: recorded in history (`applied_by`) and in application_name. E.g. "operator/pod-x", "cli:me@host". */
  instance: string;
  logger?: Logger;
  clock?: Clock;
  /** How long to wait for another runner's migration lock before MigrationLockBusy. Default 60 s; 0 = fail fast. */
  lockTimeoutMs?: number;
  /** How often to retry pg_try_advisory_lock. Default 250 ms. */
  lockPollMs?: number;
  /** `lock_timeout` of every step unless the file says otherwise. Default 5 s. */
  stepLockTimeoutMs?: number;
  /** `statement_timeout` of every step unless the file says otherwise. Default 15 min. */
  stepStatementTimeoutMs?: number;
  /** Default public.lokdarpan_schema_history. */
  historyTable?: HistoryTable;
  /** Default: PostgreSQL >= 15, vector >= 0.7.0, CREATE on public. */
  requirements?: PreflightRequirements;
  /** Tried in order when history is empty. Default none (the CLI passes the LokDarpan Flask adopter). */
  adopters?: readonly Adopter[];
  /**
   * `client_connection_check_interval` of the engine's sessions, so that the server notices a killed
   * runner during a long statement and rolls back (and frees the lock) promptly. Default 2000 ms; 0 = off.
   */
  connectionCheckIntervalMs?: number;
  /**
   * Cancels the engine's work: its sessions are closed at once (the server rolls back the running step and
   * frees the lock), lock waits stop, and no further migration starts. Calls then reject with its reason.
   */
  signal?: AbortSignal;
}

export interface UpOptions {
  /** Last migration to apply (default: the latest file). */
  to?: string;
  /** When set, refuse (PlanNotApproved) unless the plan about to run has exactly this hash. */
  approvedPlanHash?: string;
}

export interface DownOptions {
  /** Version to end at; `null` reverts every migration. */
  to: string | null;
  allowDowngrade: boolean;
  approvedPlanHash?: string;
}

export interface RepairOptions {
  /** Also delete history rows whose file no longer exists. */
  removeMissing?: boolean;
}

export interface MigrationEngine {
  /** Server version, extensions and privileges; throws the typed error of the first problem. */
  preflight(): Promise<PreflightReport>;
  /** Read-only: what is applied, what is pending, any drift. Takes no lock. */
  status(): Promise<MigrationStatus>;
  /** Read-only plan towards `to` (down when `to` is below the current version; `null` = revert all). */
  plan(options?: { to?: string | null }): Promise<MigrationPlan>;
  /**
   * plan() and status() from one session and one read of the history (what a reconcile asks every time):
   * throws as plan() does when the history does not match the files.
   */
  inspect(options?: InspectOptions): Promise<{ plan: MigrationPlan; status: MigrationStatus }>;
  up(options?: UpOptions): Promise<MigrationResult>;
  down(options: DownOptions): Promise<MigrationResult>;
  /** Re-records checksums of edited applied migrations (and removes rows of vanished files if asked). */
  repair(options?: RepairOptions): Promise<RepairResult>;
  close(): Promise<void>;
}

export interface InspectOptions {
  to?: string | null;
  /**
   * Run preflight() first on the same session (a reconcile asks both every time) and hand its report
   * here before the history is read; a failing preflight throws as preflight() does.
   */
  onPreflight?: (report: PreflightReport) => void;
}

export const ENGINE_DEFAULTS = {
  lockTimeoutMs: 60_000,
  lockPollMs: 250,
  stepLockTimeoutMs: 5_000,
  stepStatementTimeoutMs: 15 * 60_000,
  connectionCheckIntervalMs: 2_000,
} as const;

/** A default `instance` for command-line use: `cli:user@host`. */
export function cliInstance(user: string): string {
  return `cli:${user}@${hostname()}`;
}

export function createMigrationEngine(options: MigrationEngineOptions): MigrationEngine {
  const logger = (options.logger ?? silentLogger).child({ component: 'migrations' });
  const clock = options.clock ?? systemClock;
  const table = options.historyTable ?? DEFAULT_HISTORY_TABLE;
  const requirements = options.requirements ?? LOKDARPAN_REQUIREMENTS;
  const adopters = options.adopters ?? [];
  const lockKey = migrationLockKey(`${table.schema}.${table.table}`);
  const lockTimeoutMs = options.lockTimeoutMs ?? ENGINE_DEFAULTS.lockTimeoutMs;
  const checkInterval = options.connectionCheckIntervalMs ?? ENGINE_DEFAULTS.connectionCheckIntervalMs;
  const applicationName = `lokdarpan-migrate/${options.instance}`;
  const open = new Set<pg.Client>();
  let closed = false;
  const signal = options.signal;
  const withSignal = signal ? { signal } : {};

  const connect = async (): Promise<pg.Client> => {
    if (closed) throw new Error('the migration engine is closed');
    signal?.throwIfAborted();
    let client: pg.Client;
    try {
      try {
        client = await options.connection.connect({
          applicationName,
          ...withSignal,
          sessionSettings: checkInterval > 0 ? { client_connection_check_interval: checkInterval } : {},
        });
      } catch (error) {
        // Servers before 14 do not know the setting; connect without it so preflight can name the version.
        if (checkInterval <= 0 || sqlState(error) !== '42704') throw error;
        client = await options.connection.connect({ applicationName, ...withSignal });
      }
    } catch (cause) {
      if (signal?.aborted) throw signal.reason;
      throw migrationError(
        'DatabaseUnavailable',
        `cannot connect to ${options.connection.description}: ${(cause as Error).message}`,
        { target: options.connection.description },
        cause,
      );
    }
    open.add(client);
    return client;
  };
  const disconnect = async (client: pg.Client): Promise<void> => {
    open.delete(client);
    await client.end().catch(() => {});
  };
  const withSession = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = await connect();
    try {
      return await fn(client);
    } finally {
      await disconnect(client);
    }
  };

  /** Runs fn (on the caller's work session) while a second, dedicated session holds the migration lock. */
  const underLock = async <T>(fn: () => Promise<T>): Promise<T> => {
    const lockSession = await connect();
    try {
      await acquireMigrationLock(lockSession, {
        key: lockKey,
        timeoutMs: lockTimeoutMs,
        pollMs: options.lockPollMs ?? ENGINE_DEFAULTS.lockPollMs,
        clock,
        ...(signal ? { sleep: (ms: number) => abortableSleep(ms, signal) } : {}),
        onWait: (holder) => logger.info({ holder: describeHolder(holder) }, 'waiting for the migration lock'),
      });
      try {
        return await fn();
      } finally {
        await releaseMigrationLock(lockSession, lockKey).catch(() => {});
      }
    } finally {
      await disconnect(lockSession);
    }
  };

  const detectAdoption = async (client: pg.Client, files: readonly MigrationFile[], history: readonly HistoryRow[]) => {
    if (history.length > 0 || adopters.length === 0) return undefined;
    const adopter = await detectAdopter(client, adopters);
    if (!adopter) return undefined;
    return { adopter, baselineThrough: resolveBaseline(files, adopter.baselineThrough) };
  };

  // umzug (+22 MB of RSS from the sources, bench/import-cost.ts) is imported only when a migration is to
  // run. It is CommonJS: `default` is its module.exports both under Node and in the bundle.
  const makeUmzug = async (client: pg.Client, files: readonly MigrationFile[], applied: AppliedMigration[]): Promise<Umzug> => {
    const { Umzug } = (await import('umzug')).default;
    const ctx = {
      client,
      historyTable: table,
      appliedBy: options.instance,
      lockTimeoutMs: options.stepLockTimeoutMs ?? ENGINE_DEFAULTS.stepLockTimeoutMs,
      statementTimeoutMs: options.stepStatementTimeoutMs ?? ENGINE_DEFAULTS.stepStatementTimeoutMs,
      logger,
      elapsed: () => performance.now(),
    };
    // Server WARNINGs (RAISE WARNING in a migration) are kept with the migration that raised them.
    let warnings: string[] = [];
    client.on('notice', (notice: { severity?: string | undefined; message?: string | undefined }) => {
      if (notice.severity === 'WARNING' && notice.message) warnings.push(notice.message);
    });
    const run = (file: MigrationFile, direction: Direction) => async (): Promise<void> => {
      signal?.throwIfAborted();
      logger.info({ migration: file.name, direction }, direction === 'up' ? 'applying migration' : 'reverting migration');
      warnings = [];
      const result = await runMigration(ctx, file, direction);
      result.warnings = warnings;
      for (const warning of warnings) logger.warn({ migration: file.name, direction }, warning);
      applied.push(result);
      logger.info({ migration: file.name, direction, durationMs: result.durationMs, rebuiltIndexes: result.rebuiltIndexes }, 'migration done');
    };
    const migrations: Array<RunnableMigration<unknown>> = files.map((f) => ({ name: f.name, path: f.upPath, up: run(f, 'up'), down: run(f, 'down') }));
    return new Umzug({ migrations, storage: historyStorage(client, table), logger: undefined, context: {} });
  };

  const finish = async (
    client: pg.Client,
    files: readonly MigrationFile[],
    plan: MigrationPlan,
    applied: AppliedMigration[],
  ): Promise<MigrationResult> => {
    const history = await readHistory(client, table);
    return {
      direction: plan.direction,
      applied,
      planHash: plan.hash,
      adopted: plan.adoption?.names ?? [],
      schemaVersion: currentVersion(history),
      latest: files.at(-1)?.name ?? null,
      pending: pendingMigrations(files, history).map((f) => describeForPlan(f, 'up')),
      history,
      problems: [],
    };
  };

  const checkApproval = (plan: MigrationPlan, approved: string | undefined): void => {
    if (approved !== undefined && approved !== plan.hash) {
      throw migrationError(
        'PlanNotApproved',
        `the plan to run has hash ${plan.hash} but ${approved} was approved; re-run "migrate plan" and approve the new plan`,
        { planHash: plan.hash, approvedPlanHash: approved },
      );
    }
  };

  const execute = async (client: pg.Client, files: readonly MigrationFile[], plan: MigrationPlan): Promise<AppliedMigration[]> => {
    const applied: AppliedMigration[] = [];
    const names = plan.migrations.map((m) => m.name);
    if (names.length === 0) return applied;
    const umzug = await makeUmzug(client, files, applied);
    try {
      if (plan.direction === 'up') await umzug.up({ migrations: names });
      else await umzug.down({ migrations: names });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw unwrapUmzugError(error);
    }
    return applied;
  };

  const readFiles = async (): Promise<MigrationFile[]> => [...(await (options.files ?? (() => loadMigrations(options.migrationsDir)))())];

  return {
    async preflight() {
      return withSession((client) => runPreflight(client, requirements));
    },

    async status() {
      const files = await readFiles();
      return withSession(async (client) => {
        const history = await readHistory(client, table);
        return statusOf(files, history, history.length === 0 && adopters.length > 0 ? await detectAdopter(client, adopters) : undefined);
      });
    },

    async plan(planOptions = {}) {
      const files = await readFiles();
      return withSession(async (client) => {
        const history = await readHistory(client, table);
        validateHistory(files, history);
        return planOf(files, history, planOptions.to, () => detectAdoption(client, files, history));
      });
    },

    async inspect(inspectOptions = {}) {
      const files = await readFiles();
      return withSession(async (client) => {
        if (inspectOptions.onPreflight) inspectOptions.onPreflight(await runPreflight(client, requirements));
        const history = await readHistory(client, table);
        validateHistory(files, history);
        // Looked for once: the plan adopts with it, the status names it.
        const adopter = history.length === 0 && adopters.length > 0 ? await detectAdopter(client, adopters) : undefined;
        const adoption = async () => (adopter ? { adopter, baselineThrough: resolveBaseline(files, adopter.baselineThrough) } : undefined);
        return { plan: await planOf(files, history, inspectOptions.to, adoption), status: statusOf(files, history, adopter) };
      });
    },

    async up(upOptions = {}) {
      const files = await readFiles();
      return withSession(async (client) => {
        const report = await runPreflight(client, requirements);
        logger.debug({ serverVersion: report.serverVersion, role: report.role }, 'preflight passed');
        return underLock(async () => {
          await ensureHistoryTable(client, table);
          const history = await readHistory(client, table);
          validateHistory(files, history);
          const adoption = await detectAdoption(client, files, history);
          const plan = planUp({
            files,
            history,
            ...(upOptions.to !== undefined ? { to: upOptions.to } : {}),
            ...(adoption ? { adoption: { adopter: adoption.adopter.name, baselineThrough: adoption.baselineThrough } } : {}),
          });
          checkApproval(plan, upOptions.approvedPlanHash);
          if (adoption && plan.adoption) {
            logger.info({ adopter: adoption.adopter.name, names: plan.adoption.names }, 'adopting an existing database');
            await adopt({ client, adopter: adoption.adopter, names: plan.adoption.names, files, historyTable: table, appliedBy: options.instance });
          }
          return finish(client, files, plan, await execute(client, files, plan));
        });
      });
    },

    async down(downOptions) {
      const files = await readFiles();
      return withSession(async (client) => {
        await runPreflight(client, { ...requirements, extensions: [] });
        return underLock(async () => {
          const history = await readHistory(client, table);
          validateHistory(files, history);
          const plan = planDown({ files, history, to: downOptions.to, allowDowngrade: downOptions.allowDowngrade });
          checkApproval(plan, downOptions.approvedPlanHash);
          return finish(client, files, plan, await execute(client, files, plan));
        });
      });
    },

    async repair(repairOptions = {}) {
      const files = await readFiles();
      return withSession((client) =>
        underLock(async () => {
          const result: RepairResult = { updatedChecksums: [], removedMissing: [] };
          if (!(await historyTableExists(client, table))) return result;
          const byName = new Map(files.map((f) => [f.name, f]));
          for (const row of await readHistory(client, table)) {
            const file = byName.get(row.name);
            if (!file) {
              if (repairOptions.removeMissing) {
                await deleteHistory(client, table, row.name);
                result.removedMissing.push(row.name);
              }
            } else if (file.checksum !== row.checksum) {
              await updateChecksum(client, table, row.name, file.checksum);
              result.updatedChecksums.push({ name: row.name, recorded: row.checksum, actual: file.checksum });
            }
          }
          logger.info(result, 'repaired migration history');
          return result;
        }),
      );
    },

    async close() {
      closed = true;
      await Promise.all([...open].map((c) => disconnect(c)));
    },
  };
}

/** What status() reports from the history read: drift becomes a problem, not an error. */
function statusOf(files: readonly MigrationFile[], history: HistoryRow[], adopter: Adopter | undefined): MigrationStatus {
  const problems: MigrationStatus['problems'] = [];
  try {
    validateHistory(files, history);
  } catch (error) {
    if (!isOperatorError(error)) throw error;
    problems.push({ reason: error.reason, message: error.message });
  }
  const status: MigrationStatus = {
    schemaVersion: currentVersion(history),
    latest: files.at(-1)?.name ?? null,
    pending: pendingMigrations(files, history).map((f) => describeForPlan(f, 'up')),
    history,
    problems,
  };
  if (adopter) status.adoptableBy = adopter.name;
  return status;
}

/** The plan towards `to` from a validated history; `adoption` is asked only for an upward plan. */
async function planOf(
  files: MigrationFile[],
  history: HistoryRow[],
  to: string | null | undefined,
  adoption: () => Promise<{ adopter: Adopter; baselineThrough: string } | undefined>,
): Promise<MigrationPlan> {
  const from = currentVersion(history);
  if (to === null || (to !== undefined && from !== null && to < from)) {
    return planDown({ files, history, to: to ?? null, allowDowngrade: true });
  }
  const adopt = await adoption();
  return planUp({
    files,
    history,
    ...(to !== undefined ? { to } : {}),
    ...(adopt ? { adoption: { adopter: adopt.adopter.name, baselineThrough: adopt.baselineThrough } } : {}),
  });
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch((error: unknown) => {
    throw signal.aborted ? signal.reason : error;
  });
}

/** umzug wraps a migration's error in its MigrationError; hand back our typed error underneath. */
function unwrapUmzugError(error: unknown): unknown {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof OperatorError) return current;
    current = (current as Error & { cause?: unknown }).cause;
  }
  return error;
}
