// Reconciles one LokdarpanDatabase: observe (Secret, server, history) -> plan (migrations, which
// scheduled work is due) -> act (migrate, refresh views, validate; one heavy operation per database at
// a time) -> report (a new status, events, when to come back). It writes nothing to Kubernetes itself:
// the controller glue applies the outcome.
import type { PgConnectionSettings, PgConnector } from '../../adapters/postgres/index.ts';
import { lokdarpanDatabaseSpecSchema, type LokdarpanDatabaseSpec, type LokdarpanDatabaseStatus } from '../../api/lokdarpan-database.ts';
import type { Resource } from '../../api/common.ts';
import { parseDuration } from '../../api/duration.ts';
import { nextRun } from '../../api/schedule.ts';
import type { Clock } from '../../clock.ts';
import { OperatorError, describeError, isOperatorError } from '../../errors.ts';
import type { MigrationEngine, MigrationPlan } from '../../engines/migrations/index.ts';
import type { ViewRefreshResult } from '../../engines/views/refresh.ts';
import { describeFailures, type ValidationResult } from '../../engines/validation/validate.ts';
import { setConditions, type Condition, type ConditionInput } from '../../runtime/conditions.ts';
import type { KeyedMutex } from '../shared/database-mutex.ts';
import { resolveConnection } from '../shared/database-connection.ts';
import type { SecretReader } from '../shared/secrets.ts';
import { isDue, msUntilEarliest } from '../shared/schedule.ts';
import type { EventToRecord, ReconcileOutcome } from '../shared/resource-controller.ts';
import { DatabaseConditions as C, DatabaseReasons as R } from './reasons.ts';
import { reasonOr } from '../../reasons/index.ts';

export type LokdarpanDatabase = Resource<unknown, LokdarpanDatabaseStatus>;

