// Reconciles a BackupPolicy in named steps: check that what it names exists (the database, every Secret
// and key, so a wrong name is Ready=False at once), schedule (one Backup per slot, with deterministic
// names so two replicas or a restart never run a slot twice; a slot missed by more than
// startingDeadline is skipped, never replayed in a burst), summarise its Backups into status, prune
// every destination by the GFS rules after each new successful backup, and run the restore drill as
// its own Restore object. Nothing here waits for a backup, a restore or a database lock: pruning that
// would wait is put off and retried; backups an unfinished Restore reads are kept by the pass. Pruning
// only ever touches this policy's own backups (its owner folder); destinations other policies also
// write to are reported (condition DestinationsOverlap).
import type { z } from 'zod';
import { backupPolicySpecSchema, type BackupPolicySpec, type backupPolicyStatusSchema } from '../../api/backup.ts';
import { API_VERSION, type Resource } from '../../api/common.ts';
import { parseDuration } from '../../api/duration.ts';
import { nextRun, previousRun } from '../../api/schedule.ts';
import type { Clock } from '../../clock.ts';
import { describeError, type OperatorError } from '../../errors.ts';
import type { Condition, ConditionInput } from '../../runtime/conditions.ts';
import { databaseMutexKey } from '../lokdarpan-database/reconciler.ts';
import type { KeyedMutex } from '../shared/database-mutex.ts';
import type { DatabaseReader } from '../shared/database-ref.ts';
import type { ReconcileOutcome } from '../shared/resource-controller.ts';
import { Outcome, earliestRequeue, operatorErrorOf } from '../shared/outcome.ts';
import { isDue, msUntilEarliest } from '../shared/schedule.ts';
import type { SecretReader } from '../shared/secrets.ts';
import type { PruneEngines } from './engines.ts';
import type { PruneResult } from '../../engines/backup/index.ts';
import { policyOverlaps, type PolicyForOverlap, type PolicyOverlaps } from './overlap.ts';
import { policyReferenceProblems } from './references.ts';
import { preflightBackupPolicy } from './policy-preflight.ts';
import type { Preflight } from '../shared/preflight.ts';
import type { BackupResource } from './reconciler.ts';
import type { RestoreResource } from './restore-reconciler.ts';
import { BackupPolicyReasons } from './reasons.ts';
import { reasonOr } from '../../reasons/index.ts';

export type BackupPolicyStatus = z.infer<typeof backupPolicyStatusSchema>;
export type BackupPolicyResource = Resource<unknown, BackupPolicyStatus>;
export type BackupRetentionSpec = BackupPolicySpec['retention'];

export const POLICY_LABEL = 'lokdarpan.io/backup-policy';
/** On the Restores a policy creates for its drills: the policy's name. */
export const DRILL_LABEL = 'lokdarpan.io/restore-drill-of';
export const SCHEDULED_AT_ANNOTATION = 'lokdarpan.io/scheduled-at';
/** Failed Backup objects kept per policy for inspection; older ones are deleted. */
export const FAILED_BACKUPS_KEPT = 5;
/** Finished drill Restores kept per policy for inspection; older ones are deleted. */
export const DRILL_RESTORES_KEPT = 3;
/** How soon a policy looks again when something it waits on (a reference, the database lock) may have changed. */
export const RECHECK_MS = 30_000;

const R = BackupPolicyReasons;

/** The Backup objects of a policy, as the API server has them. */
export interface BackupObjects {
  list(namespace: string, policy: string): Promise<BackupResource[]>;
  /** Creates it; false when one of that name exists already. */
  create(backup: BackupResource): Promise<boolean>;
  delete(namespace: string, name: string): Promise<void>;
}

/** The Restore objects of a namespace: pruning spares what they read, drills are Restores. */
export interface RestoreObjects {
  list(namespace: string): Promise<RestoreResource[]>;
  /** Creates it; false when one of that name exists already. */
  create(restore: RestoreResource): Promise<boolean>;
  delete(namespace: string, name: string): Promise<void>;
}

