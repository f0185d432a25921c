// The backup manifest: one JSON object per backup, written to each destination after its data object,
// so a backup exists exactly when its manifest does. Also the object key layout.
import * as z from 'zod';
import { OperatorError } from '../../errors.ts';
import { BackupReasons } from './reasons.ts';

export const MANIFEST_FORMAT = 'lokdarpan-backup/v1';
export const DATA_SUFFIX = '.dump.zst.age';
export const MANIFEST_SUFFIX = '.manifest.json';
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const destinationSchema = z.object({
  name: z.string(),
  bucket: z.string(),
  key: z.string(),
  versionId: z.string().optional(),
  /** How the object got there: the primary upload, or a copy method. */
  method: z.enum(['upload', 'server', 'server-multipart', 'stream']),
  /** SHA-256 of the stored object was re-read and matched. */
  verified: z.boolean(),
});

/**
 * Who made a backup: the BackupPolicy (namespace/name, uid of the object at the time) in a cluster
 * (an identity string the operator is configured with). Pruning and listing for a policy only ever
 * touch backups with its owner; backups without one (written before owners existed) are left alone.
 */
const ownerSchema = z.object({
  cluster: z.string(),
  namespace: z.string(),
  name: z.string(),
  uid: z.string().optional(),
});

export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  id: z.string().regex(ID_PATTERN),
  database: z.string(),
  owner: ownerSchema.optional(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  server: z.object({ version: z.string(), versionNum: z.number(), major: z.number() }),
  pgDump: z.object({ version: z.string(), major: z.number() }),
  schemaVersion: z.string().optional(),
  /** Bytes pg_dump wrote (custom format, uncompressed). */
  plainBytes: z.number(),
  /** Bytes of the stored object (zstd + age). */
  encryptedBytes: z.number(),
  /** Hex SHA-256 of the stored object. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  compression: z.object({ algorithm: z.literal('zstd'), level: z.number() }),
  encryption: z.object({
    format: z.literal('age-v1'),
    recipients: z.array(z.object({ recipient: z.string(), fingerprint: z.string() })),
  }),
  /** Exact row counts per table, taken in the snapshot pg_dump dumped. */
  tables: z.array(z.object({ schema: z.string(), table: z.string(), rows: z.number() })),
  destinations: z.array(destinationSchema),
});

export type BackupManifest = z.infer<typeof manifestSchema>;
export type ManifestDestination = z.infer<typeof destinationSchema>;
export type BackupOwner = z.infer<typeof ownerSchema>;

/** Same policy in the same cluster (the uid is informational: a re-created policy keeps its backups). */
export function sameOwner(a: BackupOwner | undefined, b: BackupOwner | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.cluster === b.cluster && a.namespace === b.namespace && a.name === b.name;
}

export function assertBackupId(id: string): void {
  if (!ID_PATTERN.test(id)) {
    throw new OperatorError(BackupReasons.InvalidRequest, `backup id "${id}" must be 1-128 characters of A-Z a-z 0-9 . _ - starting with a letter or digit`, { terminal: true });
  }
}

/** "20260301T020000Z": sortable, one per second. */
export function defaultBackupId(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

const safeSegment = (value: string): string => (value === '' ? '_' : value.replace(/[^A-Za-z0-9._-]/g, '_'));

/**
 * The folder of a database's backups relative to a destination's prefix: `<database>/` for backups
 * without an owner (the layout before owners), `<database>/policies/<cluster>/<namespace>/<name>/`
 * for a policy's, so two policies (or clusters) sharing a bucket and prefix never write the same key.
 */
export function databaseFolder(database: string, owner?: BackupOwner): string {
  const base = `${safeSegment(database)}/`;
  if (owner === undefined) return base;
  return `${base}policies/${safeSegment(owner.cluster)}/${safeSegment(owner.namespace)}/${safeSegment(owner.name)}/`;
}

/** Keys relative to a destination's prefix: `<folder>/<id>.dump.zst.age` and `<folder>/<id>.manifest.json` (see databaseFolder). */
export function backupKeys(database: string, id: string, owner?: BackupOwner): { data: string; manifest: string } {
  assertBackupId(id);
  const folder = databaseFolder(database, owner);
  return { data: `${folder}${id}${DATA_SUFFIX}`, manifest: `${folder}${id}${MANIFEST_SUFFIX}` };
}

export function serializeManifest(manifest: BackupManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}

export function parseManifest(bytes: Buffer, where: string): BackupManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new OperatorError(BackupReasons.ManifestInvalid, `manifest ${where} is not JSON`, { cause: error, terminal: true });
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new OperatorError(BackupReasons.ManifestInvalid, `manifest ${where} is invalid: ${parsed.error.issues[0]?.message ?? 'schema mismatch'}`, { terminal: true });
  }
  return parsed.data;
}
