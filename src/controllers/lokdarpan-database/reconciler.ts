// Reconciles one LokdarpanDatabase: observe (Secret, server, history) -> plan (migrations, which
// scheduled work is due) -> act (migrate, refresh views, validate; one heavy operation per database at
// a time) -> report (a new status, events, when to come back). It writes nothing to Kubernetes itself:
// the controller glue applies the outcome.
import { createHash } from 'node:crypto';
import type { PgConnectionSettings, PgConnector } from '../../adapters/postgres/index.ts';
import { lokdarpanDatabaseSpecSchema, type LokdarpanDatabaseSpec, type LokdarpanDatabaseStatus } from '../../api/lokdarpan-database.ts';
import type { Resource } from '../../api/common.ts';
import { parseDuration } from '../../api/duration.ts';
import { nextRun } from '../../api/schedule.ts';
import type { Clock } from '../../clock.ts';
import { isOperatorError } from '../../errors.ts';
import type { MigrationEngine, MigrationPlan, PreflightReport } from '../../engines/migrations/index.ts';
import type { ViewRefreshResult } from '../../engines/views/refresh.ts';
import { describeFailures, type ValidationResult } from '../../engines/validation/validate.ts';
import type { KeyedMutex } from '../shared/database-mutex.ts';
import { resolveConnection } from '../shared/database-connection.ts';
import type { SharedRuns } from '../shared/shared-runs.ts';
import type { SecretReader } from '../shared/secrets.ts';
import type { Semaphore } from '../../runtime/semaphore.ts';
import { isDue, msUntilEarliest } from '../shared/schedule.ts';
import type { ReconcileOutcome } from '../shared/resource-controller.ts';
import { Outcome, operatorErrorOf } from '../shared/outcome.ts';
import { DatabaseConditions as C, DatabaseReasons as R } from './reasons.ts';
import { reasonOr } from '../../reasons/index.ts';

export type LokdarpanDatabase = Resource<unknown, LokdarpanDatabaseStatus>;

/** Annotations that ask for work now, whatever the schedule (`kubectl lokdarpan refresh|validate`). */
export const REFRESH_REQUEST_ANNOTATION = 'lokdarpan.io/refresh-requested-at';
export const VALIDATE_REQUEST_ANNOTATION = 'lokdarpan.io/validate-requested-at';

export const SUSPENDED_MESSAGE = 'spec.suspend is true: no migrations, view refreshes or validations run';

/** Every call gets the reconcile's signal: aborting it (timeout, lost leadership) closes the sessions at once. */
export interface DatabaseEngines {
  connector(settings: PgConnectionSettings, signal?: AbortSignal): PgConnector;
  migrations(connector: PgConnector, options: { lockTimeoutMs: number; instance: string; signal?: AbortSignal }): MigrationEngine;
  refreshViews(connector: PgConnector, signal?: AbortSignal): Promise<ViewRefreshResult>;
  validate(connector: PgConnector, validation: LokdarpanDatabaseSpec['validation'], signal?: AbortSignal): Promise<ValidationResult>;
}

/** Told what happened, for metrics; every method optional. */
export interface DatabaseObserver {
  migrated?(migration: { name: string; durationMs: number; direction: 'up' | 'down' }): void;
  migrationFailed?(reason: string): void;
  refreshed?(result: ViewRefreshResult): void;
  refreshFailed?(reason: string): void;
  validated?(result: ValidationResult): void;
}

export interface DatabaseReconcilerDeps {
  observer?: DatabaseObserver;
  secrets: SecretReader;
  engines: DatabaseEngines;
  mutex: KeyedMutex;
  clock: Clock;
  instance: string;
  /**
   * View refreshes shared by the resources that point at the same database with the same credentials (the
   * operator's, process-wide): a reconcile joins a refresh of its database that started after it began.
   */
  refreshes?: SharedRuns<ViewRefreshResult>;
  /**
   * Bounds the reconciles doing real work (Secret, PostgreSQL) at once. The status-only ones (invalid spec,
   * suspended) do not take it, so a burst of them is not queued behind real work (operator.ts).
   */
  realWork?: Semaphore;
}

export type DatabaseOutcome = ReconcileOutcome<LokdarpanDatabaseStatus>;

export function databaseMutexKey(namespace: string, name: string): string {
  return `lokdarpandatabase/${namespace}/${name}`;
}

/**
 * `signal` (the controller's: timeout, lost leadership) reaches every engine call; once it aborts, no further
 * step starts and the outcome carries its reason as the error.
 */
