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

/** A prune that did not delete because a backup it would delete is in use (an unfinished Restore reads it). */
export type PolicyPruneResult = PruneResult & { deferredFor?: string[] };

export interface PruneEngines {
  /** Prunes one destination; when the plan would delete a backup in `inUse` (ids), deletes nothing and says so. */
  prune(destination: S3Destination, database: string, retention: BackupRetentionSpec, namespace: string, secrets: SecretReader, inUse: ReadonlySet<string>): Promise<PolicyPruneResult>;
}

export function backupEngines(options: {
  binDirs: PgBinDirs;
  logger: Logger;
  clock: Clock;
  /** How often a running backup or restore reports progress (default 10 s). */
  progressIntervalMs?: number;
}): BackupEngines & RestoreEngines & PruneEngines {
  const { binDirs, logger, clock } = options;
  const progress = (listener: ProgressListener | undefined) =>
    listener ? { onProgress: listener, ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }) } : {};
  return {
    async run(request, secrets) {
      const primary = await objectStoreFor(request.destination, secrets, request.namespace);
      const replicas = await Promise.all(request.replicas.map((r) => objectStoreFor(r, secrets, request.namespace)));
      return runBackup({
        source: pgBackupSource(request.target, { binDirs }),
        primary,
        replicas,
        recipients: request.recipients,
        database: request.target.database,
        backupId: request.backupId,
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
    async prune(destination, database, retention, namespace, secrets, inUse) {
      const options = {
        store: await objectStoreFor(destination, secrets, namespace),
        database,
        rules: {
          keepLast: retention.keepLast,
          keepDaily: retention.keepDaily,
          keepWeekly: retention.keepWeekly,
          keepMonthly: retention.keepMonthly,
          ...(retention.maxAge ? { maxAgeMs: parseDuration(retention.maxAge) } : {}),
        },
        clock,
        logger,
      };
      if (inUse.size > 0) {
        // The engine deletes whole plans; a plan that would take a backup being restored waits for a later pass.
        const planned = await pruneBackups({ ...options, dryRun: true });
        const deferredFor = planned.plan.delete.map((d) => d.id).filter((id) => inUse.has(id));
        if (deferredFor.length > 0) return { ...planned, deferredFor };
      }
      return pruneBackups(options);
    },
  };
}
