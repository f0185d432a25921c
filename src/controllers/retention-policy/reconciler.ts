// Reconciles a RetentionPolicy: when its schedule (or the run-now annotation) says so, resolve the
// database, combine the default and the policy's rules, run the retention engine under the database's
// mutex, and report per-rule counts, conditions and events. Invalid rules stall the policy before any
// statement runs.
import type { PgConnectionSettings, Queryable } from '../../adapters/postgres/index.ts';
import type { Resource } from '../../api/common.ts';
import { parseDuration } from '../../api/duration.ts';
import { retentionPolicySpecSchema, type RetentionPolicySpec } from '../../api/retention-policy.ts';
import { nextRun } from '../../api/schedule.ts';
import type { Clock } from '../../clock.ts';
import { ageEncryptor, defaultRetentionRules, type RetentionArchiveOptions, type RetentionRule, type RetentionRunResult } from '../../engines/retention/index.ts';
import { setConditions, type Condition, type ConditionInput } from '../../runtime/conditions.ts';
import type { KeyedMutex } from '../shared/database-mutex.ts';
import { isSetByChecks, notChecked, type Preflight } from '../shared/preflight.ts';
import { preflightRetentionPolicy } from './preflight.ts';
import { resolveDatabaseRef, type DatabaseReader } from '../shared/database-ref.ts';
import type { ReconcileOutcome } from '../shared/resource-controller.ts';
import { Outcome, earliestRequeue, idleConditions, operatorErrorOf } from '../shared/outcome.ts';
import { isDue, msUntilEarliest } from '../shared/schedule.ts';
import type { SecretReader } from '../shared/secrets.ts';
import type { S3Destination } from '../../api/common.ts';
import type { z } from 'zod';
import type { retentionPolicyStatusSchema } from '../../api/retention-policy.ts';
import { RetentionPolicyReasons } from './reasons.ts';
import { reasonOr } from '../../reasons/index.ts';

export type RetentionPolicyStatus = z.infer<typeof retentionPolicyStatusSchema>;
export type RetentionPolicyResource = Resource<unknown, RetentionPolicyStatus>;

export const RUN_REQUEST_ANNOTATION = 'lokdarpan.io/run-requested-at';

const R = RetentionPolicyReasons;

export interface RetentionEngines {
  /** Runs the rules against the database (opening and closing its own connection). */
  run(
    settings: PgConnectionSettings,
    rules: readonly RetentionRule[],
    options: { batchSize: number; pauseMs: number; budgetMs: number; lockTimeoutMs: number; dryRun: boolean; archive?: RetentionArchiveOptions; signal?: AbortSignal },
  ): Promise<RetentionRunResult>;
  archiveSink(destination: S3Destination, secrets: SecretReader, namespace: string): Promise<RetentionArchiveOptions['sink']>;
}

export interface RetentionReconcilerDeps {
  databases: DatabaseReader;
  secrets: SecretReader;
  engines: RetentionEngines;
  mutex: KeyedMutex;
  clock: Clock;
  /** Checks database, rules and archive destination without running (absent: no checks). */
  preflight?: Preflight;
  /** Called with each completed run, for metrics. */
  onRun?: (policy: { namespace: string; name: string }, result: RetentionRunResult) => void;
  /** Reads the RetentionPolicy from the API server, bypassing the informer cache. */
  fresh?: (namespace: string, name: string) => Promise<RetentionPolicyResource | undefined>;
}

/** How soon a due run whose cached policy lagged behind the API server is looked at again. */
export const CACHE_LAG_RECHECK_MS = 500;

/** The cached policy is older than the API server's: nothing may be decided from it. */
const CACHE_BEHIND = Symbol('cache behind');

/** The policy's rules: the defaults (unless turned off), with same-named spec rules replacing them. */
export function effectiveRules(spec: RetentionPolicySpec): RetentionRule[] {
  const own = spec.rules as RetentionRule[];
  const names = new Set(own.map((r) => r.name));
  const defaults = spec.useDefaultRules ? defaultRetentionRules({ archiveReports: spec.archive !== undefined }).filter((r) => !names.has(r.name)) : [];
  return [...defaults, ...own];
}

/**
 * The reconcile plus its preflight checks (DatabaseReady, DestinationsReady): on apply, on changes and on
 * the check interval, whether or not a run is due; Ready is False while one fails.
 */
