// `lokdarpan operator`: runs the operator against the current kubeconfig (or in-cluster config) until
// SIGTERM/SIGINT. Configuration comes from the environment (see docs/operations.md).
import { configFromEnv } from '../operator/config.ts';
import { startOperator } from '../operator/operator.ts';
import { runUntilStopped } from '../runtime/manager.ts';
import { loadKubeConnection } from '../runtime/kube-config.ts';
import { createLogger } from '../observability/logger.ts';
import type { CliIo } from './io.ts';

// The defaults shown are the configuration's own, so the help cannot drift from them.
function help(d = configFromEnv({})): string {
  return `usage: lokdarpan operator [--kubeconfig PATH]

Runs the controllers for LokdarpanDatabase, BackupPolicy, Backup, Restore and RetentionPolicy.
Environment: LOKDARPAN_WATCH_NAMESPACE, LOKDARPAN_LEADER_ELECTION (true|false), POD_NAME, POD_NAMESPACE,
LOKDARPAN_LEASE_NAME, LOKDARPAN_METRICS_HOST, LOKDARPAN_METRICS_PORT (${d.metricsPort}; serves /metrics, /healthz,
/readyz), LOG_LEVEL, LOKDARPAN_MIGRATIONS_DIR, LOKDARPAN_PG_BIN_DIRS (e.g. 15=/usr/lib/postgresql/15/bin,18=/opt/pg18/bin),
LOKDARPAN_SHUTDOWN_GRACE_SECONDS (${d.shutdownGraceSeconds}; keep terminationGracePeriodSeconds above it + 5),
LOKDARPAN_RECONCILE_TIMEOUT_SECONDS (${d.reconcileTimeoutSeconds}; database and retention reconciles), LOKDARPAN_PROGRESS_INTERVAL
(10s; how often a running Backup or Restore writes status.progress), LOKDARPAN_CLUSTER_NAME (default; this
cluster's name in backup keys: give each cluster sharing a bucket its own), LOKDARPAN_WORKERS (${d.workers}; reconciles
doing real work at once per controller; status-only database reconciles: 4 times as many), LOKDARPAN_BACKUP_WORKERS (${d.backupWorkers}; Backups and Restores at once), LOKDARPAN_KUBE_API_QPS
(${d.kubeApiQps}; 0: no limit) and LOKDARPAN_KUBE_API_BURST (${d.kubeApiBurst}), LOKDARPAN_RESYNC_PERIOD (10h; 0s: never), KUBECONFIG.
`;
}

export async function runOperatorCli(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(help());
    return 0;
  }
  const config = configFromEnv(io.env);
  const logger = createLogger({ level: config.logLevel, destination: io.stdout });
  const explicit = argv.includes('--kubeconfig') ? argv[argv.indexOf('--kubeconfig') + 1] : undefined;
  const kubeConfig = await loadKubeConnection({ env: io.env, kubeconfig: explicit });
  const running = await startOperator(config, { kubeConfig, logger });
  const exit = await runUntilStopped(running.manager);
  logger.info({ reason: exit.reason, abandoned: exit.abandoned }, 'operator stopped');
  if (exit.reason === 'leadership-lost') {
    // A deposed leader must not linger: a reconcile that ignored its abort (a hung socket, a child process)
    // would keep the event loop alive. Exit now so the pod restarts as a fresh candidate.
    process.exit(exit.code);
  }
  return exit.code;
}
