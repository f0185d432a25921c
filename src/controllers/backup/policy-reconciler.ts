// Reconciles a BackupPolicy: creates one Backup per scheduled slot (deterministic names, so two
// replicas or a restart never run a slot twice; a slot missed by more than startingDeadline is skipped,
// never replayed in a burst), summarises its Backups into status and conditions, prunes every
// destination by the GFS rules after each new successful backup, and runs the restore drill.
import type { z } from 'zod';
import { backupPolicySpecSchema, type BackupPolicySpec, type backupPolicyStatusSchema } from '../../api/backup.ts';
import { API_VERSION, type Resource } from '../../api/common.ts';
import { parseDuration } from '../../api/duration.ts';
import { nextRun, previousRun } from '../../api/schedule.ts';
import type { Clock } from '../../clock.ts';
import { OperatorError, describeError, isOperatorError } from '../../errors.ts';
import { setConditions, type Condition, type ConditionInput } from '../../runtime/conditions.ts';
import { resolveConnection } from '../shared/database-connection.ts';
import type { KeyedMutex } from '../shared/database-mutex.ts';
import { resolveDatabaseRef, type DatabaseReader } from '../shared/database-ref.ts';
import { pgTargetOf } from '../shared/pg-target.ts';
import type { EventToRecord, ReconcileOutcome } from '../shared/resource-controller.ts';
import { msUntilEarliest } from '../shared/schedule.ts';
import { readSecret, requireKey, type SecretReader } from '../shared/secrets.ts';
import type { PruneEngines, RestoreEngines } from './engines.ts';
import { preflightBackupPolicy } from './policy-preflight.ts';
import type { Preflight } from '../shared/preflight.ts';
import type { BackupResource } from './reconciler.ts';

export type BackupPolicyStatus = z.infer<typeof backupPolicyStatusSchema>;
export type BackupPolicyResource = Resource<unknown, BackupPolicyStatus>;
export type BackupRetentionSpec = BackupPolicySpec['retention'];

export const POLICY_LABEL = 'lokdarpan.io/backup-policy';
export const SCHEDULED_AT_ANNOTATION = 'lokdarpan.io/scheduled-at';
/** Failed Backup objects kept per policy for inspection; older ones are deleted. */
export const FAILED_BACKUPS_KEPT = 5;

export const BackupPolicyReasons = {
  InvalidSpec: 'InvalidSpec',
  Suspended: 'Suspended',
  NoBackupYet: 'NoBackupYet',
  BackupSucceeded: 'BackupSucceeded',
  BackupFailed: 'BackupFailed',
  BackupScheduled: 'BackupScheduled',
  MissedSchedule: 'MissedSchedule',
  NoReplicas: 'NoReplicas',
  ReplicasVerified: 'ReplicasVerified',
  ReplicaFailed: 'ReplicaFailed',
  NoRestoreDrill: 'NoRestoreDrill',
  RestoreDrillPassed: 'RestoreDrillPassed',
  RestoreDrillFailed: 'RestoreDrillFailed',
  BackupsPruned: 'BackupsPruned',
  BackupsLocked: 'BackupsLocked',
} as const;
const R = BackupPolicyReasons;

/** The Backup objects of a policy, as the API server has them. */
export interface BackupObjects {
  list(namespace: string, policy: string): Promise<BackupResource[]>;
  /** Creates it; false when one of that name exists already. */
  create(backup: BackupResource): Promise<boolean>;
  delete(namespace: string, name: string): Promise<void>;
}

export interface BackupPolicyReconcilerDeps {
  backups: BackupObjects;
  databases: DatabaseReader;
  secrets: SecretReader;
  engines: RestoreEngines & PruneEngines;
  mutex: KeyedMutex;
  clock: Clock;
  /** Checks destinations, database and keys without writing a backup (absent: no checks). */
  preflight?: Preflight;
  /** Told the summarised status after every reconcile (metrics). */
  onStatus?: (policy: { namespace: string; name: string }, spec: BackupPolicySpec, status: BackupPolicyStatus) => void;
}

/** `<policy>-<yyyymmdd>-<hhmm>` of the slot in UTC: the same slot always gives the same name. */
export function scheduledBackupName(policy: string, slot: Date): string {
  const stamp = slot.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 13).toLowerCase();
  return `${policy.slice(0, 63 - stamp.length - 1)}-${stamp}`;
}

