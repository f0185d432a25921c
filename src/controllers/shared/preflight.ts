// The preflight checks of a policy, the controller side: which checks are due (on apply, on a spec
// or referenced-Secret change, on the policy's check interval, shortly before each scheduled run, and
// soon again while one fails), running them through the shared probe cache, and turning the results
// into conditions of their own (DestinationsReady, DatabaseReady, KeysReady) plus Ready=False while
// any fails. The probes themselves are ports (real ones in preflight-probes.ts, fakes in unit tests).
import type { PgConnectionSettings, Queryable } from '../../adapters/postgres/index.ts';
import type { DestinationProbeReport, S3Credentials } from '../../adapters/s3/index.ts';
import type { PolicyDestination } from '../../api/common.ts';
import { checkDestinationSettings } from '../../engines/preflight/destination-settings.ts';
import { PreflightReasons } from '../../engines/preflight/reasons.ts';
import { OperatorError, describeError, isOperatorError } from '../../errors.ts';
import { setConditions, type Condition, type ConditionInput } from '../../runtime/conditions.ts';
import { probeKey, type ProbeCache } from './probe-cache.ts';
import { readSecret, requireKey, type SecretReader } from './secrets.ts';
import { recordingSecretReader, type SecretChangePoller } from './secret-poller.ts';
import type { EventToRecord } from './resource-controller.ts';
import type { Reason } from '../../reasons/index.ts';

export interface PreflightProbes {
  destination(destination: PolicyDestination, credentials: S3Credentials): Promise<DestinationProbeReport>;
  /** Runs `fn` on a fresh, short-lived session (DatabaseUnavailable when it cannot connect). */
  withDatabase<T>(settings: PgConnectionSettings, fn: (db: Queryable) => Promise<T>): Promise<T>;
  /** The version of the pg_dump that would dump a server of `major` (PgToolMissing / PgDumpTooOld otherwise). */
  pgDump(major: number): Promise<string>;
}

/** A failing check is tried again this soon, so a fix shows within seconds. */
export const FAILED_RECHECK_MS = 10_000;
/**
 * A due check reuses another policy's result for the same destination or database only when it is
 * this fresh: policies applied or due together share one probe, yet every check sees the present.
 */
export const SHARED_RESULT_MAX_AGE_MS = 15_000;
/** The checks also run this long before each scheduled run. */
export const BEFORE_RUN_MS = 5 * 60_000;

export interface CheckResult {
  type: 'DestinationsReady' | 'DatabaseReady' | 'KeysReady';
  ok: boolean;
  reason: Reason;
  message: string;
}

/** What one policy's checks may use: the Secrets through a recorder, the shared cache and the probes. */
export interface CheckContext {
  namespace: string;
  secrets: SecretReader;
  cache: ProbeCache;
  probes: PreflightProbes;
  /** Reuse cached results at most this old (a period check wants fresh ones). */
  maxAgeMs: number;
}

interface OwnerState {
  generation: number | undefined;
  at: number;
  results: CheckResult[];
}

export interface PreflightOutcome {
  /** The check conditions, and Ready=False when one fails, applied to a condition list. */
  apply(conditions: readonly Condition[] | undefined, generation: number | undefined, now: Date): Condition[];
  failing: CheckResult | undefined;
  events: EventToRecord[];
  /** When the checks are due again (a requeue time); undefined when they are not run. */
  nextCheckTime: string | undefined;
}

export class Preflight {
  readonly cache: ProbeCache;
  readonly probes: PreflightProbes;
  readonly #poller: SecretChangePoller | undefined;
  readonly #states = new Map<string, OwnerState>();
  readonly #dirty = new Set<string>();

  readonly #secretReader: SecretReader;

  constructor(options: { cache: ProbeCache; probes: PreflightProbes; secrets: SecretReader; poller?: SecretChangePoller }) {
    this.cache = options.cache;
    this.#secretReader = options.secrets;
    this.probes = options.probes;
    this.#poller = options.poller;
    // A changed Secret makes the owner's checks due at its next reconcile (which the caller enqueues).
    this.#poller?.onChange((owner) => this.#dirty.add(owner));
  }

