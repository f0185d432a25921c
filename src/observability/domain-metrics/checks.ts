// The policies' checks (BackupPolicy: DestinationsReady, DatabaseReady, KeysReady; RetentionPolicy:
// DestinationsReady, DatabaseReady) as one gauge series per check.
import type { Gauge } from 'prom-client';
import { bool, type ConditionSnapshot } from './series.ts';

export const BACKUP_POLICY_CHECKS = ['DestinationsReady', 'DatabaseReady', 'KeysReady'] as const;
export const RETENTION_POLICY_CHECKS = ['DestinationsReady', 'DatabaseReady'] as const;

/** One series per check condition the status has: 1 True, 0 False; a check it lacks (or Unknown: suspended) has none. */
export function recordChecks(
  gauge: Gauge<'namespace' | 'policy' | 'check'>,
  labels: { namespace: string; policy: string },
  conditions: readonly ConditionSnapshot[] | undefined,
  checks: readonly string[],
): void {
  for (const check of checks) {
    const status = conditions?.find((c) => c.type === check)?.status;
    if (status === 'True' || status === 'False') gauge.set({ ...labels, check }, bool(status === 'True'));
    else gauge.remove({ ...labels, check });
  }
}
