// Reading what is in a destination: the backups of a database (by their manifests), one manifest,
// and a full verification of a stored backup (SHA-256, and optionally decryption end to end).
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createZstdDecompress } from 'node:zlib';
import { OperatorError } from '../../errors.ts';
import { AgeDecryptStream, type AgeIdentity } from '../../adapters/age/index.ts';
import { BackupReasons } from './reasons.ts';
import { backupKeys, DATA_SUFFIX, databaseFolder, MANIFEST_SUFFIX, parseManifest, sameOwner, type BackupManifest, type BackupOwner } from './manifest.ts';
import { classifyStreamError, HashTap } from './streams.ts';
import type { ObjectStore } from './ports.ts';

export interface BackupEntry {
  id: string;
  manifestKey: string;
  dataKey: string;
  manifest: BackupManifest;
}

export interface ListedBackups {
  /** The backups in scope (see ListOptions), oldest first. */
  backups: BackupEntry[];
  /** With an owner: the database's backups without one (written before owners existed), oldest first. */
  unowned: BackupEntry[];
  /** Data objects without a manifest (incomplete runs) in scope, with their age. */
  orphans: Array<{ key: string; lastModified?: Date; size: number }>;
  /** Manifests that could not be read or parsed, or that name another owner than their folder. */
  invalid: Array<{ key: string; message: string }>;
}

export interface ListOptions {
  /** The policy whose backups to list. Unset: the backups without an owner. */
  owner?: BackupOwner;
  /** Every backup of the database, whoever made it (read-only views: the CLI's list, restore of the latest). */
  allOwners?: boolean;
  /** With an owner: count the unowned backups (and orphans) as the policy's own (adoption after an upgrade). */
  adoptUnowned?: boolean;
}

/** Reads the manifest of `id`, or throws ManifestMissing. */
export async function readManifest(
  store: ObjectStore,
  database: string,
  id: string,
  owner?: BackupOwner,
): Promise<{ manifest: BackupManifest; manifestKey: string; dataKey: string }> {
  const keys = backupKeys(database, id, owner);
  return readManifestAt(store, store.key(keys.manifest));
}

/** Reads a manifest by its full key. */
export async function readManifestAt(store: ObjectStore, manifestKey: string): Promise<{ manifest: BackupManifest; manifestKey: string; dataKey: string }> {
  let bytes: Buffer;
  try {
    bytes = await store.getBuffer(manifestKey);
  } catch (error) {
    if (error instanceof OperatorError && error.reason === BackupReasons.ObjectNotFound) {
      throw new OperatorError(BackupReasons.ManifestMissing, `no backup manifest at ${store.name}:${manifestKey}`, { terminal: true, cause: error });
    }
    throw error;
  }
  const manifest = parseManifest(bytes, `${store.name}:${manifestKey}`);
  const dataKey = manifestKey.slice(0, -MANIFEST_SUFFIX.length) + DATA_SUFFIX;
  return { manifest, manifestKey, dataKey };
}

type Scope = 'own' | 'unowned' | 'other';

const byTime = (a: BackupEntry, b: BackupEntry): number => a.manifest.startedAt.localeCompare(b.manifest.startedAt) || a.id.localeCompare(b.id);

/**
 * The backups of `database` in `store` that belong to `options.owner` (or, without one, those without
 * an owner), plus data objects without a manifest in the same folder. Only objects directly in the
 * owner's folder count, and only manifests that name that owner: another policy's backups sharing
 * the bucket and prefix are never in scope.
 */