  /**
   * Runs `checks` when due for `owner` (see the file comment) and returns their outcome; when not due,
   * the last results again. `nextRunTime` is the policy's next scheduled run, if any.
   */
  async run(
    owner: string,
    input: { namespace: string; generation: number | undefined; intervalMs: number; nextRunTime: string | undefined; now: Date; previous: readonly Condition[] | undefined },
    checks: (context: CheckContext) => Promise<CheckResult[]>,
  ): Promise<PreflightOutcome> {
    const now = input.now.getTime();
    const state = this.#states.get(owner);
    const beforeRun = input.nextRunTime === undefined ? undefined : new Date(input.nextRunTime).getTime() - BEFORE_RUN_MS;
    const failing = state?.results.some((r) => !r.ok) ?? false;
    const due =
      state === undefined ||
      this.#dirty.has(owner) ||
      state.generation !== input.generation ||
      now - state.at >= (failing ? FAILED_RECHECK_MS : input.intervalMs) ||
      (beforeRun !== undefined && state.at < beforeRun && now >= beforeRun);
    let current = state;
    if (due) {
      this.#dirty.delete(owner);
      const secrets = recordingSecretReader(this.#secretReader);
      const results = await checks({ namespace: input.namespace, secrets, cache: this.cache, probes: this.probes, maxAgeMs: SHARED_RESULT_MAX_AGE_MS });
      current = { generation: input.generation, at: now, results };
      this.#states.set(owner, current);
      this.#poller?.track(owner, input.namespace, secrets.seen);
    }
    const results = current?.results ?? [];
    const failed = results.find((r) => !r.ok);
    const anyFailing = failed !== undefined;
    const nextAt = anyFailing
      ? (current?.at ?? now) + FAILED_RECHECK_MS
      : Math.min((current?.at ?? now) + input.intervalMs, beforeRun !== undefined && beforeRun > (current?.at ?? now) ? beforeRun : Infinity);
    const events: EventToRecord[] = [];
    for (const r of results) {
      const before = input.previous?.find((c) => c.type === r.type);
      if (!r.ok && (before?.status !== 'False' || before.reason !== r.reason)) events.push({ type: 'Warning', reason: r.reason, action: 'Preflight', note: r.message });
      if (r.ok && before?.status === 'False') events.push({ type: 'Normal', reason: r.reason, action: 'Preflight', note: r.message });
    }
    return {
      failing: failed,
      events,
      nextCheckTime: new Date(Math.max(nextAt, now + 1_000)).toISOString(),
      apply(conditions, generation, at) {
        const inputs: ConditionInput[] = results.map((r) => ({ type: r.type, status: r.ok ? 'True' : 'False', reason: r.reason, message: r.message }));
        // Stalled True as well: kstatus reads Reconciling/Stalled, not Ready, and a person must act.
        if (failed) {
          const message = `${failed.type}: ${failed.message}`;
          inputs.push({ type: 'Ready', status: 'False', reason: failed.reason, message }, { type: 'Stalled', status: 'True', reason: failed.reason, message });
        }
        return setConditions(conditions, inputs, generation, at);
      },
    };
  }

  /** Forgets an owner (deleted policy). */
  forget(owner: string): void {
    this.#states.delete(owner);
    this.#dirty.delete(owner);
    this.#poller?.forget(owner);
  }
}

const CHECK_TYPES: ReadonlyArray<CheckResult['type']> = ['DestinationsReady', 'DatabaseReady', 'KeysReady'];

/** Whether a condition (Ready False, Stalled True) is the one a failing check wrote (its message starts with the check's type). */
export function isSetByChecks(condition: Condition | undefined): boolean {
  return condition !== undefined && CHECK_TYPES.some((t) => condition.message.startsWith(`${t}: `));
}

/** The outcome for a policy that is not checked (suspended): its check conditions Unknown, nothing due. */
export function notChecked(types: ReadonlyArray<CheckResult['type']>, reason: Reason, message: string): PreflightOutcome {
  return {
    failing: undefined,
    events: [],
    nextCheckTime: undefined,
    apply: (conditions, generation, at) => setConditions(conditions, types.map((type) => ({ type, status: 'Unknown' as const, reason, message })), generation, at),
  };
}

/** An error as a failed check (never a stack trace; OperatorError messages carry no secrets). */
export function failed(type: CheckResult['type'], error: unknown, prefix = ''): CheckResult {
  const typed = isOperatorError(error) ? error : new OperatorError('ReconcileFailed', describeError(error));
  return { type, ok: false, reason: typed.reason, message: `${prefix}${typed.message}` };
}

/**
 * DestinationsReady: every destination probed (write, read, delete under its prefix) through the cache,
 * and its bucket settings compared with what it requires (after the cache: the probe's result is shared
 * by every policy on the bucket, whatever each requires).
 */
export async function checkDestinations(context: CheckContext, destinations: readonly PolicyDestination[]): Promise<CheckResult> {
  const verified: string[] = [];
  for (const destination of destinations) {
    const prefix = `destination ${destination.name}: `;
    let credentials: S3Credentials;
    try {
      const data = await readSecret(context.secrets, context.namespace, destination.credentialsSecret);
      const what = `credentials of destination ${destination.name}`;
      const sessionToken = data['sessionToken'];
      credentials = {
        accessKeyId: requireKey(data, destination.credentialsSecret, 'accessKeyId', what),
        secretAccessKey: requireKey(data, destination.credentialsSecret, 'secretAccessKey', what),
        ...(sessionToken ? { sessionToken } : {}),
      };
    } catch (error) {
      return failed('DestinationsReady', error, prefix);
    }
    const { name: _name, credentialsSecret: _secret, requireVersioning, requireObjectLock, ...where } = destination;
    const key = probeKey('s3', { where, credentials });
    try {
      const { value } = await context.cache.get(key, () => context.probes.destination(destination, credentials), { maxAgeMs: context.maxAgeMs });
      checkDestinationSettings(`destination ${destination.name} (s3://${destination.bucket}/${destination.prefix})`, value, { requireVersioning, requireObjectLock });
      verified.push(`${destination.name} (versioning ${value.versioning}${value.objectLock === 'Enabled' ? ', Object Lock on' : ''})`);
    } catch (error) {
      // The probe's messages already name the destination.
      return failed('DestinationsReady', error, isOperatorError(error) && error.message.includes(`destination ${destination.name}`) ? '' : prefix);
    }
  }
  return { type: 'DestinationsReady', ok: true, reason: PreflightReasons.DestinationsVerified, message: `wrote, read and deleted a probe object in ${verified.join(', ')}` };
}

/** DatabaseReady for a backup: the role may read everything pg_dump dumps, and a pg_dump for the server's major exists. */
export async function checkDumpDatabase(
  context: CheckContext,
  settings: PgConnectionSettings,
  checkAccess: (db: Queryable) => Promise<{ serverMajor: number; serverVersion: string }>,
): Promise<CheckResult> {
  try {
    const { value: access } = await context.cache.get(probeKey('pg-dump-access', settings), () => context.probes.withDatabase(settings, checkAccess), { maxAgeMs: context.maxAgeMs });
    const { value: tool } = await context.cache.get(`pg_dump:${access.serverMajor}`, () => context.probes.pgDump(access.serverMajor), { maxAgeMs: context.maxAgeMs });
    return {
      type: 'DatabaseReady',
      ok: true,
      reason: PreflightReasons.DatabaseVerified,
      message: `PostgreSQL ${access.serverVersion} answered; the role may read every table pg_dump dumps; pg_dump ${tool} is available`,
    };
  } catch (error) {
    return failed('DatabaseReady', error);
  }
}
