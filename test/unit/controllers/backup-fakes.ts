// Fakes at the ports of the Backup, Restore and BackupPolicy reconcilers: Secrets and LokdarpanDatabases
// in maps, engines that record their calls, and results shaped like the real engines'.
import { OperatorError } from '../../../src/errors.ts';
import type { Reason } from '../../../src/reasons/index.ts';
import type { BackupResult } from '../../../src/engines/backup/index.ts';
import type { BackupManifest } from '../../../src/engines/backup/index.ts';
import type { RestoreResult } from '../../../src/engines/restore/index.ts';
import type { DatabaseReader, DatabaseResource } from '../../../src/controllers/shared/database-ref.ts';
import type { SecretReader } from '../../../src/controllers/shared/secrets.ts';
import type { PolicyReader, PolicyResource } from '../../../src/controllers/backup/reconciler.ts';

export const NS = 'ns';
export const RECIPIENT = `age1${'q'.repeat(58)}`;

export const condition = (status: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> | undefined }, type: string) =>
  status.conditions?.find((c) => c.type === type);

/** Secrets: `db` (app connection), `s3-primary`, `s3-dr`, `age-identity`, `scratch-server`; tests delete or edit entries. */
export function fakeSecrets(): SecretReader & { data: Map<string, Record<string, string>> } {
  const data = new Map<string, Record<string, string>>([
    ['db', { uri: 'postgres://app:pw@db.example:5432/lokdarpan' }],
    ['s3-primary', { accessKeyId: 'AK1', secretAccessKey: 'SK1' }],
    ['s3-dr', { accessKeyId: 'AK2', secretAccessKey: 'SK2' }],
    ['age-identity', { identity: 'AGE-SECRET-KEY-1FAKE' }],
    ['scratch-server', { uri: 'postgres://drill:pw@scratch.example:5432/postgres' }],
  ]);
  return { data, read: async (_ns, name) => data.get(name) };
}

export function fakeDatabases(names: string[] = ['ldb']): DatabaseReader & { items: Map<string, DatabaseResource> } {
  const items = new Map<string, DatabaseResource>(names.map((name) => [name, { metadata: { name, namespace: NS }, spec: { connection: { secretName: 'db' } } }]));
  return { items, get: async (_ns, name) => items.get(name) };
}

export function destination(name: string, secret: string): Record<string, unknown> {
  return { name, bucket: `${name}-bucket`, prefix: 'lokdarpan/', region: 'us-east-1', credentialsSecret: secret };
}

export function policySpec(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    databaseRef: { name: 'ldb' },
    schedule: '0 2 * * *',
    destination: destination('primary', 's3-primary'),
    replicas: [destination('dr', 's3-dr')],
    recipients: [RECIPIENT],
    ...extra,
  };
}

export function fakePolicies(specs: Record<string, Record<string, unknown>>): PolicyReader {
  return {
    get: async (_ns, name): Promise<PolicyResource | undefined> => (specs[name] ? { metadata: { name, namespace: NS, uid: `uid-${name}` }, spec: specs[name] } : undefined),
  };
}

export function manifest(id: string, finishedAt = '2026-03-10T02:00:05.000Z'): BackupManifest {
  return {
    format: 'lokdarpan-backup/v1',
    id,
    database: 'lokdarpan',
    startedAt: '2026-03-10T02:00:00.000Z',
    finishedAt,
    durationMs: 5000,
    server: { version: '15.18', versionNum: 150018, major: 15 },
    pgDump: { version: '15.18', major: 15 },
    plainBytes: 4096,
    encryptedBytes: 2048,
    sha256: 'a'.repeat(64),
    compression: { algorithm: 'zstd', level: 1 },
    encryption: { format: 'age-v1', recipients: [] },
    tables: [{ schema: 'public', table: 'post', rows: 10 }],
    destinations: [],
  } as unknown as BackupManifest;
}

export function backupResult(id: string, replicaError?: { reason: Reason; message: string }): BackupResult {
  return {
    id,
    manifest: manifest(id),
    manifestKey: `lokdarpan/lokdarpan/${id}.manifest.json`,
    destinations: [
      { name: 'primary', bucket: 'primary-bucket', key: `lokdarpan/lokdarpan/${id}.dump.zst.age`, verified: true },
      { name: 'dr', bucket: 'dr-bucket', key: `lokdarpan/lokdarpan/${id}.dump.zst.age`, verified: replicaError === undefined, ...(replicaError ? { error: replicaError } : {}) },
    ],
    replicated: replicaError === undefined,
    failedReplicas: replicaError ? [{ name: 'dr', ...replicaError }] : [],
  };
}

export function restoreResult(database: string, passed = true, settingWarnings: string[] = [], extensionWarnings: string[] = []): RestoreResult {
  return {
    backupId: 'b1',
    database,
    createdDatabase: true,
    startedAt: '2026-03-10T03:00:00.000Z',
    finishedAt: '2026-03-10T03:00:04.000Z',
    durationMs: 4000,
    bytes: 2048,
    sha256: 'a'.repeat(64),
    pgRestoreVersion: '15.18',
    manifest: manifest('b1'),
    rowCountCheck: passed ? { passed: true, tablesChecked: 12, mismatches: [] } : { passed: false, tablesChecked: 12, mismatches: [{ table: 'public.post', expected: 10, actual: 9 }] },
    databaseSettings: { applied: [], warnings: settingWarnings },
    extensions: { kept: extensionWarnings.length > 0 ? ['vector'] : [], warnings: extensionWarnings },
  } as unknown as RestoreResult;
}

/** Settles only when the abort signal fires, rejecting as the engines do (Cancelled). */
export function untilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal?.addEventListener('abort', () => reject(new OperatorError('Cancelled', 'cancelled')), { once: true });
  });
}
