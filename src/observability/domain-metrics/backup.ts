// BackupPolicy metrics, its Backups' and Restores' included: the policy's status on every reconcile
// (timestamps, consecutive failures, expected intervals, checks, new restore drills and prunes), each
// Backup when it finishes (sizes, replicas, failures), each Restore when it finishes.
import { BACKUP_METRICS, type DomainMetrics } from './definitions.ts';
import { BACKUP_POLICY_CHECKS, recordChecks } from './checks.ts';
import { bool, forgetSeries, policyLabels, setExpectedInterval, setTimestamp, timestampSeconds, type ConditionSnapshot, type PolicyLabels, type ScheduleSpec } from './series.ts';

export type RestoreTrigger = 'drill' | 'restore';
export type BackupBytesKind = 'plain' | 'encrypted';

export interface BackupPolicyStatusSnapshot {
  conditions?: readonly ConditionSnapshot[] | undefined;
  lastSuccessfulTime?: string | undefined;
  /** Not in BackupPolicy status today; set it when known. */
  lastFailedTime?: string | undefined;
  consecutiveFailures?: number | undefined;
  lastRestoreDrill?: { time?: string | undefined; succeeded?: boolean | undefined; durationMs?: number | undefined } | undefined;
  lastPrune?: { time?: string | undefined; deleted?: number | undefined; locked?: number | undefined } | undefined;
}

/** A Backup's status (the fields the metrics use). */
export interface BackupStatusSnapshot {
  phase?: string | undefined;
  reason?: string | undefined;
  startTime?: string | undefined;
  completionTime?: string | undefined;
  plainBytes?: number | undefined;
  encryptedBytes?: number | undefined;
  /** Every destination; `error` is "Reason: message". */
  destinations?: ReadonlyArray<{ name: string; verified?: boolean | undefined; error?: string | undefined }> | undefined;
}

export interface BackupPolicyScheduleSnapshot {
  schedule: string;
  timeZone?: string | undefined;
  suspend?: boolean | undefined;
  restoreDrill?: ScheduleSpec | undefined;
}

export interface DestinationOutcome {
  name: string;
  verified: boolean;
  error?: { reason: string; message?: string } | undefined;
}

export interface CompletedBackup {
  /** When the backup completed. */
  finishedAt: Date;
  durationMs: number;
  plainBytes?: number | undefined;
  encryptedBytes?: number | undefined;
  /** The replicas (not the primary destination) with their verification. */
  replicas?: readonly DestinationOutcome[] | undefined;
}

export interface FailedBackup {
  finishedAt: Date;
  reason: string;
  /** Failures in a row including this one, when the controller knows it. */
  consecutiveFailures?: number | undefined;
}

export interface RestoreOutcome {
  trigger: RestoreTrigger;
  finishedAt: Date;
  durationMs: number;
  succeeded: boolean;
  /** Condition reason when it failed. */
  reason?: string | undefined;
}

export interface BackupRecorder {
  /**
   * The status-derived metrics of a BackupPolicy: call on every reconcile (the policy reconciler's
   * onStatus). Sets the timestamps, consecutive failures, checks and expected intervals; a restore
   * drill or a prune that is new in status since the last call is counted once (the first call
   * after a start only remembers them: the process that ran them counted them).
   */
  recordBackupPolicyStatus(policy: PolicyLabels, status: BackupPolicyStatusSnapshot, spec: BackupPolicyScheduleSnapshot, now?: Date): void;
  /**
   * A finished Backup from its status (the Backup reconciler's onFinished): Completed records a
   * success, Failed a failure; other phases nothing. `primaryDestination` (spec.destination.name of
   * the policy) tells the primary from the replicas.
   */
  recordBackupStatus(policy: PolicyLabels, status: BackupStatusSnapshot, options?: { primaryDestination?: string | undefined; consecutiveFailures?: number | undefined }): void;
  recordBackupSuccess(policy: PolicyLabels, backup: CompletedBackup): void;
  recordBackupFailure(policy: PolicyLabels, failure: FailedBackup): void;
  /** A Restore resource (trigger restore) or a drill (trigger drill) that finished. */
  recordRestore(policy: PolicyLabels, restore: RestoreOutcome): void;
  /** Remove every series of a deleted BackupPolicy. */
  forgetBackupPolicy(policy: PolicyLabels): Promise<void>;
}

/** The reason of a "Reason: message" error string (status.destinations[].error), else ReplicaFailed. */
function reasonOf(error: string): string {
  const match = /^([A-Z][A-Za-z0-9]*):/.exec(error);
  return match?.[1] ?? 'ReplicaFailed';
}