export async function reconcileRetentionPolicy(
  resource: RetentionPolicyResource,
  deps: RetentionReconcilerDeps,
  signal?: AbortSignal,
): Promise<ReconcileOutcome<RetentionPolicyStatus>> {
  const outcome = await reconcileRetentionRun(resource, deps, signal);
  if (outcome === CACHE_BEHIND) return { status: resource.status ?? {}, events: [], requeueAfterMs: CACHE_LAG_RECHECK_MS };
  const spec = retentionPolicySpecSchema.safeParse(resource.spec);
  if (!deps.preflight || !spec.success) return outcome;
  const now = deps.clock.now();
  const generation = resource.metadata.generation;
  if (spec.data.suspend) {
    const skipped = notChecked(['DestinationsReady', 'DatabaseReady'], R.Suspended, 'spec.suspend is true: not checked');
    return { ...outcome, status: { ...outcome.status, conditions: skipped.apply(outcome.status.conditions as Condition[] | undefined, generation, now) } };
  }
  const checks = await preflightRetentionPolicy(
    {
      namespace: resource.metadata.namespace ?? 'default',
      name: resource.metadata.name,
      generation,
      conditions: resource.status?.conditions as Condition[] | undefined,
      nextRunTime: outcome.status.nextRunTime,
    },
    spec.data,
    effectiveRules(spec.data),
    now,
    { preflight: deps.preflight, databases: deps.databases },
  );
  const requeueAfterMs = earliestRequeue(outcome.requeueAfterMs, msUntilEarliest([checks.nextCheckTime], now));
  let conditions = outcome.status.conditions as Condition[] | undefined;
  // The checks pass again: a Ready they had turned False goes back to what the last run says, and a
  // Stalled they had set is cleared.
  if (!checks.failing && isSetByChecks(conditions?.find((c) => c.type === 'Ready' && c.status === 'False'))) {
    conditions = setConditions(conditions, [readyFromLastRun(outcome.status)], generation, now);
  }
  if (!checks.failing && isSetByChecks(conditions?.find((c) => c.type === 'Stalled' && c.status === 'True'))) {
    conditions = setConditions(conditions, idleConditions().filter((c) => c.type === 'Stalled'), generation, now);
  }
  return {
    ...outcome,
    status: { ...outcome.status, conditions: checks.apply(conditions, generation, now) },
    events: [...outcome.events, ...checks.events],
    ...(requeueAfterMs === undefined ? {} : { requeueAfterMs }),
  };
}

