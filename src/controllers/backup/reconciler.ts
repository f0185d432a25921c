// Reconciles a Backup (one run): resolve its policy and database, mark it Running, stream the encrypted
// dump to the primary destination and its replicas through the backup engine under the database's
// mutex, then record the result. A run is attempted once: a Backup ends Completed or Failed, and a
// Running one whose replica is gone (operator killed mid-run) is marked Failed, since the engine never
// writes a manifest for an incomplete backup. A run longer than its timeout (spec.timeout, else the
// policy's) is cancelled: Failed, reason Timeout. A backup stored in the primary but missing from a
// replica stays Completed (it restores) but is not Ready: reason ReplicaFailed names the replica.
import type { z } from 'zod';
import { backupPolicySpecSchema, type BackupPolicySpec, type backupStatusSchema } from '../../api/backup.ts';
import type { Resource } from '../../api/common.ts';
import type { Clock } from '../../clock.ts';
import { describeError } from '../../errors.ts';
import type { BackupResult, ProgressListener } from '../../engines/backup/index.ts';
import { describeProgress, formatBytes } from '../../api/progress.ts';
import { statusProgressReporter } from './progress-status.ts';
import type { PgTarget } from '../../adapters/pgdump/index.ts';
import { parseDuration } from '../../api/duration.ts';
import type { Timers } from '../../runtime/timers.ts';
import { deadline } from '../shared/deadline.ts';
import { checkDestinationCredentials } from './references.ts';
import type { KeyedMutex } from '../shared/database-mutex.ts';
import { resolveDatabaseRef, type DatabaseReader } from '../shared/database-ref.ts';
import { pgTargetOf } from '../shared/pg-target.ts';
import type { ProgressReporter, ReconcileOutcome } from '../shared/resource-controller.ts';
import { Outcome, failRun, invalidSpecMessage, operatorErrorOf } from '../shared/outcome.ts';
import { isRuntimeInterruption } from '../../runtime/status-writer.ts';
import type { SecretReader } from '../shared/secrets.ts';
import type { S3Destination } from '../../api/common.ts';
import { readSecret, requireKey } from '../shared/secrets.ts';
import type { WebhookSender } from './webhook.ts';
import type { PolicyIdentity } from './engines.ts';
import { BackupConditionReasons } from './reasons.ts';
import type { Reason } from '../../reasons/index.ts';

export type BackupStatus = z.infer<typeof backupStatusSchema>;
export type BackupResource = Resource<{ policyRef?: { name?: string }; timeout?: string }, BackupStatus>;

export interface PolicyResource {
  metadata: { name: string; namespace?: string; uid?: string };
  spec: unknown;
}

export interface PolicyReader {
  get(namespace: string, name: string): Promise<PolicyResource | undefined>;
}

export interface BackupRunRequest {
  backupId: string;
  /** The BackupPolicy it belongs to (an on-demand Backup: its policyRef): the owner of the stored backup. */
  policy: PolicyIdentity;
  target: PgTarget;
  destination: S3Destination;
  replicas: readonly S3Destination[];
  recipients: readonly string[];
  compressionLevel: number;
  /** pg_dump --lock-wait-timeout in milliseconds (0: wait forever). */
  lockWaitTimeoutMs: number;
  namespace: string;
  signal: AbortSignal;
  /** Told how far the dump got, at most every progress interval. */
  onProgress?: ProgressListener;
}

export interface BackupEngines {
  run(request: BackupRunRequest, secrets: SecretReader): Promise<BackupResult>;
}

export interface BackupReconcilerDeps {
  policies: PolicyReader;
  databases: DatabaseReader;
  secrets: SecretReader;
  engines: BackupEngines;
  mutex: KeyedMutex;
  clock: Clock;
  /** This replica's identity, written to status.runningOn. */
  instance: string;
  /** Backups this process is running right now (keys namespace/name). */
  running: Set<string>;
  /** Told about every finished backup (metrics). */
  onFinished?: (backup: BackupResource, policy: BackupPolicySpec | undefined, status: BackupStatus) => void;
  /** Sends the policy's webhook, when it has one. */
  sendWebhook?: WebhookSender;
  /** Reads the Backup from the API server, bypassing the informer cache. */
  fresh?: (namespace: string, name: string) => Promise<BackupResource | undefined>;
  /** Arms the run's timeout (default: the process's timers). */
  timers?: Timers;
}

