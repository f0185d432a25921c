// `lokdarpan restore BACKUP`: a Restore of a Backup into a database, through the operator.
import { backupKind, restoreKind } from '../../../api/resources.ts';
import { EXIT } from '../../io.ts';
import { COMMON_HELP, commonOptions, oneName, parse, stampedName, timeoutMs, WAIT_HELP, waitOptions } from '../args.ts';
import { compact, readBackup, readRestore } from '../model.ts';
import { connect, getObject, guarded, nowOf, UsageError, type PluginIo } from '../session.ts';
import { createAndFollow } from './create.ts';

export const RESTORE_NOW_USAGE = `usage: lokdarpan restore BACKUP (--connection-secret SECRET | --database-ref NAME) --identity-secret SECRET[:KEY]
                        [--to-database NAME] [--overwrite] [-n NS] [--wait [--timeout 30m]]

Creates a Restore of the completed Backup BACKUP; the operator downloads, decrypts and restores it,
then checks the row counts against the backup's manifest.
(\`lokdarpan restore --bucket ...\` without a BACKUP runs the restore engine directly, without a cluster.)

  --connection-secret S  restore through this connection Secret (same keys as a LokdarpanDatabase's)
  --database-ref NAME    or through this LokdarpanDatabase's connection
  --to-database NAME     create this new database on that server and restore into it (default: the
                         connection's own database, which must be empty unless --overwrite)
  --identity-secret S[:KEY]  Secret with the age identity (AGE-SECRET-KEY-1...), key "identity" by default
  --overwrite            allow a non-empty target (objects in the dump are dropped and recreated)
  --name NAME            name of the Restore (default <BACKUP>-restore-<yyyymmdd-hhmmss>)
${WAIT_HELP}
${COMMON_HELP}
`;

export async function runRestoreNow(argv: string[], io: PluginIo): Promise<number> {
  return guarded('restore', RESTORE_NOW_USAGE, io, async (session) => {
    const { values, positionals } = parse(argv, {
      ...commonOptions,
      ...waitOptions,
      'to-database': { type: 'string' },
      'connection-secret': { type: 'string' },
      'database-ref': { type: 'string' },
      'identity-secret': { type: 'string' },
      overwrite: { type: 'boolean', default: false },
      name: { type: 'string' },
    });
    if (values.help) {
      io.stdout.write(RESTORE_NOW_USAGE);
      return EXIT.ok;
    }
    const backup = oneName(positionals, 'Backup');
    const limitMs = timeoutMs(values.timeout);
    const connectionSecret = values['connection-secret'];
    const databaseRef = values['database-ref'];
    if ((connectionSecret === undefined) === (databaseRef === undefined)) throw new UsageError('give exactly one of --connection-secret and --database-ref');
    const identity = values['identity-secret'];
    if (identity === undefined) throw new UsageError('--identity-secret is required');
    const [identityName, identityKey = 'identity', ...extra] = identity.split(':');
    if (!identityName || extra.length > 0) throw new UsageError(`--identity-secret takes SECRET or SECRET:KEY; got "${identity}"`);
    const toDatabase = values['to-database'];
    if (toDatabase !== undefined && !/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(toDatabase)) throw new UsageError(`--to-database "${toDatabase}" is not a plain PostgreSQL database name`);
    const cluster = connect(values, io, session);
    const phase = readBackup(await getObject(cluster, backupKind, backup)).status.phase || undefined;
    if (phase !== 'Completed') io.stderr.write(`warning: backup ${backup} is ${phase ?? 'Pending'}, not Completed; the Restore waits for it or fails\n`);
    const name = values.name ?? stampedName(backup, 'restore', nowOf(io));
    const target = compact({
      databaseRef: databaseRef === undefined ? undefined : { name: databaseRef },
      connectionSecret,
      databaseName: toDatabase,
    });
    return createAndFollow(cluster, io, { json: values.json, wait: values.wait, timeout: values.timeout, limitMs }, {
      kind: restoreKind,
      read: readRestore,
      name,
      labels: { 'lokdarpan.io/trigger': 'manual' },
      spec: { backupRef: { name: backup }, target, identitySecret: { name: identityName, key: identityKey }, overwrite: values.overwrite === true },
      origin: `backup ${backup}`,
      conflict: `restore "${name}" already exists`,
    });
  });
}
