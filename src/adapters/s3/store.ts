// One S3 (or S3-compatible) destination: a bucket and key prefix behind a configured client.
// Multipart streaming upload with an explicit part size, get/head/list, delete that reports Object Lock
// instead of failing, and copy to another destination (server-side where possible, streaming otherwise).
import { Readable, type Transform } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCopyCommand, type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { OperatorError } from '../../errors.ts';
import { S3Reasons } from './reasons.ts';
import { httpStatus, isNotFound, s3Error } from './errors.ts';
import { DEFAULT_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, multipartUpload } from './multipart.ts';

export { DEFAULT_PART_SIZE, MIN_PART_SIZE };

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3StoreConfig {
  /** Short destination name used in results and messages ("primary", "dr-mumbai"). */
  name: string;
  bucket: string;
  /** Key prefix; a "/" is added between it and relative keys when missing. Default "". */
  prefix?: string;
  /** Endpoint URL of an S3-compatible store; unset means AWS S3 for `region`. */
  endpoint?: string;
  /** Signing region. Default "us-east-1". */
  region?: string;
  /** Path-style URLs (most S3-compatible stores). Default false. */
  forcePathStyle?: boolean;
  /** Static credentials; unset means the SDK's default provider chain. */
  credentials?: S3Credentials;
  /**
   * Request checksums and response validation. 'WHEN_SUPPORTED' (the SDK default since 3.729) sends
   * CRC32 with every upload; many S3-compatible servers need 'WHEN_REQUIRED'. Default 'WHEN_SUPPORTED'.
   */
  checksums?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  /** SDK attempts per request (retries on throttling and network errors). Default 3. */
  maxAttempts?: number;
  /** TCP connect timeout. Default 5000 ms. */
  connectionTimeoutMs?: number;
}

export interface UploadOptions {
  /**
   * Smallest multipart part size in bytes (>= 5 MiB). Default 5 MiB. Parts grow beyond it to follow
   * `expectedBytes` and, on the fly, an object larger than expected (see multipart.ts).
   */
  partSize?: number;
  /** Expected object size (an estimate, e.g. from the database size): sets the first part size. */
  expectedBytes?: number;
  /** Part budget: S3's 10,000. Only tests set a smaller one, to prove that parts grow. */
  maxParts?: number;
  /** Parts in flight; memory is about (queueSize + 1) x partSize. Default 2. */
  queueSize?: number;
  contentType?: string;
  metadata?: Record<string, string>;
  signal?: AbortSignal;
}

export interface StoredObject {
  key: string;
  versionId?: string;
  etag?: string;
  /** Parts of a multipart upload (1 for a single PUT); unset for other writes. */
  parts?: number;
}

export interface ObjectInfo {
  key: string;
  size: number;
  versionId?: string;
  lastModified?: Date;
  lockMode?: string;
  retainUntil?: Date;
  legalHold: boolean;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified?: Date;
}

export type DeleteOutcome =
  | { status: 'deleted'; key: string; versionId?: string }
  | { status: 'locked'; key: string; versionId?: string; retainUntil?: string; legalHold: boolean; message: string };

export type CopyMethod = 'server' | 'server-multipart' | 'stream';

export interface CopyOptions {
  /** 'auto' (default): server-side when both stores share endpoint and credentials, falling back to streaming on refusal. */
  mode?: 'auto' | 'server' | 'stream';
  /** Size of the source object, when known (saves a HEAD). */
  size?: number;
  /** Objects larger than this are copied with UploadPartCopy. Default 5 GiB (CopyObject's limit). */
  multipartThreshold?: number;
  /** Part size of a multipart server-side copy. Default 512 MiB. */
  copyPartSize?: number;
  /** Upload options of a streaming copy. */
  upload?: UploadOptions;
  /** A streaming copy passes the source bytes through this (e.g. to hash what the source holds). */
  sourceTap?: Transform;
  signal?: AbortSignal;
}

export interface CopyResult extends StoredObject {
  method: CopyMethod;
}

/** What a streaming copy needs from its source (an S3ObjectStore, or any store with get()). */
export interface CopySource {
  readonly name: string;
  get(key: string, options?: { versionId?: string; signal?: AbortSignal }): Promise<{ body: Readable; size?: number; versionId?: string }>;
}

const COPY_OBJECT_LIMIT = 5 * 1024 * 1024 * 1024;

