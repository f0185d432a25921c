// The shipped backup alerts judged against what the running operator really exports: the operator
// (child process, leader election on, real apiserver, PostgreSQL, two S3 regions) runs a completed
// backup, a backup whose replica is refused (wrong credentials), failed backups, and a deleted
// BackupPolicy; after each, /metrics is scraped (with the job and instance labels Prometheus adds)
// and the alert expressions of manifests/observability/prometheusrule.yaml are evaluated on it with
// the one-scrape evaluator (test/unit/observability/promql-eval.ts). `for:` durations are not
// modelled: "fires" here means the expression is non-empty, i.e. the alert would go pending.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { eventually } from './operator-harness.ts';
import { condition, describe as describeObj, pgDumpControl, startControllersEnv, type ControllersEnv, type Obj, type OperatorProcess } from './controllers-harness.ts';
import { evaluate, parseExposition, type Sample } from '../unit/observability/promql-eval.ts';
import { GENEROUS_WAIT_MS, SUITE_TIMEOUT_MS } from '../wait.ts';

const BUCKET = 'alerts-backups';
const DR_BUCKET = 'alerts-dr';
const JOB = 'lokdarpan-operator-metrics';

const rules = new Map(
  (parseYaml(readFileSync(new URL('../../manifests/observability/prometheusrule.yaml', import.meta.url), 'utf8')) as {
    spec: { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  }).spec.groups
    .flatMap((g) => g.rules)
    .map((r) => [r.alert, r.expr]),
);

describe('the shipped backup alerts against the operator\'s /metrics', { timeout: SUITE_TIMEOUT_MS }, () => {
  let env: ControllersEnv;
  let operator: OperatorProcess;
  let db: { name: string };
  const v1 = 'lokdarpan.io/v1alpha1';

  const scrape = async (): Promise<Sample[]> => {
    const { status, body } = await operator.http('/metrics');
    assert.equal(status, 200);
    return parseExposition(body, { job: JOB, instance: `127.0.0.1:${operator.metricsPort}` });
  };
  /** The alert's result for one policy (labels namespace and policy). */
  const alert = (name: string, samples: Sample[], policy: string, time = new Date()): Sample[] => {
    const expr = rules.get(name);
    assert.ok(expr, `alert ${name} is shipped`);
    return evaluate(expr, samples, { time }).filter((s) => s.labels['namespace'] === env.h.namespace && s.labels['policy'] === policy);
  };
  const series = (samples: Sample[], policy: string): Sample[] => samples.filter((s) => s.labels['namespace'] === env.h.namespace && s.labels['policy'] === policy);
  const value = (samples: Sample[], name: string, labels: Record<string, string>): number | undefined =>
    samples.find((s) => s.labels['__name__'] === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  /** Scrapes until `ready` holds for the samples (the recording follows the status write). */
  const scrapeUntil = (what: string, ready: (samples: Sample[]) => boolean): Promise<Sample[]> => {
    let last: Sample[] = [];
    return eventually(
      what,
      async () => {
        last = await scrape();
        return ready(last) ? last : undefined;
      },
      GENEROUS_WAIT_MS,
      () => `lokdarpan_backup* series now:\n${last.filter((s) => /^lokdarpan_(backup|restore)/.test(s.labels['__name__'] ?? '') && !s.labels['le']).map((s) => `${JSON.stringify(s.labels)} ${s.value}`).join('\n')}`,
    );
  };
  const policy = (name: string, replica: Record<string, unknown>): Promise<void> =>
    env.apply({
      apiVersion: v1,
      kind: 'BackupPolicy',
      metadata: { name, namespace: env.h.namespace },
      // A yearly schedule: nothing runs by itself during the test; the expected interval is one year.
      spec: { databaseRef: { name: db.name }, schedule: '0 0 1 1 *', destination: env.destination('primary', 'primary', BUCKET, `${name}/`), replicas: [replica], recipients: [env.key.recipient] },
    });
  const backup = (name: string, policyName: string): Promise<Obj> => env.runBackup(name, policyName);

  before(async () => {
    env = await startControllersEnv({ buckets: { primary: [BUCKET], secondary: [DR_BUCKET] } });
    await env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3-wrong', namespace: env.h.namespace }, stringData: { accessKeyId: 'LOKNOSUCHKEY', secretAccessKey: 'not-the-secret-key' } });
    // Leader election on, as deployed: the state alerts keep only the leader's series.
    operator = await env.startOperator({ env: { LOKDARPAN_LEADER_ELECTION: 'true' } });
    db = await env.readyDatabase('alertsdb');
    await scrapeUntil('the operator leads', (s) => value(s, 'leader_election_master_status', {}) === 1);
  });

  after(async () => {
    pgDumpControl(env?.wrapperDir ?? '/nonexistent', {});
    await env?.stop();
  });

  it('a completed backup with a verified replica: no backup alert now; Missing once 1.5x the schedule has passed', async () => {
    await policy('healthy', env.destination('secondary', 'dr', DR_BUCKET, 'healthy/'));
    const b = await backup('healthy-1', 'healthy');
    assert.equal(b.status?.['phase'], 'Completed', describeObj(b));
    assert.equal(condition(b, 'Ready')?.status, 'True', describeObj(b));
    const samples = await scrapeUntil('healthy: success and expected interval recorded', (s) =>
      value(s, 'lokdarpan_backup_last_success_timestamp_seconds', { policy: 'healthy' }) !== undefined && value(s, 'lokdarpan_backup_expected_interval_seconds', { policy: 'healthy' }) !== undefined,
    );
    assert.equal(value(samples, 'lokdarpan_backup_replica_verified', { policy: 'healthy', destination: 'dr' }), 1);
    assert.deepEqual(alert('LokdarpanBackupReplicaFailing', samples, 'healthy'), []);
    assert.deepEqual(alert('LokdarpanBackupFailing', samples, 'healthy'), []);
    assert.deepEqual(alert('LokdarpanBackupMissing', samples, 'healthy'), []);
    const interval = value(samples, 'lokdarpan_backup_expected_interval_seconds', { policy: 'healthy' }) ?? 0;
    assert.ok(interval >= 365 * 86400, `a yearly schedule's longest gap: ${interval}`);
    const later = new Date(Date.now() + 2 * interval * 1000);
    assert.equal(alert('LokdarpanBackupMissing', samples, 'healthy', later).length, 1, 'no new backup for two years: Missing');
  });

  it('a backup whose replica is refused: ReplicaFailing names the policy and destination; two failed backups: Failing', async () => {
    await policy('refused', { ...env.destination('secondary', 'dr', DR_BUCKET, 'refused/'), credentialsSecret: 's3-wrong' });
    const b = await backup('refused-1', 'refused');
    assert.equal(b.status?.['phase'], 'Completed', describeObj(b));
    assert.equal(b.status?.['replicated'], false, describeObj(b));
    let samples = await scrapeUntil('refused: replica recorded', (s) => value(s, 'lokdarpan_backup_replica_verified', { policy: 'refused', destination: 'dr' }) !== undefined);
    assert.equal(value(samples, 'lokdarpan_backup_replica_verified', { policy: 'refused', destination: 'dr' }), 0);
    assert.ok(
      samples.some((s) => s.labels['__name__'] === 'lokdarpan_backup_replica_failures_total' && s.labels['policy'] === 'refused' && s.labels['destination'] === 'dr' && s.value >= 1),
      'a replica failure counted with its reason',
    );
    const firing = alert('LokdarpanBackupReplicaFailing', samples, 'refused');
    assert.deepEqual(
      firing.map((s) => s.labels),
      [{ namespace: env.h.namespace, policy: 'refused', destination: 'dr' }],
    );
    assert.deepEqual(alert('LokdarpanBackupReplicaFailing', samples, 'healthy'), [], 'only the policy whose replica failed');
    assert.deepEqual(alert('LokdarpanBackupMissing', samples, 'refused'), [], 'the primary copy exists: the backup is not missing');

    pgDumpControl(env.wrapperDir, { fail: true });
    try {
      for (const name of ['refused-2', 'refused-3']) {
        const failed = await backup(name, 'refused');
        assert.equal(failed.status?.['phase'], 'Failed', describeObj(failed));
      }
    } finally {
      pgDumpControl(env.wrapperDir, {});
    }
    samples = await scrapeUntil('refused: two failures in a row', (s) => (value(s, 'lokdarpan_backup_consecutive_failures', { policy: 'refused' }) ?? 0) >= 2);
    assert.deepEqual(
      alert('LokdarpanBackupFailing', samples, 'refused').map((s) => s.value),
      [2],
    );
    assert.deepEqual(alert('LokdarpanBackupFailing', samples, 'healthy'), []);
  });

  it('a deleted BackupPolicy: its series are gone and none of its alerts fire, now or later; the other policy\'s stay', async () => {
    await env.delete('backuppolicies', 'refused');
    const samples = await scrapeUntil('no series of the deleted policy', (s) => series(s, 'refused').length === 0);
    const later = new Date(Date.now() + 3 * 366 * 86400 * 1000);
    for (const name of ['LokdarpanBackupReplicaFailing', 'LokdarpanBackupFailing', 'LokdarpanBackupMissing', 'LokdarpanRestoreDrillFailing', 'LokdarpanRestoreDrillStale', 'LokdarpanPolicyCheckFailing']) {
      assert.deepEqual(alert(name, samples, 'refused'), [], `${name} now`);
      assert.deepEqual(alert(name, samples, 'refused', later), [], `${name} later`);
    }
    assert.ok(series(samples, 'healthy').length > 0, 'the other policy keeps its series');

    // A Backup that still names the deleted policy fails, and brings none of its series back.
    const orphan = await backup('refused-orphan', 'refused');
    assert.equal(orphan.status?.['phase'], 'Failed', describeObj(orphan));
    const afterOrphan = await scrape();
    assert.deepEqual(series(afterOrphan, 'refused').map((s) => s.labels['__name__']), [], 'no series of the deleted policy after its orphan Backup failed');
    assert.deepEqual(alert('LokdarpanBackupFailing', afterOrphan, 'refused'), []);
    assert.equal(alert('LokdarpanBackupMissing', samples, 'healthy', later).length, 1);
    await env.assertNoSecretsLeaked();
  });
});
