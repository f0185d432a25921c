// BackupPolicy (schedule, destinations, recipients, retention, restore drill), Backup (one run) and
// Restore (bring a backup back into a database).
import * as z from 'zod';
import { conditionsSchema, localObjectReferenceSchema, objectNameSchema, policyDestinationSchema, s3DestinationSchema, secretKeySelectorSchema } from './common.ts';
import { cronSchema, timeZoneSchema } from './schedule.ts';
import { durationSchema } from './duration.ts';
import { transferProgressSchema } from './progress.ts';

export const AGE_RECIPIENT_PATTERN = '^age1[02-9ac-hj-np-z]{58}$';

export const backupRetentionSchema = z
  .object({
    keepLast: z.number().int().min(0).max(10000).default(7).describe('Always keep this many newest backups.'),
    keepDaily: z.number().int().min(0).max(10000).default(7).describe('Keep the newest backup of each of this many most recent days.'),
    keepWeekly: z.number().int().min(0).max(10000).default(4).describe('Keep the newest backup of each of this many most recent ISO weeks.'),
    keepMonthly: z.number().int().min(0).max(10000).default(6).describe('Keep the newest backup of each of this many most recent months.'),
    maxAge: durationSchema('Delete anything older than this, whatever the keep rules say (empty: no limit).').optional(),
  })
  .default({ keepLast: 7, keepDaily: 7, keepWeekly: 4, keepMonthly: 6 })
  .describe('Which backups to keep, applied to each destination separately (GFS rules; a backup kept by any rule stays). Objects under S3 Object Lock are skipped and reported.');

export const restoreDrillSchema = z
  .object({
    schedule: cronSchema('When to restore the latest backup into a scratch database to prove it restores, 5-field cron.'),
    timeZone: timeZoneSchema(),
    identitySecret: secretKeySelectorSchema('Secret holding an age identity (AGE-SECRET-KEY-1...) for one of the recipients.', 'identity'),
    connectionSecret: objectNameSchema(
      'Connection Secret (key `uri`) of a role that may CREATE DATABASE and CREATE EXTENSION vector, on the server the drill restores to (another server keeps the drill\'s load off production); default: the database\'s own connection and server.',
    ).optional(),
    timeout: durationSchema('A drill still running after this long is cancelled and reported with reason Timeout; default: the policy\'s timeout.').optional(),
  })
  .describe(
    'Scheduled restore check: the policy creates a Restore (owned by it, named <policy>-drill-<time>; delete it to cancel) that restores the latest backup into a scratch database, compares its row counts with the manifest and drops it.',
  );

/** Backups and restores that run longer than this are cancelled (reason Timeout), unless their spec says otherwise. */
export const DEFAULT_RUN_TIMEOUT = '6h';

export const backupPolicySpecSchema = z
  .object({
    databaseRef: localObjectReferenceSchema('The LokdarpanDatabase to back up.'),
    schedule: cronSchema('When to take a backup, 5-field cron.'),
    timeZone: timeZoneSchema(),
    suspend: z.boolean().default(false).describe('Take no scheduled backups while true.'),
    startingDeadline: durationSchema('A run missed by more than this (operator down, suspended) is skipped, not replayed.').default('1h'),
    destination: policyDestinationSchema.describe('Where backups are written first.'),
    replicas: z.array(policyDestinationSchema).max(4).default([]).describe('Other destinations (another region, bucket or endpoint) each backup is copied to and verified in.'),
    recipients: z
      .array(z.string().regex(new RegExp(AGE_RECIPIENT_PATTERN), { message: 'must be an age X25519 recipient (age1...)' }).describe('An age X25519 public key.'))
      .min(1)
      .max(16)
      .describe('age public keys (age1...) the backup is encrypted to; any one matching identity decrypts. Private keys never need to be in the cluster.'),
    checkInterval: durationSchema(
      'How often the destinations, keys and database are checked without writing a backup (a probe object written, read and deleted; the role\'s read access; pg_dump). They are also checked on every change of the spec or a referenced Secret and shortly before each scheduled run.',
    ).default('1h'),
    compressionLevel: z.number().int().min(1).max(19).default(1).describe('zstd level (1 is fastest; higher is smaller and slower).'),
    timeout: durationSchema('A backup still running after this long is cancelled (its upload aborted, nothing stored) and fails with reason Timeout. Raise it for very large databases.').default(DEFAULT_RUN_TIMEOUT),
    lockWaitTimeout: durationSchema('pg_dump --lock-wait-timeout: how long the dump waits for a table lock (a long ALTER TABLE or VACUUM FULL) before the backup fails with DumpFailed, instead of queueing every query behind it. 0s waits forever.').default('1m'),
    retention: backupRetentionSchema,
    restoreDrill: restoreDrillSchema.optional(),
    webhook: z
      .object({ urlSecret: secretKeySelectorSchema('Secret key holding the webhook URL (it may carry a token).', 'url') })
      .optional()
      .describe('Called with a JSON body after every backup, success or failure.'),
  })
  .meta({
    description: 'Scheduled, encrypted, replicated backups of one database.',
    'x-kubernetes-validations': [
      { rule: '!has(self.replicas) || self.replicas.all(r, r.name != self.destination.name)', message: 'replica names must differ from the destination name', fieldPath: '.replicas' },
    ],
  });

