// A streaming multipart upload whose part size follows the object's size: it starts from the expected
// size (so an accurate estimate needs at most 80 % of the part budget) and grows on the fly when the
// estimate was short, so an upload never fails with "Exceeded 10000 parts" below S3's 5 TiB object
// limit. Parts are held in memory (queueSize + 1 parts at most) so the SDK can retry them. Every
// failure path (a part, CompleteMultipartUpload, the source stream, the abort signal) aborts the
// multipart upload before this rejects.
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand,
  type CompletedPart, type S3Client,
} from '@aws-sdk/client-s3';

/** S3's limits. */
export const MAX_PARTS = 10_000;
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;
/**
 * The smallest part S3 takes: an upload holds (queueSize + 1) parts, so 15 MiB by default. Parts only
 * grow beyond it for objects expected above ~40 GB (10,000 x 80 % x 5 MiB), see initialPartSize.
 */
export const DEFAULT_PART_SIZE = MIN_PART_SIZE;
const MiB = 1024 * 1024;
/** Share of the part budget an accurate size estimate may use; the rest is room for growth. */
const ESTIMATE_SHARE = 0.8;

const roundUpToMiB = (n: number): number => Math.ceil(n / MiB) * MiB;

/** The first part size: at least `minimum`, and large enough that `expectedBytes` fits in 80 % of `maxParts`. */
export function initialPartSize(expectedBytes: number | undefined, maxParts = MAX_PARTS, minimum = DEFAULT_PART_SIZE): number {
  const fromEstimate = expectedBytes === undefined || expectedBytes <= 0 ? 0 : roundUpToMiB(expectedBytes / Math.floor(maxParts * ESTIMATE_SHARE));
  return Math.min(MAX_PART_SIZE, Math.max(minimum, MIN_PART_SIZE, fromEstimate));
}

/**
 * The size of the next part once `uploadedBytes` went into `partsUsed` parts: never smaller than the
 * current size, and large enough that the parts left could carry three times what was uploaded so
 * far. While the estimate holds this stays at the first size; once it is overrun, parts grow about as
 * fast as the budget shrinks, reaching S3's 5 GiB part limit before the budget runs out (5 TiB from
 * a 5 MiB start without any estimate takes about 9,200 parts: see the unit test).
 */
export function nextPartSize(current: number, uploadedBytes: number, partsUsed: number, maxParts = MAX_PARTS): number {
  const partsLeft = maxParts - partsUsed;
  if (partsLeft <= 1) return MAX_PART_SIZE;
  return Math.min(MAX_PART_SIZE, Math.max(current, roundUpToMiB((GROWTH_HEADROOM * uploadedBytes) / partsLeft)));
}
const GROWTH_HEADROOM = 3;

export interface MultipartUploadParams {
  client: S3Client;
  bucket: string;
  key: string;
  body: Readable;
  contentType: string;
  metadata?: Record<string, string>;
  /** Expected object size in bytes (an estimate): sets the first part size. */
  expectedBytes?: number;
  /** Smallest part size (>= 5 MiB). Default 5 MiB. */
  partSize?: number;
  /** Parts in flight. Default 2. */
  queueSize?: number;
  /** Part budget; S3's 10,000 unless a test forces a tiny one. */
  maxParts?: number;
  /** Send CRC32 checksums with the parts (the client computes them when requests support them). */
  checksums: boolean;
  signal?: AbortSignal;
}

export interface MultipartUploadResult {
  versionId?: string;
  etag?: string;
  /** 1 for a single PUT. */
  parts: number;
  /** Sizes of the parts, in order. */
  partSizes: number[];
}

/**
 * Cuts a stream into buffers whose size is asked for part by part. Each part is filled in place (one
 * copy per byte, no concatenation of everything pending), and a part whose upload finished is handed
 * back and filled again: the upload holds queueSize + 1 parts, not as many as the GC lets pile up.
 */
class PartReader {
  readonly #iterator: AsyncIterator<Buffer>;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #done = false;
  readonly #allocated = new WeakSet<ArrayBufferLike>();
  #spares: Buffer[] = [];

  constructor(body: Readable) {
    this.#iterator = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  /** The next `size` bytes (fewer at the end); undefined when the stream is exhausted. */
  async next(size: number): Promise<Buffer | undefined> {
    let part: Buffer | undefined;
    let filled = 0;
    const take = (chunk: Buffer): Buffer | undefined => {
      // A chunk that fills the part by itself is used as it is, without a copy.
      if (filled === 0 && chunk.length >= size) {
        part = chunk.subarray(0, size);
        filled = size;
        return chunk.length > size ? chunk.subarray(size) : undefined;
      }
      part ??= this.#allocate(size);
      const n = chunk.copy(part, filled);
      filled += n;
      return n < chunk.length ? chunk.subarray(n) : undefined;
    };
    while (filled < size && this.#pending.length > 0) {
      const rest = take(this.#pending.shift() as Buffer);
      if (rest !== undefined) this.#pending.unshift(rest);
    }
    while (filled < size && !this.#done) {
      const r = await this.#iterator.next();
      if (r.done === true) this.#done = true;
      else {
        const rest = take(Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array));
        if (rest !== undefined) this.#pending.push(rest);
      }
    }
    this.#pendingBytes = this.#pending.reduce((sum, b) => sum + b.length, 0);
    if (part === undefined || filled === 0) return undefined;
    return filled === part.length ? part : part.subarray(0, filled);
  }

  #allocate(size: number): Buffer {
    const spare = this.#spares.pop();
    if (spare !== undefined && spare.length === size) return spare;
    this.#spares = [];
    const part = Buffer.allocUnsafeSlow(size);
    this.#allocated.add(part.buffer);
    return part;
  }