export async function reconcileDatabase(resource: LokdarpanDatabase, deps: DatabaseReconcilerDeps, signal?: AbortSignal): Promise<DatabaseOutcome> {
  const now = deps.clock.now();
  const out = new Outcome(resource, now);
  const namespace = resource.metadata.namespace ?? 'default';

  const spec = out.parseSpec(lokdarpanDatabaseSpecSchema, resource.spec);
  if (!spec) return out.done();
  if (spec.suspend) return out.suspended(R.Suspended, SUSPENDED_MESSAGE);

  await deps.realWork?.acquire();
  try {
    signal?.throwIfAborted();
    const settings = await resolveConnection(deps.secrets, namespace, spec.connection);
    signal?.throwIfAborted();
    const connector = deps.engines.connector(settings, signal);
    const key = databaseMutexKey(namespace, resource.metadata.name);

    const work: Work = { connector, target: targetKey(settings), spec, deps, out, ...(signal ? { signal } : {}) };
    const locked = <T>(what: string, fn: () => Promise<T>): Promise<T> =>
      deps.mutex.run(key, what, () => {
        signal?.throwIfAborted();
        return fn();
      });

    await locked('migrations', () => migrate(work));
    const schemaReady = out.condition(C.SchemaReady)?.status === 'True';
    const annotations = resource.metadata.annotations ?? {};
    const refreshRequest = annotations[REFRESH_REQUEST_ANNOTATION];
    const validateRequest = annotations[VALIDATE_REQUEST_ANNOTATION];
    const views = out.status.views;
    if (schemaReady && isDue({ next: views?.nextRefreshTime, unscheduled: 'run-now', request: refreshRequest, lastRequest: views?.lastRequest }, now)) {
      await locked('view refresh', () => refresh(work, refreshRequest));
    } else {
      markStaleViews(work, schemaReady);
    }
    // A spec change may have changed the thresholds or the samples: the last verdict no longer applies.
    const validatedGeneration = out.condition(C.PerformanceHealthy)?.observedGeneration;
    const specChanged = validatedGeneration !== undefined && out.generation !== undefined && validatedGeneration !== out.generation;
    const validation = out.status.validation;
    if (schemaReady && (specChanged || isDue({ next: validation?.nextRunTime, unscheduled: 'run-now', request: validateRequest, lastRequest: validation?.lastRequest }, now))) {
      await locked('performance validation', () => validate(work, validateRequest));
    }
    summarise(out);
    return out.done(msUntilEarliest([out.status.views?.nextRefreshTime, out.status.validation?.nextRunTime], now));
  } catch (error) {
    return out.failed(operatorErrorOf(signal?.aborted ? signal.reason : error, 'ReconcileFailed'), 'Reconcile', signal?.aborted);
  } finally {
    deps.realWork?.release();
  }
}

interface Work {
  connector: PgConnector;
  /** Stands for the database and the credentials (hashed: the password is not kept in clear). */
  target: string;
  spec: LokdarpanDatabaseSpec;
  deps: DatabaseReconcilerDeps;
  out: Outcome<LokdarpanDatabaseStatus>;
  signal?: AbortSignal;
}