export type BackupPolicySpec = z.infer<typeof backupPolicySpecSchema>;

export const destinationStatusSchema = z.object({
  name: z.string().describe('Destination name (spec.destination.name or a replica\'s name).'),
  bucket: z.string().optional().describe('Bucket the backup was written to.'),
  key: z.string().optional().describe('Object key of the encrypted dump.'),
  versionId: z.string().optional().describe('S3 version id of the stored object, when the bucket is versioned.'),
  verified: z.boolean().optional().describe('The stored object was read back and its SHA-256 and size matched.'),
  error: z.string().optional().describe('Why this destination failed (reason: message); the copy there was removed. Check the destination\'s bucket, credentials and endpoint.'),
});

export const backupPolicyStatusSchema = z
  .object({
    observedGeneration: z.number().int().optional().describe('metadata.generation of the spec this status was computed from.'),
    conditions: conditionsSchema.optional(),
    database: z.string().optional().describe('Name of the PostgreSQL database that databaseRef leads to: the folder of its backups in each destination (<prefix><database>/policies/<cluster>/<namespace>/<policy>/).'),
    lastScheduleTime: z.string().optional().describe('Scheduled time of the last run started (RFC 3339).'),
    nextScheduleTime: z.string().optional().describe('When the next scheduled backup is due (RFC 3339); absent while suspended.'),
    lastSuccessfulBackup: z.string().optional().describe('Name of the last Backup that completed.'),
    lastSuccessfulTime: z.string().optional().describe('When the last successful Backup completed (RFC 3339). Alert when it is older than the schedule allows.'),
    lastFailedBackup: z.string().optional().describe('Name of the newest failed Backup; its status says why.'),
    consecutiveFailures: z.number().int().optional().describe('Backups that failed since the last success; 0 when the newest one succeeded.'),
    nextRestoreDrillTime: z.string().optional().describe('When the next restore drill is due (RFC 3339), from spec.restoreDrill.schedule.'),
    lastRestoreDrill: z
      .object({
        time: z.string().optional().describe('When the drill ran (RFC 3339).'),
        backup: z.string().optional().describe('Name of the Backup that was restored.'),
        restore: z.string().optional().describe('The Restore object that ran the drill (kubectl describe restore NAME for details).'),
        succeeded: z.boolean().optional().describe('The backup restored and its row counts matched the manifest.'),
        durationMs: z.number().optional().describe('How long the drill took, in milliseconds.'),
        message: z.string().optional().describe('What happened; on failure, why (fix it before you need the backup).'),
      })
      .optional()
      .describe('The last finished restore drill.'),
    restoreDrillRunning: z.string().optional().describe('Name of the drill Restore running now, if any; the next drill is skipped while it runs.'),
    pruneWaiting: z.string().optional().describe('Why the retention pass after the last backup has not run yet (database lock busy, or a backup in use by an unfinished Restore); it is retried every 30 s.'),
    lastPrune: z
      .object({
        time: z.string().optional().describe('When the prune ran (RFC 3339).'),
        afterBackup: z.string().optional().describe('The successful backup after which this prune ran.'),
        deleted: z.number().optional().describe('Backups deleted, over all destinations.'),
        kept: z.number().optional().describe('Backups the retention rules keep on the primary destination.'),
        locked: z.number().optional().describe('Backups the rules would delete but S3 Object Lock protects; skipped, not failed.'),
        errors: z.array(z.string()).optional().describe('Deletions that failed (destination and reason); they are retried after the next backup.'),
        keptInUse: z.array(z.string()).optional().describe('Backups the rules would delete but an unfinished Restore reads ("backup (Restore name)"); kept, and pruned by the pass after the next backup.'),
      })
      .optional()
      .describe('The last retention pass over the destinations.'),
  })
  .describe('Observed state of the policy: schedule, last results, drills and prunes.');