const R = BackupConditionReasons;

export async function reconcileBackup(
  resource: BackupResource,
  deps: BackupReconcilerDeps,
  progress: ProgressReporter,
  signal: AbortSignal,
): Promise<ReconcileOutcome<BackupStatus>> {
  const now = deps.clock.now();
  const namespace = resource.metadata.namespace ?? 'default';
  const key = `${namespace}/${resource.metadata.name}`;
  const out = new Outcome(resource, now);
  const fail = async (reason: Reason, message: string, policy?: BackupPolicySpec): Promise<ReconcileOutcome<BackupStatus>> => {
    failRun(out, reason, message, 'Backup', deps.clock.now());
    await finished(policy);
    return out.done();
  };
  const finished = async (policy: BackupPolicySpec | undefined): Promise<void> => {
    deps.onFinished?.(resource, policy, out.status);
    if (!policy?.webhook || !deps.sendWebhook) return;
    try {
      const url = requireKey(await readSecret(deps.secrets, namespace, policy.webhook.urlSecret.name), policy.webhook.urlSecret.name, policy.webhook.urlSecret.key, 'webhook URL');
      await deps.sendWebhook(url, {
        kind: 'BackupFinished',
        namespace,
        policy: resource.spec.policyRef?.name ?? '',
        backup: resource.metadata.name,
        phase: out.status.phase ?? 'Unknown',
        ...(out.status.reason ? { reason: out.status.reason } : {}),
        ...(out.status.message ? { message: out.status.message } : {}),
        ...(out.status.encryptedBytes === undefined ? {} : { encryptedBytes: out.status.encryptedBytes }),
        ...(out.status.sha256 ? { sha256: out.status.sha256 } : {}),
        ...(out.status.completionTime ? { completionTime: out.status.completionTime } : {}),
        destinations: (out.status.destinations ?? []).map((d) => ({ name: d.name, ...(d.verified === undefined ? {} : { verified: d.verified }) })),
      });
    } catch (error) {
      out.warn('WebhookFailed', 'Notify', describeError(error));
    }
  };

  if (out.status.phase === 'Completed' || out.status.phase === 'Failed') return { status: resource.status ?? {}, events: [] };
  if (out.status.phase === 'Running' && !deps.running.has(key)) {
    // The informer's copy can lag behind a final status write: this process's own never reaches here
    // (createResourceController waits for the cache), but the previous leader's can. Only the API server's
    // current object may declare a run interrupted (else a just-Completed backup would turn Failed).
    const latest = deps.fresh ? await deps.fresh(namespace, resource.metadata.name) : resource;
    if (!latest) return { status: resource.status ?? {}, events: [] };
    if (latest.status?.phase !== 'Running') return { status: latest.status ?? {}, events: [] };
    return fail(R.Interrupted, `the run on ${out.status.runningOn ?? 'another replica'} ended before it finished (operator restarted or lost leadership); no manifest was written, so no partial backup exists`);
  }
  if (deps.running.has(key)) return { status: resource.status ?? {}, events: [] };

  const policyName = resource.spec.policyRef?.name;
  const policyResource = policyName ? await deps.policies.get(namespace, policyName) : undefined;
  if (!policyResource) return fail(R.PolicyNotFound, `BackupPolicy ${namespace}/${policyName ?? '(none)'} not found`);
  const parsed = backupPolicySpecSchema.safeParse(policyResource.spec);
  if (!parsed.success) return fail(R.InvalidPolicy, invalidSpecMessage(parsed.error, `BackupPolicy ${policyName} is invalid`));
  const policy = parsed.data;
  const timeout = resource.spec.timeout ?? policy.timeout;
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(timeout);
  } catch (error) {
    return fail(R.InvalidSpec, `spec.timeout: ${describeError(error)}`, policy);
  }
  const lockWaitTimeoutMs = parseDuration(policy.lockWaitTimeout);

  deps.running.add(key);
  const limit = deadline(signal, timeoutMs, deps.timers);
  try {
    const database = await resolveDatabaseRef(deps.databases, deps.secrets, namespace, policy.databaseRef.name, { requireSchema: false });
    await checkDestinationCredentials([policy.destination, ...policy.replicas], namespace, deps.secrets);
    const target = pgTargetOf(database.settings);
    out.status = { ...out.status, phase: 'Running', startTime: now.toISOString(), runningOn: deps.instance, backupId: resource.metadata.name, database: target.database };
    out.set({ type: 'Ready', status: 'False', reason: R.Running, message: `dumping ${target.database} to ${policy.destination.name}` });
    await progress(out.status);

    // Progress: status.progress and the message follow the dump while it runs.
    const reporter = statusProgressReporter(async (p) => {
      out.status = { ...out.status, progress: p, message: `dumping ${target.database} to ${policy.destination.name}: ${describeProgress(p)}` };
      await progress(out.status);
    }, deps.clock);
    const result = await deps.mutex.run(database.mutexKey, `backup ${resource.metadata.name}`, () =>
      deps.engines.run(
        {
          backupId: resource.metadata.name,
          policy: { namespace, name: policyResource.metadata.name, uid: policyResource.metadata.uid },
          target,
          destination: policy.destination,
          replicas: policy.replicas,
          recipients: policy.recipients,
          compressionLevel: policy.compressionLevel,
          lockWaitTimeoutMs,
          namespace,
          signal: limit.signal,
          onProgress: reporter.onProgress,
        },
        deps.secrets,
      ),
    ).finally(() => reporter.settle());
    const m = result.manifest;
    const failedReplicas = result.failedReplicas;
    const stored = `${formatBytes(m.encryptedBytes)} stored in ${result.destinations.filter((d) => d.verified).map((d) => d.name).join(', ')}`;
    const replicaErrors = failedReplicas.map((d) => `replica ${d.name} failed: ${d.reason}: ${d.message}`).join('; ');
    out.status = {
      ...out.status,
      phase: 'Completed',
      reason: failedReplicas.length === 0 ? R.Completed : R.ReplicaFailed,
      message: failedReplicas.length === 0 ? stored : `${stored}; ${replicaErrors}`,
      completionTime: m.finishedAt,
      plainBytes: m.plainBytes,
      encryptedBytes: m.encryptedBytes,
      size: formatBytes(m.encryptedBytes),
      sha256: m.sha256,
      serverVersion: m.server.version,
      manifestKey: result.manifestKey,
      replicated: result.replicated,
      destinations: result.destinations.map((d) => ({
        name: d.name,
        bucket: d.bucket,
        key: d.key,
        verified: d.verified,
        ...(d.versionId ? { versionId: d.versionId } : {}),
        ...(d.error ? { error: `${d.error.reason}: ${d.error.message}` } : {}),
      })),
      ...(m.schemaVersion ? { schemaVersion: m.schemaVersion } : {}),
    };
    out.set(
      failedReplicas.length === 0
        ? { type: 'Ready', status: 'True', reason: R.Completed, message: out.status.message ?? '' }
        : { type: 'Ready', status: 'False', reason: R.ReplicaFailed, message: out.status.message ?? '' },
      { type: 'Succeeded', status: 'True', reason: R.Completed, message: `sha256 ${m.sha256}` },
      failedReplicas.length === 0
        ? { type: 'Replicated', status: 'True', reason: R.Completed, message: `${result.destinations.length - 1} replica(s) verified` }
        : { type: 'Replicated', status: 'False', reason: R.ReplicaFailed, message: failedReplicas.map((d) => `${d.name}: ${d.message}`).join('; ') },
    );
    out.normal(R.Completed, 'Backup', `backup of ${m.database} completed: ${out.status.message} in ${m.durationMs} ms`);
    for (const d of failedReplicas) out.warn(R.ReplicaFailed, 'Replicate', `copy to ${d.name} failed: ${d.reason}: ${d.message}`);
    await finished(policy);
    return out.done();
  } catch (error) {
    // Not this run's failure: the object changed under us or this replica stopped leading. Requeue, report nothing.
    if (isRuntimeInterruption(error)) throw error;
    if (limit.exceeded) return fail(R.Timeout, `the backup ran longer than its timeout ${timeout} and was cancelled; no manifest was written, so no partial backup exists (raise spec.timeout of the BackupPolicy or Backup for larger databases)`, policy);
    const typed = operatorErrorOf(error, 'BackupFailed');
    return fail(typed.reason, typed.message, policy);
  } finally {
    limit.clear();
    deps.running.delete(key);
  }
}
