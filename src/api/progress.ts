// Progress of a running Backup or Restore as shown in status.progress, and the one line that
// describes it (status.message while running, `kubectl lokdarpan backup --wait`).
import * as z from 'zod';

export const transferProgressSchema = z.object({
  bytes: z.number().describe('Bytes processed so far.'),
  totalBytes: z
    .number()
    .optional()
    .describe('Expected total in bytes, when known (a restore knows the stored size; a backup estimates it from the size of the database\'s tables). An estimate, not a limit: dropped once passed.'),
  percent: z.number().optional().describe('bytes as a percentage of totalBytes (0-100), when totalBytes is known.'),
  bytesPerSecond: z.number().describe('Average rate since the start, in bytes per second.'),
  elapsedSeconds: z.number().describe('Seconds since the data started to flow.'),
  etaSeconds: z.number().optional().describe('Estimated seconds left at the average rate, when totalBytes is known.'),
  updateTime: z.string().describe('When this progress was measured (RFC 3339). Much older than the update interval (10 s) on a Running object: the run may be stuck; check the operator log.'),
});

export type TransferProgress = z.infer<typeof transferProgressSchema>;

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** "1.2 GiB of ~3.0 GiB (40%), 12.3 MiB/s, 1m 40s elapsed, about 2m 30s left" */
export function describeProgress(p: TransferProgress): string {
  const parts = [
    `${formatBytes(p.bytes)}${p.totalBytes === undefined ? '' : ` of ~${formatBytes(p.totalBytes)}`}${p.percent === undefined ? '' : ` (${p.percent}%)`}`,
    `${formatBytes(p.bytesPerSecond)}/s`,
    `${formatSeconds(p.elapsedSeconds)} elapsed`,
  ];
  if (p.etaSeconds !== undefined) parts.push(`about ${formatSeconds(p.etaSeconds)} left`);
  return parts.join(', ');
}