export function createS3Client(config: S3StoreConfig): S3Client {
  const clientConfig: S3ClientConfig = {
    region: config.region ?? 'us-east-1',
    forcePathStyle: config.forcePathStyle ?? false,
    maxAttempts: config.maxAttempts ?? 3,
    requestChecksumCalculation: config.checksums ?? 'WHEN_SUPPORTED',
    responseChecksumValidation: config.checksums ?? 'WHEN_SUPPORTED',
    requestHandler: { connectionTimeout: config.connectionTimeoutMs ?? 5000 },
  };
  if (config.endpoint !== undefined && config.endpoint !== '') clientConfig.endpoint = config.endpoint;
  if (config.credentials !== undefined) clientConfig.credentials = { ...config.credentials };
  return new S3Client(clientConfig);
}

function isNotImplemented(error: unknown): boolean {
  return httpStatus(error) === 501 || (error as { name?: string } | undefined)?.name === 'NotImplemented';
}

/** "s3://bucket/key" style, without credentials, for messages. */
function where(store: S3ObjectStore, key: string): string {
  return `${store.name} (s3://${store.bucket}/${key})`;
}

function encodeCopySource(bucket: string, key: string, versionId?: string): string {
  const path = `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return versionId === undefined ? path : `${path}?versionId=${encodeURIComponent(versionId)}`;
}

type Defined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** Drops undefined properties (exactOptionalPropertyTypes). */
function defined<T extends object>(value: T): Defined<T> {
  for (const k of Object.keys(value)) if ((value as Record<string, unknown>)[k] === undefined) delete (value as Record<string, unknown>)[k];
  return value as Defined<T>;
}

export class S3ObjectStore {
  readonly name: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  readonly config: Readonly<S3StoreConfig>;

  constructor(config: S3StoreConfig, client?: S3Client) {
    this.config = Object.freeze({ ...config });
    this.name = config.name;
    this.bucket = config.bucket;
    const prefix = config.prefix ?? '';
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.client = client ?? createS3Client(config);
  }

  /** The full key of a key relative to the prefix. */
  key(relative: string): string {
    return `${this.prefix}${relative.replace(/^\/+/, '')}`;
  }

  /** True if a server-side copy from `other` can work: same service endpoint and same access key. */
  sharesServiceWith(other: S3ObjectStore): boolean {
    const a = this.config;
    const b = other.config;
    return (a.endpoint ?? '').replace(/\/+$/, '') === (b.endpoint ?? '').replace(/\/+$/, '') && a.credentials?.accessKeyId === b.credentials?.accessKeyId;
  }

  /** Streams `body` into `key` with a multipart upload; on any error the upload is aborted and this rejects. */
  async upload(key: string, body: Readable, options: UploadOptions = {}): Promise<StoredObject> {
    const partSize = options.partSize ?? DEFAULT_PART_SIZE;
    if (partSize < MIN_PART_SIZE) throw new OperatorError(S3Reasons.UploadFailed, `part size ${partSize} is below S3's 5 MiB minimum`, { terminal: true });
    const maxParts = options.maxParts ?? MAX_PARTS;
    if (!Number.isInteger(maxParts) || maxParts < 1 || maxParts > MAX_PARTS) {
      throw new OperatorError(S3Reasons.UploadFailed, `part budget ${maxParts} is not in 1..${MAX_PARTS}`, { terminal: true });
    }
    try {
      const result = await multipartUpload({
        client: this.client,
        bucket: this.bucket,
        key,
        body,
        contentType: options.contentType ?? 'application/octet-stream',
        partSize,
        maxParts,
        queueSize: options.queueSize ?? 2,
        checksums: (this.config.checksums ?? 'WHEN_SUPPORTED') === 'WHEN_SUPPORTED',
        ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
        ...(options.expectedBytes === undefined ? {} : { expectedBytes: options.expectedBytes }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      return defined({ key, versionId: result.versionId, etag: result.etag, parts: result.parts });
    } catch (error) {
      // A source failing at the wrong moment must not leave an upload open: look for strays and abort them.
      await this.abortIncompleteUploads(key).catch(() => undefined);
      throw s3Error(S3Reasons.UploadFailed, 'upload to', where(this, key), error);
    }
  }

  /** Aborts every unfinished multipart upload of exactly `key`; returns how many. */
  async abortIncompleteUploads(key: string): Promise<number> {
    let aborted = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: key }));
      const open = (r.Uploads ?? []).filter((u) => u.Key === key && u.UploadId !== undefined);
      for (const u of open) {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: u.UploadId as string })).catch(() => undefined);
        aborted++;
      }
      if (open.length === 0 && attempt > 0) break;
      // A CreateMultipartUpload still in flight shows up a moment later.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return aborted;
  }

  /**
   * A small object in one PUT (manifests). With `ifNoneMatch` the write only happens when the key is
   * free (If-None-Match: *; AWS S3, SeaweedFS and MinIO honour it) and a taken key fails with
   * AlreadyExists. A store that refuses the header as not implemented gets a HEAD first instead (a
   * race window the caller's read-back closes; see writeManifest in the backup engine).
   */
  async put(
    key: string,
    body: Buffer | string,
    options: { contentType?: string; metadata?: Record<string, string>; ifNoneMatch?: boolean; signal?: AbortSignal } = {},
  ): Promise<StoredObject> {
    const send = async (conditional: boolean): Promise<StoredObject> => {
      const result = await this.client.send(
        new PutObjectCommand(
          defined({ Bucket: this.bucket, Key: key, Body: body, ContentType: options.contentType ?? 'application/octet-stream', Metadata: options.metadata, IfNoneMatch: conditional ? '*' : undefined }),
        ),
        options.signal === undefined ? {} : { abortSignal: options.signal },
      );
      return defined({ key, versionId: result.VersionId, etag: result.ETag });
    };
    try {
      try {
        return await send(options.ifNoneMatch === true);
      } catch (error) {
        if (options.ifNoneMatch !== true || !isNotImplemented(error)) throw error;
        if ((await this.head(key)) !== undefined) throw Object.assign(new Error('key exists'), { $metadata: { httpStatusCode: 412 } });
        return await send(false);
      }
    } catch (error) {
      if (options.ifNoneMatch === true && httpStatus(error) === 412) {
        throw new OperatorError(S3Reasons.AlreadyExists, `put ${where(this, key)}: the key is already taken (conditional write refused)`, { cause: error });
      }
      throw s3Error(S3Reasons.UploadFailed, 'put', where(this, key), error);
    }
  }

  async get(key: string, options: { versionId?: string; signal?: AbortSignal } = {}): Promise<{ body: Readable; size?: number; versionId?: string }> {
    try {
      const result = await this.client.send(
        new GetObjectCommand(defined({ Bucket: this.bucket, Key: key, VersionId: options.versionId })),
        options.signal === undefined ? {} : { abortSignal: options.signal },
      );
      if (!(result.Body instanceof Readable)) throw new Error('response body is not a Node stream');
      return defined({ body: result.Body, size: result.ContentLength, versionId: result.VersionId });
    } catch (error) {
      throw s3Error(S3Reasons.DownloadFailed, 'get', where(this, key), error);
    }
  }

  async getBuffer(key: string, options: { versionId?: string } = {}): Promise<Buffer> {
    const { body } = await this.get(key, options);
    try {
      return Buffer.concat(await body.toArray());
    } catch (error) {
      throw s3Error(S3Reasons.DownloadFailed, 'get', where(this, key), error);
    }
  }

  /** Metadata of an object, or undefined when it does not exist. */
  async head(key: string, versionId?: string): Promise<ObjectInfo | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand(defined({ Bucket: this.bucket, Key: key, VersionId: versionId })));
      return defined({
        key,
        size: r.ContentLength ?? 0,
        versionId: r.VersionId,
        lastModified: r.LastModified,
        lockMode: r.ObjectLockMode,
        retainUntil: r.ObjectLockRetainUntilDate,
        legalHold: r.ObjectLockLegalHoldStatus === 'ON',
      });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw s3Error(S3Reasons.DownloadFailed, 'head', where(this, key), error);
    }
  }

  /** All objects whose key starts with `prefix` (a full key prefix, see key()). */
  async *list(prefix: string): AsyncGenerator<ListedObject> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command(defined({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })));
      } catch (error) {
        throw s3Error(S3Reasons.DownloadFailed, 'list', where(this, prefix), error);
      }
      for (const item of page.Contents ?? []) {
        if (item.Key === undefined) continue;
        yield defined({ key: item.Key, size: item.Size ?? 0, lastModified: item.LastModified });
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /**
   * Deletes an object (its current version, permanently when versioned). An object under Object Lock
   * (legal hold, or retention until after `now`), or one the store refuses with 403, is reported as
   * locked instead of failing.
   */
  async delete(key: string, now: Date): Promise<DeleteOutcome> {
    const info = await this.head(key);
    if (info === undefined) return { status: 'deleted', key };
    const locked = info.legalHold || (info.retainUntil !== undefined && info.retainUntil.getTime() > now.getTime());
    if (locked) {
      return defined({
        status: 'locked' as const,
        key,
        versionId: info.versionId,
        retainUntil: info.retainUntil?.toISOString(),
        legalHold: info.legalHold,
        message: info.legalHold ? 'under legal hold' : `retained until ${info.retainUntil?.toISOString()} (${info.lockMode ?? 'lock'})`,
      });
    }
    try {
      await this.client.send(new DeleteObjectCommand(defined({ Bucket: this.bucket, Key: key, VersionId: info.versionId })));
      return defined({ status: 'deleted' as const, key, versionId: info.versionId });
    } catch (error) {
      if (httpStatus(error) === 403) {
        return defined({ status: 'locked' as const, key, versionId: info.versionId, legalHold: false, message: 'the store refused the delete (403), treated as locked' });
      }
      throw s3Error(S3Reasons.DeleteFailed, 'delete', where(this, key), error);
    }
  }

  /**
   * Copies `sourceKey` of `source` into `key` of this store: server-side (CopyObject, or UploadPartCopy
   * above the threshold) when `source` is an S3ObjectStore on the same service, streaming otherwise.
   */
  async copyFrom(source: CopySource, sourceKey: string, key: string, options: CopyOptions = {}): Promise<CopyResult> {
    const mode = options.mode ?? 'auto';
    if (source instanceof S3ObjectStore && (mode === 'server' || (mode === 'auto' && this.sharesServiceWith(source)))) {
      try {
        return await this.#serverCopy(source, sourceKey, key, options);
      } catch (error) {
        if (mode === 'server') throw s3Error(S3Reasons.CopyFailed, 'server-side copy to', where(this, key), error);
        // auto: fall through to streaming (cross-region restrictions, stores without CopyObject)
      }
    }
    const { body } = await source.get(sourceKey, options.signal === undefined ? {} : { signal: options.signal });
    let input: Readable = body;
    if (options.sourceTap !== undefined) {
      const tap = options.sourceTap;
      body.once('error', (error) => tap.destroy(error));
      input = body.pipe(tap);
    }
    const stored = await this.upload(key, input, { ...options.upload, ...(options.signal === undefined ? {} : { signal: options.signal }) });
    return { ...stored, method: 'stream' };
  }

  async #serverCopy(source: S3ObjectStore, sourceKey: string, key: string, options: CopyOptions): Promise<CopyResult> {
    const threshold = options.multipartThreshold ?? COPY_OBJECT_LIMIT;
    let size = options.size;
    if (size === undefined) {
      const info = await source.head(sourceKey);
      if (info === undefined) throw new OperatorError(S3Reasons.ObjectNotFound, `copy from ${where(source, sourceKey)}: no such object`);
      size = info.size;
    }
    const copySource = encodeCopySource(source.bucket, sourceKey);
    const sendOptions = options.signal === undefined ? {} : { abortSignal: options.signal };
    if (size <= threshold) {
      const r = await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: key, CopySource: copySource }), sendOptions);
      return defined({ key, versionId: r.VersionId, etag: r.CopyObjectResult?.ETag, method: 'server' as const });
    }
    const partSize = Math.max(options.copyPartSize ?? 512 * 1024 * 1024, MIN_PART_SIZE);
    const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }), sendOptions);
    const uploadId = created.UploadId as string;
    try {
      const parts: Array<{ ETag: string; PartNumber: number }> = [];
      for (let start = 0, part = 1; start < size; start += partSize, part++) {
        const end = Math.min(start + partSize, size) - 1;
        const r = await this.client.send(
          new UploadPartCopyCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: part, CopySource: copySource, CopySourceRange: `bytes=${start}-${end}` }),
          sendOptions,
        );
        parts.push({ ETag: r.CopyPartResult?.ETag as string, PartNumber: part });
      }
      const done = await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
        sendOptions,
      );
      return defined({ key, versionId: done.VersionId, etag: done.ETag, method: 'server-multipart' as const });
    } catch (error) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw error;
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}
