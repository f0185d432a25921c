// `lokdarpan status`: the report of the databases and what belongs to them.
import { backupKind, backupPolicyKind, lokdarpanDatabaseKind, restoreKind, retentionPolicyKind } from '../../../api/resources.ts';
import type { KubeObject } from '../../../runtime/kube.ts';
import { EXIT } from '../../io.ts';
import { COMMON_HELP, commonOptions, parse } from '../args.ts';
import { buildStatusReport } from '../model.ts';
import { renderStatusReport } from '../render.ts';
import { connect, guarded, listObjects, nowOf, PluginFailure, UsageError, type PluginIo } from '../session.ts';

export const STATUS_USAGE = `usage: lokdarpan status [NAME] [-n NS | -A] [--json]

A summary of LokdarpanDatabases (conditions, schema, pending migrations, view refreshes, the last
performance validation against its thresholds), their BackupPolicies (last success, next run,
failures, replicas, recent Backups), RetentionPolicies (last run counts) and recent Restores.
With NAME, only that database and what belongs to it.

  -A, --all-namespaces   every namespace
${COMMON_HELP}
`;

export async function runStatus(argv: string[], io: PluginIo): Promise<number> {
  return guarded('status', STATUS_USAGE, io, async (session) => {
    const { values, positionals } = parse(argv, { ...commonOptions, 'all-namespaces': { type: 'boolean', short: 'A', default: false } });
    if (values.help) {
      io.stdout.write(STATUS_USAGE);
      return EXIT.ok;
    }
    if (positionals.length > 1) throw new UsageError(`one database at a time; got ${positionals.join(', ')}`);
    const all = values['all-namespaces'] === true;
    if (all && values.namespace !== undefined) throw new UsageError('-n and -A do not go together');
    const only = positionals[0];
    if (only !== undefined && all) throw new UsageError('NAME needs a namespace (-n), not -A');
    const cluster = connect(values, io, session);
    const [databases, backupPolicies, backups, retentionPolicies, restores] = (await Promise.all(
      [lokdarpanDatabaseKind, backupPolicyKind, backupKind, retentionPolicyKind, restoreKind].map((kind) => listObjects(cluster, kind, all)),
    )) as [KubeObject[], KubeObject[], KubeObject[], KubeObject[], KubeObject[]];
    if (only !== undefined && !databases.some((d) => d.metadata?.name === only)) {
      throw new PluginFailure(`${lokdarpanDatabaseKind.singular} "${only}" not found in namespace "${cluster.namespace}"`);
    }
    const now = nowOf(io);
    const report = buildStatusReport(
      { databases, backupPolicies, backups, retentionPolicies, restores },
      { namespace: all ? '*' : cluster.namespace, now, ...(only === undefined ? {} : { only }) },
    );
    io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatusReport(report, now));
    return EXIT.ok;
  });
}
