// The kubectl plugin commands (src/cli/plugin.ts) against a real kube-apiserver with the CRDs: the
// wrapper written by scripts/install-kubectl-plugin.sh is put on PATH and the commands run as
// `kubectl lokdarpan ...` through the real kubectl. No operator runs: the test plays its part by
// patching statuses with `kubectl patch --subresource=status`, which is also how --wait is followed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { freePort, makeTempDir, repoRoot, startKube, type KubeEnv } from '../env/index.ts';
import { eventually } from '../wait.ts';

const NS = 'ops';
const RECIPIENT = 'age14hy4yswsc9kgmhusm4whlygudmvej3csu8sasey93y8wtykktfksqjndud';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let kube: KubeEnv;
let dir: string;
let env: Record<string, string>;

/** `kubectl lokdarpan <args>` through the real kubectl and the installed wrapper. */
function plugin(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> & { child: ReturnType<typeof spawn> } {
  const child = spawn(kube.binaries.kubectl, ['lokdarpan', ...args], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
  return Object.assign(done, { child });
}

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await kube.kubectl(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function apply(objects: object[]): Promise<void> {
  await kubectl(['apply', '-f', '-'], objects.map((o) => toYaml(o)).join('---\n'));
}

async function getJson(resource: string, name: string): Promise<Record<string, any>> {
  return JSON.parse(await kubectl(['-n', NS, 'get', resource, name, '-o', 'json'])) as Record<string, any>;
}

async function patchStatus(resource: string, name: string, status: object): Promise<void> {
  await kubectl(['-n', NS, 'patch', resource, name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

/** Resolves when the running plugin has printed `line` to stderr. */
async function printed(run: { child: ReturnType<typeof spawn> }, line: string): Promise<void> {
  await eventually(`the line "${line}"`, async () => (seen.get(run.child)?.includes(`${line}\n`) ? true : undefined));
}
const seen = new WeakMap<ReturnType<typeof spawn>, string>();

function watchStderr(run: { child: ReturnType<typeof spawn> }): void {
  seen.set(run.child, '');
  run.child.stderr?.on('data', (d: Buffer) => seen.set(run.child, `${seen.get(run.child) ?? ''}${d.toString()}`));
}

/** A status.progress as the operator writes it. */
function progressOf(bytes: number, totalBytes: number, elapsedSeconds: number): Record<string, unknown> {
  const bytesPerSecond = Math.round(bytes / elapsedSeconds);
  return {
    bytes, totalBytes, percent: Math.floor((bytes * 100) / totalBytes), bytesPerSecond, elapsedSeconds,
    etaSeconds: Math.round((totalBytes - bytes) / bytesPerSecond), updateTime: new Date().toISOString(),
  };
}

async function backupNames(): Promise<string[]> {
  const out = await kubectl(['-n', NS, 'get', 'backups', '-l', 'lokdarpan.io/backup-policy=nightly', '-o', 'jsonpath={.items[*].metadata.name}']);
  return out.split(/\s+/).filter(Boolean).sort();
}

const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') });

const noStackTrace = (text: string): void => assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+/, `no stack trace in: ${text}`);

describe('kubectl lokdarpan (plugin commands against a real kube-apiserver)', () => {
  before(async () => {
    kube = await startKube({ crds: [join(repoRoot, 'crds')], kcm: false });
    dir = await makeTempDir('kubectl-plugin');
    const bin = join(dir, 'bin');
    const install = spawnSync('bash', [join(repoRoot, 'scripts', 'install-kubectl-plugin.sh'), bin], { encoding: 'utf8' });
    assert.equal(install.status, 0, install.stderr);
    assert.match(install.stdout, /installed .*kubectl-lokdarpan/);
    env = {
      PATH: [bin, dirname(kube.binaries.kubectl), '/usr/bin', '/bin'].join(':'),
      KUBECONFIG: kube.kubeconfigPath,
      HOME: dir,
    };
    await kubectl(['create', 'namespace', NS]);
    await apply([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ward-db', namespace: NS }, stringData: { uri: 'postgres://u:p@db:5432/lokdarpan' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3', namespace: NS }, stringData: { accessKeyId: 'a', secretAccessKey: 'b' } },
      { apiVersion: 'lokdarpan.io/v1alpha1', kind: 'LokdarpanDatabase', metadata: { name: 'ward-db', namespace: NS }, spec: { connection: { secretName: 'ward-db' } } },
      {
        apiVersion: 'lokdarpan.io/v1alpha1',
        kind: 'BackupPolicy',
        metadata: { name: 'nightly', namespace: NS },
        spec: {
          databaseRef: { name: 'ward-db' },
          schedule: '0 2 * * *',
          timeZone: 'Asia/Kolkata',
          destination: { name: 'mumbai', bucket: 'backups-mumbai', credentialsSecret: 's3' },
          replicas: [{ name: 'hyderabad', bucket: 'backups-hyd', credentialsSecret: 's3' }],
          recipients: [RECIPIENT],
        },
      },
      { apiVersion: 'lokdarpan.io/v1alpha1', kind: 'RetentionPolicy', metadata: { name: 'retention', namespace: NS }, spec: { databaseRef: { name: 'ward-db' } } },
      { apiVersion: 'lokdarpan.io/v1alpha1', kind: 'BackupPolicy', metadata: { name: 'orphan', namespace: NS }, spec: { databaseRef: { name: 'gone-db' }, schedule: '0 3 * * *', destination: { name: 'mumbai', bucket: 'backups-mumbai', credentialsSecret: 's3' }, recipients: [RECIPIENT] } },
      { apiVersion: 'lokdarpan.io/v1alpha1', kind: 'Backup', metadata: { name: 'nightly-20261124-2030', namespace: NS, labels: { 'lokdarpan.io/backup-policy': 'nightly' } }, spec: { policyRef: { name: 'nightly' } } },
    ]);
    // What the operator would have written.
    await patchStatus('lokdarpandatabase', 'ward-db', {
      conditions: [
        condition('Ready', 'False', 'PerformanceDegraded', 'performance validation failed'),
        condition('SchemaReady', 'True', 'MigrationsApplied', 'schema at 005_electoral_optimization'),
        condition('ViewsFresh', 'True', 'ViewsRefreshed', 'refreshed ward_analytics_summary'),
        condition('PerformanceHealthy', 'False', 'ThresholdsMissed', 'vector_search p95 71.5 ms > 50 ms'),
      ],
      schemaVersion: '005_electoral_optimization',
      pendingCount: 0,
      server: { version: '15.18', pgvectorVersion: '0.8.0' },
      views: { lastRefreshTime: '2026-11-25T20:00:00.000Z', lastSuccessfulRefreshTime: '2026-11-25T20:00:00.000Z', lastDurationMs: 812, nextRefreshTime: '2026-11-25T21:00:00.000Z' },
      validation: {
        lastRunTime: '2026-11-25T20:30:00.000Z',
        nextRunTime: '2026-11-25T21:00:00.000Z',
        results: [
          { query: 'ward_dashboard', p95Ms: 12.4, thresholdMs: 100, passed: true, usesIndex: true },
          { query: 'vector_search', p95Ms: 71.5, thresholdMs: 50, passed: false, usesIndex: false },
        ],
      },
    });
    await patchStatus('backuppolicy', 'nightly', {
      conditions: [condition('Ready', 'True', 'BackupsHealthy', 'last backup completed'), condition('Replicated', 'False', 'ReplicaFailed', 'hyderabad: access denied')],
      lastSuccessfulBackup: 'nightly-20261124-2030',
      lastSuccessfulTime: '2026-11-24T20:31:10.000Z',
      nextScheduleTime: '2026-11-25T20:30:00.000Z',
      consecutiveFailures: 2,
      lastFailedBackup: 'nightly-20261125-0200',
    });
    await patchStatus('backup', 'nightly-20261124-2030', {
      phase: 'Completed',
      size: '1.2 MiB',
      startTime: '2026-11-24T20:30:00.000Z',
      completionTime: '2026-11-24T20:31:10.000Z',
      replicated: false,
      destinations: [
        { name: 'mumbai', verified: true },
        { name: 'hyderabad', error: 'access denied' },
      ],
    });
    await patchStatus('retentionpolicy', 'retention', {
      conditions: [condition('Ready', 'True', 'RunSucceeded', 'deleted 120 rows')],
      nextRunTime: '2026-11-26T22:00:00.000Z',
      lastRun: { startTime: '2026-11-25T22:00:00.000Z', durationMs: 950, matched: 130, deleted: 120, archived: 10, marked: 0, rules: [] },
    });
  });

  after(async () => {
    await kube?.stop();
    if (dir && !process.env['LOKDARPAN_KEEP_TMP']) rmSync(dir, { recursive: true, force: true });
  });

  test('kubectl finds the installed plugin, and --help lists the cluster commands', async () => {
    const list = spawnSync(kube.binaries.kubectl, ['plugin', 'list'], { env, encoding: 'utf8' });
    assert.match(list.stdout, /kubectl-lokdarpan/);
    const help = await plugin(['--help']);
    assert.equal(help.code, 0, help.stderr);
    for (const command of ['status', 'refresh', 'validate', 'retention-run']) assert.match(help.stdout, new RegExp(`\\b${command}\\b`));
  });

  test('status: conditions, schema, views, validation figures against thresholds, policies, backups, retention counts', async () => {
    const r = await plugin(['status', '-n', NS]);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /LokdarpanDatabase ward-db: Ready=False \(PerformanceDegraded\)\s+schema 005_electoral_optimization, 0 pending/);
    assert.match(out, /server: PostgreSQL 15\.18, pgvector 0\.8\.0/);
    assert.match(out, /PerformanceHealthy\s+False\s+ThresholdsMissed: vector_search p95 71\.5 ms > 50 ms/);
    assert.match(out, /views: last refresh 2026-11-25T20:00:00\.000Z \(.* ago\) in 812 ms; next 2026-11-25T21:00:00\.000Z/);
    assert.match(out, /ward_dashboard\s+12\.4\s+100\s+ok/);
    assert.match(out, /vector_search\s+71\.5\s+50\s+OVER THRESHOLD \(no index used\)/);
    assert.match(out, /BackupPolicy nightly: Ready=True \(BackupsHealthy\)\s+schedule "0 2 \* \* \*" Asia\/Kolkata/);
    assert.match(out, /last success: 2026-11-24T20:31:10\.000Z \(.* ago\) nightly-20261124-2030/);
    assert.match(out, /failures:\s+2 in a row \(last failed: nightly-20261125-0200\)/);
    assert.match(out, /destinations: mumbai \(primary\); replicas: hyderabad FAILED: access denied/);
    assert.match(out, /Replicated=False ReplicaFailed: hyderabad: access denied/);
    assert.match(out, /nightly-20261124-2030\s+Completed\s+1\.2 MiB/);
    assert.match(out, /RetentionPolicy retention: Ready=True \(RunSucceeded\)/);
    assert.match(out, /last run: 2026-11-25T22:00:00\.000Z .*: matched 130, deleted 120, archived 10, marked 0 in 950 ms/);
    assert.match(out, /Policies of databases not shown above:\n\s+BackupPolicy orphan \(database gone-db\)/);
  });

  test('status NAME --json: the report for one database, machine-readable', async () => {
    const r = await plugin(['status', 'ward-db', '-n', NS, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { namespace: string; databases: Array<Record<string, any>>; otherBackupPolicies: unknown[] };
    assert.equal(report.namespace, NS);
    assert.equal(report.databases.length, 1);
    const db = report.databases[0] as Record<string, any>;
    assert.equal(db['name'], 'ward-db');
    assert.equal(db['schemaVersion'], '005_electoral_optimization');
    assert.deepEqual(db['validation'].results[1], { query: 'vector_search', p95Ms: 71.5, thresholdMs: 50, passed: false, usesIndex: false });
    assert.equal(db['backupPolicies'][0].name, 'nightly');
    assert.deepEqual(db['backupPolicies'][0].replicas, [{ name: 'hyderabad', bucket: 'backups-hyd', error: 'access denied' }]);
    assert.equal(db['retentionPolicies'][0].lastRun.deleted, 120);
    assert.deepEqual(report.otherBackupPolicies, [], 'with NAME, policies of other databases are left out');
  });

  test('status -A names namespaces; a missing database is a clear error (exit 1)', async () => {
    const all = await plugin(['status', '-A']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /LokdarpanDatabase ops\/ward-db:/);
    const missing = await plugin(['status', 'nope', '-n', NS]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /lokdarpandatabase "nope" not found in namespace "ops"/);
    noStackTrace(missing.stderr);
    const empty = await plugin(['status', '-n', 'default']);
    assert.equal(empty.code, 0);
    assert.match(empty.stdout, /No LokdarpanDatabases in namespace "default"/);
  });

  test('backup POLICY creates an on-demand Backup <policy>-manual-<timestamp>', async () => {
    const before = await backupNames();
    const r = await plugin(['backup', 'nightly', '-n', NS]);
    assert.equal(r.code, 0, r.stderr);
    const created = (await backupNames()).filter((n) => !before.includes(n));
    assert.equal(created.length, 1);
    const name = created[0] as string;
    assert.match(name, /^nightly-manual-\d{8}-\d{6}$/);
    assert.match(r.stdout, new RegExp(`backup\\.lokdarpan\\.io/${name} created`));
    const backup = await getJson('backup', name);
    assert.deepEqual(backup['spec'], { policyRef: { name: 'nightly' } });
    assert.equal(backup['metadata'].labels['lokdarpan.io/trigger'], 'manual');
  });

  test('backup --wait follows the Backup: exit 0 when it completes, 1 when it fails', async () => {
    for (const [phase, code] of [['Completed', 0], ['Failed', 1]] as const) {
      const before = await backupNames();
      // A second apart, so the two manual names differ.
      await new Promise((r) => setTimeout(r, 1100));
      const running = plugin(['backup', 'nightly', '-n', NS, '--wait', '--timeout', '60s']);
      watchStderr(running);
      const name = await eventually('the manual Backup', async () => (await backupNames()).find((n) => !before.includes(n)));
      await patchStatus('backup', name, { phase: 'Running', startTime: new Date().toISOString() });
      // The operator's progress updates become progress lines.
      const MiB = 1024 * 1024;
      await patchStatus('backup', name, { progress: progressOf(100 * MiB, 1000 * MiB, 10) });
      await printed(running, `backup ${name}: Running: 100.0 MiB of ~1000.0 MiB (10%), 10.0 MiB/s, 10s elapsed, about 1m 30s left`);
      await patchStatus('backup', name, { progress: progressOf(500 * MiB, 1000 * MiB, 50) });
      await printed(running, `backup ${name}: Running: 500.0 MiB of ~1000.0 MiB (50%), 10.0 MiB/s, 50s elapsed, about 50s left`);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(running.child.exitCode, null, 'still waiting while Running');
      await patchStatus('backup', name, phase === 'Completed' ? { phase, size: '2.0 MiB' } : { phase, reason: 'PgDumpFailed', message: 'pg_dump: connection refused' });
      const r = await running;
      assert.equal(r.code, code, `${phase}: ${r.stderr}`);
      if (phase === 'Completed') assert.match(r.stdout, new RegExp(`backup ${name} completed`));
      else assert.match(r.stderr, new RegExp(`backup ${name} failed: PgDumpFailed: pg_dump: connection refused`));
      assert.match(r.stderr, /Running/, 'progress is shown');
    }
  });

  test('backup of a missing policy, or without one, fails clearly', async () => {
    const missing = await plugin(['backup', 'no-such-policy', '-n', NS]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /backuppolicy "no-such-policy" not found in namespace "ops"/);
    noStackTrace(missing.stderr);
    const usage = await plugin(['backup', 'a', 'b']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /one BackupPolicy at a time/);
    const badTimeout = await plugin(['backup', 'nightly', '--wait', '--timeout', 'soon']);
    assert.equal(badTimeout.code, 2);
  });

  test('refresh and validate set their annotations; --wait reports the outcome (validate over threshold: exit 1)', async () => {
    const refresh = plugin(['refresh', 'ward-db', '-n', NS, '--wait', '--timeout', '60s']);
    const requested = await eventually('the refresh annotation', async () => (await getJson('lokdarpandatabase', 'ward-db'))['metadata'].annotations?.['lokdarpan.io/refresh-requested-at'] as string | undefined);
    assert.ok(!Number.isNaN(Date.parse(requested)), `an RFC 3339 time: ${requested}`);
    assert.ok(Math.abs(Date.parse(requested) - Date.now()) < 30_000);
    await patchStatus('lokdarpandatabase', 'ward-db', { views: { lastRequest: requested, lastRefreshTime: '2026-11-25T22:10:00.000Z', lastSuccessfulRefreshTime: '2026-11-25T22:10:00.000Z', lastDurationMs: 640 } });
    const refreshed = await refresh;
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.match(refreshed.stdout, /views refreshed at 2026-11-25T22:10:00\.000Z in 640 ms/);

    const validate = plugin(['validate', 'ward-db', '-n', NS, '--wait', '--timeout', '60s']);
    const asked = await eventually('the validate annotation', async () => (await getJson('lokdarpandatabase', 'ward-db'))['metadata'].annotations?.['lokdarpan.io/validate-requested-at'] as string | undefined);
    await patchStatus('lokdarpandatabase', 'ward-db', {
      validation: { lastRequest: asked, lastRunTime: asked, results: [{ query: 'vector_search', p95Ms: 80, thresholdMs: 50, passed: false }] },
    });
    const validated = await validate;
    assert.equal(validated.code, 1, 'a validation over its thresholds exits 1');
    assert.match(validated.stderr, /validation failed: PerformanceHealthy=False ThresholdsMissed/);
    assert.match(validated.stderr, /vector_search p95 80 ms \(limit 50 ms\) OVER/);
  });

  test('retention-run annotates the RetentionPolicy; --wait prints the run counts', async () => {
    const running = plugin(['retention-run', 'retention', '-n', NS, '--wait', '--timeout', '60s']);
    const asked = await eventually('the run annotation', async () => (await getJson('retentionpolicy', 'retention'))['metadata'].annotations?.['lokdarpan.io/run-requested-at'] as string | undefined);
    await patchStatus('retentionpolicy', 'retention', { lastRequest: asked, lastRun: { startTime: asked, durationMs: 300, matched: 7, deleted: 5, archived: 2, marked: 0, rules: [] } });
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /retention run finished: matched 7, deleted 5, archived 2, marked 0/);
    const missing = await plugin(['retention-run', 'nope', '-n', NS]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /retentionpolicy "nope" not found/);
  });

  test('restore BACKUP creates a Restore; --wait follows it', async () => {
    const running = plugin(['restore', 'nightly-20261124-2030', '-n', NS, '--connection-secret', 'ward-db', '--identity-secret', 'backup-identity', '--to-database', 'lokdarpan_restored', '--wait', '--timeout', '60s']);
    const name = await eventually('the Restore', async () => {
      const out = await kubectl(['-n', NS, 'get', 'restores', '-o', 'jsonpath={.items[*].metadata.name}']);
      return out.split(/\s+/).find((n) => n.startsWith('nightly-20261124-2030-restore-'));
    });
    const restore = await getJson('restore', name);
    assert.deepEqual(restore['spec'], {
      backupRef: { name: 'nightly-20261124-2030' },
      target: { connectionSecret: 'ward-db', databaseName: 'lokdarpan_restored' },
      identitySecret: { name: 'backup-identity', key: 'identity' },
      overwrite: false,
      dropAfterCheck: false, // CRD defaults
      timeout: '6h',
    });
    watchStderr(running);
    await patchStatus('restore', name, { phase: 'Running', targetDatabase: 'lokdarpan_restored', progress: progressOf(3 * 1024 ** 3, 4 * 1024 ** 3, 3600) });
    await printed(running, `restore ${name}: Running: 3.0 GiB of ~4.0 GiB (75%), 873.8 KiB/s, 1h 0m elapsed, about 20m 0s left`);
    await patchStatus('restore', name, { phase: 'Completed', targetDatabase: 'lokdarpan_restored', message: 'row counts of 12 tables match' });
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`restore ${name} completed: row counts of 12 tables match`));
    const status = await plugin(['status', 'ward-db', '-n', NS]);
    assert.match(status.stdout, new RegExp(`Recent restores:\\n\\s+${name}\\s+Completed\\s+backup nightly-20261124-2030`));

    const usage = await plugin(['restore', 'nightly-20261124-2030', '-n', NS, '--identity-secret', 'x']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /exactly one of --connection-secret and --database-ref/);
  });

  test('an unreachable cluster, an unknown context and a refused token are clear errors without a stack trace', async () => {
    const port = await freePort();
    const kubeconfig = join(dir, 'unreachable.kubeconfig');
    writeFileSync(
      kubeconfig,
      toYaml({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: `https://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'u', user: { token: 'nope' } }],
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u', namespace: NS } }],
        'current-context': 'ctx',
      }),
    );
    const down = await plugin(['status'], { KUBECONFIG: kubeconfig });
    assert.equal(down.code, 1);
    assert.match(down.stderr, new RegExp(`cannot reach the Kubernetes API server at https://127\\.0\\.0\\.1:${port}`));
    noStackTrace(down.stderr);
    const down2 = await plugin(['backup', 'nightly', '--kubeconfig', kubeconfig]);
    assert.equal(down2.code, 1);
    assert.match(down2.stderr, /cannot reach the Kubernetes API server/);

    const context = await plugin(['status', '--context', 'nope']);
    assert.equal(context.code, 1);
    assert.match(context.stderr, /context "nope" is not in the kubeconfig/);

    mkdirSync(join(dir, 'bad'), { recursive: true });
    const badToken = join(dir, 'bad', 'kubeconfig');
    writeFileSync(
      badToken,
      toYaml({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: kube.server, 'certificate-authority': kube.caFile } }],
        users: [{ name: 'u', user: { token: 'not-a-token' } }],
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'ctx',
      }),
    );
    const refused = await plugin(['status', '-n', NS, '--kubeconfig', badToken]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /401 Unauthorized/);
    noStackTrace(refused.stderr);
  });

  // Last: it removes a CRD.
  test('a cluster without the CRDs is told so', async () => {
    await kubectl(['delete', 'crd', 'restores.lokdarpan.io', '--wait=true', '--timeout=60s']);
    const r = await eventually('the CRD to be gone from discovery', async () => {
      const run = await plugin(['status', '-n', NS]);
      return run.code === 0 ? undefined : run;
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the LokDarpan CustomResourceDefinitions are not installed in this cluster/);
    noStackTrace(r.stderr);
  });
});