export async function listBackups(store: ObjectStore, database: string, options: ListOptions = {}): Promise<ListedBackups> {
  const root = store.key(databaseFolder(database));
  const ownFolder = store.key(databaseFolder(database, options.owner));
  const scopeOf = (key: string): Scope => {
    if (options.allOwners === true) return 'own';
    const direct = (folder: string): boolean => key.startsWith(folder) && !key.slice(folder.length).includes('/');
    if (direct(ownFolder)) return 'own';
    if (options.owner !== undefined && direct(root)) return options.adoptUnowned === true ? 'own' : 'unowned';
    return 'other';
  };
  const manifests = new Map<string, Scope>();
  const data = new Map<string, { key: string; lastModified?: Date; size: number; scope: Scope }>();
  for await (const object of store.list(root)) {
    const scope = scopeOf(object.key);
    if (scope === 'other') continue;
    if (object.key.endsWith(MANIFEST_SUFFIX)) manifests.set(object.key.slice(0, -MANIFEST_SUFFIX.length), scope);
    else if (object.key.endsWith(DATA_SUFFIX)) data.set(object.key.slice(0, -DATA_SUFFIX.length), { ...object, scope });
  }
  const result: ListedBackups = { backups: [], unowned: [], orphans: [], invalid: [] };
  for (const stem of [...manifests.keys()].sort()) {
    const key = `${stem}${MANIFEST_SUFFIX}`;
    const scope = manifests.get(stem) as Scope;
    try {
      const read = await readManifestAt(store, key);
      const entry = { id: read.manifest.id, ...read };
      const inOwnerFolder = key.startsWith(ownFolder) && !key.slice(ownFolder.length).includes('/');
      const expected = inOwnerFolder ? options.owner : undefined;
      if (options.allOwners !== true && !sameOwner(read.manifest.owner, expected)) {
        result.invalid.push({ key, message: `manifest ${store.name}:${key} names another owner than its folder; left alone` });
      } else if (scope === 'unowned') result.unowned.push(entry);
      else result.backups.push(entry);
    } catch (error) {
      result.invalid.push({ key, message: (error as Error).message });
    }
  }
  for (const [stem, object] of data) {
    if (manifests.has(stem) || object.scope !== 'own') continue;
    result.orphans.push(object.lastModified === undefined ? { key: object.key, size: object.size } : { key: object.key, size: object.size, lastModified: object.lastModified });
  }
  result.backups.sort(byTime);
  result.unowned.sort(byTime);
  return result;
}

export interface VerifyResult {
  id: string;
  sha256: string;
  bytes: number;
  /** True when identities were given and the payload decrypted and decompressed completely. */
  decrypted: boolean;
  plainBytes?: number;
}

/**
 * Downloads the backup, checks SHA-256 and size against the manifest, and with `identities` also
 * decrypts and decompresses it to the end (proving the key and the whole payload), discarding output.
 */
export async function verifyBackup(
  store: ObjectStore,
  manifestKey: string,
  options: { identities?: readonly AgeIdentity[]; signal?: AbortSignal } = {},
): Promise<VerifyResult> {
  const { manifest, dataKey } = await readManifestAt(store, manifestKey);
  const { body } = await store.get(dataKey, options.signal === undefined ? {} : { signal: options.signal });
  const hash = new HashTap({ sha256: manifest.sha256, size: manifest.encryptedBytes, where: `${store.name}:${dataKey}` });
  let plainBytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _e, callback) {
      plainBytes += chunk.length;
      callback();
    },
  });
  const identities = options.identities ?? [];
  try {
    if (identities.length === 0) await pipeline(body, hash, sink);
    else await pipeline(body, hash, new AgeDecryptStream(identities), createZstdDecompress({ chunkSize: 64 * 1024 }), sink);
  } catch (error) {
    throw classifyStreamError(error, BackupReasons.DownloadFailed, `verify ${store.name}:${dataKey}`);
  }
  const result: VerifyResult = { id: manifest.id, sha256: hash.sha256, bytes: hash.bytes, decrypted: identities.length > 0 };
  if (identities.length > 0) {
    result.plainBytes = plainBytes;
    if (plainBytes !== manifest.plainBytes) {
      throw new OperatorError(BackupReasons.ChecksumMismatch, `backup ${manifest.id} decrypts to ${plainBytes} bytes, the manifest says ${manifest.plainBytes}`, { terminal: true });
    }
  }
  return result;
}
