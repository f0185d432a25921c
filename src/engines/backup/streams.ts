// Small pass-through stages of the backup and restore pipelines: byte counting, SHA-256 (optionally
// checked against an expected digest before the stream may end), and gates that hold the end of the
// stream (or its last piece) until the caller says the whole run succeeded.
import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';
import { createHash, type Hash } from 'node:crypto';
import { OperatorError } from '../../errors.ts';
import { BackupReasons } from './reasons.ts';
import { streamed } from './scavenge.ts';
import type { Reason } from '../../reasons/index.ts';

/**
 * Counts what passes and regroups it into chunks of `size` bytes (the last one shorter): fewer, larger
 * writes downstream. zstd in particular costs about twice the CPU when fed pg_dump's pipe reads (4-64
 * KiB), one thread-pool round trip each, instead of 1 MiB.
 */
export class Rebatch extends Transform {
  bytes = 0;
  readonly #size: number;
  #current: Buffer | undefined;
  #filled = 0;

  constructor(size: number, options?: TransformOptions) {
    super({ highWaterMark: size, ...options });
    this.#size = size;
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    streamed(chunk.length);
    let offset = 0;
    while (offset < chunk.length) {
      this.#current ??= Buffer.allocUnsafe(this.#size);
      const n = chunk.copy(this.#current, this.#filled, offset);
      this.#filled += n;
      offset += n;
      if (this.#filled === this.#size) {
        this.push(this.#current);
        this.#current = undefined;
        this.#filled = 0;
      }
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.#current !== undefined && this.#filled > 0) this.push(this.#current.subarray(0, this.#filled));
    this.#current = undefined;
    callback();
  }
}

export interface ExpectedDigest {
  sha256: string;
  size?: number;
  where: string;
}

/** Hashes what passes; with `expected`, refuses to end (errors instead) on a mismatch. */
export class HashTap extends Transform {
  bytes = 0;
  #hash: Hash = createHash('sha256');
  #digest: string | undefined;
  #expected: ExpectedDigest | undefined;

  constructor(expected?: ExpectedDigest, options?: TransformOptions) {
    super(options);
    this.#expected = expected;
  }

  get sha256(): string {
    if (this.#digest === undefined) throw new Error('the stream has not ended yet');
    return this.#digest;
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    streamed(chunk.length);
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.#digest = this.#hash.digest('hex');
    const expected = this.#expected;
    if (expected !== undefined && (this.#digest !== expected.sha256 || (expected.size !== undefined && expected.size !== this.bytes))) {
      callback(
        new OperatorError(
          BackupReasons.ChecksumMismatch,
          `${expected.where}: SHA-256 ${this.#digest.slice(0, 12)}… over ${this.bytes} bytes, the manifest says ${expected.sha256.slice(0, 12)}… over ${expected.size ?? '?'} bytes`,
          { terminal: true, details: { actual: this.#digest, expected: expected.sha256, bytes: this.bytes, expectedBytes: expected.size } },
        ),
      );
      return;
    }
    callback();
  }
}

/** Passes data through but ends only when `condition()` resolves; its rejection becomes the stream's error. */
export class HoldEnd extends Transform {
  #condition: () => Promise<unknown>;
  constructor(condition: () => Promise<unknown>, options?: TransformOptions) {
    super(options);
    this.#condition = condition;
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, callback: TransformCallback): void {
    callback(null, chunk);
  }
  override _flush(callback: TransformCallback): void {
    this.#condition().then(
      () => callback(),
      (error: unknown) => callback(error as Error),
    );
  }
}

/**
 * Holds back the most recent chunk and releases it only when the upstream ended cleanly: a consumer
 * (pg_restore) can never see the end of its input unless everything before it verified.
 */
export class HoldLast extends Transform {
  #held: Buffer | undefined;
  override _transform(chunk: Buffer, _e: BufferEncoding, callback: TransformCallback): void {
    const previous = this.#held;
    this.#held = chunk;
    streamed(chunk.length);
    callback(null, previous);
  }
  override _flush(callback: TransformCallback): void {
    callback(null, this.#held);
  }
}

/** Hashes a whole stream (re-reading a stored object to verify it). */
export async function sha256Of(stream: NodeJS.ReadableStream & AsyncIterable<Buffer>): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    bytes += chunk.length;
    streamed(chunk.length);
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Gives a stream failure a reason: keeps OperatorErrors, zstd errors become DecompressionFailed. */
export function classifyStreamError(error: unknown, fallback: Reason, where: string): OperatorError {
  if (error instanceof OperatorError) return error;
  const e = error as { code?: string; message?: string } | undefined;
  if (typeof e?.code === 'string' && e.code.startsWith('ZSTD_')) {
    return new OperatorError(BackupReasons.DecompressionFailed, `${where}: zstd: ${e.message ?? e.code}`, { cause: error, terminal: true });
  }
  return new OperatorError(fallback, `${where}: ${e?.message ?? String(error)}`, { cause: error });
}