/** Annotations that ask for work now, whatever the schedule (`kubectl lokdarpan refresh|validate`). */
export const REFRESH_REQUEST_ANNOTATION = 'lokdarpan.io/refresh-requested-at';
export const VALIDATE_REQUEST_ANNOTATION = 'lokdarpan.io/validate-requested-at';

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
  const generation = resource.metadata.generation;
  const namespace = resource.metadata.namespace ?? 'default';
  const events: EventToRecord[] = [];
  let status: LokdarpanDatabaseStatus = { ...(resource.status ?? {}), observedGeneration: generation };
  const set = (inputs: ConditionInput[]): void => {
    status = { ...status, conditions: setConditions(status.conditions as Condition[] | undefined, inputs, generation, now) };
  };

  const parsed = lokdarpanDatabaseSpecSchema.safeParse(resource.spec);
  if (!parsed.success) {
    const message = `spec is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'spec'}: ${i.message}`).join('; ')}`;
    set([
      { type: C.Ready, status: 'False', reason: R.InvalidSpec, message },
      { type: C.Stalled, status: 'True', reason: R.InvalidSpec, message },
      { type: C.Reconciling, status: 'False', reason: R.InvalidSpec, message: 'waiting for the spec to be fixed' },
    ]);
    events.push({ type: 'Warning', reason: R.InvalidSpec, action: 'Validate', note: message });
    return { status, events };
  }
  const spec = parsed.data;
  if (spec.suspend) {
    const message = 'spec.suspend is true: no migrations, view refreshes or validations run';
    set([
      { type: C.Ready, status: 'False', reason: R.Suspended, message },
      { type: C.Reconciling, status: 'False', reason: R.Suspended, message },
      { type: C.Stalled, status: 'False', reason: R.Suspended, message },
    ]);
    return { status, events };
  }

  try {
    const settings = await resolveConnection(deps.secrets, namespace, spec.connection);
    signal?.throwIfAborted();
    const connector = deps.engines.connector(settings, signal);
    const key = databaseMutexKey(namespace, resource.metadata.name);

    const work: Work = { connector, spec, deps, now, set, events, getStatus: () => status, setStatus: (s) => (status = s), ...(signal ? { signal } : {}) };
    const locked = <T>(what: string, fn: () => Promise<T>): Promise<T> =>
      deps.mutex.run(key, what, () => {
        signal?.throwIfAborted();
        return fn();
      });

    await locked('migrations', () => migrate(work));
    const schemaReady = conditionStatus(status, C.SchemaReady) === 'True';
    const annotations = resource.metadata.annotations ?? {};
    const refreshRequest = annotations[REFRESH_REQUEST_ANNOTATION];
    const validateRequest = annotations[VALIDATE_REQUEST_ANNOTATION];
    if (schemaReady && isDue(status.views?.nextRefreshTime, status.views?.lastRefreshTime, refreshRequest, status.views?.lastRequest, now)) {
      await locked('view refresh', () => refresh(work, refreshRequest));
    } else {
      markStaleViews(work, schemaReady);
    }
    // A spec change may have changed the thresholds or the samples: the last verdict no longer applies.
    const validatedGeneration = status.conditions?.find((c) => c.type === C.PerformanceHealthy)?.observedGeneration;
    const specChanged = validatedGeneration !== undefined && generation !== undefined && validatedGeneration !== generation;
    if (schemaReady && (specChanged || isDue(status.validation?.nextRunTime, status.validation?.lastRunTime, validateRequest, status.validation?.lastRequest, now))) {
      await locked('performance validation', () => validate(work, validateRequest));
    }
    summarise(work, generation);
    const requeueAfterMs = msUntilEarliest([status.views?.nextRefreshTime, status.validation?.nextRunTime], now);
    return requeueAfterMs === undefined ? { status, events } : { status, events, requeueAfterMs };
  } catch (error) {
    const cause = signal?.aborted ? signal.reason : error;
    const typed = isOperatorError(cause) ? cause : new OperatorError('ReconcileFailed', describeError(cause), { cause });
    const stalled = typed.terminal && !signal?.aborted;
    set([
      { type: C.Ready, status: 'False', reason: typed.reason, message: typed.message },
      { type: C.Reconciling, status: stalled ? 'False' : 'True', reason: stalled ? typed.reason : R.Reconciling, message: stalled ? 'a person must act; see Ready' : `retrying with backoff: ${typed.message}` },
      { type: C.Stalled, status: stalled ? 'True' : 'False', reason: typed.reason, message: stalled ? typed.message : 'retrying' },
    ]);
    events.push({ type: 'Warning', reason: typed.reason, action: 'Reconcile', note: typed.message });
    return { status, events, error: typed };
  }
}

interface Work {
  connector: PgConnector;
  spec: LokdarpanDatabaseSpec;
  deps: DatabaseReconcilerDeps;
  now: Date;
  set: (inputs: ConditionInput[]) => void;
  events: EventToRecord[];
  getStatus(): LokdarpanDatabaseStatus;
  setStatus(status: LokdarpanDatabaseStatus): void;
  signal?: AbortSignal;
}

function conditionStatus(status: LokdarpanDatabaseStatus, type: string): string | undefined {
  return status.conditions?.find((c) => c.type === type)?.status;
}

function conditionReason(status: LokdarpanDatabaseStatus, type: string): string | undefined {
  return status.conditions?.find((c) => c.type === type)?.reason;
}

async function migrate(work: Work): Promise<void> {
  const { spec, deps, set, events } = work;
  const engine = deps.engines.migrations(work.connector, {
    lockTimeoutMs: parseDuration(spec.migrations.lockTimeout),
    instance: deps.instance,
    ...(work.signal ? { signal: work.signal } : {}),
  });
  try {
    const preflight = await engine.preflight();
    const vector = preflight.extensions.find((e) => e.name === 'vector');
    const pgvectorVersion = vector?.installedVersion ?? vector?.defaultVersion ?? undefined;
    work.setStatus({ ...work.getStatus(), server: { version: preflight.serverVersion, ...(pgvectorVersion ? { pgvectorVersion } : {}) } });
    const extensions = preflight.extensions.map((e) => `${e.name} ${e.installedVersion ?? `${e.defaultVersion ?? '?'} (to be created)`}`).join(', ');
    set([{ type: C.ExtensionsReady, status: 'True', reason: R.ExtensionsAvailable, message: `PostgreSQL ${preflight.serverVersion}; ${extensions}` }]);

    const target = spec.migrations.targetVersion;
    const toTarget = target === undefined ? {} : { to: target };
    const plan = await engine.plan(toTarget);
    work.setStatus({ ...work.getStatus(), plan: planStatus(plan) });
    if (plan.migrations.length > 0) {
      if (spec.migrations.requireApproval && spec.migrations.approvedPlanHash !== plan.hash) {
        const message = `${plan.migrations.length} migration(s) ${plan.direction} to ${plan.target ?? 'nothing'} wait for approval: set spec.migrations.approvedPlanHash to ${plan.hash}`;
        if (conditionReason(work.getStatus(), C.SchemaReady) !== R.AwaitingApproval) {
          events.push({ type: 'Normal', reason: R.AwaitingApproval, action: 'Plan', note: message });
        }
        set([{ type: C.SchemaReady, status: 'False', reason: R.AwaitingApproval, message }]);
        work.setStatus(withHistory(work.getStatus(), await engine.status()));
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
      events.push({
        type: 'Normal',
        reason: 'MigrationsApplied',
        action: 'Migrate',
        note: `${plan.direction === 'up' ? 'applied' : 'reverted'} ${names.length} migration(s) ${names.join(', ')} in ${total} ms${adopted}`,
      });
      const remaining = await engine.plan(toTarget);
      work.setStatus({ ...work.getStatus(), plan: planStatus(remaining) });
    }
    const after = await engine.status();
    work.setStatus(withHistory(work.getStatus(), after));
    set([{ type: C.SchemaReady, status: 'True', reason: R.SchemaUpToDate, message: `schema at ${after.schemaVersion ?? 'nothing'}${target ? ` (target ${target})` : ' (latest)'}` }]);
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
  const { spec, now, set, events } = work;
  const { lastError: _previousError, ...views } = work.getStatus().views ?? {};
  const attempt = {
    ...views,
    lastRefreshTime: now.toISOString(),
    nextRefreshTime: nextRun(spec.views.refreshSchedule, spec.views.timeZone, now).toISOString(),
    ...(request === undefined ? {} : { lastRequest: request }),
  };
  try {
    const result = await work.deps.engines.refreshViews(work.connector, work.signal);
    work.deps.observer?.refreshed?.(result);
    const summary = result.views.map((v) => `${v.name} (${v.rows} rows, ${v.durationMs} ms${v.concurrently ? '' : ', first fill'})`).join(', ');
    set([{ type: C.ViewsFresh, status: 'True', reason: R.ViewsRefreshed, message: `refreshed ${summary}` }]);
    work.setStatus({ ...work.getStatus(), views: { ...attempt, lastSuccessfulRefreshTime: now.toISOString(), lastDurationMs: result.durationMs } });
  } catch (error) {
    if (work.signal?.aborted) throw work.signal.reason;
    const typed = isOperatorError(error) ? error : new OperatorError('ViewRefreshFailed', describeError(error));
    work.deps.observer?.refreshFailed?.(typed.reason);
    set([{ type: C.ViewsFresh, status: 'False', reason: typed.reason, message: typed.message }]);
    events.push({ type: 'Warning', reason: typed.reason, action: 'RefreshViews', note: typed.message });
    work.setStatus({ ...work.getStatus(), views: { ...attempt, lastError: typed.message } });
  }
}

function markStaleViews(work: Work, schemaReady: boolean): void {
  const status = work.getStatus();
  if (!schemaReady) {
    if (conditionStatus(status, C.ViewsFresh) === undefined) {
      work.set([{ type: C.ViewsFresh, status: 'Unknown', reason: R.ViewsNotRefreshedYet, message: 'views are refreshed once the schema is ready' }]);
    }
    return;
  }
  const last = status.views?.lastSuccessfulRefreshTime;
  const staleAfterMs = parseDuration(work.spec.views.staleAfter);
  if (last !== undefined && work.now.getTime() - new Date(last).getTime() > staleAfterMs && conditionStatus(status, C.ViewsFresh) === 'True') {
    work.set([{ type: C.ViewsFresh, status: 'False', reason: R.ViewsStale, message: `last successful refresh at ${last} is older than ${work.spec.views.staleAfter}` }]);
  }
}

async function validate(work: Work, request: string | undefined): Promise<void> {
  const { spec, now, set, events } = work;
  const timing = {
    lastRunTime: now.toISOString(),
    nextRunTime: nextRun(spec.validation.schedule, spec.validation.timeZone, now).toISOString(),
    ...(request === undefined ? {} : { lastRequest: request }),
  };
  try {
    const result = await work.deps.engines.validate(work.connector, spec.validation, work.signal);
    work.deps.observer?.validated?.(result);
    const results = result.results.map(({ query, p95Ms, thresholdMs, passed, usesIndex }) => ({ query, p95Ms, thresholdMs, passed, usesIndex }));
    work.setStatus({ ...work.getStatus(), validation: { ...timing, results } });
    if (result.passed) {
      const measured = result.results.filter((r) => r.skipped === undefined).map((r) => `${r.query} p95 ${r.p95Ms} ms <= ${r.thresholdMs} ms`);
      set([{ type: C.PerformanceHealthy, status: 'True', reason: R.ThresholdsMet, message: measured.length > 0 ? measured.join('; ') : 'no data to measure yet' }]);
    } else {
      const message = describeFailures(result.results);
      if (conditionStatus(work.getStatus(), C.PerformanceHealthy) !== 'False') {
        events.push({ type: 'Warning', reason: R.ThresholdsMissed, action: 'Validate', note: message });
      }
      set([{ type: C.PerformanceHealthy, status: 'False', reason: R.ThresholdsMissed, message }]);
    }
  } catch (error) {
    if (work.signal?.aborted) throw work.signal.reason;
    const typed = isOperatorError(error) ? error : new OperatorError('ValidationQueryFailed', describeError(error));
    work.setStatus({ ...work.getStatus(), validation: { ...work.getStatus().validation, ...timing } });
    set([{ type: C.PerformanceHealthy, status: 'False', reason: typed.reason, message: typed.message }]);
    events.push({ type: 'Warning', reason: typed.reason, action: 'Validate', note: typed.message });
  }
}

/** Sets Ready from the other conditions; every condition was reconsidered for this generation, so each carries it. */
function summarise(work: Work, generation: number | undefined): void {
  const status = work.getStatus();
  const blocking = [C.ExtensionsReady, C.SchemaReady, C.ViewsFresh]
    .map((type) => status.conditions?.find((c) => c.type === type))
    .find((c) => c !== undefined && c.status !== 'True');
  if (blocking) {
    work.set([{ type: C.Ready, status: 'False', reason: reasonOr(blocking.reason, 'ReconcileFailed'), message: `${blocking.type}: ${blocking.message}` }]);
  } else {
    work.set([{ type: C.Ready, status: 'True', reason: R.Ready, message: `schema at ${status.schemaVersion ?? 'nothing'}, views fresh` }]);
  }
  work.set([
    { type: C.Reconciling, status: 'False', reason: R.Ready, message: 'nothing in progress' },
    { type: C.Stalled, status: 'False', reason: R.Ready, message: 'not stalled' },
  ]);
  if (generation !== undefined) {
    const current = work.getStatus();
    work.setStatus({ ...current, conditions: current.conditions?.map((c) => ({ ...c, observedGeneration: generation })) });
  }
}
