// RetentionPolicy metrics: the policy's status on every reconcile (expected interval, checks, the
// last run's outcome) and each run's rows and failures as it happens.
import { RETENTION_METRICS, type DomainMetrics } from './definitions.ts';
import { RETENTION_POLICY_CHECKS, recordChecks } from './checks.ts';
import { bool, forgetSeries, policyLabels, setExpectedInterval, timestampSeconds, type ConditionSnapshot, type PolicyLabels } from './series.ts';

export interface RetentionRuleOutcome {
  rule: string;
  table: string;
  deleted: number;
  archived: number;
  marked: number;
  error?: { reason: string; message?: string } | undefined;
}

/** A retention run: the retention engine's RetentionRunResult fits as it is. */
export interface RetentionRunOutcome {
  startedAt: string | Date;
  durationMs: number;
  partial: boolean;
  rules: readonly RetentionRuleOutcome[];
}

export interface RetentionPolicyStatusSnapshot {
  conditions?: readonly ConditionSnapshot[] | undefined;
  lastRun?:
    | {
        startTime?: string | undefined;
        durationMs?: number | undefined;
        partial?: boolean | undefined;
        rules?: ReadonlyArray<{ error?: string | undefined }> | undefined;
      }
    | undefined;
}

export interface RetentionScheduleSnapshot {
  schedule: string;
  timeZone?: string | undefined;
  suspend?: boolean | undefined;
}

export interface RetentionRecorder {
  /** The status-derived gauges of a RetentionPolicy: call on every reconcile. */
  recordRetentionPolicyStatus(policy: PolicyLabels, status: RetentionPolicyStatusSnapshot, spec: RetentionScheduleSnapshot, now?: Date): void;
  recordRetentionRun(policy: PolicyLabels, run: RetentionRunOutcome): void;
  /** A run that did not start or failed as a whole (unknown table, connection lost). */
  recordRetentionFailure(policy: PolicyLabels, failure: { finishedAt: Date; reason: string }): void;
  /** Remove every series of a deleted RetentionPolicy. */
  forgetRetentionPolicy(policy: PolicyLabels): Promise<void>;
}

export function retentionRecorder(m: DomainMetrics): RetentionRecorder {
  return {
    recordRetentionPolicyStatus(policy, status, spec, now = new Date()) {
      const labels = policyLabels(policy);
      setExpectedInterval(m.retentionExpectedIntervalSeconds, labels, spec, spec.suspend === true, now);
      recordChecks(m.retentionPolicyCheckPassing, labels, status.conditions, RETENTION_POLICY_CHECKS);
      const run = status.lastRun;
      const start = timestampSeconds(run?.startTime);
      if (!run || start === undefined) return;
      const finished = start + (run.durationMs ?? 0) / 1000;
      const failed = (run.rules ?? []).some((r) => r.error !== undefined && r.error !== '');
      (failed ? m.retentionLastFailureTimestampSeconds : m.retentionLastSuccessTimestampSeconds).set(labels, finished);
      m.retentionLastRunPartial.set(labels, bool(run.partial === true));
    },

    recordRetentionRun(policy, run) {
      const labels = policyLabels(policy);
      m.retentionRunDurationSeconds.observe(labels, run.durationMs / 1000);
      for (const rule of run.rules) {
        const rl = { ...labels, table: rule.table, rule: rule.rule };
        // inc(0) keeps every rule's series present, so rate() works from the first real increment.
        m.retentionRowsDeletedTotal.inc(rl, rule.deleted);
        m.retentionRowsArchivedTotal.inc(rl, rule.archived);
        m.retentionRowsMarkedTotal.inc(rl, rule.marked);
      }
      const failures = run.rules.filter((r) => r.error !== undefined);
      for (const f of failures) m.retentionFailuresTotal.inc({ ...labels, reason: f.error?.reason ?? 'Unknown' });
      const at = new Date(run.startedAt).getTime() / 1000 + run.durationMs / 1000;
      (failures.length > 0 ? m.retentionLastFailureTimestampSeconds : m.retentionLastSuccessTimestampSeconds).set(labels, at);
      m.retentionLastRunPartial.set(labels, bool(run.partial));
    },

    recordRetentionFailure(policy, failure) {
      const labels = policyLabels(policy);
      m.retentionFailuresTotal.inc({ ...labels, reason: failure.reason });
      m.retentionLastFailureTimestampSeconds.set(labels, failure.finishedAt.getTime() / 1000);
    },

    async forgetRetentionPolicy(policy) {
      await forgetSeries(m, RETENTION_METRICS, policyLabels(policy));
    },
  };
}