export function backupRecorder(m: DomainMetrics): BackupRecorder {
  /** Per BackupPolicy: the restore drill and prune times last seen in its status. */
  const seenInStatus = new Map<string, { drill: string | undefined; prune: string | undefined }>();
  const key = (policy: PolicyLabels) => `${policy.namespace}/${policy.policy}`;

  const recorder: BackupRecorder = {
    recordBackupPolicyStatus(policy, status, spec, now = new Date()) {
      const labels = policyLabels(policy);
      setTimestamp(m.backupLastSuccessTimestampSeconds, labels, status.lastSuccessfulTime);
      setTimestamp(m.backupLastFailureTimestampSeconds, labels, status.lastFailedTime);
      m.backupConsecutiveFailures.set(labels, status.consecutiveFailures ?? 0);
      recordChecks(m.backupPolicyCheckPassing, labels, status.conditions, BACKUP_POLICY_CHECKS);
      const suspended = spec.suspend === true;
      setExpectedInterval(m.backupExpectedIntervalSeconds, labels, spec, suspended, now);
      setExpectedInterval(m.restoreDrillExpectedIntervalSeconds, labels, spec.restoreDrill, suspended, now);
      const drill = status.lastRestoreDrill;
      if (drill?.succeeded !== undefined) {
        setTimestamp(drill.succeeded ? m.restoreDrillLastSuccessTimestampSeconds : m.restoreDrillLastFailureTimestampSeconds, labels, drill.time);
      }
      const previous = seenInStatus.get(key(policy));
      seenInStatus.set(key(policy), { drill: drill?.time, prune: status.lastPrune?.time });
      if (!previous) return;
      if (drill?.time !== undefined && drill.time !== previous.drill && drill.succeeded !== undefined) {
        if (drill.durationMs !== undefined) m.restoreDurationSeconds.observe({ ...labels, trigger: 'drill' }, drill.durationMs / 1000);
        if (!drill.succeeded) {
          const reason = status.conditions?.find((c) => c.type === 'RestoreVerified' && c.status === 'False')?.reason ?? 'RestoreDrillFailed';
          m.restoreFailuresTotal.inc({ ...labels, trigger: 'drill', reason });
        }
      }
      const prune = status.lastPrune;
      if (prune?.time !== undefined && prune.time !== previous.prune) {
        m.backupsPrunedTotal.inc(labels, prune.deleted ?? 0);
        m.backupsLockedSkippedTotal.inc(labels, prune.locked ?? 0);
      }
    },

    recordBackupStatus(policy, status, options = {}) {
      const started = timestampSeconds(status.startTime);
      const finished = timestampSeconds(status.completionTime);
      const durationMs = started !== undefined && finished !== undefined ? Math.max(0, (finished - started) * 1000) : undefined;
      const finishedAt = new Date((finished ?? Date.now() / 1000) * 1000);
      if (status.phase === 'Completed') {
        recorder.recordBackupSuccess(policy, {
          finishedAt,
          durationMs: durationMs ?? 0,
          plainBytes: status.plainBytes,
          encryptedBytes: status.encryptedBytes,
          replicas: (status.destinations ?? [])
            .filter((d) => d.name !== options.primaryDestination)
            .map((d) => ({ name: d.name, verified: d.verified === true, error: d.error ? { reason: reasonOf(d.error) } : undefined })),
        });
      } else if (status.phase === 'Failed') {
        recorder.recordBackupFailure(policy, { finishedAt, reason: status.reason ?? 'Unknown', consecutiveFailures: options.consecutiveFailures });
      }
    },

    recordBackupSuccess(policy, backup) {
      const labels = policyLabels(policy);
      m.backupDurationSeconds.observe(labels, backup.durationMs / 1000);
      m.backupLastSuccessTimestampSeconds.set(labels, backup.finishedAt.getTime() / 1000);
      m.backupConsecutiveFailures.set(labels, 0);
      if (backup.plainBytes !== undefined) m.backupBytes.set({ ...labels, kind: 'plain' }, backup.plainBytes);
      if (backup.encryptedBytes !== undefined) m.backupBytes.set({ ...labels, kind: 'encrypted' }, backup.encryptedBytes);
      for (const replica of backup.replicas ?? []) {
        const rl = { ...labels, destination: replica.name };
        m.backupReplicaVerified.set(rl, bool(replica.verified && !replica.error));
        if (replica.error || !replica.verified) m.backupReplicaFailuresTotal.inc({ ...rl, reason: replica.error?.reason ?? 'NotVerified' });
      }
    },

    recordBackupFailure(policy, failure) {
      const labels = policyLabels(policy);
      m.backupFailuresTotal.inc({ ...labels, reason: failure.reason });
      m.backupLastFailureTimestampSeconds.set(labels, failure.finishedAt.getTime() / 1000);
      if (failure.consecutiveFailures !== undefined) m.backupConsecutiveFailures.set(labels, failure.consecutiveFailures);
      else m.backupConsecutiveFailures.inc(labels);
    },

    recordRestore(policy, restore) {
      const labels = policyLabels(policy);
      m.restoreDurationSeconds.observe({ ...labels, trigger: restore.trigger }, restore.durationMs / 1000);
      if (!restore.succeeded) m.restoreFailuresTotal.inc({ ...labels, trigger: restore.trigger, reason: restore.reason ?? 'Unknown' });
      if (restore.trigger === 'drill') {
        const gauge = restore.succeeded ? m.restoreDrillLastSuccessTimestampSeconds : m.restoreDrillLastFailureTimestampSeconds;
        gauge.set(labels, restore.finishedAt.getTime() / 1000);
      }
    },

    async forgetBackupPolicy(policy) {
      seenInStatus.delete(key(policy));
      await forgetSeries(m, BACKUP_METRICS, policyLabels(policy));
    },
  };
  return recorder;
}
