// How the plugin shows the status model to a person: the `status` report, relative times, condition
// lines and the one-line progress of a running Backup or Restore.
import { describeProgress, type TransferProgress } from '../../api/progress.ts';
import type { BackupPolicySummary, ConditionLike, RetentionPolicySummary, RetentionRunSummary, StatusReport } from './model.ts';

/** "3m ago" / "in 2h" from an RFC 3339 time. */
export function relative(iso: string | undefined, now: Date): string {
  if (iso === undefined) return '';
  const ms = Date.parse(iso) - now.getTime();
  if (Number.isNaN(ms)) return '';
  const abs = Math.abs(ms);
  const text =
    abs < 60_000 ? `${Math.round(abs / 1000)}s` : abs < 3_600_000 ? `${Math.round(abs / 60_000)}m` : abs < 172_800_000 ? `${Math.round(abs / 3_600_000)}h` : `${Math.round(abs / 86_400_000)}d`;
  return ms < 0 ? `${text} ago` : `in ${text}`;
}

function when(iso: string | undefined, now: Date, absent = 'never'): string {
  if (iso === undefined) return absent;
  return `${iso} (${relative(iso, now)})`;
}

/** "Ready=False PerformanceDegraded: validation failed", or '' without a condition. */
export const conditionText = (c: ConditionLike | undefined): string => (c ? `${c.type}=${c.status ?? '?'} ${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}` : '');

/** The status.progress of a running Backup or Restore as one line, if it has one. */
export const progressLine = (progress: TransferProgress | undefined): string | undefined => (progress === undefined ? undefined : describeProgress(progress));

/** "matched 130, deleted 120, archived 10, marked 0" of a retention run. */
export const retentionCounts = (run: RetentionRunSummary): string => `matched ${run.matched ?? 0}, deleted ${run.deleted ?? 0}, archived ${run.archived ?? 0}, marked ${run.marked ?? 0}`;

function conditionLines(conditions: ConditionLike[], indent: string): string[] {
  if (conditions.length === 0) return [`${indent}(no conditions yet: is the operator running?)`];
  const width = Math.max(...conditions.map((c) => (c.type ?? '').length));
  return conditions.map((c) => `${indent}${(c.type ?? '?').padEnd(width)}  ${(c.status ?? '?').padEnd(7)}  ${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}`);
}

function headline(conditions: ConditionLike[]): string {
  const ready = conditions.find((c) => c.type === 'Ready');
  return ready ? `Ready=${ready.status ?? '?'} (${ready.reason ?? ''})` : 'Ready=?';
}

function renderPolicy(p: BackupPolicySummary, now: Date, indent: string): string[] {
  const lines = [`${indent}BackupPolicy ${p.name}: ${headline(p.conditions)}  schedule "${p.schedule ?? '?'}" ${p.timeZone ?? 'UTC'}${p.suspend ? '  SUSPENDED' : ''}`];
  const i2 = `${indent}  `;
  lines.push(`${i2}last success: ${p.lastSuccessfulTime ? `${when(p.lastSuccessfulTime, now)} ${p.lastSuccessfulBackup ?? ''}`.trimEnd() : 'never'}`);
  lines.push(`${i2}next run:     ${when(p.nextScheduleTime, now, 'not scheduled yet')}`);
  lines.push(`${i2}failures:     ${p.consecutiveFailures ?? 0} in a row${p.lastFailedBackup ? ` (last failed: ${p.lastFailedBackup})` : ''}`);
  const replicas = p.replicas.map((r) => `${r.name}${r.verified === true ? ' verified' : r.error ? ` FAILED: ${r.error}` : r.verified === false ? ' not verified' : ''}`);
  lines.push(`${i2}destinations: ${p.destination ?? '?'} (primary)${replicas.length > 0 ? `; replicas: ${replicas.join(', ')}` : '; no replicas'}`);
  if (p.lastRestoreDrill || p.nextRestoreDrillTime) {
    const d = p.lastRestoreDrill ?? {};
    const outcome = d.succeeded === true ? 'succeeded' : d.succeeded === false ? `FAILED${d.message ? `: ${d.message}` : ''}` : '';
    const last = d.time ? `${when(d.time, now)} ${outcome}` : 'never';
    lines.push(`${i2}restore drill: last ${last}; next ${when(p.nextRestoreDrillTime, now, 'not scheduled yet')}`);
  }
  const bad = p.conditions.filter((c) => c.type !== 'Ready' && c.status === 'False');
  for (const c of bad) lines.push(`${i2}${c.type}=False ${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}`);
  if (p.recentBackups.length > 0) {
    lines.push(`${i2}recent backups:`);
    const w = Math.max(...p.recentBackups.map((b) => b.name.length));
    for (const b of p.recentBackups) {
      const extra = b.phase === 'Failed' ? `  ${b.reason ?? ''}${b.message ? `: ${b.message}` : ''}` : b.replicated === false ? '  replicas not verified' : '';
      lines.push(`${i2}  ${b.name.padEnd(w)}  ${(b.phase ?? 'Pending').padEnd(9)}  ${(b.size ?? '').padEnd(9)}  ${b.startTime ? relative(b.startTime, now) : ''}${extra}`);
    }
  }
  return lines;
}

