// The composition root of the running operator: Kubernetes client, metrics and health server, status
// writer, event recorder, one informer + controller per resource kind, leader election, manager.
import type { KubeConfig } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../clock.ts';
import { lokdarpanDatabaseKind, retentionPolicyKind } from '../api/resources.ts';
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
import { kubeDatabaseReader, kubeSecretReader } from './kube-readers.ts';

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

  const manager = new Manager({
    logger,
    health,
    metrics,
    informers: [databases.informer, retention.informer],
    controllers: [databases.controller, retention.controller],
    shutdownGraceMs: config.shutdownGraceSeconds * 1000,
    ...(config.leaderElection
      ? { leaderElection: { client: kubeLeaseClient(client), namespace: config.podNamespace, name: config.leaseName, identity } }
      : {}),
  });
  await manager.start();
  logger.info({ identity, metricsPort: health.port, leaderElection: config.leaderElection, watchNamespace: config.watchNamespace ?? '(all)' }, 'operator started');
  return { manager, metrics, health, identity };
}