export interface BackupPolicyReconcilerDeps {
  backups: BackupObjects;
  restores: RestoreObjects;
  databases: DatabaseReader;
  secrets: SecretReader;
  engines: PruneEngines;
  /** Every BackupPolicy the operator watches (the informer's cache): destinations they share are reported. */
  allPolicies: { list(): Promise<readonly PolicyForOverlap[]> };
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

/** `<policy>-drill-<yyyymmdd>-<hhmm>` of the drill's slot. */
export function drillRestoreName(policy: string, slot: Date): string {
  return scheduledBackupName(`${policy.slice(0, 63 - 20)}-drill`, slot);
}

const time = (b: BackupResource): number => new Date(b.status?.completionTime ?? b.metadata.creationTimestamp ?? 0).getTime();
const created = (o: { metadata: { creationTimestamp?: string | undefined } }): number => new Date(o.metadata.creationTimestamp ?? 0).getTime();
const isFinished = (r: RestoreResource): boolean => r.status?.phase === 'Completed' || r.status?.phase === 'Failed';

/** One reconcile's state, shared by its steps. */
interface PolicyReconcile {
  resource: BackupPolicyResource;
  spec: BackupPolicySpec;
  deps: BackupPolicyReconcilerDeps;
  namespace: string;
  name: string;
  now: Date;
  out: Outcome<BackupPolicyStatus>;
  /** Look again this soon, whatever the schedules say (something we wait on may change). */
  recheck: boolean;
}

interface BackupSummary {
  completed: BackupResource[];
  failed: BackupResource[];
  lastGood: BackupResource | undefined;
  lastBad: BackupResource | undefined;
}

export async function reconcileBackupPolicy(resource: BackupPolicyResource, deps: BackupPolicyReconcilerDeps): Promise<ReconcileOutcome<BackupPolicyStatus>> {
  const now = deps.clock.now();
  const out = new Outcome(resource, now);
  const spec = out.parseSpec(backupPolicySpecSchema, resource.spec);
  if (!spec) return out.done();
  const ctx: PolicyReconcile = { resource, spec, deps, namespace: resource.metadata.namespace ?? 'default', name: resource.metadata.name, now, out, recheck: false };

  try {
    const { problems, database } = await checkReferences(ctx);
    const overlaps = await reportOverlaps(ctx, database);
    await scheduleBackups(ctx);
    const summary = await summariseBackups(ctx);
    await pruneAfterNewBackup(ctx, summary, overlaps);
    await restoreDrill(ctx, summary.lastGood);
    setReady(ctx, summary, problems);
    const checks = await applyPreflight(ctx);
    deps.onStatus?.({ namespace: ctx.namespace, name: ctx.name }, ctx.spec, out.status);
    const scheduled = msUntilEarliest([out.status.nextScheduleTime, out.status.nextRestoreDrillTime, checks?.nextCheckTime], now);
    return out.done(earliestRequeue(scheduled, ctx.recheck ? RECHECK_MS : undefined));
  } catch (error) {
    return out.failed(operatorErrorOf(error, 'ReconcileFailed'), 'Reconcile');
  }
}

/** DestinationsReady, DatabaseReady, KeysReady (absent without a preflight): a failing one holds Ready False. */
async function applyPreflight(ctx: PolicyReconcile): Promise<{ nextCheckTime?: string | undefined } | undefined> {
  const { deps, out, resource } = ctx;
  if (!deps.preflight) return undefined;
  const identity = { namespace: ctx.namespace, name: ctx.name, generation: out.generation, conditions: resource.status?.conditions as Condition[] | undefined };
  const checks = await preflightBackupPolicy(identity, ctx.spec, out.status.nextScheduleTime, ctx.now, { preflight: deps.preflight, databases: deps.databases });
  out.status = { ...out.status, conditions: checks.apply(out.conditions, out.generation, ctx.now) };
  out.events.push(...checks.events);
  return checks;
}

/** The database, Secrets and keys the policy names; a missing one is reported now, not at the first run. */
async function checkReferences(ctx: PolicyReconcile): Promise<{ problems: OperatorError[]; database: string | undefined }> {
  const { problems, database } = await policyReferenceProblems(ctx.spec, ctx.namespace, ctx.deps);
  if (database !== undefined) ctx.out.status = { ...ctx.out.status, database };
  const previous = ctx.out.condition('Ready');
  if (problems.length > 0) {
    ctx.recheck = true;
    const first = problems[0]!;
    // One event per distinct problem, not one per recheck.
    if (previous?.reason !== first.reason || previous.message !== referenceMessage(problems)) {
      for (const p of problems) ctx.out.warn(p.reason, 'Validate', p.message);
    }
  }
  return { problems, database };
}

/**
 * Condition DestinationsOverlap: True (a warning; Ready is unaffected) when another BackupPolicy writes
 * to the same endpoint, bucket and database folder as one of ours. Undefined when unknown (the
 * database does not resolve): then no destination counts as ours alone.
 */
async function reportOverlaps(ctx: PolicyReconcile, database: string | undefined): Promise<PolicyOverlaps | undefined> {
  if (database === undefined) return undefined;
  const overlaps = policyOverlaps(ctx.resource, database, await ctx.deps.allPolicies.list());
  const previous = ctx.out.condition('DestinationsOverlap');
  if (overlaps.message === undefined) {
    ctx.out.set({ type: 'DestinationsOverlap', status: 'False', reason: R.DestinationsExclusive, message: 'no other BackupPolicy writes to these destinations' });
  } else {
    ctx.out.set({ type: 'DestinationsOverlap', status: 'True', reason: R.DestinationsOverlap, message: overlaps.message });
    if (previous?.message !== overlaps.message) ctx.out.warn(R.DestinationsOverlap, 'Validate', overlaps.message);
  }
  return overlaps;
}

function referenceMessage(problems: readonly OperatorError[]): string {
  return problems.map((p) => p.message).join('; ');
}

/** Creates the Backup of the latest slot when it is due and not too late; sets lastScheduleTime and nextScheduleTime. */
async function scheduleBackups(ctx: PolicyReconcile): Promise<void> {
  const { spec, now, name, namespace } = ctx;
  if (spec.suspend) {
    const { nextScheduleTime: _none, ...rest } = ctx.out.status;
    ctx.out.status = rest;
    return;
  }
  const since = new Date(ctx.out.status.lastScheduleTime ?? ctx.resource.metadata.creationTimestamp ?? now.toISOString());
  const slot = previousRun(spec.schedule, spec.timeZone, now);
  if (slot && slot.getTime() > since.getTime()) {
    const late = now.getTime() - slot.getTime();
    if (late > parseDuration(spec.startingDeadline)) {
      ctx.out.warn(R.MissedSchedule, 'Schedule', `skipped the backup due at ${slot.toISOString()}: ${Math.round(late / 1000)} s late, beyond startingDeadline ${spec.startingDeadline}`);
    } else {
      const backupName = scheduledBackupName(name, slot);
      const createdNow = await ctx.deps.backups.create({
        apiVersion: API_VERSION,
        kind: 'Backup',
        metadata: {
          name: backupName,
          namespace,
          labels: { [POLICY_LABEL]: name },
          annotations: { [SCHEDULED_AT_ANNOTATION]: slot.toISOString() },
          ownerReferences: ownedBy(ctx),
        },
        spec: { policyRef: { name } },
      });
      if (createdNow) ctx.out.normal(R.BackupScheduled, 'Schedule', `created Backup ${backupName} for ${slot.toISOString()}`);
    }
    ctx.out.status = { ...ctx.out.status, lastScheduleTime: slot.toISOString() };
  }
  ctx.out.status = { ...ctx.out.status, nextScheduleTime: nextRun(spec.schedule, spec.timeZone, now).toISOString() };
}

function ownedBy(ctx: PolicyReconcile): NonNullable<BackupResource['metadata']['ownerReferences']> {
  const uid = ctx.resource.metadata.uid;
  return uid ? [{ apiVersion: API_VERSION, kind: 'BackupPolicy', name: ctx.name, uid, controller: true, blockOwnerDeletion: true }] : [];
}

/** The policy's Backups into status (last success, last failure, failures since) and the LastBackupSucceeded / Replicated conditions. */
async function summariseBackups(ctx: PolicyReconcile): Promise<BackupSummary> {
  const { spec } = ctx;
  const backups = (await ctx.deps.backups.list(ctx.namespace, ctx.name)).sort((a, b) => created(a) - created(b));
  const completed = backups.filter((b) => b.status?.phase === 'Completed').sort((a, b) => time(a) - time(b));
  const failed = backups.filter((b) => b.status?.phase === 'Failed').sort((a, b) => time(a) - time(b));
  const lastGood = completed.at(-1);
  const lastBad = failed.at(-1);
  // Finish times (millisecond RFC 3339), not creation times: those have whole seconds, so a backup
  // created in the same second as the last success would not count as a failure after it.
  const lastGoodFinished = lastGood ? time(lastGood) : -1;
  ctx.out.status = {
    ...ctx.out.status,
    consecutiveFailures: failed.filter((b) => time(b) > lastGoodFinished).length,
    ...(lastGood ? { lastSuccessfulBackup: lastGood.metadata.name, lastSuccessfulTime: lastGood.status?.completionTime } : {}),
    ...(lastBad ? { lastFailedBackup: lastBad.metadata.name } : {}),
  };
  const finished = [...completed, ...failed].sort((a, b) => time(a) - time(b)).at(-1);
  if (!finished) ctx.out.set({ type: 'LastBackupSucceeded', status: 'Unknown', reason: R.NoBackupYet, message: `no backup has finished yet; next at ${ctx.out.status.nextScheduleTime ?? '(suspended)'}` });
  else if (finished.status?.phase === 'Completed') ctx.out.set({ type: 'LastBackupSucceeded', status: 'True', reason: R.BackupSucceeded, message: `${finished.metadata.name}: ${finished.status?.message ?? ''}` });
  else ctx.out.set({ type: 'LastBackupSucceeded', status: 'False', reason: reasonOr(finished.status?.reason, R.BackupFailed), message: `${finished.metadata.name}: ${finished.status?.message ?? ''}` });
  if (spec.replicas.length === 0) ctx.out.set({ type: 'Replicated', status: 'True', reason: R.NoReplicas, message: 'no replica destinations configured' });
  else if (lastGood?.status?.replicated === true) ctx.out.set({ type: 'Replicated', status: 'True', reason: R.ReplicasVerified, message: `${lastGood.metadata.name} verified in ${spec.replicas.map((r) => r.name).join(', ')}` });
  else if (lastGood) ctx.out.set({ type: 'Replicated', status: 'False', reason: R.ReplicaFailed, message: replicaFailureMessage(lastGood) });
  return { completed, failed, lastGood, lastBad };
}

function replicaFailureMessage(backup: BackupResource): string {
  const failures = (backup.status?.destinations ?? []).filter((d) => d.error).map((d) => `replica ${d.name}: ${d.error}`);
  return `${backup.metadata.name}: ${failures.join('; ') || 'a replica has no verified copy'}`;
}

/** Backup ids (= Backup names) that unfinished Restores read, each with the first such Restore. */
function backupsInUse(restores: readonly RestoreResource[]): Map<string, string> {
  const inUse = new Map<string, string>();
  for (const r of restores) {
    if (isFinished(r)) continue;
    const spec = r.spec as { backupRef?: { name?: string }; source?: { manifestKey?: string } } | undefined;
    const id = spec?.backupRef?.name ?? spec?.source?.manifestKey?.split('/').pop()?.replace(/\.manifest\.json$/, '');
    if (id && !inUse.has(id)) inUse.set(id, r.metadata.name);
  }
  return inUse;
}

/**
 * After each new successful backup: prunes every destination by the retention rules (this policy's own
 * backups only; those without an owner too where no other policy writes) and deletes the Backup objects
 * of what was pruned (and failed ones beyond FAILED_BACKUPS_KEPT), under the database's lock, which
 * backups and restores hold too. Backups an unfinished Restore reads are kept (status.lastPrune.keptInUse)
 * and pruned by a later pass; a pass that would have to wait for the lock is put off
 * (status.pruneWaiting) and retried.
 */
async function pruneAfterNewBackup(ctx: PolicyReconcile, summary: BackupSummary, overlaps: PolicyOverlaps | undefined): Promise<void> {
  const { lastGood, completed, failed } = summary;
  const database = lastGood?.status?.database;
  if (!lastGood || !database || ctx.out.status.lastPrune?.afterBackup === lastGood.metadata.name) {
    const { pruneWaiting: _none, ...rest } = ctx.out.status;
    ctx.out.status = rest;
    return;
  }
  const { deps, spec, namespace, now } = ctx;
  const lock = databaseMutexKey(namespace, spec.databaseRef.name);
  if (deps.mutex.busy(lock)) {
    const message = `the database is busy (${deps.mutex.holder(lock) ?? 'queued work'}); the retention pass after ${lastGood.metadata.name} runs when it is free`;
    if (ctx.out.status.pruneWaiting !== message) ctx.out.normal(R.PruneDeferred, 'Prune', message);
    wait(ctx, message);
    return;
  }
  await deps.mutex.run(lock, `prune ${ctx.name}`, async () => {
    // Listed under the lock: a Restore that starts later waits for it, so it cannot read what is deleted here.
    const inUse = backupsInUse(await deps.restores.list(namespace));
    const results: PruneResult[] = [];
    const errors: string[] = [];
    const policy = { namespace, name: ctx.name, uid: ctx.resource.metadata.uid };
    for (const destination of [spec.destination, ...spec.replicas]) {
      try {
        const adoptUnowned = overlaps !== undefined && !overlaps.byDestination.has(destination.name);
        const request = { destination, database, retention: spec.retention, timeZone: spec.timeZone, namespace, policy, adoptUnowned, protect: new Set(inUse.keys()) };
        results.push(await deps.engines.prune(request, deps.secrets));
      } catch (error) {
        errors.push(`${destination.name}: ${describeError(error)}`);
      }
    }
    const deletedIds = new Set(results.find((r) => r.destination === spec.destination.name)?.deleted ?? []);
    const spare = (b: BackupResource): boolean => inUse.has(b.metadata.name);
    for (const b of completed) if (b.status?.backupId && deletedIds.has(b.status.backupId) && !spare(b)) await deps.backups.delete(namespace, b.metadata.name);
    for (const b of failed.slice(0, Math.max(0, failed.length - FAILED_BACKUPS_KEPT))) if (!spare(b)) await deps.backups.delete(namespace, b.metadata.name);

    const keptInUse = [...new Set(results.flatMap((r) => r.plan.keep.filter((d) => d.reasons.includes('protected')).map((d) => d.id)))].map((id) => `${id} (Restore ${inUse.get(id)})`);
    const locked = results.reduce((n, r) => n + r.locked.length, 0);
    const deleted = results.reduce((n, r) => n + r.deleted.length, 0);
    if (deleted > 0) ctx.out.normal(R.BackupsPruned, 'Prune', `deleted ${deleted} backup object set(s) beyond the retention rules`);
    if (locked > 0) ctx.out.normal(R.BackupsLocked, 'Prune', `${locked} backup(s) due for deletion are under S3 Object Lock; skipped`);
    for (const e of errors) ctx.out.warn('PruneFailed', 'Prune', e);
    if (keptInUse.length > 0) ctx.out.normal(R.BackupsInUse, 'Prune', `kept ${keptInUse.join(', ')}: due for deletion but read by an unfinished Restore; the pass after the next backup prunes them`);
    const primary = results.find((r) => r.destination === spec.destination.name);
    const { pruneWaiting: _none, ...rest } = ctx.out.status;
    ctx.out.status = {
      ...rest,
      lastPrune: {
        time: now.toISOString(),
        afterBackup: lastGood.metadata.name,
        deleted,
        kept: primary?.plan.keep.length ?? 0,
        locked,
        ...(errors.length ? { errors } : {}),
        ...(keptInUse.length ? { keptInUse } : {}),
      },
    };
  });
}

function wait(ctx: PolicyReconcile, why: string): void {
  ctx.out.status = { ...ctx.out.status, pruneWaiting: why };
  ctx.recheck = true;
}

/**
 * The restore drill: when due, creates a Restore (owned by the policy, labelled DRILL_LABEL) of the latest
 * successful backup into a scratch database that the Restore drops after the check; the Restore controller
 * runs it, so this reconcile never waits for it. A finished drill Restore is recorded into
 * status.lastRestoreDrill and RestoreVerified. Deleting a drill Restore cancels it.
 */
async function restoreDrill(ctx: PolicyReconcile, lastGood: BackupResource | undefined): Promise<void> {
  const { spec, now, namespace, deps } = ctx;
  const drill = spec.restoreDrill;
  if (!drill) {
    ctx.out.set({ type: 'RestoreVerified', status: 'Unknown', reason: R.NoRestoreDrill, message: 'no restoreDrill configured: backups are verified by checksum only' });
    const { nextRestoreDrillTime: _none, restoreDrillRunning: _running, ...rest } = ctx.out.status;
    ctx.out.status = rest;
    return;
  }
  const drills = (await deps.restores.list(namespace)).filter((r) => r.metadata.labels?.[DRILL_LABEL] === ctx.name).sort((a, b) => created(a) - created(b));
  const latestFinished = drills.filter(isFinished).at(-1);
  if (latestFinished && ctx.out.status.lastRestoreDrill?.restore !== latestFinished.metadata.name) recordDrill(ctx, latestFinished);
  else if (ctx.out.status.lastRestoreDrill === undefined) ctx.out.set({ type: 'RestoreVerified', status: 'Unknown', reason: R.NoRestoreDrill, message: 'the first restore drill has not finished yet' });

  let running = drills.find((r) => !isFinished(r));
  const due = isDue({ next: ctx.out.status.nextRestoreDrillTime, unscheduled: 'wait' }, now);
  if (due && lastGood?.status?.manifestKey && !spec.suspend) {
    if (running) {
      ctx.out.warn(R.RestoreDrillSkipped, 'RestoreDrill', `skipped the drill due at ${ctx.out.status.nextRestoreDrillTime}: Restore ${running.metadata.name} is still running`);
    } else {
      running = drillRestore(ctx, drill, lastGood, new Date(ctx.out.status.nextRestoreDrillTime ?? now.toISOString()));
      if (await deps.restores.create(running)) {
        ctx.out.normal(R.RestoreDrillStarted, 'RestoreDrill', `created Restore ${running.metadata.name} of ${lastGood.metadata.name} into a scratch database`);
      }
    }
  }
  if (due || ctx.out.status.nextRestoreDrillTime === undefined) ctx.out.status = { ...ctx.out.status, nextRestoreDrillTime: nextRun(drill.schedule, drill.timeZone, now).toISOString() };
  const { restoreDrillRunning: _none, ...rest } = ctx.out.status;
  ctx.out.status = running ? { ...rest, restoreDrillRunning: running.metadata.name } : rest;

  const recorded = drills.filter(isFinished);
  for (const old of recorded.slice(0, Math.max(0, recorded.length - DRILL_RESTORES_KEPT))) await deps.restores.delete(namespace, old.metadata.name);
}

function drillRestore(ctx: PolicyReconcile, drill: NonNullable<BackupPolicySpec['restoreDrill']>, backup: BackupResource, slot: Date): RestoreResource {
  const scratch = `lokdarpan_drill_${ctx.now.toISOString().replace(/\D/g, '').slice(0, 14)}`;
  return {
    apiVersion: API_VERSION,
    kind: 'Restore',
    metadata: {
      name: drillRestoreName(ctx.name, slot),
      namespace: ctx.namespace,
      labels: { [DRILL_LABEL]: ctx.name },
      ownerReferences: ownedBy(ctx),
    },
    spec: {
      backupRef: { name: backup.metadata.name },
      target: drill.connectionSecret ? { connectionSecret: drill.connectionSecret, databaseName: scratch } : { databaseRef: { name: ctx.spec.databaseRef.name }, databaseName: scratch },
      identitySecret: drill.identitySecret,
      dropAfterCheck: true,
      timeout: drill.timeout ?? ctx.spec.timeout,
    },
  };
}

function recordDrill(ctx: PolicyReconcile, restore: RestoreResource): void {
  const s = restore.status ?? {};
  const backup = (restore.spec as { backupRef?: { name?: string } } | undefined)?.backupRef?.name ?? '';
  const succeeded = s.phase === 'Completed';
  const message = succeeded
    ? `Restore ${restore.metadata.name} restored ${backup} into a scratch database in ${s.durationMs ?? 0} ms; row counts match the manifest (${s.rowCountCheck?.tablesChecked ?? 0} tables)`
    : `restore drill of ${backup} failed (Restore ${restore.metadata.name}): ${s.message ?? s.reason ?? 'unknown error'}`;
  ctx.out.status = {
    ...ctx.out.status,
    lastRestoreDrill: { time: s.completionTime ?? ctx.now.toISOString(), backup, restore: restore.metadata.name, succeeded, ...(s.durationMs === undefined ? {} : { durationMs: s.durationMs }), message },
  };
  if (succeeded) {
    ctx.out.set({ type: 'RestoreVerified', status: 'True', reason: R.RestoreDrillPassed, message });
    ctx.out.normal(R.RestoreDrillPassed, 'RestoreDrill', message);
  } else {
    ctx.out.set({ type: 'RestoreVerified', status: 'False', reason: reasonOr(s.reason, R.RestoreDrillFailed), message });
    ctx.out.warn(R.RestoreDrillFailed, 'RestoreDrill', message);
  }
}

/** Ready: a broken reference first, then failed backups, then a latest backup missing from a replica. */
function setReady(ctx: PolicyReconcile, summary: BackupSummary, problems: readonly OperatorError[]): void {
  const { spec } = ctx;
  const status = ctx.out.status;
  const { lastGood, lastBad } = summary;
  const replicaMissing = spec.replicas.length > 0 && lastGood !== undefined && lastGood.status?.replicated !== true;
  let ready: ConditionInput;
  if (problems.length > 0) ready = { type: 'Ready', status: 'False', reason: problems[0]!.reason, message: referenceMessage(problems) };
  else if (status.consecutiveFailures && status.consecutiveFailures > 0) {
    ready = { type: 'Ready', status: 'False', reason: R.BackupFailed, message: `${status.consecutiveFailures} backup(s) failed since the last success; latest: ${lastBad?.metadata.name}: ${lastBad?.status?.reason ?? ''} ${lastBad?.status?.message ?? ''}`.trim() };
  } else if (replicaMissing) ready = { type: 'Ready', status: 'False', reason: R.ReplicaFailed, message: `the latest backup has no verified copy in every replica: ${replicaFailureMessage(lastGood)}` };
  else {
    ready = {
      type: 'Ready',
      status: 'True',
      reason: spec.suspend ? R.Suspended : lastGood ? R.BackupSucceeded : R.NoBackupYet,
      message: spec.suspend ? 'suspended: no scheduled backups' : lastGood ? `last success ${lastGood.status?.completionTime}` : 'waiting for the first backup',
    };
  }
  ctx.out.set(ready);
  ctx.out.idle();
}
