// The composition root of the running operator: Kubernetes client, metrics and health server, status
// writer, event recorder, one informer + controller per resource kind, leader election, manager.
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeConnection } from '../runtime/kube-http.ts';
import { systemClock, type Clock } from '../clock.ts';
import { backupKind, backupPolicyKind, lokdarpanDatabaseKind, restoreKind, retentionPolicyKind } from '../api/resources.ts';
import { PgPools } from '../adapters/postgres/index.ts';
import { KeyedMutex } from '../controllers/shared/database-mutex.ts';
import { SharedRuns } from '../controllers/shared/shared-runs.ts';
import type { ViewRefreshResult } from '../engines/views/refresh.ts';
import { createResourceController, type RuntimeParts } from '../controllers/shared/resource-controller.ts';
import { lokdarpanDatabaseEngines } from '../controllers/lokdarpan-database/engines.ts';
import { reconcileDatabase, type LokdarpanDatabase } from '../controllers/lokdarpan-database/reconciler.ts';
import { retentionEngines } from '../controllers/retention-policy/engines.ts';
import { reconcileRetentionPolicy, type RetentionPolicyResource } from '../controllers/retention-policy/reconciler.ts';
import { HealthServer } from '../observability/health.ts';
import { createDomainMetrics, type DatabaseLabels, type DomainMetricsRecorder } from '../observability/domain-metrics/index.ts';
import { lokdarpanDatabaseSpecSchema } from '../api/lokdarpan-database.ts';
import { retentionPolicySpecSchema } from '../api/retention-policy.ts';
import type { DatabaseObserver } from '../controllers/lokdarpan-database/reconciler.ts';
import type { Logger } from '../observability/logger.ts';
import { createOperatorMetrics, type OperatorMetrics } from '../observability/metrics.ts';
import { EventRecorder, kubeEventSink } from '../runtime/events.ts';
import { KubeClient, type KubeObject } from '../runtime/kube.ts';
import { TokenBucket } from '../runtime/rate-limiter.ts';
import { kubeLeaseClient, leaderIdentity } from '../runtime/leader-election.ts';
import { Fence } from '../runtime/fence.ts';
import { Semaphore } from '../runtime/semaphore.ts';
import { Manager } from '../runtime/manager.ts';
import { StatusWriter, kubeStatusClient } from '../runtime/status-writer.ts';
import type { OperatorConfig } from './config.ts';
import { kubeBackupObjects, kubeBackupReader, kubeDatabaseReader, kubePolicyReader, kubeRestoreObjects, kubeRestoreReader, kubeRetentionPolicyReader, kubeSecretReader } from './kube-readers.ts';
import { backupEngines } from '../controllers/backup/engines.ts';
import { overlapFingerprint } from '../controllers/backup/overlap.ts';
import { postWebhook } from '../controllers/backup/webhook.ts';
import { reconcileBackup, type BackupResource } from '../controllers/backup/reconciler.ts';
import { DRILL_LABEL, reconcileBackupPolicy, type BackupPolicyResource } from '../controllers/backup/policy-reconciler.ts';
import { RunningRuns } from '../controllers/backup/runs.ts';
import { reconcileRestore, type RestoreResource } from '../controllers/backup/restore-reconciler.ts';
import { backupPolicyOwner } from '../controllers/backup/policy-preflight.ts';
import { retentionPolicyOwner } from '../controllers/retention-policy/preflight.ts';
import { Preflight } from '../controllers/shared/preflight.ts';
import { realPreflightProbes } from '../controllers/shared/preflight-probes.ts';
import { ProbeCache } from '../controllers/shared/probe-cache.ts';
import { SecretChangePoller } from '../controllers/shared/secret-poller.ts';
import { cachedSecretReader } from '../controllers/shared/secret-cache.ts';

export interface OperatorDeps {
  /** The API server: a loaded connection (the operator command) or a client-node KubeConfig (local, tests). */
  kubeConfig: KubeConnection | KubeConfig;
  logger: Logger;
  clock?: Clock;
  metrics?: OperatorMetrics;
}

export interface RunningOperator {
  manager: Manager;
  metrics: OperatorMetrics;
  health: HealthServer;
  identity: string;
}