/** `signal` (timeout, lost leadership) stops the run between batches and closes its session; the outcome then carries its reason. */
async function reconcileRetentionRun(resource: RetentionPolicyResource, deps: RetentionReconcilerDeps, signal?: AbortSignal): Promise<ReconcileOutcome<RetentionPolicyStatus> | typeof CACHE_BEHIND> {
  const now = deps.clock.now();
  const out = new Outcome(resource, now);
  const namespace = resource.metadata.namespace ?? 'default';

  const spec = out.parseSpec(retentionPolicySpecSchema, resource.spec);
  if (!spec) return out.done();
  if (spec.suspend) {
    const { nextRunTime: _skipped, ...rest } = out.status;
    out.status = rest;
    return out.suspended(R.Suspended, 'spec.suspend is true: no retention runs');
  }

  const request = resource.metadata.annotations?.[RUN_REQUEST_ANNOTATION];
  // Runs only when its scheduled time has come or someone asked (a new policy waits for its first slot;
  // a run missed while the operator was down runs once, not once per missed slot). A changed spec may
  // carry a new schedule: the next slot is computed again from it.
  const specChanged = resource.status?.observedGeneration !== out.generation;
  const scheduledNext = specChanged ? undefined : out.status.nextRunTime;
  if (!isDue({ next: scheduledNext, unscheduled: 'wait', request, lastRequest: out.status.lastRequest }, now)) {
    const next = scheduledNext ?? nextRun(spec.schedule, spec.timeZone, now).toISOString();
    out.status = { ...out.status, nextRunTime: next };
    if (out.status.lastRun === undefined) {
      out.set({ type: 'Ready', status: 'True', reason: R.NotRunYet, message: `first run at ${next}` });
      out.idle();
    }
    return out.done(msUntilEarliest([next], now));
  }
  // The informer's copy can lag behind the last status write: a run just recorded (its lastRequest, its
  // nextRunTime) would look due again, run a second time and overwrite the first run's counts.
  // createResourceController never reconciles a copy older than this process's own last write; this GET
  // also covers the writes it cannot know of: the previous leader's last run (a standby's cache may not
  // have it yet when it takes over) and a write whose answer was lost. Only the API server's current
  // object may start a run; a lagging cache is looked at again soon.
  if (deps.fresh) {
    const latest = await deps.fresh(namespace, resource.metadata.name);
    if (latest?.metadata.resourceVersion !== resource.metadata.resourceVersion) return CACHE_BEHIND;
  }

  try {
    const database = await resolveDatabaseRef(deps.databases, deps.secrets, namespace, spec.databaseRef.name, { requireSchema: true });
    const archive = spec.archive
      ? { sink: await deps.engines.archiveSink(spec.archive.destination, deps.secrets, namespace), encrypt: ageEncryptor(spec.archive.recipients), prefix: `retention/${namespace}/${resource.metadata.name}/` }
      : undefined;
    signal?.throwIfAborted();
    const result = await deps.mutex.run(database.mutexKey, `retention ${resource.metadata.name}`, () => {
      signal?.throwIfAborted();
      return deps.engines.run(database.settings, effectiveRules(spec), {
        batchSize: spec.batchSize,
        pauseMs: parseDuration(spec.pauseBetweenBatches),
        budgetMs: parseDuration(spec.budget),
        lockTimeoutMs: parseDuration(spec.lockTimeout),
        dryRun: spec.dryRun,
        ...(archive ? { archive } : {}),
        ...(signal ? { signal } : {}),
      });
    });
    deps.onRun?.({ namespace, name: resource.metadata.name }, result);
    const next = nextRun(spec.schedule, spec.timeZone, now).toISOString();
    out.status = {
      ...out.status,
      nextRunTime: next,
      ...(request === undefined ? {} : { lastRequest: request }),
      lastRun: {
        startTime: result.startedAt,
        durationMs: result.durationMs,
        dryRun: result.dryRun,
        partial: result.partial,
        matched: result.totals.matched,
        deleted: result.totals.deleted,
        archived: result.totals.archived,
        marked: result.totals.marked,
        rules: result.rules.map((r) => ({
          name: r.rule,
          table: r.table,
          action: r.action,
          matched: r.matched ?? 0,
          deleted: r.deleted,
          archived: r.archived,
          marked: r.marked,
          ...(r.partial ? { partial: true } : {}),
          ...(r.error ? { error: `${r.error.reason}: ${r.error.message}` } : {}),
        })),
      },
    };
    const scope = `${result.rules.length} rule${result.rules.length === 1 ? '' : 's'}, ${result.durationMs} ms`;
    const counts = result.dryRun
      ? `dry run: ${result.totals.matched} rows would be affected (${scope})`
      : `deleted ${result.totals.deleted} rows, archived ${result.totals.archived}, marked ${result.totals.marked} (${scope})`;
    const failed = result.rules.filter((r) => r.error);
    if (result.status === 'failed' || failed.length > 0) {
      const message = `${counts}; failed: ${failed.map((r) => `${r.rule} (${r.error?.reason}: ${r.error?.message})`).join('; ')}`;
      out.set({ type: 'Ready', status: 'False', reason: failed[0]?.error?.reason ?? R.RunFailed, message });
      out.warn(R.RunFailed, 'Retain', message);
    } else {
      const reason = result.partial ? R.RunPartial : R.RunSucceeded;
      const message = result.partial ? `${counts}; the budget ran out, the next run continues` : counts;
      out.set({ type: 'Ready', status: 'True', reason, message });
      out.normal(reason, 'Retain', message);
    }
    out.idle();
    return out.done(msUntilEarliest([next], now));
  } catch (error) {
    return out.failed(operatorErrorOf(signal?.aborted ? signal.reason : error, R.RunFailed), 'Retain', signal?.aborted);
  }
}

/** Ready as the last run left it (or NotRunYet), for when a failed check no longer holds it False. */
function readyFromLastRun(status: RetentionPolicyStatus): ConditionInput {
  const run = status.lastRun;
  if (run === undefined) return { type: 'Ready', status: 'True', reason: R.NotRunYet, message: `first run at ${status.nextRunTime ?? '(not scheduled)'}` };
  const failedRules = (run.rules ?? []).filter((r) => r.error);
  if (failedRules.length > 0) {
    const reason = reasonOr(failedRules[0]?.error?.split(':')[0], R.RunFailed);
    return { type: 'Ready', status: 'False', reason, message: `the last run failed: ${failedRules.map((r) => `${r.name} (${r.error})`).join('; ')}` };
  }
  const counts = `deleted ${run.deleted ?? 0} rows, archived ${run.archived ?? 0}, marked ${run.marked ?? 0}`;
  return run.partial
    ? { type: 'Ready', status: 'True', reason: R.RunPartial, message: `last run ${run.startTime}: ${counts}; the budget ran out, the next run continues` }
    : { type: 'Ready', status: 'True', reason: R.RunSucceeded, message: `last run ${run.startTime}: ${counts}` };
}
