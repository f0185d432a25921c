// The composition root of the running operator: Kubernetes client, metrics and health server, status
// writer, event recorder, one informer + controller per resource kind, leader election, manager.
import type { KubeConfig } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../clock.ts';
import { backupKind, backupPolicyKind, lokdarpanDatabaseKind, restoreKind, retentionPolicyKind } from '../api/resources.ts';
import { KeyedMutex } from '../controllers/shared/database-mutex.ts';
import { createResourceController, type RuntimeParts } from '../controllers/shared/resource-controller.ts';
import { lokdarpanDatabaseEngines } from '../controllers/lokdarpan-database/engines.ts';
import { reconcileDatabase, type LokdarpanDatabase } from '../controllers/lokdarpan-database/reconciler.ts';
import { retentionEngines } from '../controllers/retention-policy/engines.ts';
import { reconcileRetentionPolicy, type RetentionPolicyResource } from '../controllers/retention-policy/reconciler.ts';
import { HealthServer } from '../observability/health.ts';
import type { Logger } from '../observability/logger.ts';
import { createOperatorMetrics, type OperatorMetrics } from '../observability/metrics.ts';
import { EventRecorder, kubeEventSink } from '../runtime/events.ts';
import { KubeClient } from '../runtime/kube.ts';
import { kubeLeaseClient, leaderIdentity } from '../runtime/leader-election.ts';
import { Manager } from '../runtime/manager.ts';
import { StatusWriter, kubeStatusClient } from '../runtime/status-writer.ts';
import type { OperatorConfig } from './config.ts';
import { kubeBackupObjects, kubeBackupReader, kubeDatabaseReader, kubePolicyReader, kubeSecretReader } from './kube-readers.ts';
import { backupEngines } from '../controllers/backup/engines.ts';
import { postWebhook } from '../controllers/backup/webhook.ts';
import { reconcileBackup, type BackupResource } from '../controllers/backup/reconciler.ts';
import { reconcileBackupPolicy, type BackupPolicyResource } from '../controllers/backup/policy-reconciler.ts';
import { reconcileRestore, type RestoreResource } from '../controllers/backup/restore-reconciler.ts';

export interface OperatorDeps {
  kubeConfig: KubeConfig;
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
  const client = new KubeClient(deps.kubeConfig);
  const metrics = deps.metrics ?? createOperatorMetrics();
  const identity = leaderIdentity(config.podName);
  const health = new HealthServer({ port: config.metricsPort, host: config.metricsHost, registry: metrics.registry, logger });
  const parts: RuntimeParts = {
    client,
    statusWriter: new StatusWriter({ client: kubeStatusClient(client), logger }),
    recorder: new EventRecorder({ sink: kubeEventSink(client), reportingInstance: identity, clock, logger }),
    logger,
    metrics,
    ...(config.watchNamespace ? { namespace: config.watchNamespace } : {}),
  };
  const secrets = kubeSecretReader(client);
  const mutex = new KeyedMutex();
  const instance = `operator/${config.podName}`;

  const databases = createResourceController(
    lokdarpanDatabaseKind,
    (object) =>
      reconcileDatabase(object as unknown as LokdarpanDatabase, {
        secrets,
        engines: lokdarpanDatabaseEngines({ migrationsDir: config.migrationsDir, logger }),
        mutex,
        clock,
        instance,
      }),
    parts,
  );

  const databaseReader = kubeDatabaseReader(client);
  const retention = createResourceController(
    retentionPolicyKind,
    (object) =>
      reconcileRetentionPolicy(object as unknown as RetentionPolicyResource, {
        databases: databaseReader,
        secrets,
        engines: retentionEngines({ logger }),
        mutex,
        clock,
      }),
    parts,
  );

  const backupDeps = {
    policies: kubePolicyReader(client),
    databases: databaseReader,
    secrets,
    engines: backupEngines({ binDirs: config.pgBinDirs, logger, clock }),
    mutex,
    clock,
  };
  const runningBackups = new Set<string>();
  const backups = createResourceController(
    backupKind,
    (object, context, progress) =>
      reconcileBackup(object as unknown as BackupResource, { ...backupDeps, instance: identity, running: runningBackups, sendWebhook: postWebhook }, progress, context.signal),
    parts,
    { concurrency: 2 },
  );
  const policies = createResourceController(
    backupPolicyKind,
    (object) => reconcileBackupPolicy(object as unknown as BackupPolicyResource, { ...backupDeps, backups: kubeBackupObjects(client) }),
    parts,
  );
  // A Backup that changes (Completed, Failed, deleted) changes its policy's summary.
  backups.informer.onKey((_key, _event, object) => {
    const policy = (object?.['spec'] as BackupResource['spec'] | undefined)?.policyRef?.name;
    if (policy && object?.metadata?.namespace) policies.controller.enqueue(`${object.metadata.namespace}/${policy}`);
  });
  const runningRestores = new Set<string>();
  const restores = createResourceController(
    restoreKind,
    (object, context, progress) =>
      reconcileRestore(object as unknown as RestoreResource, { ...backupDeps, backups: kubeBackupReader(client), running: runningRestores }, progress, context.signal),
    parts,
    { concurrency: 2 },
  );

  const manager = new Manager({
    logger,
    health,
    metrics,
    informers: [databases.informer, retention.informer, backups.informer, policies.informer, restores.informer],
    controllers: [databases.controller, retention.controller, backups.controller, policies.controller, restores.controller],
    shutdownGraceMs: config.shutdownGraceSeconds * 1000,
    ...(config.leaderElection
      ? { leaderElection: { client: kubeLeaseClient(client), namespace: config.podNamespace, name: config.leaseName, identity } }
      : {}),
  });
  await manager.start();
  logger.info({ identity, metricsPort: health.port, leaderElection: config.leaderElection, watchNamespace: config.watchNamespace ?? '(all)' }, 'operator started');
  return { manager, metrics, health, identity };
}