export async function startOperator(config: OperatorConfig, deps: OperatorDeps): Promise<RunningOperator> {
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createOperatorMetrics();
  const client = new KubeClient(deps.kubeConfig, {
    metrics: metrics.kubeRequestMetrics(),
    ...(config.kubeApiQps > 0 ? { rateLimiter: new TokenBucket({ qps: config.kubeApiQps, burst: config.kubeApiBurst }) } : {}),
  });
  const identity = leaderIdentity(config.podName);
  const health = new HealthServer({ port: config.metricsPort, host: config.metricsHost, registry: metrics.registry, logger });
  // Closed by the manager when this replica loses the Lease: from then on no status or event write leaves it.
  const fence = new Fence();
  const parts: RuntimeParts = {
    client,
    statusWriter: new StatusWriter({ client: kubeStatusClient(client), logger, fence }),
    // Events are queued (a reconcile never waits for one) and sent by a few writers.
    recorder: new EventRecorder({ sink: kubeEventSink(client), reportingInstance: identity, clock, logger, fence, background: true }),
    logger,
    metrics,
    resyncMs: config.resyncPeriod,
    ...(config.watchNamespace ? { namespace: config.watchNamespace } : {}),
  };
  // Reconciles reading the same Secret at the same time share one GET (nothing is kept after it: see secret-cache.ts).
  const secrets = cachedSecretReader(kubeSecretReader(client));
  const mutex = new KeyedMutex();
  const instance = `operator/${config.podName}`;

  // One cache and one concurrency limit for every policy's checks; Secrets re-read every 10 s.
  const secretPoller = new SecretChangePoller({ secrets: secrets.fresh, logger });
  const preflight = new Preflight({ cache: new ProbeCache({ clock }), probes: realPreflightProbes({ binDirs: config.pgBinDirs }), secrets, poller: secretPoller });

  const domain = createDomainMetrics(metrics);
  const forgetting = (what: string, forget: () => Promise<void>): void => {
    forget().catch((error: unknown) => logger.warn({ what, error: error instanceof Error ? error.message : String(error) }, 'could not remove metric series'));
  };
  const reconcileTimeoutMs = config.reconcileTimeoutSeconds * 1000;
  // A reconcile takes up to two sessions at once (migration work and lock): enough for every worker.
  const pgPools = new PgPools({ maxPerTarget: 2 * config.workers });
  const databaseEngines = lokdarpanDatabaseEngines({ migrationsDir: config.migrationsDir, logger, pools: pgPools });
  const viewRefreshes = new SharedRuns<ViewRefreshResult>(() => clock.now().getTime());
  // `workers` bounds the database reconciles doing real work; the controller has 4 times as many workers for
  // the status-only ones (suspended, invalid spec), which mostly wait for their one status write: with 8 in all,
  // a burst of 500 suspended changes waited up to ~1 s in the queue, the most of what separated the operator
  // from a controller without a queue (bench/operator-scale.ts --baseline floor).
  const databaseWork = new Semaphore(config.workers);
  const databases = createResourceController(
    lokdarpanDatabaseKind,
    async (object, context) => {
      const resource = object as unknown as LokdarpanDatabase;
      const labels = { namespace: resource.metadata.namespace ?? '', name: resource.metadata.name };
      const outcome = await reconcileDatabase(
        resource,
        { secrets, engines: databaseEngines, mutex, clock, instance, refreshes: viewRefreshes, observer: databaseObserver(domain, labels, clock), realWork: databaseWork },
        context.signal,
      );
      const spec = lokdarpanDatabaseSpecSchema.safeParse(resource.spec);
      if (stillCurrent(databases.informer, object)) domain.recordDatabaseStatus(labels, outcome.status, spec.success ? { views: { schedule: spec.data.views.refreshSchedule, timeZone: spec.data.views.timeZone }, suspended: spec.data.suspend } : {});
      return outcome;
    },
    parts,
    {
      // The reconciler schedules its own next run (requeue-after, backoff); the echo of its status write is noise.
      ignoreStatusOnlyUpdates: true,
      concurrency: 4 * config.workers,
      timeoutMs: reconcileTimeoutMs,
      onDeleted: (object) => forgetting('database', () => domain.forgetDatabase({ namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '' })),
    },
  );

  const databaseReader = kubeDatabaseReader(client);
  const retentionReader = kubeRetentionPolicyReader(client);
  const retention = createResourceController(
    retentionPolicyKind,
    async (object, context) => {
      const resource = object as unknown as RetentionPolicyResource;
      const labels = { namespace: resource.metadata.namespace ?? '', policy: resource.metadata.name };
      const outcome = await reconcileRetentionPolicy(
        resource,
        {
        databases: databaseReader,
        secrets,
        engines: retentionEngines({ logger }),
        mutex,
        clock,
        preflight,
        onRun: (_policy, result) => domain.recordRetentionRun(labels, result),
        fresh: retentionReader.get,
        },
        context.signal,
      );
      const spec = retentionPolicySpecSchema.safeParse(resource.spec);
      if (spec.success && stillCurrent(retention.informer, object)) domain.recordRetentionPolicyStatus(labels, outcome.status, { schedule: spec.data.schedule, timeZone: spec.data.timeZone, suspend: spec.data.suspend });
      if (outcome.error && stillCurrent(retention.informer, object)) domain.recordRetentionFailure(labels, { finishedAt: clock.now(), reason: outcome.error.reason });
      return outcome;
    },
    parts,
    {
      concurrency: config.workers,
      timeoutMs: reconcileTimeoutMs,
      onDeleted: (object) => forgetting('retention policy', () => domain.forgetRetentionPolicy({ namespace: object.metadata?.namespace ?? '', policy: object.metadata?.name ?? '' })),
    },
  );

  const backupDeps = {
    policies: kubePolicyReader(client),
    databases: databaseReader,
    secrets,
    engines: backupEngines({ binDirs: config.pgBinDirs, cluster: config.clusterName, logger, clock, progressIntervalMs: config.progressInterval }),
    mutex,
    clock,
  };
  const runningBackups = new Set<string>();
  const backupReader = kubeBackupReader(client);
  const restoreReader = kubeRestoreReader(client);
  const backups = createResourceController(
    backupKind,
    (object, context, progress) =>
      reconcileBackup(
        object as unknown as BackupResource,
        {
          ...backupDeps,
          instance: identity,
          running: runningBackups,
          sendWebhook: postWebhook,
          fresh: backupReader.get,
          onFinished: (backup, policy, status) => {
            const policyName = backup.spec.policyRef?.name;
            const namespace = backup.metadata.namespace ?? '';
            // Only a policy that exists gets series: a Backup naming a missing (or just deleted) policy
            // would otherwise bring back series its deletion forgot, and its alerts with them.
            if (!policyName || !policy || !policies.informer.get(`${namespace}/${policyName}`)) return;
            domain.recordBackupStatus({ namespace, policy: policyName }, status, { primaryDestination: policy.destination.name });
          },
        },
        progress,
        context.signal,
      ),
    parts,
    // Each run enforces its own spec.timeout (an AbortSignal into the engine), not a fixed controller cut.
    { concurrency: config.backupWorkers, timeoutMs: 0 },
  );
  const policies = createResourceController(
    backupPolicyKind,
    (object) =>
      reconcileBackupPolicy(object as unknown as BackupPolicyResource, {
        ...backupDeps,
        backups: kubeBackupObjects(client),
        restores: kubeRestoreObjects(client),
        preflight,
        allPolicies: { list: async () => policies.informer.list() as unknown as BackupPolicyResource[] },
        onStatus: (policy, spec, status) => {
          if (stillCurrent(policies.informer, object)) domain.recordBackupPolicyStatus({ namespace: policy.namespace, policy: policy.name }, status, spec);
        },
      }),
    parts,
    { concurrency: config.workers, onDeleted: (object) => forgetting('backup policy', () => domain.forgetBackupPolicy({ namespace: object.metadata?.namespace ?? '', policy: object.metadata?.name ?? '' })) },
  );
  // A policy whose destinations (or database) change, appear or go may change the others' overlap report.
  const overlapPrints = new Map<string, string>();
  policies.informer.onKey((key, event, object) => {
    const print = event === 'delete' ? '' : overlapFingerprint(object as unknown as BackupPolicyResource | undefined);
    if ((overlapPrints.get(key) ?? '') === print) return;
    if (print === '') overlapPrints.delete(key);
    else overlapPrints.set(key, print);
    for (const other of overlapPrints.keys()) if (other !== key) policies.controller.enqueue(other);
  });
  // A Backup that changes (Completed, Failed, deleted) changes its policy's summary.
  backups.informer.onKey((_key, _event, object) => {
    const policy = (object?.['spec'] as BackupResource['spec'] | undefined)?.policyRef?.name;
    if (policy && object?.metadata?.namespace) policies.controller.enqueue(`${object.metadata.namespace}/${policy}`);
  });
  secretPoller.onChange((owner) => {
    const [kind, key] = owner.split(':') as [string, string];
    (kind === 'backuppolicy' ? policies : retention).controller.enqueue(key);
  });
  policies.informer.onKey((key, event) => {
    if (event === 'delete') preflight.forget(backupPolicyOwner(...(key.split('/') as [string, string])));
  });
  retention.informer.onKey((key, event) => {
    if (event === 'delete') preflight.forget(retentionPolicyOwner(...(key.split('/') as [string, string])));
  });
  const runningRestores = new RunningRuns();
  /** A Restore that just finished (this reconcile moved it to Completed or Failed) counts for its Backup's policy. */
  const recordRestoreOutcome = (resource: RestoreResource, status: RestoreResource['status']): void => {
    const phase = status?.phase;
    if ((phase !== 'Completed' && phase !== 'Failed') || resource.status?.phase === phase) return;
    const namespace = resource.metadata.namespace ?? '';
    const backupName = (resource.spec as { backupRef?: { name?: string } } | undefined)?.backupRef?.name;
    const backup = backupName ? backups.informer.get(`${namespace}/${backupName}`) : undefined;
    const policy = (backup?.['spec'] as BackupResource['spec'] | undefined)?.policyRef?.name;
    if (!policy || !policies.informer.get(`${namespace}/${policy}`)) return;
    const finished = status?.completionTime ? new Date(status.completionTime) : clock.now();
    const started = status?.startTime ? new Date(status.startTime).getTime() : undefined;
    domain.recordRestore(
      { namespace, policy },
      {
        trigger: 'restore',
        finishedAt: finished,
        durationMs: status?.durationMs ?? (started === undefined ? 0 : Math.max(0, finished.getTime() - started)),
        succeeded: phase === 'Completed',
        ...(status?.reason ? { reason: status.reason } : {}),
      },
    );
  };
  const restores = createResourceController(
    restoreKind,
    async (object, context, progress) => {
      const resource = object as unknown as RestoreResource;
      const outcome = await reconcileRestore(resource, { ...backupDeps, backups: backupReader, running: runningRestores, fresh: restoreReader.get }, progress, context.signal);
      recordRestoreOutcome(resource, outcome.status);
      return outcome;
    },
    parts,
    { concurrency: config.backupWorkers, timeoutMs: 0 },
  );
  restores.informer.onKey((key, event, object) => {
    // Deleting a Restore (a drill, say) cancels its run; a drill's progress is its policy's news.
    if (event === 'delete') runningRestores.cancel(key, 'the Restore was deleted');
    const drillOf = object?.metadata?.labels?.[DRILL_LABEL];
    if (drillOf && object?.metadata?.namespace) policies.controller.enqueue(`${object.metadata.namespace}/${drillOf}`);
  });

  const manager = new Manager({
    logger,
    health,
    metrics,
    informers: [databases.informer, retention.informer, backups.informer, policies.informer, restores.informer, secretPoller],
    controllers: [databases.controller, retention.controller, backups.controller, policies.controller, restores.controller],
    shutdownGraceMs: config.shutdownGraceSeconds * 1000,
    fence,
    // The events of the last reconciles are still queued when they return.
    drain: () => parts.recorder.flush(),
    ...(config.leaderElection
      ? { leaderElection: { client: kubeLeaseClient(client), namespace: config.podNamespace, name: config.leaseName, identity } }
      : {}),
  });
  await manager.start();
  logger.info({ replica: identity, metricsPort: health.port, leaderElection: config.leaderElection, watchNamespace: config.watchNamespace ?? '(all)' }, 'operator started');
  return { manager, metrics, health, identity };
}

function databaseObserver(domain: DomainMetricsRecorder, labels: DatabaseLabels, clock: Clock): DatabaseObserver {
  return {
    migrated: (migration) => domain.recordMigration(labels, migration),
    migrationFailed: (reason) => domain.recordMigrationFailure(labels, reason),
    refreshed: (result) => domain.recordViewRefresh(labels, { finishedAt: clock.now(), durationMs: result.durationMs }),
    refreshFailed: (reason) => domain.recordViewRefreshFailure(labels, reason),
    validated: (result) => domain.recordValidation(labels, { finishedAt: clock.now(), passed: result.passed, results: result.results }),
  };
}

/**
 * Whether the object a reconcile worked on is still in the cache (same uid, not being deleted). A
 * reconcile that finishes after its object was deleted must not record metrics: the delete hook has
 * already removed the object's series, and recording would bring them back for good.
 */
function stillCurrent(informer: { get(key: string): KubeObject | undefined }, object: KubeObject): boolean {
  const now = informer.get(`${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`);
  return now !== undefined && now.metadata?.uid === object.metadata?.uid && !now.metadata?.deletionTimestamp;
}