const time = (b: BackupResource): number => new Date(b.status?.completionTime ?? b.metadata.creationTimestamp ?? 0).getTime();
const created = (b: BackupResource): number => new Date(b.metadata.creationTimestamp ?? 0).getTime();

export async function reconcileBackupPolicy(resource: BackupPolicyResource, deps: BackupPolicyReconcilerDeps): Promise<ReconcileOutcome<BackupPolicyStatus>> {
  const now = deps.clock.now();
  const generation = resource.metadata.generation;
  const namespace = resource.metadata.namespace ?? 'default';
  const name = resource.metadata.name;
  const events: EventToRecord[] = [];
  let status: BackupPolicyStatus = { ...(resource.status ?? {}), observedGeneration: generation };
  const set = (inputs: ConditionInput[]): void => {
    status = { ...status, conditions: setConditions(status.conditions as Condition[] | undefined, inputs, generation, now) };
  };

  const parsed = backupPolicySpecSchema.safeParse(resource.spec);
  if (!parsed.success) {
    const message = `spec is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'spec'}: ${i.message}`).join('; ')}`;
    set([
      { type: 'Ready', status: 'False', reason: R.InvalidSpec, message },
      { type: 'Stalled', status: 'True', reason: R.InvalidSpec, message },
    ]);
    events.push({ type: 'Warning', reason: R.InvalidSpec, action: 'Validate', note: message });
    return { status, events };
  }
  const spec = parsed.data;

  try {
    // --- schedule -------------------------------------------------------------------------------
    if (spec.suspend) {
      const { nextScheduleTime: _none, ...rest } = status;
      status = rest;
    } else {
      const since = new Date(status.lastScheduleTime ?? resource.metadata.creationTimestamp ?? now.toISOString());
      const slot = previousRun(spec.schedule, spec.timeZone, now);
      if (slot && slot.getTime() > since.getTime()) {
        const late = now.getTime() - slot.getTime();
        if (late > parseDuration(spec.startingDeadline)) {
          events.push({ type: 'Warning', reason: R.MissedSchedule, action: 'Schedule', note: `skipped the backup due at ${slot.toISOString()}: ${Math.round(late / 1000)} s late, beyond startingDeadline ${spec.startingDeadline}` });
        } else {
          const backupName = scheduledBackupName(name, slot);
          const createdNow = await deps.backups.create({
            apiVersion: API_VERSION,
            kind: 'Backup',
            metadata: {
              name: backupName,
              namespace,
              labels: { [POLICY_LABEL]: name },
              annotations: { [SCHEDULED_AT_ANNOTATION]: slot.toISOString() },
              ownerReferences: resource.metadata.uid
                ? [{ apiVersion: API_VERSION, kind: 'BackupPolicy', name, uid: resource.metadata.uid, controller: true, blockOwnerDeletion: true }]
                : [],
            },
            spec: { policyRef: { name } },
          });
          if (createdNow) events.push({ type: 'Normal', reason: R.BackupScheduled, action: 'Schedule', note: `created Backup ${backupName} for ${slot.toISOString()}` });
        }
        status = { ...status, lastScheduleTime: slot.toISOString() };
      }
      status = { ...status, nextScheduleTime: nextRun(spec.schedule, spec.timeZone, now).toISOString() };
    }

    // --- summary of the Backups -------------------------------------------------------------------
    const backups = (await deps.backups.list(namespace, name)).sort((a, b) => created(a) - created(b));
    const completed = backups.filter((b) => b.status?.phase === 'Completed').sort((a, b) => time(a) - time(b));
    const failed = backups.filter((b) => b.status?.phase === 'Failed');
    const lastGood = completed.at(-1);
    const lastBad = failed.sort((a, b) => time(a) - time(b)).at(-1);
    const lastGoodCreated = lastGood ? created(lastGood) : -1;
    status = {
      ...status,
      consecutiveFailures: failed.filter((b) => created(b) > lastGoodCreated).length,
      ...(lastGood ? { lastSuccessfulBackup: lastGood.metadata.name, lastSuccessfulTime: lastGood.status?.completionTime } : {}),
      ...(lastBad ? { lastFailedBackup: lastBad.metadata.name } : {}),
    };
    const finished = [...completed, ...failed].sort((a, b) => time(a) - time(b)).at(-1);
    if (!finished) set([{ type: 'LastBackupSucceeded', status: 'Unknown', reason: R.NoBackupYet, message: `no backup has finished yet; next at ${status.nextScheduleTime ?? '(suspended)'}` }]);
    else if (finished.status?.phase === 'Completed') set([{ type: 'LastBackupSucceeded', status: 'True', reason: R.BackupSucceeded, message: `${finished.metadata.name}: ${finished.status?.message ?? ''}` }]);
    else set([{ type: 'LastBackupSucceeded', status: 'False', reason: finished.status?.reason ?? R.BackupFailed, message: `${finished.metadata.name}: ${finished.status?.message ?? ''}` }]);
    if (spec.replicas.length === 0) set([{ type: 'Replicated', status: 'True', reason: R.NoReplicas, message: 'no replica destinations configured' }]);
    else if (lastGood?.status?.replicated === true) set([{ type: 'Replicated', status: 'True', reason: R.ReplicasVerified, message: `${lastGood.metadata.name} verified in ${spec.replicas.map((r) => r.name).join(', ')}` }]);
    else if (lastGood) set([{ type: 'Replicated', status: 'False', reason: R.ReplicaFailed, message: (lastGood.status?.destinations ?? []).filter((d) => d.error).map((d) => `${d.name}: ${d.error}`).join('; ') || 'a replica has no verified copy' }]);

    // --- prune after each new successful backup -----------------------------------------------------
    if (lastGood && status.lastPrune?.afterBackup !== lastGood.metadata.name && lastGood.status?.database) {
      const database = lastGood.status.database;
      await deps.mutex.run(`backup-policy/${namespace}/${name}`, 'prune', async () => {
        const results = [];
        const errors: string[] = [];
        for (const destination of [spec.destination, ...spec.replicas]) {
          try {
            results.push(await deps.engines.prune(destination, database, spec.retention, namespace, deps.secrets));
          } catch (error) {
            errors.push(`${destination.name}: ${describeError(error)}`);
          }
        }
        const primary = results.find((r) => r.destination === spec.destination.name);
        const deletedIds = new Set(primary?.deleted ?? []);
        for (const b of completed) if (b.status?.backupId && deletedIds.has(b.status.backupId)) await deps.backups.delete(namespace, b.metadata.name);
        for (const b of failed.slice(0, Math.max(0, failed.length - FAILED_BACKUPS_KEPT))) await deps.backups.delete(namespace, b.metadata.name);
        const locked = results.reduce((n, r) => n + r.locked.length, 0);
        const deleted = results.reduce((n, r) => n + r.deleted.length, 0);
        status = {
          ...status,
          lastPrune: { time: now.toISOString(), afterBackup: lastGood.metadata.name, deleted, kept: primary?.plan.keep.length ?? 0, locked, ...(errors.length ? { errors } : {}) },
        };
        if (deleted > 0) events.push({ type: 'Normal', reason: R.BackupsPruned, action: 'Prune', note: `deleted ${deleted} backup object set(s) beyond the retention rules` });
        if (locked > 0) events.push({ type: 'Normal', reason: R.BackupsLocked, action: 'Prune', note: `${locked} backup(s) due for deletion are under S3 Object Lock; skipped` });
        for (const e of errors) events.push({ type: 'Warning', reason: 'PruneFailed', action: 'Prune', note: e });
      });
    }

    // --- restore drill ------------------------------------------------------------------------------
    if (!spec.restoreDrill) {
      set([{ type: 'RestoreVerified', status: 'Unknown', reason: R.NoRestoreDrill, message: 'no restoreDrill configured: backups are verified by checksum only' }]);
      const { nextRestoreDrillTime: _none, ...rest } = status;
      status = rest;
    } else {
      const drill = spec.restoreDrill;
      const due = status.nextRestoreDrillTime !== undefined && new Date(status.nextRestoreDrillTime).getTime() <= now.getTime();
      if (due && lastGood?.status?.manifestKey && !spec.suspend) {
        await runDrill(drill, lastGood);
      } else if (status.lastRestoreDrill === undefined) {
        set([{ type: 'RestoreVerified', status: 'Unknown', reason: R.NoRestoreDrill, message: 'the first restore drill has not run yet' }]);
      }
      if (due || status.nextRestoreDrillTime === undefined) status = { ...status, nextRestoreDrillTime: nextRun(drill.schedule, drill.timeZone, now).toISOString() };
    }

    set([
      status.consecutiveFailures && status.consecutiveFailures > 0
        ? { type: 'Ready', status: 'False', reason: R.BackupFailed, message: `${status.consecutiveFailures} backup(s) failed since the last success; latest: ${lastBad?.metadata.name}` }
        : { type: 'Ready', status: 'True', reason: spec.suspend ? R.Suspended : lastGood ? R.BackupSucceeded : R.NoBackupYet, message: spec.suspend ? 'suspended: no scheduled backups' : lastGood ? `last success ${lastGood.status?.completionTime}` : 'waiting for the first backup' },
      { type: 'Stalled', status: 'False', reason: 'Idle', message: 'not stalled' },
    ]);
    const checks = deps.preflight && (await preflightBackupPolicy({ namespace, name, generation, conditions: resource.status?.conditions as Condition[] | undefined }, spec, status.nextScheduleTime, now, { preflight: deps.preflight, databases: deps.databases }));
    if (checks) {
      status = { ...status, conditions: checks.apply(status.conditions as Condition[] | undefined, generation, now) };
      events.push(...checks.events);
    }
    deps.onStatus?.({ namespace, name }, spec, status);
    const requeueAfterMs = msUntilEarliest([status.nextScheduleTime, status.nextRestoreDrillTime, checks?.nextCheckTime], now);
    return requeueAfterMs === undefined ? { status, events } : { status, events, requeueAfterMs };
  } catch (error) {
    const typed = isOperatorError(error) ? error : new OperatorError('ReconcileFailed', describeError(error), { cause: error });
    set([{ type: 'Ready', status: 'False', reason: typed.reason, message: typed.message }]);
    events.push({ type: 'Warning', reason: typed.reason, action: 'Reconcile', note: typed.message });
    return { status, events, error: typed };
  }

  async function runDrill(drill: NonNullable<BackupPolicySpec['restoreDrill']>, backup: BackupResource): Promise<void> {
    const started = performance.now();
    try {
      const database = await resolveDatabaseRef(deps.databases, deps.secrets, namespace, spec.databaseRef.name, { requireSchema: false });
      const settings = drill.connectionSecret ? await resolveConnection(deps.secrets, namespace, { secretName: drill.connectionSecret, uriKey: 'uri', sslMode: 'disable' }) : database.settings;
      const identity = requireKey(await readSecret(deps.secrets, namespace, drill.identitySecret.name), drill.identitySecret.name, drill.identitySecret.key, 'restore drill identity');
      const scratch = `lokdarpan_drill_${now.toISOString().replace(/\D/g, '').slice(0, 14)}`;
      const target = { ...pgTargetOf(settings), database: scratch };
      const result = await deps.engines.restore(
        { destination: spec.destination, manifestKey: backup.status?.manifestKey ?? '', identities: [identity], target, createDatabase: true, overwrite: false, namespace, dropCreatedOnFailure: true },
        deps.secrets,
      );
      await deps.engines.dropDatabase(target);
      const check = result.rowCountCheck;
      const durationMs = Math.round(performance.now() - started);
      if (check && !check.passed) throw new OperatorError('RowCountMismatch', `row counts differ from the manifest: ${check.mismatches.map((m) => `${m.table} ${m.actual}/${m.expected}`).join(', ')}`);
      const message = `restored ${backup.metadata.name} into a scratch database in ${durationMs} ms; ${check?.tablesChecked ?? 0} tables' row counts match the manifest`;
      status = { ...status, lastRestoreDrill: { time: now.toISOString(), backup: backup.metadata.name, succeeded: true, durationMs, message } };
      set([{ type: 'RestoreVerified', status: 'True', reason: R.RestoreDrillPassed, message }]);
      events.push({ type: 'Normal', reason: R.RestoreDrillPassed, action: 'RestoreDrill', note: message });
    } catch (error) {
      const typed = isOperatorError(error) ? error : new OperatorError(R.RestoreDrillFailed, describeError(error));
      const message = `restore drill of ${backup.metadata.name} failed: ${typed.message}`;
      status = { ...status, lastRestoreDrill: { time: now.toISOString(), backup: backup.metadata.name, succeeded: false, durationMs: Math.round(performance.now() - started), message } };
      set([{ type: 'RestoreVerified', status: 'False', reason: typed.reason, message }]);
      events.push({ type: 'Warning', reason: R.RestoreDrillFailed, action: 'RestoreDrill', note: message });
    }
  }
}
