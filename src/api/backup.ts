// BackupPolicy (schedule, destinations, recipients, retention, restore drill), Backup (one run) and
// Restore (bring a backup back into a database).
import { z } from 'zod';
import { conditionsSchema, localObjectReferenceSchema, objectNameSchema, s3DestinationSchema, secretKeySelectorSchema } from './common.ts';
import { cronSchema, timeZoneSchema } from './schedule.ts';
import { durationSchema } from './duration.ts';

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
      'Connection Secret (same keys as a LokdarpanDatabase\'s) of a role that may CREATE DATABASE and CREATE EXTENSION vector on the same server; default: the database\'s own connection.',
    ).optional(),
  })
  .describe('Scheduled restore check: the latest backup is restored into a scratch database, its row counts compared with the manifest, and the scratch database dropped.');

export const backupPolicySpecSchema = z
  .object({
    databaseRef: localObjectReferenceSchema('The LokdarpanDatabase to back up.'),
    schedule: cronSchema('When to take a backup, 5-field cron.'),
    timeZone: timeZoneSchema(),
    suspend: z.boolean().default(false).describe('Take no scheduled backups while true.'),
    startingDeadline: durationSchema('A run missed by more than this (operator down, suspended) is skipped, not replayed.').default('1h'),
    destination: s3DestinationSchema.describe('Where backups are written first.'),
    replicas: z.array(s3DestinationSchema).max(4).default([]).describe('Other destinations (another region, bucket or endpoint) each backup is copied to and verified in.'),
    recipients: z
      .array(z.string().regex(new RegExp(AGE_RECIPIENT_PATTERN), { message: 'must be an age X25519 recipient (age1...)' }).describe('An age X25519 public key.'))
      .min(1)
      .max(16)
      .describe('age public keys (age1...) the backup is encrypted to; any one matching identity decrypts. Private keys never need to be in the cluster.'),
    checkInterval: durationSchema(
      'How often the destinations, keys and database are checked without writing a backup (a probe object written, read and deleted; the role\'s read access; pg_dump). They are also checked on every change of the spec or a referenced Secret and shortly before each scheduled run.',
    ).default('1h'),
    compressionLevel: z.number().int().min(1).max(19).default(1).describe('zstd level (1 is fastest; higher is smaller and slower).'),
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
  name: z.string().describe('Destination name.'),
  bucket: z.string().optional(),
  key: z.string().optional().describe('Object key of the encrypted dump.'),
  versionId: z.string().optional(),
  verified: z.boolean().optional().describe('SHA-256 of the stored object matched.'),
  error: z.string().optional(),
});

export const backupPolicyStatusSchema = z.object({
  observedGeneration: z.number().int().optional(),
  conditions: conditionsSchema.optional(),
  lastScheduleTime: z.string().optional().describe('Scheduled time of the last run started.'),
  nextScheduleTime: z.string().optional(),
  lastSuccessfulBackup: z.string().optional().describe('Name of the last Backup that completed.'),
  lastSuccessfulTime: z.string().optional(),
  lastFailedBackup: z.string().optional(),
  consecutiveFailures: z.number().int().optional(),
  nextRestoreDrillTime: z.string().optional(),
  lastRestoreDrill: z
    .object({ time: z.string().optional(), backup: z.string().optional(), succeeded: z.boolean().optional(), durationMs: z.number().optional(), message: z.string().optional() })
    .optional()
    .describe('The last scheduled restore check.'),
  lastPrune: z
    .object({
      time: z.string().optional(),
      afterBackup: z.string().optional().describe('The successful backup after which this prune ran.'),
      deleted: z.number().optional(),
      kept: z.number().optional(),
      locked: z.number().optional().describe('Backups the rules would delete but S3 Object Lock protects; skipped, not failed.'),
      errors: z.array(z.string()).optional(),
    })
    .optional()
    .describe('The last retention pass over the destinations.'),
});

export const backupSpecSchema = z
  .object({
    policyRef: localObjectReferenceSchema('The BackupPolicy whose database, destinations and recipients this backup uses.'),
  })
  .describe('One backup run. Scheduled runs are created by the policy; create one yourself for an on-demand backup.');

export type BackupSpec = z.infer<typeof backupSpecSchema>;

export const backupStatusSchema = z.object({
  observedGeneration: z.number().int().optional(),
  conditions: conditionsSchema.optional(),
  phase: z.enum(['Pending', 'Running', 'Completed', 'Failed']).optional().describe('Where the backup is.'),
  backupId: z.string().optional().describe('Identity of the backup in the object store (its folder name).'),
  database: z.string().optional().describe('Name of the database that was dumped.'),
  runningOn: z.string().optional().describe('Operator replica that ran it (a Running backup whose replica is gone is marked Failed).'),
  replicated: z.boolean().optional().describe('Every replica destination holds a verified copy.'),
  reason: z.string().optional(),
  message: z.string().optional(),
  startTime: z.string().optional(),
  completionTime: z.string().optional(),
  plainBytes: z.number().optional().describe('Size of the pg_dump output.'),
  encryptedBytes: z.number().optional().describe('Size of the stored object.'),
  size: z.string().optional().describe('Stored size, human readable.'),
  sha256: z.string().optional(),
  schemaVersion: z.string().optional(),
  serverVersion: z.string().optional(),
  manifestKey: z.string().optional(),
  destinations: z.array(destinationStatusSchema).optional(),
});

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
      })
      .meta({
        description: 'Where to restore.',
        'x-kubernetes-validations': [{ rule: 'has(self.databaseRef) != has(self.connectionSecret)', message: 'set exactly one of databaseRef and connectionSecret' }],
      }),
    identitySecret: secretKeySelectorSchema('Secret holding the age identity (AGE-SECRET-KEY-1...) that decrypts the backup.', 'identity'),
    overwrite: z.boolean().default(false).describe('Allow restoring into a database that is not empty (objects in the dump are dropped and recreated).'),
  })
  .meta({
    description: 'Restore a backup into a database.',
    'x-kubernetes-validations': [{ rule: 'has(self.backupRef) != has(self.source)', message: 'set exactly one of backupRef and source' }],
  });

export type RestoreSpec = z.infer<typeof restoreSpecSchema>;

export const restoreStatusSchema = z.object({
  observedGeneration: z.number().int().optional(),
  conditions: conditionsSchema.optional(),
  phase: z.enum(['Pending', 'Running', 'Completed', 'Failed']).optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  startTime: z.string().optional(),
  completionTime: z.string().optional(),
  durationMs: z.number().optional(),
  targetDatabase: z.string().optional(),
  rowCountCheck: z
    .object({ passed: z.boolean(), tablesChecked: z.number().int(), mismatches: z.array(z.string()).optional() })
    .optional()
    .describe('Row counts after the restore compared with the backup manifest.'),
});
