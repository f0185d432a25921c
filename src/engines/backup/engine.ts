// The backup engine: pg_dump -Fc -Z0 -> zstd -> age -> SHA-256 -> multipart upload, held open until
// pg_dump exited 0 and the row counts are in; then verified replicas; then the manifests, last.
// Kubernetes-free: it takes ports (BackupSource, ObjectStores), a Clock and a Logger, and returns a
// typed result or throws an OperatorError with a reason from ./reasons.ts.
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createZstdCompress } from 'node:zlib';
import { OperatorError, describeError, isOperatorError } from '../../errors.ts';
import { systemClock, type Clock } from '../../clock.ts';
import { silentLogger, type Logger } from '../../observability/logger.ts';
import { AgeEncryptStream, parseRecipient, recipientFingerprint, type AgeRecipient } from '../../adapters/age/index.ts';
import { BackupReasons } from './reasons.ts';
import { backupKeys, defaultBackupId, MANIFEST_FORMAT, serializeManifest, type BackupManifest, type BackupOwner, type ManifestDestination } from './manifest.ts';
import { writeManifest } from './manifest-write.ts';
import { abortReason, runSignal } from './signal.ts';
import { HashTap, HoldEnd, Rebatch } from './streams.ts';
import { verifyStoredObject } from './verify.ts';
import { startProgressSampler, type RunControls } from './progress.ts';
import type { BackupSource, CopyOptions, ObjectStore, StoredObject, TableRowCount } from './ports.ts';
import type { Reason } from '../../reasons/index.ts';

// Sizes of the buffers the pipeline allocates as it streams: the batches fed to zstd and zstd's
// output buffers (one is sliced until full, so at a ratio of ~5 it lives while ~5 times its size goes
// in). Each must die before two young-generation GCs (one every 2 MiB streamed, scavenge.ts) have
// seen it alive: a buffer that survives two is promoted and freed only by a mark-compact. 1 MiB for
// both promoted most of them: ~100 mark-compacts per GiB dumped, 1.5 of 5 CPU-seconds of the run.
const ZSTD_INPUT_BATCH = 512 * 1024;
const ZSTD_OUTPUT_CHUNK = 256 * 1024;

/** A timed-out backup fails with TimedOut; progress counts the pg_dump bytes. */
export interface BackupOptions extends RunControls {
  source: BackupSource;
  /** Where the backup is uploaded first. */
  primary: ObjectStore;
  /** Other destinations it is copied to and verified in. */
  replicas?: readonly ObjectStore[];
  /** age X25519 recipients (age1...); any one identity decrypts. */
  recipients: readonly string[];
  /** Folder name in the bucket; default the database name. */
  database?: string;
  /** Default: the start time as 20260301T020000Z. */
  backupId?: string;
  /** zstd level 1..19. Default 1. */
  compressionLevel?: number;
  /** Smallest multipart part size. Default: the store's (S3: 5 MiB); parts grow with the expected and the actual size. */
  partSize?: number;
  /**
   * Expected size of the stored object in bytes, for the first part size. Default: the database's
   * size (pg_database_size) as the source reports it; a short estimate is caught up on the fly.
   */
  expectedBytes?: number;
  /** Multipart part budget. Only tests set it (a tiny budget proves parts grow); default S3's 10,000. */
  maxParts?: number;
  /**
   * Who the backup belongs to (the BackupPolicy and the cluster identity). It is recorded in the
   * manifest and decides the key folder (see databaseFolder), so policies sharing a bucket and prefix
   * never touch each other's backups. Unset: the layout without owners (CLI).
   */
  owner?: BackupOwner;
  /** Parts uploaded in parallel. Default: the store's (S3: 2). */
  queueSize?: number;
  /** Re-read the primary object and compare SHA-256. Default true. */
  verifyPrimary?: boolean;
  /** How replicas are copied after the upload. Default auto: server-side where the stores share a service. */
  copy?: Pick<CopyOptions, 'mode' | 'multipartThreshold' | 'copyPartSize'>;
  /**
   * 'after' (default): copy each replica from the primary once the upload completed (server-side where
   * possible). 'during': upload the same encrypted stream to every replica while it is produced (one
   * pass, more memory: one upload buffer per destination; a slow replica slows the backup); a replica
   * whose upload fails is then copied 'after'. Either way each copy is re-read and verified.
   */
  replicaMode?: 'after' | 'during';
}

