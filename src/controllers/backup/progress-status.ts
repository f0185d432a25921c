// Turns the engines' progress samples into status writes for a running Backup or Restore: at most
// one write in flight (a newer sample waiting replaces an older one), a failed write skipped (the next
// sample tries again), and nothing written once the run has settled, so a late sample can never
// overwrite the final status.
import type { TransferProgress } from '../../api/progress.ts';
import type { Clock } from '../../clock.ts';
import type { ProgressListener, TransferSample } from '../../engines/backup/index.ts';

export function progressOf(sample: TransferSample, now: Date): TransferProgress {
  const progress: TransferProgress = {
    bytes: sample.bytes,
    bytesPerSecond: sample.bytesPerSecond,
    elapsedSeconds: Math.round(sample.elapsedMs / 1000),
    updateTime: now.toISOString(),
  };
  if (sample.totalBytes !== undefined) {
    progress.totalBytes = sample.totalBytes;
    progress.percent = Math.min(100, Math.floor((sample.bytes * 100) / sample.totalBytes));
  }
  if (sample.etaMs !== undefined) progress.etaSeconds = Math.round(sample.etaMs / 1000);
  return progress;
}

export interface StatusProgressReporter {
  onProgress: ProgressListener;
  /** Stops reporting and waits for a write in flight. */
  settle(): Promise<void>;
}

export function statusProgressReporter(
  write: (progress: TransferProgress) => Promise<void>,
  clock: Clock,
  onError: (error: unknown) => void = () => undefined,
): StatusProgressReporter {
  let settled = false;
  let inFlight: Promise<void> | undefined;
  let waiting: TransferProgress | undefined;
  const flush = (): void => {
    if (settled || inFlight !== undefined || waiting === undefined) return;
    const next = waiting;
    waiting = undefined;
    inFlight = write(next)
      .catch(onError)
      .finally(() => {
        inFlight = undefined;
        flush();
      });
  };
  return {
    onProgress(sample) {
      if (settled) return;
      waiting = progressOf(sample, clock.now());
      flush();
    },
    async settle() {
      settled = true;
      while (inFlight !== undefined) await inFlight;
    },
  };
}
