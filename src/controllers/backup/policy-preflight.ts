// The preflight step of a BackupPolicy: without writing a backup, prove that its destination and every
// replica accept a probe object, that the database answers and its role may read every table pg_dump
// dumps with a pg_dump for the server's major at hand, and that the recipients parse and the drill's
// identity matches one of them. Results: DestinationsReady, DatabaseReady, KeysReady (see shared/preflight.ts).
import type { BackupPolicySpec } from '../../api/backup.ts';
import { parseDuration } from '../../api/duration.ts';
import { checkDumpAccess } from '../../engines/preflight/database.ts';
import { checkKeys } from '../../engines/preflight/keys.ts';
import { PreflightReasons } from '../../engines/preflight/reasons.ts';
import type { Condition } from '../../runtime/conditions.ts';
import { resolveDatabaseRef, type DatabaseReader } from '../shared/database-ref.ts';
import { checkDestinations, checkDumpDatabase, failed, notChecked, type CheckContext, type CheckResult, type Preflight, type PreflightOutcome } from '../shared/preflight.ts';
import { readSecret, requireKey } from '../shared/secrets.ts';

export interface BackupPolicyPreflightDeps {
  preflight: Preflight;
  databases: DatabaseReader;
}

export function backupPolicyOwner(namespace: string, name: string): string {
  return `backuppolicy:${namespace}/${name}`;
}

export async function preflightBackupPolicy(
  policy: { namespace: string; name: string; generation: number | undefined; conditions: readonly Condition[] | undefined },
  spec: BackupPolicySpec,
  nextScheduleTime: string | undefined,
  now: Date,
  deps: BackupPolicyPreflightDeps,
): Promise<PreflightOutcome> {
  if (spec.suspend) return notChecked(['DestinationsReady', 'DatabaseReady', 'KeysReady'], 'Suspended', 'spec.suspend is true: not checked');
  return deps.preflight.run(
    backupPolicyOwner(policy.namespace, policy.name),
    { namespace: policy.namespace, generation: policy.generation, intervalMs: parseDuration(spec.checkInterval), nextRunTime: nextScheduleTime, now, previous: policy.conditions },
    (context) => Promise.all([checkDestinations(context, [spec.destination, ...spec.replicas]), checkDatabase(context), checkPolicyKeys(context)]),
  );

  async function checkDatabase(context: CheckContext): Promise<CheckResult> {
    let settings;
    try {
      settings = (await resolveDatabaseRef(deps.databases, context.secrets, context.namespace, spec.databaseRef.name, { requireSchema: false })).settings;
    } catch (error) {
      return failed('DatabaseReady', error);
    }
    return checkDumpDatabase(context, settings, checkDumpAccess);
  }

  async function checkPolicyKeys(context: CheckContext): Promise<CheckResult> {
    try {
      const drill = spec.restoreDrill;
      if (drill === undefined) {
        checkKeys(spec.recipients);
      } else {
        const label = `Secret ${drill.identitySecret.name} key ${drill.identitySecret.key}`;
        const identity = requireKey(await readSecret(context.secrets, context.namespace, drill.identitySecret.name), drill.identitySecret.name, drill.identitySecret.key, 'restore drill identity');
        checkKeys(spec.recipients, { identity, label });
      }
      const message = `${spec.recipients.length} recipient(s) parse${drill ? '; the restore drill identity matches one of them' : ''}`;
      return { type: 'KeysReady', ok: true, reason: PreflightReasons.KeysVerified, message };
    } catch (error) {
      return failed('KeysReady', error);
    }
  }
}