async function migrate(work: Work): Promise<void> {
  const { spec, deps, out } = work;
  const engine = deps.engines.migrations(work.connector, {
    lockTimeoutMs: parseDuration(spec.migrations.lockTimeout),
    instance: deps.instance,
    ...(work.signal ? { signal: work.signal } : {}),
  });
  try {
    const onPreflight = (preflight: PreflightReport): void => {
      const vector = preflight.extensions.find((e) => e.name === 'vector');
      const pgvectorVersion = vector?.installedVersion ?? vector?.defaultVersion ?? undefined;
      out.status = { ...out.status, server: { version: preflight.serverVersion, ...(pgvectorVersion ? { pgvectorVersion } : {}) } };
      const extensions = preflight.extensions.map((e) => `${e.name} ${e.installedVersion ?? `${e.defaultVersion ?? '?'} (to be created)`}`).join(', ');
      out.set({ type: C.ExtensionsReady, status: 'True', reason: R.ExtensionsAvailable, message: `PostgreSQL ${preflight.serverVersion}; ${extensions}` });
    };

    const target = spec.migrations.targetVersion;
    const toTarget = target === undefined ? {} : { to: target };
    // The preflight, the plan and the history come from one session; after migrating, read the plan and history again.
    let { plan, status: after } = await engine.inspect({ ...toTarget, onPreflight });
    out.status = { ...out.status, plan: planStatus(plan) };
    if (plan.migrations.length > 0) {
      if (spec.migrations.requireApproval && spec.migrations.approvedPlanHash !== plan.hash) {
        const message = `${plan.migrations.length} migration(s) ${plan.direction} to ${plan.target ?? 'nothing'} wait for approval: set spec.migrations.approvedPlanHash to ${plan.hash}`;
        if (out.condition(C.SchemaReady)?.reason !== R.AwaitingApproval) out.normal(R.AwaitingApproval, 'Plan', message);
        out.set({ type: C.SchemaReady, status: 'False', reason: R.AwaitingApproval, message });
        out.status = withHistory(out.status, after);
        return;
      }
      const approved = spec.migrations.requireApproval ? { approvedPlanHash: plan.hash } : {};
      const result =
        plan.direction === 'up'
          ? await engine.up({ ...toTarget, ...approved })
          : await engine.down({ to: plan.target, allowDowngrade: spec.migrations.allowDowngrade, ...approved });
      for (const m of result.applied) deps.observer?.migrated?.({ name: m.name, durationMs: m.durationMs, direction: plan.direction });
      const total = result.applied.reduce((sum, m) => sum + m.durationMs, 0);
      const names = result.applied.map((m) => m.name);
      const adopted = result.adopted.length > 0 ? `; adopted ${result.adopted.join(', ')} from the Flask-era schema` : '';
      out.normal(R.MigrationsApplied, 'Migrate', `${plan.direction === 'up' ? 'applied' : 'reverted'} ${names.length} migration(s) ${names.join(', ')} in ${total} ms${adopted}`);
      for (const m of result.applied) for (const warning of m.warnings ?? []) out.warn(R.MigrationWarning, 'Migrate', `${m.name}: ${warning}`);
      ({ plan, status: after } = await engine.inspect(toTarget));
      out.status = { ...out.status, plan: planStatus(plan) };
    }
    out.status = withHistory(out.status, after);
    out.set({ type: C.SchemaReady, status: 'True', reason: R.SchemaUpToDate, message: `schema at ${after.schemaVersion ?? 'nothing'}${target ? ` (target ${target})` : ' (latest)'}` });
  } catch (error) {
    if (!work.signal?.aborted) deps.observer?.migrationFailed?.(isOperatorError(error) ? error.reason : 'MigrationFailed');
    throw error;
  } finally {
    await engine.close();
  }
}

function planStatus(plan: MigrationPlan): NonNullable<LokdarpanDatabaseStatus['plan']> {
  return {
    hash: plan.hash,
    steps: plan.migrations.map((m) => ({ name: m.name, checksum: m.checksum, direction: plan.direction, transactional: m.transactional })),
  };
}

function withHistory(status: LokdarpanDatabaseStatus, migrations: Awaited<ReturnType<MigrationEngine['status']>>): LokdarpanDatabaseStatus {
  return {
    ...status,
    schemaVersion: migrations.schemaVersion ?? '',
    pendingCount: migrations.pending.length,
    pendingMigrations: migrations.pending.map((m) => m.name),
    appliedMigrations: migrations.history.map((h) => ({
      name: h.name,
      checksum: h.checksum,
      appliedAt: h.appliedAt.toISOString(),
      durationMs: h.durationMs,
      kind: h.kind,
    })),
  };
}

async function refresh(work: Work, request: string | undefined): Promise<void> {
  const { spec, out } = work;
  const now = out.now;
  const { lastError: _previousError, ...views } = out.status.views ?? {};
  const attempt = {
    ...views,
    lastRefreshTime: now.toISOString(),
    nextRefreshTime: nextRun(spec.views.refreshSchedule, spec.views.timeZone, now).toISOString(),
    ...(request === undefined ? {} : { lastRequest: request }),
  };
  try {
    const ownRefresh = (): Promise<ViewRefreshResult> => work.deps.engines.refreshViews(work.connector, work.signal);
    const shared = work.deps.refreshes;
    const result = await (shared ? shared.run(work.target, now.getTime(), ownRefresh, work.signal) : ownRefresh());
    work.deps.observer?.refreshed?.(result);
    const summary = result.views.map((v) => `${v.name} (${v.rows} rows, ${v.durationMs} ms${v.concurrently ? '' : ', first fill'})`).join(', ');
    out.set({ type: C.ViewsFresh, status: 'True', reason: R.ViewsRefreshed, message: `refreshed ${summary}` });
    out.status = { ...out.status, views: { ...attempt, lastSuccessfulRefreshTime: now.toISOString(), lastDurationMs: result.durationMs } };
  } catch (error) {
    if (work.signal?.aborted) throw work.signal.reason;
    const typed = operatorErrorOf(error, 'ViewRefreshFailed');
    work.deps.observer?.refreshFailed?.(typed.reason);
    out.set({ type: C.ViewsFresh, status: 'False', reason: typed.reason, message: typed.message });
    out.warn(typed.reason, 'RefreshViews', typed.message);
    out.status = { ...out.status, views: { ...attempt, lastError: typed.message } };
  }
}

