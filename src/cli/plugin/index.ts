// The commands an on-call engineer runs against a cluster, also as a kubectl plugin (`kubectl lokdarpan
// <command>` when `kubectl-lokdarpan` is on PATH, see scripts/install-kubectl-plugin.sh):
//   status         a readable summary of LokdarpanDatabases, their BackupPolicies, Backups, RetentionPolicies
//   backup         create an on-demand Backup of a BackupPolicy (--wait: follow it to Completed/Failed)
//   refresh        ask for a materialized-view refresh now (annotation lokdarpan.io/refresh-requested-at)
//   validate       ask for a performance validation now (annotation lokdarpan.io/validate-requested-at)
//   retention-run  ask a RetentionPolicy to run now (annotation lokdarpan.io/run-requested-at)
//   restore        create a Restore of a Backup
// They talk to the API server of the current kubeconfig (--kubeconfig, --context, -n like kubectl), only
// through the custom resources: the operator does the work. Exit codes: 0 ok, 1 failure (the backup
// failed, a resource is missing, the cluster cannot be reached), 2 usage error.
//
// session.ts: kubeconfig, client, errors; args.ts: shared options; model.ts: the resources typed by
// their zod schemas and the status report; render.ts: text for people; wait.ts: the --wait loop;
// commands/: one file per command (create.ts is what backup and restore share).
import { runBackupNow } from './commands/backup.ts';
import { runRefresh, runRetentionRun, runValidate } from './commands/request.ts';
import { runRestoreNow } from './commands/restore.ts';
import { runStatus } from './commands/status.ts';
import type { PluginRun } from './session.ts';

export { BACKUP_NOW_USAGE, manualBackupName, runBackupNow } from './commands/backup.ts';
export { REFRESH_USAGE, RETENTION_RUN_USAGE, runRefresh, runRetentionRun, runValidate, VALIDATE_USAGE } from './commands/request.ts';
export { RESTORE_NOW_USAGE, runRestoreNow } from './commands/restore.ts';
export { runStatus, STATUS_USAGE } from './commands/status.ts';
export { buildStatusReport, type BackupPolicySummary, type BackupSummary, type DatabaseSummary, type RestoreSummary, type RetentionPolicySummary, type StatusReport } from './model.ts';
export { relative, renderStatusReport } from './render.ts';
export type { PluginIo, PluginRun } from './session.ts';

export interface PluginCommand {
  name: string;
  summary: string;
  run: PluginRun;
}

export const pluginCommands: readonly PluginCommand[] = [
  { name: 'status', summary: 'summary of LokdarpanDatabases, their backups, retention and restores in the cluster', run: runStatus },
  { name: 'backup', summary: 'POLICY: create an on-demand Backup of a BackupPolicy (--wait to follow it)', run: runBackupNow },
  { name: 'refresh', summary: 'NAME: refresh a LokdarpanDatabase\'s materialized views now', run: runRefresh },
  { name: 'validate', summary: 'NAME: run a LokdarpanDatabase\'s performance validation now', run: runValidate },
  { name: 'retention-run', summary: 'NAME: run a RetentionPolicy now', run: runRetentionRun },
  { name: 'restore', summary: 'BACKUP: create a Restore of a Backup into a database', run: runRestoreNow },
];

/**
 * `backup` and `restore` exist twice: as cluster commands here (`backup POLICY`, `restore BACKUP ...`)
 * and as engine commands in ../backup.ts (flags only, no positional). The cluster form is meant when the
 * first argument is a name rather than a flag; `--help` alone shows the cluster form.
 */
export function isClusterForm(argv: readonly string[]): boolean {
  const first = argv[0];
  return first === undefined || first === '--help' || first === '-h' || !first.startsWith('-');
}
