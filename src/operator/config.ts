// The operator's configuration: parsed once from the environment (the only place that reads it),
// validated with zod, frozen and passed down.
import * as z from 'zod';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseDuration } from '../api/duration.ts';

const booleanFromEnv = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const operatorConfigSchema = z.object({
  watchNamespace: z.string().optional().describe('Only reconcile resources in this namespace (default: all).'),
  podName: z.string().min(1).default(hostname()),
  podNamespace: z.string().min(1).default('lokdarpan-system'),
  leaderElection: booleanFromEnv.default(false),
  leaseName: z.string().min(1).default('lokdarpan-operator'),
  metricsHost: z.string().default('0.0.0.0'),
  metricsPort: z.coerce.number().int().min(0).max(65535).default(8080),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  migrationsDir: z.string().default(fileURLToPath(new URL('../../migrations', import.meta.url))),
  /** "15=/usr/lib/postgresql/15/bin,18=/opt/pg18/bin": pg_dump/pg_restore per server major. */
  pgBinDirs: z
    .string()
    .default('15=/usr/lib/postgresql/15/bin,18=/usr/lib/postgresql/18/bin')
    .transform((text, ctx) => {
      const dirs: Record<number, string> = {};
      for (const part of text.split(',').filter(Boolean)) {
        const match = /^(\d+)=(.+)$/.exec(part.trim());
        if (!match) {
          ctx.addIssue({ code: 'custom', message: `"${part}" is not MAJOR=DIR` });
          return z.NEVER;
        }
        dirs[Number(match[1])] = match[2] as string;
      }
      return dirs;
    }),
  /**
   * This cluster's name in backup keys and manifests (policies/<cluster>/<namespace>/<policy>/): two
   * clusters whose BackupPolicies share a bucket and prefix must each have their own, or they prune
   * each other's backups. Changing it later leaves the older backups to the old name (never pruned).
   */
  clusterName: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/, 'must be a DNS label or subdomain of up to 63 characters (a-z, 0-9, "-", ".")')
    .default('default'),
  /** How long SIGTERM waits for in-flight work; the Deployment's terminationGracePeriodSeconds must exceed it (plus 5 s). */
  shutdownGraceSeconds: z.coerce.number().int().min(0).default(30),
  /** How often a running Backup or Restore writes its progress to status ("10s"). */
  progressInterval: z
    .string()
    .default('10s')
    .transform((text, ctx) => {
      try {
        const ms = parseDuration(text);
        if (ms >= 1000) return ms;
        ctx.addIssue({ code: 'custom', message: 'must be at least 1s' });
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
      return z.NEVER;
    }),
  /** A LokdarpanDatabase or RetentionPolicy reconcile running longer is aborted and its worker freed. */
  reconcileTimeoutSeconds: z.coerce.number().int().min(1).default(3600),
  /**
   * Reconciles at once per controller for LokdarpanDatabase, RetentionPolicy and BackupPolicy. 8: a reconcile
   * mostly waits for the API server or PostgreSQL, and bench/operator-scale.ts drained a burst of 500 within
   * 0.1-0.4 s of its last request with 8 where 4 left 0.7-2.7 s. The LokdarpanDatabase controller has 4 times
   * as many workers, of which this many at most do real work (operator.ts).
   */
  workers: z.coerce.number().int().min(1).max(64).default(8),
  /** Reconciles at once for Backup and for Restore (each running one runs pg_dump or pg_restore). */
  backupWorkers: z.coerce.number().int().min(1).max(16).default(2),
  /**
   * Client-side limit on Kubernetes API requests per second (a token bucket refilled at this rate); 0 disables it.
   * A burst of 500 changes costs 500 status writes: at 50 QPS they alone would take 8 s after the bucket's burst.
   */
  kubeApiQps: z.coerce.number().min(0).max(10_000).default(200),
  /** Requests the token bucket lets through at once before QPS applies. */
  kubeApiBurst: z.coerce.number().int().min(1).max(10_000).default(400),
  /** How often every cached resource is reconciled again although nothing changed ("10h"; "0s" disables). */
  resyncPeriod: z
    .string()
    .default('10h')
    .transform((text, ctx) => {
      try {
        const ms = parseDuration(text);
        // Node timers hold at most 2^31-1 ms (24.8 days); a week is plenty for a safety net.
        if (ms === 0 || (ms >= 60_000 && ms <= 7 * 86_400_000)) return ms;
        ctx.addIssue({ code: 'custom', message: 'must be 0s (off) or between 1m and 7d' });
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
      return z.NEVER;
    }),
});

export type OperatorConfig = Readonly<z.infer<typeof operatorConfigSchema>>;

/** Reads LOKDARPAN_* (and the downward-API POD_NAME / POD_NAMESPACE) from `env`. */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>): OperatorConfig {
  const pick = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const raw = {
    watchNamespace: pick('LOKDARPAN_WATCH_NAMESPACE'),
    podName: pick('POD_NAME'),
    podNamespace: pick('POD_NAMESPACE'),
    leaderElection: pick('LOKDARPAN_LEADER_ELECTION'),
    leaseName: pick('LOKDARPAN_LEASE_NAME'),
    metricsHost: pick('LOKDARPAN_METRICS_HOST'),
    metricsPort: pick('LOKDARPAN_METRICS_PORT'),
    logLevel: pick('LOG_LEVEL'),
    migrationsDir: pick('LOKDARPAN_MIGRATIONS_DIR'),
    pgBinDirs: pick('LOKDARPAN_PG_BIN_DIRS'),
    clusterName: pick('LOKDARPAN_CLUSTER_NAME'),
    shutdownGraceSeconds: pick('LOKDARPAN_SHUTDOWN_GRACE_SECONDS'),
    progressInterval: pick('LOKDARPAN_PROGRESS_INTERVAL'),
    reconcileTimeoutSeconds: pick('LOKDARPAN_RECONCILE_TIMEOUT_SECONDS'),
    workers: pick('LOKDARPAN_WORKERS'),
    backupWorkers: pick('LOKDARPAN_BACKUP_WORKERS'),
    kubeApiQps: pick('LOKDARPAN_KUBE_API_QPS'),
    kubeApiBurst: pick('LOKDARPAN_KUBE_API_BURST'),
    resyncPeriod: pick('LOKDARPAN_RESYNC_PERIOD'),
  };
  const parsed = operatorConfigSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!parsed.success) {
    throw new Error(`invalid operator configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return Object.freeze(parsed.data);
}
