// Reading what is in a destination: the backups of a database (by their manifests), one manifest,
// and a full verification of a stored backup (SHA-256, and optionally decryption end to end).
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createZstdDecompress } from 'node:zlib';
import { OperatorError } from '../../errors.ts';
import { AgeDecryptStream, type AgeIdentity } from '../../adapters/age/index.ts';
import { BackupReasons } from './reasons.ts';
import { backupKeys, databaseFolder, MANIFEST_SUFFIX, parseManifest, type BackupManifest } from './manifest.ts';
import { classifyStreamError, HashTap } from './streams.ts';
import type { ObjectStore } from './ports.ts';

export interface BackupEntry {
  id: string;
  manifestKey: string;
  dataKey: string;
  manifest: BackupManifest;
}

export interface ListedBackups {
  backups: BackupEntry[];
  /** Data objects without a manifest (incomplete runs), with their age. */
  orphans: Array<{ key: string; lastModified?: Date; size: number }>;
  /** Manifests that could not be read or parsed. */
  invalid: Array<{ key: string; message: string }>;
}

/** Reads the manifest of `id`, or throws ManifestMissing. */
export async function readManifest(store: ObjectStore, database: string, id: string): Promise<{ manifest: BackupManifest; manifestKey: string; dataKey: string }> {
  const keys = backupKeys(database, id);
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
  const dataKey = manifestKey.slice(0, -MANIFEST_SUFFIX.length) + '.dump.zst.age';
  return { manifest, manifestKey, dataKey };
}

/** All backups of `database` in `store`, oldest first, plus data objects without a manifest. */
export async function listBackups(store: ObjectStore, database: string): Promise<ListedBackups> {
  const folder = store.key(databaseFolder(database));
  const manifests = new Set<string>();
  const data = new Map<string, { key: string; lastModified?: Date; size: number }>();
  for await (const object of store.list(folder)) {
    if (object.key.endsWith(MANIFEST_SUFFIX)) manifests.add(object.key.slice(0, -MANIFEST_SUFFIX.length));
    else if (object.key.endsWith('.dump.zst.age')) data.set(object.key.slice(0, -'.dump.zst.age'.length), object);
  }
  const result: ListedBackups = { backups: [], orphans: [], invalid: [] };
  for (const stem of [...manifests].sort()) {
    try {
      const read = await readManifestAt(store, `${stem}${MANIFEST_SUFFIX}`);
      result.backups.push({ id: read.manifest.id, ...read });
    } catch (error) {
      result.invalid.push({ key: `${stem}${MANIFEST_SUFFIX}`, message: (error as Error).message });
    }
  }
  for (const [stem, object] of data) if (!manifests.has(stem)) result.orphans.push(object);
  result.backups.sort((a, b) => a.manifest.startedAt.localeCompare(b.manifest.startedAt) || a.id.localeCompare(b.id));
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
