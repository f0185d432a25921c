// Reconciles a Restore: find the backup (a Backup object, or a destination + manifest key), the
// identity and the target, then run the restore engine once: download, verify SHA-256, decrypt,
// pg_restore into a new or empty database (a non-empty one only with overwrite), compare row counts,
// and for a restore check (dropAfterCheck, as the policy's drills create) drop the database again.
// The run holds the target database's lock and, for a Backup of a policy, that policy's database lock,
// which pruning takes too: a backup is never deleted while a Restore reads it. It ends on its own
// timeout (reason Timeout), on lost leadership, and when the Restore is deleted.
import type { z } from 'zod';
import { backupPolicySpecSchema, restoreSpecSchema, type restoreStatusSchema } from '../../api/backup.ts';
import type { Resource, S3Destination } from '../../api/common.ts';
import type { Clock } from '../../clock.ts';
import { isOperatorError } from '../../errors.ts';
import { resolveConnection } from '../shared/database-connection.ts';
import type { KeyedMutex } from '../shared/database-mutex.ts';
import { resolveDatabaseRef, type DatabaseReader } from '../shared/database-ref.ts';
import { pgTargetOf } from '../shared/pg-target.ts';
import type { ProgressReporter, ReconcileOutcome } from '../shared/resource-controller.ts';
import { Outcome, failRun, invalidSpecMessage, operatorErrorOf } from '../shared/outcome.ts';
import { isRuntimeInterruption } from '../../runtime/status-writer.ts';
import { readSecret, requireKey, type SecretReader } from '../shared/secrets.ts';
import { parseDuration } from '../../api/duration.ts';
import { BackupReasons } from '../../engines/backup/reasons.ts';
import type { Timers } from '../../runtime/timers.ts';
import { databaseMutexKey } from '../lokdarpan-database/reconciler.ts';
import { deadline } from '../shared/deadline.ts';
import type { RestoreEngines } from './engines.ts';
import { describeProgress } from '../../api/progress.ts';
import { statusProgressReporter } from './progress-status.ts';
import { checkDestinationCredentials } from './references.ts';
import type { BackupResource, PolicyReader } from './reconciler.ts';
import type { RunningRuns } from './runs.ts';
import { RestoreReasons } from './reasons.ts';
import type { Reason } from '../../reasons/index.ts';

export type RestoreStatus = z.infer<typeof restoreStatusSchema>;
export type RestoreResource = Resource<unknown, RestoreStatus>;

export interface BackupReader {
  get(namespace: string, name: string): Promise<BackupResource | undefined>;
}

export interface RestoreReconcilerDeps {
  backups: BackupReader;
  policies: PolicyReader;
  databases: DatabaseReader;
  secrets: SecretReader;
  engines: RestoreEngines;
  mutex: KeyedMutex;
  clock: Clock;
  /** Restores this process runs; cancel(key) (the Restore was deleted) stops one. */
  running: RunningRuns;
  /** Reads the Restore from the API server, bypassing the informer cache. */
  fresh?: (namespace: string, name: string) => Promise<RestoreResource | undefined>;
  /** Arms the run's timeout (default: the process's timers). */
  timers?: Timers;
}

const R = RestoreReasons;

