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
import { OperatorError, describeError, isOperatorError } from '../../errors.ts';
import { ageEncryptor, defaultRetentionRules, type RetentionArchiveOptions, type RetentionRule, type RetentionRunResult } from '../../engines/retention/index.ts';
import { setConditions, type Condition, type ConditionInput } from '../../runtime/conditions.ts';
import type { KeyedMutex } from '../shared/database-mutex.ts';
import { isSetByChecks, notChecked, type Preflight } from '../shared/preflight.ts';
import { preflightRetentionPolicy } from './preflight.ts';
import { resolveDatabaseRef, type DatabaseReader } from '../shared/database-ref.ts';
import type { EventToRecord, ReconcileOutcome } from '../shared/resource-controller.ts';
import type { SecretReader } from '../shared/secrets.ts';
import type { S3Destination } from '../../api/common.ts';
import type { z } from 'zod';
import type { retentionPolicyStatusSchema } from '../../api/retention-policy.ts';
import { RetentionPolicyReasons } from './reasons.ts';
import { reasonOr, type Reason } from '../../reasons/index.ts';

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
}

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
  const untilCheck = checks.nextCheckTime === undefined ? Infinity : Math.max(1_000, new Date(checks.nextCheckTime).getTime() - now.getTime());
  const requeueAfterMs = Math.min(outcome.requeueAfterMs ?? Infinity, untilCheck);
  let conditions = outcome.status.conditions as Condition[] | undefined;
  // The checks pass again: a Ready they had turned False goes back to what the last run says, and a
  // Stalled they had set is cleared.
  if (!checks.failing && isSetByChecks(conditions?.find((c) => c.type === 'Ready' && c.status === 'False'))) {
    conditions = setConditions(conditions, [readyFromLastRun(outcome.status)], generation, now);
  }
  if (!checks.failing && isSetByChecks(conditions?.find((c) => c.type === 'Stalled' && c.status === 'True'))) {
    conditions = setConditions(conditions, [{ type: 'Stalled', status: 'False', reason: 'Idle', message: 'not stalled' }], generation, now);
  }
  return {
    ...outcome,
    status: { ...outcome.status, conditions: checks.apply(conditions, generation, now) },
    events: [...outcome.events, ...checks.events],
    ...(Number.isFinite(requeueAfterMs) ? { requeueAfterMs } : {}),
  };
}

/** `signal` (timeout, lost leadership) stops the run between batches and closes its session; the outcome then carries its reason. */
async function reconcileRetentionRun(resource: RetentionPolicyResource, deps: RetentionReconcilerDeps, signal?: AbortSignal): Promise<ReconcileOutcome<RetentionPolicyStatus>> {
  const now = deps.clock.now();
  const generation = resource.metadata.generation;
  const namespace = resource.metadata.namespace ?? 'default';
  const events: EventToRecord[] = [];
  let status: RetentionPolicyStatus = { ...(resource.status ?? {}), observedGeneration: generation };
  const set = (inputs: ConditionInput[]): void => {
    status = { ...status, conditions: setConditions(status.conditions as Condition[] | undefined, inputs, generation, now) };
  };
  const stall = (reason: Reason, message: string): ReconcileOutcome<RetentionPolicyStatus> => {
    set([
      { type: 'Ready', status: 'False', reason, message },
      { type: 'Stalled', status: 'True', reason, message },
      { type: 'Reconciling', status: 'False', reason, message: 'waiting for the spec to be fixed' },
    ]);
    events.push({ type: 'Warning', reason, action: 'Validate', note: message });
    return { status, events };
  };

  const parsed = retentionPolicySpecSchema.safeParse(resource.spec);
  if (!parsed.success) {
    return stall(R.InvalidSpec, `spec is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'spec'}: ${i.message}`).join('; ')}`);
  }
  const spec = parsed.data;
  if (spec.suspend) {
    const message = 'spec.suspend is true: no retention runs';
    set([
      { type: 'Ready', status: 'False', reason: R.Suspended, message },
      { type: 'Reconciling', status: 'False', reason: R.Suspended, message },
      { type: 'Stalled', status: 'False', reason: R.Suspended, message },
    ]);
    const { nextRunTime: _skipped, ...rest } = status;
    return { status: rest, events };
  }

  const request = resource.metadata.annotations?.[RUN_REQUEST_ANNOTATION];
  // Runs only when its scheduled time has come or someone asked (a new policy waits for its first slot;
  // a run missed while the operator was down runs once, not once per missed slot).
  const asked = request !== undefined && request !== status.lastRequest;
  // A changed spec may carry a new schedule: the next slot is computed again from it.
  const specChanged = resource.status?.observedGeneration !== generation;
  const scheduled = !specChanged && status.nextRunTime !== undefined && new Date(status.nextRunTime).getTime() <= now.getTime();
  if (!asked && !scheduled) {
    const next = !specChanged && status.nextRunTime ? status.nextRunTime : nextRun(spec.schedule, spec.timeZone, now).toISOString();
    status = { ...status, nextRunTime: next };
    if (status.lastRun === undefined) set([{ type: 'Ready', status: 'True', reason: R.NotRunYet, message: `first run at ${next}` }, ...idle()]);
    return { status, events, requeueAfterMs: Math.max(1_000, new Date(next).getTime() - now.getTime()) };
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
    status = {
      ...status,
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
      set([{ type: 'Ready', status: 'False', reason: failed[0]?.error?.reason ?? R.RunFailed, message }, ...idle()]);
      events.push({ type: 'Warning', reason: R.RunFailed, action: 'Retain', note: message });
    } else {
      const reason = result.partial ? R.RunPartial : R.RunSucceeded;
      const message = result.partial ? `${counts}; the budget ran out, the next run continues` : counts;
      set([{ type: 'Ready', status: 'True', reason, message }, ...idle()]);
      events.push({ type: 'Normal', reason, action: 'Retain', note: message });
    }
    return { status, events, requeueAfterMs: Math.max(1_000, new Date(next).getTime() - now.getTime()) };
  } catch (error) {
    const cause = signal?.aborted ? signal.reason : error;
    const typed = isOperatorError(cause) ? cause : new OperatorError(R.RunFailed, describeError(cause), { cause });
    if (typed.terminal && !signal?.aborted) return stall(typed.reason, typed.message);
    set([
      { type: 'Ready', status: 'False', reason: typed.reason, message: typed.message },
      { type: 'Reconciling', status: 'True', reason: typed.reason, message: `retrying with backoff: ${typed.message}` },
      { type: 'Stalled', status: 'False', reason: typed.reason, message: 'retrying' },
    ]);
    events.push({ type: 'Warning', reason: typed.reason, action: 'Retain', note: typed.message });
    return { status, events, error: typed };
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

function idle(): ConditionInput[] {
  return [
    { type: 'Reconciling', status: 'False', reason: 'Idle', message: 'nothing in progress' },
    { type: 'Stalled', status: 'False', reason: 'Idle', message: 'not stalled' },
  ];
}
