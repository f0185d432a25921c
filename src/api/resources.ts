// Every custom resource kind the operator serves, with names and printer columns. The CRDs in crds/
// are generated from this list.
import { ageColumn, readyColumn, reasonColumn, type ResourceKind } from './crd.ts';
import { lokdarpanDatabaseSpecSchema, lokdarpanDatabaseStatusSchema } from './lokdarpan-database.ts';
import { backupPolicySpecSchema, backupPolicyStatusSchema, backupSpecSchema, backupStatusSchema, restoreSpecSchema, restoreStatusSchema } from './backup.ts';
import { retentionPolicySpecSchema, retentionPolicyStatusSchema } from './retention-policy.ts';

export const lokdarpanDatabaseKind: ResourceKind = {
  kind: 'LokdarpanDatabase',
  plural: 'lokdarpandatabases',
  singular: 'lokdarpandatabase',
  shortNames: ['ldb'],
  description: 'A PostgreSQL database running the LokDarpan schema: the operator migrates it, refreshes its materialized views and validates its query performance.',
  spec: lokdarpanDatabaseSpecSchema,
  status: lokdarpanDatabaseStatusSchema,
  printerColumns: [
    readyColumn,
    { name: 'Schema', type: 'string', jsonPath: '.status.schemaVersion', description: 'Last applied migration.' },
    { name: 'Pending', type: 'integer', jsonPath: '.status.pendingCount', description: 'Migrations not yet applied.' },
    { name: 'Views', type: 'string', jsonPath: '.status.conditions[?(@.type=="ViewsFresh")].status', description: 'Materialized views fresh.' },
    { name: 'Performance', type: 'string', jsonPath: '.status.conditions[?(@.type=="PerformanceHealthy")].status', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
};

export const backupPolicyKind: ResourceKind = {
  kind: 'BackupPolicy',
  plural: 'backuppolicies',
  singular: 'backuppolicy',
  shortNames: ['bp'],
  description: 'Scheduled, client-side encrypted pg_dump backups of a LokdarpanDatabase to S3, replicated, verified and pruned.',
  spec: backupPolicySpecSchema,
  status: backupPolicyStatusSchema,
  printerColumns: [
    { name: 'Database', type: 'string', jsonPath: '.spec.databaseRef.name' },
    { name: 'Schedule', type: 'string', jsonPath: '.spec.schedule' },
    { name: 'Last Success', type: 'date', jsonPath: '.status.lastSuccessfulTime' },
    { name: 'Next', type: 'string', jsonPath: '.status.nextScheduleTime' },
    { name: 'Healthy', type: 'string', jsonPath: '.status.conditions[?(@.type=="LastBackupSucceeded")].status' },
    ageColumn,
  ],
};

export const backupKind: ResourceKind = {
  kind: 'Backup',
  plural: 'backups',
  singular: 'backup',
  shortNames: ['ldbk'],
  description: 'One encrypted pg_dump backup of a LokDarpan database, taken by a BackupPolicy on schedule or on demand.',
  spec: backupSpecSchema,
  status: backupStatusSchema,
  printerColumns: [
    { name: 'Policy', type: 'string', jsonPath: '.spec.policyRef.name' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Size', type: 'string', jsonPath: '.status.size' },
    { name: 'Reason', type: 'string', jsonPath: '.status.reason', priority: 1 },
    ageColumn,
  ],
};

export const restoreKind: ResourceKind = {
  kind: 'Restore',
  plural: 'restores',
  singular: 'restore',
  shortNames: ['ldrs'],
  description: 'Restores a LokDarpan backup into a database and checks row counts against the backup manifest.',
  spec: restoreSpecSchema,
  status: restoreStatusSchema,
  printerColumns: [
    { name: 'Backup', type: 'string', jsonPath: '.spec.backupRef.name' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Target', type: 'string', jsonPath: '.status.targetDatabase' },
    { name: 'Reason', type: 'string', jsonPath: '.status.reason', priority: 1 },
    ageColumn,
  ],
};

export const retentionPolicyKind: ResourceKind = {
  kind: 'RetentionPolicy',
  plural: 'retentionpolicies',
  singular: 'retentionpolicy',
  shortNames: ['rp'],
  description: 'Scheduled deletion, archival or marking of expired LokDarpan rows in small batches that never hold long locks.',
  spec: retentionPolicySpecSchema,
  status: retentionPolicyStatusSchema,
  printerColumns: [
    readyColumn,
    { name: 'Database', type: 'string', jsonPath: '.spec.databaseRef.name' },
    { name: 'Schedule', type: 'string', jsonPath: '.spec.schedule' },
    { name: 'Last Run', type: 'date', jsonPath: '.status.lastRun.startTime' },
    { name: 'Deleted', type: 'integer', jsonPath: '.status.lastRun.deleted' },
    ageColumn,
  ],
};

export const allResourceKinds: readonly ResourceKind[] = [lokdarpanDatabaseKind, backupPolicyKind, backupKind, restoreKind, retentionPolicyKind];