export interface DestinationResult {
  name: string;
  bucket: string;
  /** Full key of the encrypted dump. */
  key: string;
  manifestKey?: string;
  versionId?: string;
  method?: ManifestDestination['method'];
  verified: boolean;
  /** Set when this destination failed (a replica; a failed primary fails the whole backup). */
  error?: { reason: Reason; message: string };
  /** Parts of the multipart upload (the primary, and replicas written during the dump). */
  parts?: number;
}

export interface BackupResult {
  id: string;
  manifest: BackupManifest;
  /** Full key of the primary's manifest. */
  manifestKey: string;
  destinations: DestinationResult[];
  /** Every replica holds a verified copy (true when there are none). */
  replicated: boolean;
  /** The replicas that do not (name, reason, message): a backup with any is not fully Ready. */
  failedReplicas: Array<{ name: string; reason: Reason; message: string }>;
}

function reasonOf(error: unknown): { reason: Reason; message: string } {
  return { reason: isOperatorError(error) ? error.reason : BackupReasons.UploadFailed, message: describeError(error) };
}

/** Everything a run wrote (or may have written), so a failed run can take it all back. */
class WrittenObjects {
  readonly #entries: Array<{ store: ObjectStore; key: string; kind: 'data' | 'manifest' }> = [];

  add(store: ObjectStore, key: string, kind: 'data' | 'manifest'): void {
    if (!this.#entries.some((e) => e.store === store && e.key === key)) this.#entries.push({ store, key, kind });
  }

  /**
   * Deletes the manifests first, then the data; a store whose manifest could not be deleted keeps its
   * data, so that no manifest can be left pointing at a missing object (an orphan data object is
   * pruned later; a dangling manifest would be a backup that cannot be restored).
   */
  async takeBack(now: Date, logger: Logger): Promise<void> {
    const stuck = new Set<ObjectStore>();
    for (const e of this.#entries.filter((x) => x.kind === 'manifest')) {
      await e.store.delete(e.key, now).catch((error: unknown) => {
        stuck.add(e.store);
        logger.error({ destination: e.store.name, key: e.key, err: describeError(error) }, 'could not delete the manifest of a failed backup; its data object is kept');
      });
    }
    for (const e of this.#entries.filter((x) => x.kind === 'data')) {
      if (stuck.has(e.store)) continue;
      await e.store.delete(e.key, now).catch((error: unknown) => {
        logger.warn({ destination: e.store.name, key: e.key, err: describeError(error) }, 'could not delete the data object of a failed backup; prune removes it later');
      });
    }
  }

  forget(store: ObjectStore, key: string): void {
    const i = this.#entries.findIndex((e) => e.store === store && e.key === key);
    if (i >= 0) this.#entries.splice(i, 1);
  }
}

export async function runBackup(options: BackupOptions): Promise<BackupResult> {
  const clock = options.clock ?? systemClock;
  const level = options.compressionLevel ?? 1;
  if (!Number.isInteger(level) || level < 1 || level > 19) throw new OperatorError(BackupReasons.InvalidRequest, `zstd level ${level} is not in 1..19`, { terminal: true });
  const recipients: AgeRecipient[] = options.recipients.map((r) => parseRecipient(r));
  if (recipients.length === 0) throw new OperatorError(BackupReasons.InvalidRequest, 'at least one age recipient is required', { terminal: true });
  if (options.signal?.aborted === true) throw new OperatorError(BackupReasons.Cancelled, 'backup cancelled before it started');
  const run = runSignal(options.signal, options.timeoutMs, 'backup');
  try {
    return await backup(options, clock, level, recipients, run.signal);
  } finally {
    run.dispose();
  }
}

async function backup(options: BackupOptions, clock: Clock, level: number, recipients: AgeRecipient[], signal: AbortSignal | undefined): Promise<BackupResult> {
  const startedAt = clock.now();
  const id = options.backupId ?? defaultBackupId(startedAt);
  const primary = options.primary;
  const replicas = options.replicas ?? [];
  const snapshot = await options.source.openSnapshot();
  const database = options.database ?? snapshot.database;
  const keys = backupKeys(database, id, options.owner);
  const dataKey = primary.key(keys.data);
  const manifestKey = primary.key(keys.manifest);
  const logger = (options.logger ?? silentLogger).child({ backup: id, database });
  const written = new WrittenObjects();
  const signalOption = signal === undefined ? {} : { signal };
  const cancelled = (): OperatorError => abortReason(signal, 'backup');
  const throwIfAborted = (): void => {
    if (signal?.aborted === true) throw cancelled();
  };
  const teeUploads: Array<{ replica: ObjectStore; key: string; outcome: Promise<{ stored?: StoredObject; error?: unknown }> }> = [];
  let snapshotClosed = false;
  const closeSnapshot = async (): Promise<void> => {
    if (snapshotClosed) return;
    snapshotClosed = true;
    await snapshot.close().catch(() => undefined);
  };

  try {
    if ((await primary.head(manifestKey)) !== undefined) {
      throw new OperatorError(BackupReasons.AlreadyExists, `backup ${id} of ${database} already exists in ${primary.name}`, { terminal: true, details: { manifestKey } });
    }
    throwIfAborted();
    logger.info({ destination: primary.name, key: dataKey }, 'backup started');
    const counting = snapshot.countRows();
    counting.catch(() => undefined);
    const { dump, toolVersion, toolMajor } = await options.source.startDump(snapshot);

    // --- the streaming part -------------------------------------------------------------------
    let firstError: unknown;
    const fail = (error: unknown): void => {
      if (firstError === undefined) firstError = error;
    };
    dump.exited.catch(fail);
    // pg_dump's pipe reads (4-64 KiB) regrouped into larger writes: zstd (on the thread pool) takes one
    // round trip per write and per output chunk; a batch or two buffered up to zstd's output lets
    // pg_dump, the zstd thread and the main thread (age, SHA-256, upload) overlap. The
    // stages after it all run on the main thread: buffering between them would overlap nothing and
    // only hold memory, so they keep the default (one chunk).
    const plain = new Rebatch(ZSTD_INPUT_BATCH);
    const zstd = createZstdCompress({ chunkSize: ZSTD_OUTPUT_CHUNK, params: { [zlibConstants.ZSTD_c_compressionLevel]: level } });
    const age = new AgeEncryptStream(recipients);
    const hash = new HashTap();
    // The object may only complete once pg_dump exited 0 and the row counts (same snapshot) are in.
    const gate = new HoldEnd(async () => {
      await dump.exited;
      await counting;
    });
    const stop = (error: unknown): void => {
      fail(error);
      dump.kill();
      if (!gate.destroyed) gate.destroy(error as Error);
    };
    const onAbort = (): void => stop(cancelled());
    signal?.addEventListener('abort', onAbort, { once: true });
    const piping = pipeline(dump.stdout, plain, zstd, age, hash, gate).catch((error: unknown) => {
      stop(error);
      throw error;
    });
    const expectedBytes = options.expectedBytes ?? snapshot.databaseBytes;
    // Unset: the store's defaults (S3: 5 MiB parts growing with the expected size, 2 in flight).
    const partOptions = { ...(options.partSize === undefined ? {} : { partSize: options.partSize }), ...(options.queueSize === undefined ? {} : { queueSize: options.queueSize }) };
    const uploadOptions = {
      ...partOptions,
      ...(expectedBytes === undefined ? {} : { expectedBytes }),
      ...(options.maxParts === undefined ? {} : { maxParts: options.maxParts }),
      contentType: 'application/octet-stream',
      metadata: { 'lokdarpan-backup': id, 'lokdarpan-format': 'pg_dump-custom+zstd+age' },
      ...signalOption,
    };
    // 'during': the gate's output goes to the primary and every replica at once (pipe() waits for the
    // slowest); a failing replica is unpiped so the primary carries on. The branches end only when the
    // gate ends, i.e. after pg_dump exited 0, so no replica can complete a broken object either.
    let primaryBody: Readable = gate;
    if ((options.replicaMode ?? 'after') === 'during' && replicas.length > 0) {
      const branches: PassThrough[] = [];
      const branch = (): PassThrough => {
        const b = new PassThrough();
        branches.push(b);
        gate.pipe(b);
        return b;
      };
      primaryBody = branch();
      for (const replica of replicas) {
        const key = replica.key(keys.data);
        const body = branch();
        written.add(replica, key, 'data');
        teeUploads.push({
          replica,
          key,
          outcome: replica.upload(key, body, uploadOptions).then(
            (storedObject) => ({ stored: storedObject }),
            (error: unknown) => {
              gate.unpipe(body);
              body.destroy();
              logger.warn({ destination: replica.name, err: describeError(error) }, 'replica upload during the dump failed; it will be copied afterwards');
              return { error };
            },
          ),
        });
      }
      gate.once('error', (error) => {
        for (const b of branches) b.destroy(error);
      });
    }
    // From here the data key may exist even when the upload reports a failure (a CompleteMultipartUpload
    // whose answer was lost): a failed run deletes it.
    written.add(primary, dataKey, 'data');
    const uploading = primary.upload(dataKey, primaryBody, uploadOptions).catch((error: unknown) => {
      stop(error);
      throw error;
    });
    const stopProgress = options.onProgress
      ? startProgressSampler({ read: () => plain.bytes, totalBytes: snapshot.estimatedDumpBytes, onProgress: options.onProgress, intervalMs: options.progressIntervalMs, clock })
      : undefined;
    const [piped, stored] = await Promise.allSettled([piping, uploading]);
    stopProgress?.();
    signal?.removeEventListener('abort', onAbort);
    if (piped.status === 'rejected' || stored.status === 'rejected') {
      const error = firstError ?? (piped.status === 'rejected' ? piped.reason : (stored as PromiseRejectedResult).reason);
      throw isOperatorError(error) ? error : new OperatorError(BackupReasons.UploadFailed, `backup stream failed: ${describeError(error)}`, { cause: error });
    }
    throwIfAborted();
    const tables: TableRowCount[] = await counting;
    // The snapshot is no longer needed: end its transaction before the (long) copies and verifications.
    await closeSnapshot();
    const sha256 = hash.sha256;
    const encryptedBytes = hash.bytes;
    logger.info({ plainBytes: plain.bytes, encryptedBytes, sha256, parts: stored.value.parts }, 'backup uploaded');

    // --- verification and replicas ------------------------------------------------------------
    const primaryResult: DestinationResult = { name: primary.name, bucket: primary.bucket, key: dataKey, method: 'upload', verified: false };
    if (stored.value.versionId !== undefined) primaryResult.versionId = stored.value.versionId;
    if (stored.value.parts !== undefined) primaryResult.parts = stored.value.parts;
    const replicaResults = new Map<ObjectStore, DestinationResult>();
    const toCopy: ObjectStore[] = [];
    const verifications: Array<Promise<void>> = [];
    // Replicas written during the dump: verify them (in parallel) or fall back to a copy.
    const teeOutcomes = await Promise.all(teeUploads.map(async (t) => ({ ...t, ...(await t.outcome) })));
    for (const replica of replicas) {
      const tee = teeOutcomes.find((t) => t.replica === replica);
      if (tee?.stored === undefined) {
        toCopy.push(replica);
        continue;
      }
      const result: DestinationResult = { name: replica.name, bucket: replica.bucket, key: tee.key, method: 'upload', verified: false };
      if (tee.stored.versionId !== undefined) result.versionId = tee.stored.versionId;
      if (tee.stored.parts !== undefined) result.parts = tee.stored.parts;
      replicaResults.set(replica, result);
      verifications.push(
        verifyStoredObject(replica, tee.key, { sha256, bytes: encryptedBytes }, signal).then(
          () => {
            result.verified = true;
          },
          async (error: unknown) => {
            result.error = reasonOf(error);
            await replica.delete(tee.key, clock.now()).catch(() => undefined);
          },
        ),
      );
    }
    if ((options.verifyPrimary ?? true) && toCopy.length === 0) {
      verifications.push(
        verifyStoredObject(primary, dataKey, { sha256, bytes: encryptedBytes }, signal).then(() => {
          primaryResult.verified = true;
        }),
      );
    }
    await Promise.all(verifications);
    throwIfAborted();
    for (const replica of toCopy) {
      const key = replica.key(keys.data);
      const result: DestinationResult = { name: replica.name, bucket: replica.bucket, key, verified: false };
      // A streaming copy reads the whole primary object: hashing it on the way verifies the primary too.
      const sourceHash = new HashTap();
      let primaryBad: OperatorError | undefined;
      written.add(replica, key, 'data');
      try {
        const copied = await replica.copyFrom(primary, dataKey, key, {
          ...options.copy,
          size: encryptedBytes,
          upload: {
            ...partOptions,
            expectedBytes: encryptedBytes,
            ...(options.maxParts === undefined ? {} : { maxParts: options.maxParts }),
          },
          sourceTap: sourceHash,
          ...signalOption,
        });
        result.method = copied.method;
        if (copied.versionId !== undefined) result.versionId = copied.versionId;
        if (copied.method === 'stream' && !primaryResult.verified) {
          if (sourceHash.sha256 !== sha256 || sourceHash.bytes !== encryptedBytes) {
            primaryBad = new OperatorError(BackupReasons.ChecksumMismatch, `${primary.name}:${dataKey} does not hold what was uploaded (SHA-256 differs)`, { terminal: true });
            throw primaryBad;
          }
          primaryResult.verified = true;
        }
        await verifyStoredObject(replica, key, { sha256, bytes: encryptedBytes }, signal);
        result.verified = true;
        logger.info({ destination: replica.name, method: copied.method }, 'replica verified');
      } catch (error) {
        if (primaryBad !== undefined) throw primaryBad; // the primary itself is wrong: the backup fails
        throwIfAborted();
        result.error = reasonOf(error);
        logger.warn({ destination: replica.name, reason: result.error.reason, err: result.error.message }, 'replica failed');
        await replica.delete(key, clock.now()).catch(() => undefined);
      }
      replicaResults.set(replica, result);
    }
    if ((options.verifyPrimary ?? true) && !primaryResult.verified) {
      await verifyStoredObject(primary, dataKey, { sha256, bytes: encryptedBytes }, signal);
      primaryResult.verified = true;
    }
    throwIfAborted();

    // --- manifests, last ----------------------------------------------------------------------
    const finishedAt = clock.now();
    const manifestFor = (destinations: DestinationResult[]): BackupManifest => {
      const manifest: BackupManifest = {
        format: MANIFEST_FORMAT,
        id,
        database,
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        durationMs: finishedAt.getTime() - startedAt.getTime(),
        server: { version: snapshot.serverVersion, versionNum: snapshot.serverVersionNum, major: snapshot.serverMajor },
        pgDump: { version: toolVersion, major: toolMajor },
        plainBytes: plain.bytes,
        encryptedBytes,
        sha256,
        compression: { algorithm: 'zstd', level },
        encryption: { format: 'age-v1', recipients: recipients.map((r) => ({ recipient: r.text, fingerprint: recipientFingerprint(r) })) },
        tables,
        destinations: destinations
          .filter((d) => d.error === undefined)
          .map((d) => {
            const entry: ManifestDestination = { name: d.name, bucket: d.bucket, key: d.key, method: d.method ?? 'upload', verified: d.verified };
            if (d.versionId !== undefined) entry.versionId = d.versionId;
            return entry;
          }),
      };
      if (options.owner !== undefined) manifest.owner = { ...options.owner };
      if (snapshot.schemaVersion !== undefined) manifest.schemaVersion = snapshot.schemaVersion;
      return manifest;
    };
    const orderedReplicas = replicas.map((r) => replicaResults.get(r) as DestinationResult);
    // Replicas first, the primary's manifest last: the backup exists once the primary's manifest does.
    let body = serializeManifest(manifestFor([primaryResult, ...orderedReplicas]));
    for (const [index, replica] of replicas.entries()) {
      const result = orderedReplicas[index] as DestinationResult;
      if (result.error !== undefined) continue;
      const key = replica.key(keys.manifest);
      written.add(replica, key, 'manifest');
      try {
        await writeManifest(replica, key, body, signal);
        result.manifestKey = key;
      } catch (error) {
        throwIfAborted();
        result.error = reasonOf(error);
        result.verified = false;
        // Take this replica's copy back now; if its manifest cannot be deleted, its data stays (never a dangling manifest).
        await replica
          .delete(key, clock.now())
          .then(async () => {
            written.forget(replica, key);
            await replica.delete(result.key, clock.now());
            written.forget(replica, result.key);
          })
          .catch(() => undefined);
      }
    }
    body = serializeManifest(manifestFor([primaryResult, ...orderedReplicas]));
    throwIfAborted();
    written.add(primary, manifestKey, 'manifest');
    const outcome = await writeManifest(primary, manifestKey, body, signal);
    if (outcome.status === 'confirmed-by-read-back') logger.warn({ key: manifestKey }, 'the manifest write failed ambiguously; reading it back confirmed it');
    primaryResult.manifestKey = manifestKey;
    const manifest = manifestFor([primaryResult, ...orderedReplicas]);
    const replicated = orderedReplicas.every((r) => r.verified && r.error === undefined);
    const failedReplicas = orderedReplicas
      .filter((r) => r.error !== undefined || !r.verified)
      .map((r) => ({ name: r.name, reason: r.error?.reason ?? BackupReasons.CopyFailed, message: r.error?.message ?? 'not verified' }));
    logger.info({ replicated, durationMs: manifest.durationMs }, 'backup completed');
    return { id, manifest, manifestKey, destinations: [primaryResult, ...orderedReplicas], replicated, failedReplicas };
  } catch (error) {
    // Uploads still streaming (replicas written during the dump) end first, then everything is taken back.
    await Promise.all(teeUploads.map((t) => t.outcome));
    await written.takeBack(clock.now(), logger);
    const failure = isOperatorError(error) ? error : new OperatorError(BackupReasons.UploadFailed, describeError(error), { cause: error });
    logger.error({ reason: failure.reason, err: failure.message }, 'backup failed');
    throw failure;
  } finally {
    await closeSnapshot();
  }
}
