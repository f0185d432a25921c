// Proves a destination works without writing a backup: the bucket exists and the credentials are
// accepted (HeadBucket), a small probe object can be written, read back and deleted under the prefix,
// and the bucket's versioning and Object Lock settings are read for the report (the caller compares
// them with what the destination requires). Each failure names the destination and the step, with a
// reason an admin can act on. A successful probe also removes probes that a killed process left behind.
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, GetBucketVersioningCommand, GetObjectLockConfigurationCommand, HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { OperatorError, describeError } from '../../errors.ts';
import { httpStatus, s3Error } from './errors.ts';
import { S3ProbeReasonCatalog, S3ProbeReasons, S3Reasons } from './reasons.ts';
import type { S3ObjectStore } from './store.ts';

// The catalog lives in reasons.ts: the reason tables load it without the AWS SDK.
export { S3ProbeReasonCatalog, S3ProbeReasons };

/** The bucket's settings as read; Unknown when the store refused or failed to say (the error's name in `unreadable`). */
export interface DestinationProbeReport {
  versioning: 'Enabled' | 'Suspended' | 'Off' | 'Unknown';
  objectLock: 'Enabled' | 'Off' | 'Unknown';
  /** Why a setting is Unknown, per setting (for example "AccessDenied"). */
  unreadable?: { versioning?: string; objectLock?: string };
}

/** Directory under the prefix that holds the probe objects (never a backup id: those are timestamps). */
export const PROBE_DIRECTORY = '.lokdarpan-probe/';

/**
 * A probe lives for a few seconds; one older than this was left by a process killed between its write and
 * its delete (a SIGKILLed leader), and the next successful probe removes it. Younger ones may be another
 * replica's probe in flight.
 */
export const STALE_PROBE_MS = 60 * 60_000;

const CREDENTIAL_ERRORS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'InvalidClientTokenId']);

function code(error: unknown): string | undefined {
  const e = error as { name?: string; Code?: string } | undefined;
  return e?.Code ?? e?.name;
}

function classify(store: S3ObjectStore, step: string, error: unknown): OperatorError {
  const where = `destination ${store.name} (s3://${store.bucket}/${store.prefix})`;
  const network = s3Error(S3Reasons.DownloadFailed, step, where, error);
  if (network.reason === S3Reasons.DestinationUnreachable) return network;
  const name = code(error);
  const status = httpStatus(error);
  if (name !== undefined && CREDENTIAL_ERRORS.has(name)) {
    return new OperatorError(S3ProbeReasons.DestinationCredentialsRejected, `${where}: the endpoint rejected the credentials (${name}); check accessKeyId and secretAccessKey in its credentials Secret`, { cause: error });
  }
  if (name === 'NoSuchBucket' || (step === 'HeadBucket' && status === 404)) {
    return new OperatorError(S3ProbeReasons.BucketNotFound, `${where}: bucket ${store.bucket} does not exist`, { cause: error });
  }
  if (name === 'AccessDenied' || status === 403) {
    return new OperatorError(S3ProbeReasons.DestinationAccessDenied, `${where}: ${step} was refused (${name ?? 'HTTP 403'}); the credentials may not ${VERB[step] ?? step} under the prefix`, { cause: error });
  }
  return new OperatorError(S3ProbeReasons.DestinationProbeFailed, `${where}: ${step} failed: ${describeError(error)}${status === undefined ? '' : ` (HTTP ${status})`}`, { cause: error });
}

const VERB: Record<string, string> = { HeadBucket: 'access the bucket', PutObject: 'write', GetObject: 'read', DeleteObject: 'delete' };

