// Progress of a long transfer (a dump streaming out, a stored backup streaming back in): a byte
// counter sampled on a timer and reported with the average rate so far and, while a known total has
// not been passed, an estimate of the time left.
import type { Clock } from '../../clock.ts';
import type { Logger } from '../../observability/logger.ts';

export interface TransferSample {
  bytes: number;
  /** The expected total; absent when unknown or already exceeded (it was only an estimate). */
  totalBytes?: number;
  elapsedMs: number;
  /** Average since the start. */
  bytesPerSecond: number;
  /** Time left at the average rate; only with totalBytes. */
  etaMs?: number;
}

export type ProgressListener = (sample: TransferSample) => void;

export const DEFAULT_PROGRESS_INTERVAL_MS = 10_000;

/** How a long run (a backup, a restore) is observed, cancelled and bounded by its caller. */
export interface RunControls {
  clock?: Clock;
  logger?: Logger;
  /** Cancels the run (leader lost, SIGTERM): everything written so far is taken back. */
  signal?: AbortSignal;
  /** Fails the run after this long (the resource's timeout). Unset: no limit. */
  timeoutMs?: number;
  /** Told the bytes so far every progressIntervalMs (default 10 s) while the data streams. */
  onProgress?: ProgressListener;
  progressIntervalMs?: number;
}

export function measureTransfer(bytes: number, elapsedMs: number, totalBytes?: number): TransferSample {
  const bytesPerSecond = elapsedMs > 0 ? Math.round((bytes * 1000) / elapsedMs) : 0;
  const sample: TransferSample = { bytes, elapsedMs, bytesPerSecond };
  if (totalBytes !== undefined && totalBytes > 0 && bytes <= totalBytes) {
    sample.totalBytes = totalBytes;
    if (bytesPerSecond > 0) sample.etaMs = Math.round(((totalBytes - bytes) * 1000) / bytesPerSecond);
  }
  return sample;
}

export interface ProgressSamplerOptions {
  /** The byte counter, read at each tick. */
  read: () => number;
  totalBytes?: number | undefined;
  onProgress: ProgressListener;
  /** Default 10 s. */
  intervalMs?: number | undefined;
  clock: Clock;
}

/** Reports `read()` every intervalMs until the returned stop function is called. A throwing listener is ignored. */
export function startProgressSampler(options: ProgressSamplerOptions): () => void {
  const startedAt = options.clock.now().getTime();
  const timer = setInterval(() => {
    try {
      options.onProgress(measureTransfer(options.read(), options.clock.now().getTime() - startedAt, options.totalBytes));
    } catch {
      // Progress is informational: a failing reporter must never fail the transfer.
    }
  }, options.intervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