function renderRetention(r: RetentionPolicySummary, now: Date, indent: string): string[] {
  const lines = [`${indent}RetentionPolicy ${r.name}: ${headline(r.conditions)}  schedule "${r.schedule ?? '?'}"${r.suspend ? '  SUSPENDED' : ''}${r.dryRun ? '  DRY RUN' : ''}`];
  const i2 = `${indent}  `;
  const run = r.lastRun;
  if (run === undefined) lines.push(`${i2}last run: never`);
  else {
    const counts = run.dryRun ? `would affect ${run.matched ?? 0} rows` : retentionCounts(run);
    lines.push(`${i2}last run: ${when(run.startTime, now)}: ${counts}${run.durationMs !== undefined ? ` in ${run.durationMs} ms` : ''}${run.partial ? ' (partial: the budget ran out)' : ''}`);
    for (const f of run.failedRules) lines.push(`${i2}  FAILED ${f}`);
  }
  lines.push(`${i2}next run: ${when(r.nextRunTime, now, 'not scheduled yet')}`);
  return lines;
}

export function renderStatusReport(report: StatusReport, now: Date): string {
  const lines: string[] = [];
  const ns = (namespace: string): string => (report.namespace === '*' ? `${namespace}/` : '');
  if (report.databases.length === 0 && report.otherBackupPolicies.length === 0 && report.otherRetentionPolicies.length === 0) {
    lines.push(`No LokdarpanDatabases ${report.namespace === '*' ? 'in any namespace' : `in namespace "${report.namespace}"`}.`);
  }
  for (const d of report.databases) {
    const schema = d.schemaVersion ? `schema ${d.schemaVersion}` : 'no schema yet';
    const pending = d.pendingCount !== undefined ? `, ${d.pendingCount} pending` : '';
    lines.push(`LokdarpanDatabase ${ns(d.namespace)}${d.name}: ${headline(d.conditions)}  ${schema}${pending}${d.suspend ? '  SUSPENDED' : ''}`);
    if (d.serverVersion) lines.push(`  server: PostgreSQL ${d.serverVersion}${d.pgvectorVersion ? `, pgvector ${d.pgvectorVersion}` : ''}`);
    if (d.pendingMigrations) lines.push(`  pending: ${d.pendingMigrations.join(', ')}${d.planHash ? ` (plan ${d.planHash})` : ''}`);
    lines.push('  conditions:', ...conditionLines(d.conditions, '    '));
    const v = d.views;
    lines.push(
      v === undefined
        ? '  views: not refreshed yet'
        : `  views: last refresh ${when(v.lastRefreshTime, now)}${v.lastDurationMs !== undefined ? ` in ${v.lastDurationMs} ms` : ''}${v.lastSuccessfulRefreshTime !== v.lastRefreshTime ? `; last success ${when(v.lastSuccessfulRefreshTime, now)}` : ''}; next ${when(v.nextRefreshTime, now, 'not scheduled yet')}`,
    );
    if (v?.lastError && v.lastSuccessfulRefreshTime !== v.lastRefreshTime) lines.push(`    last error: ${v.lastError}`);
    const val = d.validation;
    if (val === undefined) lines.push('  validation: not run yet');
    else {
      lines.push(`  validation: last run ${when(val.lastRunTime, now)}; next ${when(val.nextRunTime, now, 'not scheduled yet')}`);
      if (val.results.length > 0) {
        const w = Math.max(5, ...val.results.map((r) => r.query.length));
        lines.push(`    ${'query'.padEnd(w)}  ${'p95 ms'.padStart(8)}  ${'limit ms'.padStart(8)}  verdict`);
        for (const r of val.results) {
          const verdict = r.passed === true ? 'ok' : r.passed === false ? 'OVER THRESHOLD' : '?';
          lines.push(`    ${r.query.padEnd(w)}  ${String(r.p95Ms ?? '-').padStart(8)}  ${String(r.thresholdMs ?? '-').padStart(8)}  ${verdict}${r.usesIndex === false ? ' (no index used)' : ''}`);
        }
      }
    }
    if (d.backupPolicies.length === 0) lines.push('  no BackupPolicy');
    for (const p of d.backupPolicies) lines.push(...renderPolicy(p, now, '  '));
    if (d.retentionPolicies.length === 0) lines.push('  no RetentionPolicy');
    for (const r of d.retentionPolicies) lines.push(...renderRetention(r, now, '  '));
    lines.push('');
  }
  if (report.otherBackupPolicies.length > 0 || report.otherRetentionPolicies.length > 0) {
    lines.push('Policies of databases not shown above:');
    for (const p of report.otherBackupPolicies) lines.push(...renderPolicy({ ...p, name: `${ns(p.namespace)}${p.name} (database ${p.database ?? '?'})` }, now, '  '));
    for (const r of report.otherRetentionPolicies) lines.push(...renderRetention({ ...r, name: `${ns(r.namespace)}${r.name} (database ${r.database ?? '?'})` }, now, '  '));
    lines.push('');
  }
  if (report.restores.length > 0) {
    lines.push('Recent restores:');
    for (const r of report.restores) {
      const detail = r.phase === 'Failed' ? `  ${r.reason ?? ''}${r.message ? `: ${r.message}` : ''}` : r.targetDatabase ? `  into ${r.targetDatabase}` : '';
      lines.push(`  ${ns(r.namespace)}${r.name}  ${(r.phase ?? 'Pending').padEnd(9)}  backup ${r.backup ?? '(from a bucket)'}  ${r.startTime ? relative(r.startTime, now) : ''}${detail}`);
    }
    lines.push('');
  }
  return `${lines.map((l) => l.trimEnd()).join('\n').trimEnd()}\n`;
}