function targetKey(settings: PgConnectionSettings): string {
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex');
}

function markStaleViews(work: Work, schemaReady: boolean): void {
  const { out } = work;
  if (!schemaReady) {
    if (out.condition(C.ViewsFresh) === undefined) {
      out.set({ type: C.ViewsFresh, status: 'Unknown', reason: R.ViewsNotRefreshedYet, message: 'views are refreshed once the schema is ready' });
    }
    return;
  }
  const last = out.status.views?.lastSuccessfulRefreshTime;
  const staleAfterMs = parseDuration(work.spec.views.staleAfter);
  if (last !== undefined && out.now.getTime() - new Date(last).getTime() > staleAfterMs && out.condition(C.ViewsFresh)?.status === 'True') {
    out.set({ type: C.ViewsFresh, status: 'False', reason: R.ViewsStale, message: `last successful refresh at ${last} is older than ${work.spec.views.staleAfter}` });
  }
}

async function validate(work: Work, request: string | undefined): Promise<void> {
  const { spec, out } = work;
  const now = out.now;
  const timing = {
    lastRunTime: now.toISOString(),
    nextRunTime: nextRun(spec.validation.schedule, spec.validation.timeZone, now).toISOString(),
    ...(request === undefined ? {} : { lastRequest: request }),
  };
  try {
    const result = await work.deps.engines.validate(work.connector, spec.validation, work.signal);
    work.deps.observer?.validated?.(result);
    const results = result.results.map(({ query, p95Ms, thresholdMs, passed, usesIndex }) => ({ query, p95Ms, thresholdMs, passed, usesIndex }));
    out.status = { ...out.status, validation: { ...timing, results } };
    if (result.passed) {
      const measured = result.results.filter((r) => r.skipped === undefined).map((r) => `${r.query} p95 ${r.p95Ms} ms <= ${r.thresholdMs} ms`);
      out.set({ type: C.PerformanceHealthy, status: 'True', reason: R.ThresholdsMet, message: measured.length > 0 ? measured.join('; ') : 'no data to measure yet' });
    } else {
      const message = describeFailures(result.results);
      if (out.condition(C.PerformanceHealthy)?.status !== 'False') out.warn(R.ThresholdsMissed, 'Validate', message);
      out.set({ type: C.PerformanceHealthy, status: 'False', reason: R.ThresholdsMissed, message });
    }
  } catch (error) {
    if (work.signal?.aborted) throw work.signal.reason;
    const typed = operatorErrorOf(error, 'ValidationQueryFailed');
    out.status = { ...out.status, validation: { ...out.status.validation, ...timing } };
    out.set({ type: C.PerformanceHealthy, status: 'False', reason: typed.reason, message: typed.message });
    out.warn(typed.reason, 'Validate', typed.message);
  }
}

/** Sets Ready from the other conditions; every condition was reconsidered for this generation, so each carries it. */
function summarise(out: Outcome<LokdarpanDatabaseStatus>): void {
  const blocking = [C.ExtensionsReady, C.SchemaReady, C.ViewsFresh].map((type) => out.condition(type)).find((c) => c !== undefined && c.status !== 'True');
  if (blocking) {
    out.set({ type: C.Ready, status: 'False', reason: reasonOr(blocking.reason, 'ReconcileFailed'), message: `${blocking.type}: ${blocking.message}` });
  } else {
    out.set({ type: C.Ready, status: 'True', reason: R.Ready, message: `schema at ${out.status.schemaVersion ?? 'nothing'}, views fresh` });
  }
  out.idle();
  const generation = out.generation;
  if (generation !== undefined) out.status = { ...out.status, conditions: out.conditions?.map((c) => ({ ...c, observedGeneration: generation })) };
}