  /** Takes back a part this reader filled once nothing uses it any more (its upload completed). */
  recycle(part: Buffer): void {
    if (this.#allocated.has(part.buffer) && this.#spares.length < 2) this.#spares.push(Buffer.from(part.buffer, 0, part.buffer.byteLength));
  }

  /** Peeks whether more bytes follow (reads at most one chunk). */
  async hasMore(): Promise<boolean> {
    if (this.#pendingBytes > 0) return true;
    if (this.#done) return false;
    while (!this.#done && this.#pendingBytes === 0) {
      const r = await this.#iterator.next();
      if (r.done === true) this.#done = true;
      else {
        const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
        if (chunk.length > 0) {
          this.#pending.push(chunk);
          this.#pendingBytes += chunk.length;
        }
      }
    }
    return this.#pendingBytes > 0;
  }

  async close(): Promise<void> {
    await this.#iterator.return?.();
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : Object.assign(new Error('upload aborted'), { name: 'AbortError' });
}

/** Uploads `body` to `key`; on any failure the multipart upload is aborted and this rejects with the first error. */
export async function multipartUpload(params: MultipartUploadParams): Promise<MultipartUploadResult> {
  const maxParts = params.maxParts ?? MAX_PARTS;
  const queueSize = Math.max(1, params.queueSize ?? 2);
  let partSize = initialPartSize(params.expectedBytes, maxParts, params.partSize ?? DEFAULT_PART_SIZE);
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(params.signal === undefined ? undefined : abortError(params.signal));
  if (params.signal?.aborted === true) throw abortError(params.signal);
  params.signal?.addEventListener('abort', onAbort, { once: true });
  const reader = new PartReader(params.body);
  const common = { Bucket: params.bucket, Key: params.key };
  const sendOptions = { abortSignal: stop.signal };
  let uploadId: string | undefined;
  const inFlight = new Set<Promise<void>>();
  try {
    const first = await reader.next(partSize);
    if (stop.signal.aborted) throw abortError(stop.signal);
    if (!(await reader.hasMore())) {
      // Small enough for one PUT: no multipart upload to clean up.
      const r = await params.client.send(
        new PutObjectCommand({
          ...common,
          Body: first ?? Buffer.alloc(0),
          ContentType: params.contentType,
          ...(params.metadata === undefined ? {} : { Metadata: params.metadata }),
        }),
        sendOptions,
      );
      return { ...(r.VersionId === undefined ? {} : { versionId: r.VersionId }), ...(r.ETag === undefined ? {} : { etag: r.ETag }), parts: 1, partSizes: [first?.length ?? 0] };
    }
    // Not under the abort signal: a CreateMultipartUpload cut off in flight could still create an upload we never learn of.
    const created = await params.client.send(
      new CreateMultipartUploadCommand({
        ...common,
        ContentType: params.contentType,
        ...(params.metadata === undefined ? {} : { Metadata: params.metadata }),
        ...(params.checksums ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
      }),
    );
    uploadId = created.UploadId;
    if (uploadId === undefined) throw new Error('CreateMultipartUpload returned no UploadId');
    if (stop.signal.aborted) throw abortError(stop.signal);

    const parts: CompletedPart[] = [];
    const partSizes: number[] = [];
    let failure: unknown;
    let uploadedBytes = 0;
    const send = async (partNumber: number, data: Buffer): Promise<void> => {
      const r = await params.client.send(new UploadPartCommand({ ...common, UploadId: uploadId, PartNumber: partNumber, Body: data }), sendOptions);
      if (r.ETag === undefined) throw new Error(`part ${partNumber} got no ETag`);
      parts.push({ PartNumber: partNumber, ETag: r.ETag, ...(r.ChecksumCRC32 === undefined ? {} : { ChecksumCRC32: r.ChecksumCRC32 }) });
    };
    let data: Buffer | undefined = first;
    for (let partNumber = 1; data !== undefined; partNumber++) {
      if (partNumber > maxParts) {
        throw new Error(`the object outgrew ${maxParts} parts of up to ${MAX_PART_SIZE} bytes (S3 objects end at 5 TiB)`);
      }
      partSizes.push(data.length);
      uploadedBytes += data.length;
      const sent = data;
      const running: Promise<void> = send(partNumber, sent).then(
        () => {
          inFlight.delete(running);
          reader.recycle(sent);
        },
        (error: unknown) => {
          inFlight.delete(running);
          if (failure === undefined) failure = error;
          stop.abort(error);
        },
      );
      inFlight.add(running);
      while (inFlight.size >= queueSize) await Promise.race(inFlight);
      if (failure !== undefined) throw failure;
      if (stop.signal.aborted) throw abortError(stop.signal);
      partSize = nextPartSize(partSize, uploadedBytes, partNumber, maxParts);
      data = await reader.next(partSize);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    if (stop.signal.aborted) throw abortError(stop.signal);
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const done = await params.client.send(new CompleteMultipartUploadCommand({ ...common, UploadId: uploadId, MultipartUpload: { Parts: parts } }), sendOptions);
    uploadId = undefined;
    return { ...(done.VersionId === undefined ? {} : { versionId: done.VersionId }), ...(done.ETag === undefined ? {} : { etag: done.ETag }), parts: parts.length, partSizes };
  } catch (error) {
    stop.abort(error);
    // Parts still in flight could land after the abort and keep the upload alive: let them settle first.
    await Promise.allSettled(inFlight);
    if (uploadId !== undefined) {
      await params.client.send(new AbortMultipartUploadCommand({ ...common, UploadId: uploadId })).catch(() => undefined);
    }
    throw error;
  } finally {
    params.signal?.removeEventListener('abort', onAbort);
    await reader.close().catch(() => undefined);
  }
}