/** Throws an OperatorError with one of S3ProbeReasons (or DestinationUnreachable); the probe object is always removed when it could be written. */
export async function probeStore(store: S3ObjectStore, options: { signal?: AbortSignal } = {}): Promise<DestinationProbeReport> {
  const send = async <T>(step: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw classify(store, step, error);
    }
  };
  const abort = options.signal === undefined ? {} : { abortSignal: options.signal };
  const bucket = store.bucket;
  // HeadBucket answers 403 both for bad credentials and for a missing bucket the caller may not see; its
  // body is empty, so a failed HEAD is retried as the PUT below, whose error body says which it is.
  await send('HeadBucket', () => store.client.send(new HeadBucketCommand({ Bucket: bucket }), abort)).catch((error: OperatorError) => {
    if (error.reason !== S3ProbeReasons.DestinationAccessDenied) throw error;
  });
  const key = store.key(`${PROBE_DIRECTORY}${Date.now()}-${randomBytes(6).toString('hex')}`);
  const body = randomBytes(32);
  const put = await send('PutObject', () => store.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/octet-stream' }), abort));
  let readBack: Buffer | undefined;
  let readError: unknown;
  try {
    readBack = await store.getBuffer(key, put.VersionId === undefined ? {} : { versionId: put.VersionId });
  } catch (error) {
    readError = error;
  }
  // Removing the probe version itself leaves nothing behind, even in a versioned bucket.
  await send('DeleteObject', () => store.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, ...(put.VersionId ? { VersionId: put.VersionId } : {}) }), abort)).catch(
    async (error: OperatorError) => {
      // Object Lock with a default retention keeps even a probe: that is the bucket doing its job.
      if (error.reason === S3ProbeReasons.DestinationAccessDenied && (await objectLockOf(store)).state === 'Enabled') return;
      throw error;
    },
  );
  if (readError !== undefined) throw classify(store, 'GetObject', (readError as { cause?: unknown }).cause ?? readError);
  if (readBack === undefined || !readBack.equals(body)) {
    throw new OperatorError(S3ProbeReasons.DestinationProbeFailed, `destination ${store.name} (s3://${bucket}/${store.prefix}): the probe object read back differs from what was written`);
  }
  const [versioning, objectLock] = await Promise.all([versioningOf(store, abort), objectLockOf(store), removeStaleProbes(store, abort)]);
  const unreadable = { ...(versioning.error ? { versioning: versioning.error } : {}), ...(objectLock.error ? { objectLock: objectLock.error } : {}) };
  return { versioning: versioning.state, objectLock: objectLock.state, ...(Object.keys(unreadable).length > 0 ? { unreadable } : {}) };
}

/** The write time in a probe key (`<ms>-<hex>`), or undefined for a key that is not a probe's. */
export function probeWrittenAt(key: string): number | undefined {
  const name = key.slice(key.lastIndexOf(PROBE_DIRECTORY) + PROBE_DIRECTORY.length);
  const match = /^(\d{13})-[0-9a-f]{12}$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * Best effort: deletes probes older than STALE_PROBE_MS. A store that refuses the listing or a delete
 * (no ListBucket grant, Object Lock) keeps them; the probe itself has already succeeded.
 */
async function removeStaleProbes(store: S3ObjectStore, abort: { abortSignal?: AbortSignal }, now = Date.now()): Promise<void> {
  try {
    for await (const item of store.list(store.key(PROBE_DIRECTORY))) {
      const writtenAt = probeWrittenAt(item.key);
      if (writtenAt === undefined || now - writtenAt < STALE_PROBE_MS) continue;
      await store.client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: item.key }), abort).catch(() => undefined);
    }
  } catch {
    // not allowed to list: the stale probes stay, as they would without this sweep
  }
}

interface Setting<S> {
  state: S;
  error?: string;
}

async function versioningOf(store: S3ObjectStore, abort: { abortSignal?: AbortSignal }): Promise<Setting<DestinationProbeReport['versioning']>> {
  try {
    const r = await store.client.send(new GetBucketVersioningCommand({ Bucket: store.bucket }), abort);
    return { state: r.Status === 'Enabled' ? 'Enabled' : r.Status === 'Suspended' ? 'Suspended' : 'Off' };
  } catch (error) {
    return { state: 'Unknown', error: code(error) ?? describeError(error) };
  }
}

/** Whether the bucket has Object Lock enabled; "no configuration" (404) means Off, any other failure Unknown. */
async function objectLockOf(store: S3ObjectStore): Promise<Setting<DestinationProbeReport['objectLock']>> {
  try {
    const r = await store.client.send(new GetObjectLockConfigurationCommand({ Bucket: store.bucket }));
    return { state: r.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled' ? 'Enabled' : 'Off' };
  } catch (error) {
    if (code(error) === 'ObjectLockConfigurationNotFoundError' || httpStatus(error) === 404) return { state: 'Off' };
    return { state: 'Unknown', error: code(error) ?? describeError(error) };
  }
}
