// The real backup and restore engines behind the Backup, Restore and BackupPolicy reconciles: object
// stores from the destinations' Secrets, pg_dump / pg_restore of the server's major (unit tests pass fakes).
import type { PgBinDirs, PgTarget } from '../../adapters/pgdump/index.ts';
import { pgBackupSource } from '../../adapters/pgdump/index.ts';
import { dropDatabase } from '../../adapters/pgdump/session.ts';
import type { S3Destination } from '../../api/common.ts';
import type { BackupRetentionSpec } from './policy-reconciler.ts';
import { parseDuration } from '../../api/duration.ts';
import { pruneBackups, runBackup, type ProgressListener, type PruneResult } from '../../engines/backup/index.ts';
import { runRestore, type RestoreResult } from '../../engines/restore/index.ts';
import type { Clock } from '../../clock.ts';
import type { Logger } from '../../observability/logger.ts';
import { objectStoreFor } from '../shared/destinations.ts';
import type { SecretReader } from '../shared/secrets.ts';
import type { BackupEngines } from './reconciler.ts';

export interface RestoreRequest {
  destination: S3Destination;
  manifestKey: string;
  identities: readonly string[];
  target: PgTarget;
  createDatabase: boolean;
  overwrite: boolean;
  /** Creates the new database and its extensions for a target role that is not a superuser. */
  admin?: PgTarget;
  namespace: string;
  dropCreatedOnFailure?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface RestoreEngines {
  restore(request: RestoreRequest, secrets: SecretReader): Promise<RestoreResult>;
  dropDatabase(target: PgTarget): Promise<void>;
}

/** The BackupPolicy a backup belongs to; with the operator's cluster name it is the backup's owner. */
export interface PolicyIdentity {
  namespace: string;
  name: string;
  uid?: string | undefined;
}

export interface PruneRequest {
  destination: S3Destination;
  /** The PostgreSQL database name (the folder in the destination). */
  database: string;
  retention: BackupRetentionSpec;
  /** The policy's schedule time zone: GFS days, weeks and months follow it. */
  timeZone: string;
  namespace: string;
  /** Only this policy's backups are planned and deleted. */
  policy: PolicyIdentity;
  /** Also prune the database's backups without an owner: only when no other policy writes to this destination. */
  adoptUnowned: boolean;
  /** Backup ids an unfinished Restore reads: kept (reason 'protected'), the rest is pruned. */
  protect: ReadonlySet<string>;
}

export interface PruneEngines {
  prune(request: PruneRequest, secrets: SecretReader): Promise<PruneResult>;
}

export function backupEngines(options: {
  binDirs: PgBinDirs;
  /** This cluster's name in backup owners (LOKDARPAN_CLUSTER_NAME). */
  cluster: string;
  logger: Logger;
  clock: Clock;
  /** How often a running backup or restore reports progress (default 10 s). */
  progressIntervalMs?: number;
}): BackupEngines & RestoreEngines & PruneEngines {
  const { binDirs, logger, clock } = options;
  const ownerOf = (policy: PolicyIdentity) => ({ cluster: options.cluster, namespace: policy.namespace, name: policy.name, ...(policy.uid ? { uid: policy.uid } : {}) });
  const progress = (listener: ProgressListener | undefined) =>
    listener ? { onProgress: listener, ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }) } : {};
  return {
    async run(request, secrets) {
      const primary = await objectStoreFor(request.destination, secrets, request.namespace);
      const replicas = await Promise.all(request.replicas.map((r) => objectStoreFor(r, secrets, request.namespace)));
      return runBackup({
        source: pgBackupSource(request.target, { binDirs, lockWaitTimeoutMs: request.lockWaitTimeoutMs }),
        primary,
        replicas,
        recipients: request.recipients,
        database: request.target.database,
        backupId: request.backupId,
        owner: ownerOf(request.policy),
        compressionLevel: request.compressionLevel,
        clock,
        logger,
        signal: request.signal,
        ...progress(request.onProgress),
      });
    },
    async restore(request, secrets) {
      return runRestore({
        store: await objectStoreFor(request.destination, secrets, request.namespace),
        manifestKey: request.manifestKey,
        identities: request.identities,
        target: request.target,
        createDatabase: request.createDatabase,
        overwrite: request.overwrite,
        ...(request.admin === undefined ? {} : { admin: request.admin }),
        binDirs,
        checkRowCounts: true,
        ...(request.dropCreatedOnFailure === undefined ? {} : { dropCreatedOnFailure: request.dropCreatedOnFailure }),
        clock,
        logger,
        ...(request.signal ? { signal: request.signal } : {}),
        ...progress(request.onProgress),
      });
    },
    dropDatabase: (target) => dropDatabase(target),
    async prune(request, secrets) {
      const { retention } = request;
      return pruneBackups({
        store: await objectStoreFor(request.destination, secrets, request.namespace),
        database: request.database,
        owner: ownerOf(request.policy),
        adoptUnowned: request.adoptUnowned,
        rules: {
          keepLast: retention.keepLast,
          keepDaily: retention.keepDaily,
          keepWeekly: retention.keepWeekly,
          keepMonthly: retention.keepMonthly,
          ...(retention.maxAge ? { maxAgeMs: parseDuration(retention.maxAge) } : {}),
        },
        timeZone: request.timeZone,
        protect: request.protect,
        clock,
        logger,
      });
    },
  };
}