export const backupSpecSchema = z
  .object({
    policyRef: localObjectReferenceSchema('The BackupPolicy whose database, destinations and recipients this backup uses.'),
    timeout: durationSchema('Cancel this run after this long (reason Timeout); default: the policy\'s spec.timeout.').optional(),
  })
  .describe('One backup run. Scheduled runs are created by the policy; create one yourself for an on-demand backup.');

export type BackupSpec = z.infer<typeof backupSpecSchema>;

export const backupStatusSchema = z
  .object({
    observedGeneration: z.number().int().optional().describe('metadata.generation of the spec this status was computed from.'),
    conditions: conditionsSchema.optional(),
    phase: z.enum(['Pending', 'Running', 'Completed', 'Failed']).optional().describe('Where the backup is: Pending (not started), Running, Completed or Failed (see reason and message).'),
    backupId: z.string().optional().describe('Identity of the backup in the object store (its folder name).'),
    database: z.string().optional().describe('Name of the database that was dumped.'),
    runningOn: z.string().optional().describe('Operator replica that ran it (a Running backup whose replica is gone is marked Failed).'),
    replicated: z.boolean().optional().describe('Every replica destination holds a verified copy.'),
    reason: z.string().optional().describe('CamelCase reason of the outcome, for example Completed, Interrupted or DumpFailed (see docs/conditions.md for what to do).'),
    message: z.string().optional().describe('Human-readable outcome, or what is happening while Running.'),
    startTime: z.string().optional().describe('When the run started (RFC 3339).'),
    completionTime: z.string().optional().describe('When it completed or failed (RFC 3339).'),
    progress: transferProgressSchema.optional().describe('How far a Running backup has got (bytes of pg_dump output so far); updated at most every 10 s and kept after the run.'),
    plainBytes: z.number().optional().describe('Size of the pg_dump output, in bytes.'),
    encryptedBytes: z.number().optional().describe('Size of the stored (compressed, encrypted) object, in bytes.'),
    size: z.string().optional().describe('Stored size, human readable.'),
    sha256: z.string().optional().describe('SHA-256 of the stored object; restores check it before pg_restore sees the end of the data.'),
    schemaVersion: z.string().optional().describe('Last applied migration of the database when it was dumped.'),
    serverVersion: z.string().optional().describe('PostgreSQL version of the server that was dumped; restores need this major or newer.'),
    manifestKey: z.string().optional().describe('Object key of the backup manifest on the primary destination (restore with source.manifestKey).'),
    destinations: z.array(destinationStatusSchema).optional().describe('Each destination (primary first) with where the backup is and whether it verified.'),
  })
  .describe('Observed state of one backup run.');