export async function reconcileRestore(resource: RestoreResource, deps: RestoreReconcilerDeps, progress: ProgressReporter, signal: AbortSignal): Promise<ReconcileOutcome<RestoreStatus>> {
  const now = deps.clock.now();
  const namespace = resource.metadata.namespace ?? 'default';
  const key = `${namespace}/${resource.metadata.name}`;
  const out = new Outcome(resource, now);
  const fail = (reason: Reason, message: string): ReconcileOutcome<RestoreStatus> => failRun(out, reason, message, 'Restore', deps.clock.now());
  // Waiting for something a person can supply (the Backup to complete) is retried, not failed.
  const wait = (reason: Reason, message: string): ReconcileOutcome<RestoreStatus> => {
    out.status = { ...out.status, phase: 'Pending', reason, message };
    out.set({ type: 'Ready', status: 'False', reason, message });
    return out.done(15_000);
  };

  if (out.status.phase === 'Completed' || out.status.phase === 'Failed') return { status: resource.status ?? {}, events: [] };
  if (deps.running.has(key)) return { status: resource.status ?? {}, events: [] };
  if (out.status.phase === 'Running') {
    // The informer's copy can lag behind the previous leader's final status write (see reconcileBackup).
    const latest = deps.fresh ? await deps.fresh(namespace, resource.metadata.name) : resource;
    if (!latest) return { status: resource.status ?? {}, events: [] };
    if (latest.status?.phase !== 'Running') return { status: latest.status ?? {}, events: [] };
  }
  if (out.status.phase === 'Running') return fail(R.Interrupted, 'the restore ended before it finished (operator restarted); check the target database before trying again');

  const parsed = restoreSpecSchema.safeParse(resource.spec);
  if (!parsed.success) return fail(R.InvalidSpec, invalidSpecMessage(parsed.error));
  const spec = parsed.data;
  const timeoutMs = parseDuration(spec.timeout);

  const cancelled = deps.running.add(key);
  const limit = deadline(AbortSignal.any([signal, cancelled]), timeoutMs, deps.timers);
  try {
    // Where the backup is, and the lock of the database it is a backup of (pruning takes that lock).
    let destination: S3Destination;
    let manifestKey: string;
    let sourceLock: string | undefined;
    if (spec.backupRef) {
      const backup = await deps.backups.get(namespace, spec.backupRef.name);
      if (!backup) return wait(R.BackupNotFound, `Backup ${spec.backupRef.name} not found`);
      if (backup.status?.phase === 'Failed') return fail(R.BackupNotCompleted, `Backup ${spec.backupRef.name} failed; nothing to restore`);
      if (backup.status?.phase !== 'Completed' || !backup.status.manifestKey) return wait(R.BackupNotCompleted, `Backup ${spec.backupRef.name} has not completed yet`);
      const policyName = backup.spec.policyRef?.name ?? '';
      const policy = await deps.policies.get(namespace, policyName);
      const policySpec = policy && backupPolicySpecSchema.safeParse(policy.spec);
      if (!policySpec?.success) return fail(R.BackupNotFound, `BackupPolicy ${policyName} of Backup ${spec.backupRef.name} is missing or invalid: its destination is unknown`);
      destination = policySpec.data.destination;
      manifestKey = backup.status.manifestKey;
      sourceLock = databaseMutexKey(namespace, policySpec.data.databaseRef.name);
    } else if (spec.source) {
      destination = spec.source.destination;
      manifestKey = spec.source.manifestKey;
    } else {
      return fail(R.InvalidSpec, 'set backupRef or source');
    }

    // Where it goes.
    const database = spec.target.databaseRef
      ? await resolveDatabaseRef(deps.databases, deps.secrets, namespace, spec.target.databaseRef.name, { requireSchema: false })
      : undefined;
    const settings = database?.settings ?? (await resolveConnection(deps.secrets, namespace, { secretName: spec.target.connectionSecret ?? '', uriKey: 'uri', sslMode: 'disable' }));
    const base = pgTargetOf(settings);
    const target = spec.target.databaseName ? { ...base, database: spec.target.databaseName } : base;
    const admin = spec.target.adminConnectionSecret && spec.target.databaseName
      ? { ...pgTargetOf(await resolveConnection(deps.secrets, namespace, { secretName: spec.target.adminConnectionSecret, uriKey: 'uri', sslMode: 'disable' })), database: 'postgres' }
      : undefined;
    const identity = requireKey(await readSecret(deps.secrets, namespace, spec.identitySecret.name), spec.identitySecret.name, spec.identitySecret.key, 'age identity');
    await checkDestinationCredentials([destination], namespace, deps.secrets);

    out.status = { ...out.status, phase: 'Running', startTime: now.toISOString(), targetDatabase: target.database };
    out.set({ type: 'Ready', status: 'False', reason: R.Running, message: `restoring into ${target.database}` });
    await progress(out.status);
    // Progress: status.progress and the message follow the download while it runs.
    const reporter = statusProgressReporter(async (p) => {
      out.status = { ...out.status, progress: p, message: `restoring into ${target.database}: ${describeProgress(p)}` };
      await progress(out.status);
    }, deps.clock);
    const targetLock = database?.mutexKey ?? `restore-target/${target.host}/${target.database}`;
    const result = await underLocks(deps.mutex, [targetLock, sourceLock], `restore ${resource.metadata.name}`, async () => {
      let restored;
      try {
        restored = await deps.engines.restore(
          { destination, manifestKey, identities: [identity], target, createDatabase: spec.target.databaseName !== undefined, overwrite: spec.overwrite, namespace, signal: limit.signal, onProgress: reporter.onProgress, ...(admin ? { admin } : {}) },
          deps.secrets,
        );
      } catch (error) {
        // The engine keeps a database whose row counts differ, for inspection; a restore check does not.
        if (spec.dropAfterCheck && isOperatorError(error) && error.reason === BackupReasons.RowCountMismatch) await deps.engines.dropDatabase(target);
        throw error;
      }
      if (spec.dropAfterCheck) await deps.engines.dropDatabase(target);
      return restored;
    }).finally(() => reporter.settle());
    const check = result.rowCountCheck;
    if (check && !check.passed) {
      const mismatches = check.mismatches.map((m) => `${m.table}: ${m.actual} rows, manifest ${m.expected}`);
      out.status = { ...out.status, rowCountCheck: { passed: false, tablesChecked: check.tablesChecked, mismatches }, durationMs: result.durationMs };
      return fail('RowCountMismatch', `restored, but row counts differ from the manifest: ${mismatches.join('; ')}`);
    }
    // A scratch database dropped after the check keeps no settings or extensions to fix.
    const settingWarnings = spec.dropAfterCheck ? [] : result.databaseSettings.warnings;
    const extensionWarnings = spec.dropAfterCheck ? [] : result.extensions.warnings;
    const warnings = [...settingWarnings, ...extensionWarnings];
    const notApplied = settingWarnings.length === 0 ? '' : `; ${settingWarnings.length} database setting(s) of the schema not re-applied (status.warnings)`;
    const kept = extensionWarnings.length === 0 ? '' : `; ${extensionWarnings.length} extension(s) kept at another version than the server's (status.warnings)`;
    const message = `restored backup ${result.backupId} (${result.bytes} bytes) into ${result.database} in ${result.durationMs} ms; row counts of ${check?.tablesChecked ?? 0} tables match${spec.dropAfterCheck ? '; the database was dropped after the check' : ''}${notApplied}${kept}`;
    out.status = {
      ...out.status,
      phase: 'Completed',
      reason: R.Completed,
      message,
      completionTime: result.finishedAt,
      durationMs: result.durationMs,
      targetDatabase: result.database,
      ...(check ? { rowCountCheck: { passed: true, tablesChecked: check.tablesChecked } } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
    out.set({ type: 'Ready', status: 'True', reason: R.Completed, message }, { type: 'Succeeded', status: 'True', reason: R.Completed, message });
    out.normal(R.Completed, 'Restore', message);
    for (const warning of settingWarnings) out.warn(R.DatabaseSettingsNotApplied, 'Restore', warning);
    for (const warning of extensionWarnings) out.warn(R.ExtensionVersionKept, 'Restore', warning);
    return out.done();
  } catch (error) {
    // Not this run's failure: the object changed under us or this replica stopped leading. Requeue, report nothing.
    if (isRuntimeInterruption(error)) throw error;
    if (limit.exceeded) return fail(R.Timeout, `the restore ran longer than spec.timeout ${spec.timeout} and was cancelled; pg_restore runs in one transaction, so nothing was committed (raise spec.timeout for larger backups)`);
    if (cancelled.aborted) return fail(R.Cancelled, 'the Restore was deleted while it ran; the restore was cancelled and nothing was committed');
    const typed = operatorErrorOf(error, 'RestoreFailed');
    if (!typed.terminal && out.status.phase !== 'Running') {
      // Could not even start (Secret missing, database unreachable): report and retry with backoff.
      out.set({ type: 'Ready', status: 'False', reason: typed.reason, message: typed.message });
      out.warn(typed.reason, 'Restore', typed.message);
      out.status = { ...out.status, phase: 'Pending', reason: typed.reason, message: typed.message };
      return { ...out.done(), error: typed };
    }
    return fail(typed.reason, typed.message);
  } finally {
    limit.clear();
    deps.running.delete(key);
  }
}

/** Runs fn holding every given lock, taken in sorted order so that two multi-lock holders never deadlock. */
function underLocks<T>(mutex: KeyedMutex, keys: ReadonlyArray<string | undefined>, what: string, fn: () => Promise<T>): Promise<T> {
  const sorted = [...new Set(keys.filter((k): k is string => k !== undefined))].sort();
  const take = (i: number): Promise<T> => (i === sorted.length ? fn() : mutex.run(sorted[i]!, what, () => take(i + 1)));
  return take(0);
}
