// `lokdarpan backup POLICY`: an on-demand Backup of a BackupPolicy.
import { backupKind, backupPolicyKind } from '../../../api/resources.ts';
import { POLICY_LABEL } from '../../../controllers/backup/policy-reconciler.ts';
import { EXIT } from '../../io.ts';
import { COMMON_HELP, commonOptions, oneName, parse, stampedName, timeoutMs, WAIT_HELP, waitOptions } from '../args.ts';
import { readBackup } from '../model.ts';
import { connect, getObject, guarded, nowOf, type PluginIo } from '../session.ts';
import { createAndFollow } from './create.ts';

export const BACKUP_NOW_USAGE = `usage: lokdarpan backup POLICY [-n NS] [--wait [--timeout 30m]] [--json]

Creates an on-demand Backup "<POLICY>-manual-<yyyymmdd-hhmmss>" of the BackupPolicy POLICY; the
operator takes it with the policy's database, destinations and recipients.
(\`lokdarpan backup --bucket ...\` without a POLICY runs the backup engine directly, without a cluster.)

${WAIT_HELP}
${COMMON_HELP}
`;

/** `<policy>-manual-<yyyymmdd-hhmmss>` in UTC, at most 63 characters. */
export const manualBackupName = (policy: string, at: Date): string => stampedName(policy, 'manual', at);

export async function runBackupNow(argv: string[], io: PluginIo): Promise<number> {
  return guarded('backup', BACKUP_NOW_USAGE, io, async (session) => {
    const { values, positionals } = parse(argv, { ...commonOptions, ...waitOptions });
    if (values.help) {
      io.stdout.write(BACKUP_NOW_USAGE);
      return EXIT.ok;
    }
    const policy = oneName(positionals, 'BackupPolicy');
    const limitMs = timeoutMs(values.timeout);
    const cluster = connect(values, io, session);
    await getObject(cluster, backupPolicyKind, policy);
    const name = manualBackupName(policy, nowOf(io));
    return createAndFollow(cluster, io, { json: values.json, wait: values.wait, timeout: values.timeout, limitMs }, {
      kind: backupKind,
      read: readBackup,
      name,
      labels: { [POLICY_LABEL]: policy, 'lokdarpan.io/trigger': 'manual' },
      spec: { policyRef: { name: policy } },
      origin: `policy ${policy}`,
      conflict: `backup "${name}" already exists; try again in a second`,
      unpickedHint: 'nothing has picked it up: is the operator running?',
    });
  });
}