export const restoreSpecSchema = z
  .object({
    backupRef: localObjectReferenceSchema('A completed Backup to restore.').optional(),
    source: z
      .object({ destination: s3DestinationSchema, manifestKey: z.string().min(1).max(1024).describe('Key of the backup manifest in that bucket.') })
      .optional()
      .describe('Restore straight from a bucket, without a Backup object (for example in another cluster).'),
    target: z
      .object({
        databaseRef: localObjectReferenceSchema('Restore into this LokdarpanDatabase\'s database.').optional(),
        connectionSecret: objectNameSchema('Restore into the database of this connection Secret (same keys as a LokdarpanDatabase\'s).').optional(),
        databaseName: z.string().max(63).optional().describe('Create and restore into this new database on the same server instead.'),
        adminConnectionSecret: objectNameSchema(
          'Only with databaseName: a connection Secret (same keys as a LokdarpanDatabase\'s) of a role on the same server that creates the new database, owned by the restoring role, and the extensions the backup needs. Without it the restoring role creates the database itself (CREATEDB; extensions from template1 or trusted ones).',
        ).optional(),
      })
      .meta({
        description: 'Where to restore.',
        'x-kubernetes-validations': [{ rule: 'has(self.databaseRef) != has(self.connectionSecret)', message: 'set exactly one of databaseRef and connectionSecret' }],
      }),
    identitySecret: secretKeySelectorSchema('Secret holding the age identity (AGE-SECRET-KEY-1...) that decrypts the backup.', 'identity'),
    overwrite: z.boolean().default(false).describe('Allow restoring into a database that is not empty (objects in the dump are dropped and recreated).'),
    dropAfterCheck: z
      .boolean()
      .default(false)
      .describe('A restore check: drop the target database once the row counts are compared (needs target.databaseName). Restore drills set it.'),
    timeout: durationSchema('A restore still running after this long is cancelled and fails with reason Timeout.').default(DEFAULT_RUN_TIMEOUT),
  })
  .meta({
    description: 'Restore a backup into a database.',
    'x-kubernetes-validations': [
      { rule: 'has(self.backupRef) != has(self.source)', message: 'set exactly one of backupRef and source' },
      { rule: '!has(self.dropAfterCheck) || !self.dropAfterCheck || has(self.target.databaseName)', message: 'dropAfterCheck needs target.databaseName (a scratch database)', fieldPath: '.dropAfterCheck' },
    ],
  });

export type RestoreSpec = z.infer<typeof restoreSpecSchema>;

export const restoreStatusSchema = z
  .object({
    observedGeneration: z.number().int().optional().describe('metadata.generation of the spec this status was computed from.'),
    conditions: conditionsSchema.optional(),
    phase: z.enum(['Pending', 'Running', 'Completed', 'Failed']).optional().describe('Where the restore is: Pending (waiting, for example for its Backup to complete), Running, Completed or Failed (see reason and message).'),
    reason: z.string().optional().describe('CamelCase reason of the outcome or of the wait, for example Completed, BackupNotCompleted or TargetNotEmpty (see docs/conditions.md for what to do).'),
    message: z.string().optional().describe('Human-readable outcome, or what is happening while Running.'),
    startTime: z.string().optional().describe('When the restore started (RFC 3339).'),
    completionTime: z.string().optional().describe('When it completed or failed (RFC 3339).'),
    durationMs: z.number().optional().describe('How long the restore took, in milliseconds.'),
    targetDatabase: z.string().optional().describe('Database restored into.'),
    progress: transferProgressSchema.optional().describe('How far a Running restore has got (bytes of the stored backup downloaded so far, of its known size); updated at most every 10 s and kept after the run.'),
    rowCountCheck: z
      .object({
        passed: z.boolean().describe('Every table has the row count the manifest recorded at backup time.'),
        tablesChecked: z.number().int().describe('Tables compared.'),
        mismatches: z.array(z.string()).optional().describe('Tables whose counts differ ("table: N rows, manifest M"); the restored data is suspect.'),
      })
      .optional()
      .describe('Row counts after the restore compared with the backup manifest.'),
    warnings: z
      .array(z.string())
      .optional()
      .describe("What a Completed restore could not do, with what to do about it (each also a Warning event): a database setting of the schema's migrations (ALTER DATABASE ... SET, which a dump does not carry) that the restoring role could not make again, with the statement the database's owner should run (DatabaseSettingsNotApplied); an extension of the existing target database that another role owns, kept at another version than the server's default, with the ALTER EXTENSION ... UPDATE its owner should run (ExtensionVersionKept)."),
  })
  .describe('Observed state of the restore.');
