// The embedded local setup behind `bash scripts/start.sh`: the operator against the current kubeconfig
// when a cluster answers (src/cli/local.ts); otherwise it starts the test environment's parts
// (kube-apiserver + etcd + controller manager, PostgreSQL with pgvector, two S3 regions, all on loopback),
// installs the CRDs, applies a LokdarpanDatabase, a two-region BackupPolicy, an on-demand Backup and a
// RetentionPolicy, fills the database with synthetic data, runs the operator in this process and prints
// each resource's status as it changes. Ctrl-C stops everything. Development only: it is outside src/, so
// the image (which has no test/) never loads it.
//
//   node test/env/local.ts [--embedded]
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { createConnector } from '../../src/adapters/postgres/index.ts';
import { clusterAnswers, runLocalCli } from '../../src/cli/local.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { generateLokdarpanData } from '../../src/engines/datagen/index.ts';
import { configFromEnv } from '../../src/operator/config.ts';
import { startOperator } from '../../src/operator/operator.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { runUntilStopped } from '../../src/runtime/manager.ts';
import * as env from './index.ts';

/** Runs against a cluster when one answers (and --embedded is not given), else the embedded setup. */
export async function runLocal(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write('usage: node test/env/local.ts [--embedded]\n\nThe operator against the current kubeconfig when a cluster answers; otherwise, or with --embedded, an embedded\nlocal setup on loopback with the examples applied. Ctrl-C stops everything.\n');
    return 0;
  }
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromDefault();
  } catch {
    // no kubeconfig: embedded
  }
  if (!argv.includes('--embedded') && (await clusterAnswers(kubeConfig))) return runLocalCli(argv, io);
  return runEmbedded(io, (line) => void io.stdout.write(`${line}\n`));
}

export async function runEmbedded(io: CliIo, say: (line: string) => void): Promise<number> {
  const started = Date.now();
  say('no cluster answers: starting the embedded setup (control plane, PostgreSQL 15 + pgvector, two S3 regions)');
  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of cleanups.reverse()) await stop().catch(() => {});
  };
  try {
    const kube = await env.startKube({ crds: ['crds/'] });
    cleanups.push(() => kube.stop());
    say(`  control plane ready (${kube.timings.totalMs} ms); kubectl: export KUBECONFIG=${kube.kubeconfigPath}`);
    const pg = await env.startPostgres({ major: 15 });
    cleanups.push(() => pg.stop());
    const db = await pg.createDatabase({ name: 'lokdarpan', withVector: true });
    say(`  PostgreSQL ${pg.version} on 127.0.0.1:${pg.port}, database lokdarpan (role ${db.appUser})`);
    const { primary, secondary } = await env.startTwoRegions();
    cleanups.push(() => primary.stop(), () => secondary.stop());
    await primary.createBucket('lokdarpan-backups-mumbai', { versioning: true }); // examples/backuppolicy.yaml requires versioning
    await secondary.createBucket('lokdarpan-backups-hyderabad');
    say(`  S3 regions: ${primary.endpoint} (${primary.region}), ${secondary.endpoint} (${secondary.region})`);
    const keys = (await promisify(execFile)(env.ageKeygenBinary(), [])).stdout;
    const recipient = /public key: (age1\S+)/.exec(keys)?.[1] ?? '';
    const identity = keys.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-')) ?? '';
    const identityFile = join(kube.dir, 'backup-identity.txt');
    await writeFile(identityFile, `${keys}\n`, { mode: 0o600 });
    say(`  age key pair for the backups: recipient ${recipient}; identity in ${identityFile}`);

    const manifests = localManifests({
      appUrl: db.appUrl,
      adminUrl: pg.url(pg.superuser.user, pg.superuser.password, 'postgres'),
      primary, secondary, recipient, identity,
    });
    const applied = await kube.kubectl(['apply', '-f', '-'], { input: manifests });
    if (applied.code !== 0) throw new Error(`applying the local resources failed: ${applied.stderr}`);
    say('  applied: namespace lokdarpan, LokdarpanDatabase lokdarpan, BackupPolicy lokdarpan-nightly, RetentionPolicy lokdarpan-retention');

    const logFile = join(kube.dir, 'operator.log');
    const { createWriteStream } = await import('node:fs');
    const logStream = createWriteStream(logFile, { flags: 'a' });
    const config = configFromEnv({ ...io.env, LOKDARPAN_METRICS_HOST: '127.0.0.1', LOKDARPAN_METRICS_PORT: String(await env.freePort()), LOKDARPAN_PG_BIN_DIRS: `15=${env.pgBinDir(15)}` });
    const running = await startOperator(config, { kubeConfig: kube.kubeConfig(), logger: createLogger({ level: config.logLevel, destination: logStream }) });
    say(`  operator running (metrics http://127.0.0.1:${running.health.port}/metrics, log ${logFile}); setup took ${Math.round((Date.now() - started) / 1000)} s`);

    const watcher = watchStatuses(kube, say);
    await waitForReady(kube);
    const client = await createConnector({ connectionString: db.appUrl }).connect();
    try {
      const counts = await generateLokdarpanData(client, { seed: 'local', posts: 5000, embeddings: 200, modelExecutions: 3000, reports: 100, metrics: 1000 });
      say(`  seeded: ${Object.entries(counts).map(([t, n]) => `${t} ${n}`).join(', ')}`);
    } finally {
      await client.end();
    }
    const now = new Date().toISOString();
    await kube.kubectl(['-n', 'lokdarpan', 'apply', '-f', '-'], { input: `${backupManifest('lokdarpan-first')}---\n${restoreManifest('lokdarpan-first')}` });
    await kube.kubectl(['-n', 'lokdarpan', 'annotate', '--overwrite', 'retentionpolicy/lokdarpan-retention', `lokdarpan.io/run-requested-at=${now}`]);
    await kube.kubectl(['-n', 'lokdarpan', 'annotate', '--overwrite', 'lokdarpandatabase/lokdarpan', `lokdarpan.io/refresh-requested-at=${now}`, `lokdarpan.io/validate-requested-at=${now}`]);
    say('  requested: a Backup now (and a Restore of it into lokdarpan_restored), a retention run, a view refresh and a performance validation');
    say(`\nwatching status (Ctrl-C stops everything). In another shell: export KUBECONFIG=${kube.kubeconfigPath}; kubectl get lokdarpan -n lokdarpan\n`);
    const exit = await runUntilStopped(running.manager);
    watcher.stop();
    logStream.end();
    return exit.code;
  } finally {
    say('stopping the embedded setup');
    await stopAll();
  }
}

interface LocalParts {
  appUrl: string;
  adminUrl: string;
  primary: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  secondary: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  recipient: string;
  identity: string;
}

function localManifests(p: LocalParts): string {
  const secret = (name: string, data: Record<string, string>): string =>
    `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}, namespace: lokdarpan}\nstringData:\n${Object.entries(data).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n')}\n`;
  const destination = (name: string, bucket: string, s: LocalParts['primary'], secretName: string): string =>
    `{name: ${name}, bucket: ${bucket}, endpoint: "${s.endpoint}", region: ${s.region}, forcePathStyle: true, credentialsSecret: ${secretName}}`;
  return [
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: lokdarpan}\n',
    secret('lokdarpan-db', { uri: p.appUrl }),
    secret('lokdarpan-admin', { uri: p.adminUrl }),
    secret('s3-mumbai', { accessKeyId: p.primary.accessKeyId, secretAccessKey: p.primary.secretAccessKey }),
    secret('s3-hyderabad', { accessKeyId: p.secondary.accessKeyId, secretAccessKey: p.secondary.secretAccessKey }),
    secret('backup-identity', { identity: p.identity }),
    lokdarpanResource('LokdarpanDatabase', 'lokdarpan', `  connection: {secretName: lokdarpan-db}
  views: {refreshSchedule: "*/5 * * * *", timeZone: Asia/Kolkata}
  validation: {schedule: "*/10 * * * *", timeZone: Asia/Kolkata}
`),
    lokdarpanResource('BackupPolicy', 'lokdarpan-nightly', `  databaseRef: {name: lokdarpan}
  schedule: "0 2 * * *"
  timeZone: Asia/Kolkata
  destination: ${destination('mumbai', 'lokdarpan-backups-mumbai', p.primary, 's3-mumbai')}
  replicas:
    - ${destination('hyderabad', 'lokdarpan-backups-hyderabad', p.secondary, 's3-hyderabad')}
  recipients: ["${p.recipient}"]
  retention: {keepLast: 3, keepDaily: 7}
  restoreDrill:
    schedule: "30 2 * * *"
    timeZone: Asia/Kolkata
    identitySecret: {name: backup-identity}
    connectionSecret: lokdarpan-admin
`),
    lokdarpanResource('RetentionPolicy', 'lokdarpan-retention', `  databaseRef: {name: lokdarpan}
  schedule: "30 3 * * *"
  timeZone: Asia/Kolkata
`),
  ].join('---\n');
}

/** A lokdarpan.io resource in the lokdarpan namespace; `spec` is YAML indented as under `spec:`. */
function lokdarpanResource(kind: string, name: string, spec: string): string {
  return `apiVersion: lokdarpan.io/v1alpha1\nkind: ${kind}\nmetadata: {name: ${name}, namespace: lokdarpan}\nspec:\n${spec}`;
}

function backupManifest(name: string): string {
  return lokdarpanResource('Backup', name, '  policyRef: {name: lokdarpan-nightly}\n');
}

function restoreManifest(backup: string): string {
  return lokdarpanResource('Restore', `${backup}-check`, `  backupRef: {name: ${backup}}
  target: {connectionSecret: lokdarpan-admin, databaseName: lokdarpan_restored}
  identitySecret: {name: backup-identity}
`);
}

async function waitForReady(kube: { kubectl(args: string[]): Promise<{ code: number; stderr: string }> }): Promise<void> {
  const waited = await kube.kubectl(['-n', 'lokdarpan', 'wait', '--for=condition=Ready', 'lokdarpandatabase/lokdarpan', '--timeout=120s']);
  if (waited.code !== 0) throw new Error(`the database did not become Ready: ${waited.stderr}`);
}

/** Prints one line per resource whenever its phase/condition summary changes. */
function watchStatuses(kube: { kubectl(args: string[]): Promise<{ code: number; stdout: string }> }, say: (line: string) => void): { stop(): void } {
  const last = new Map<string, string>();
  const kinds = 'lokdarpandatabases,backuppolicies,backups,restores,retentionpolicies';
  const tick = async (): Promise<void> => {
    const listed = await kube.kubectl(['-n', 'lokdarpan', 'get', kinds, '-o', 'json']);
    if (listed.code !== 0) return;
    for (const item of (JSON.parse(listed.stdout) as { items: Array<Record<string, any>> }).items) {
      const id = `${item['kind']}/${item['metadata'].name}`;
      const status = item['status'] ?? {};
      const ready = (status.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
      const summary = [
        status.phase ? `phase=${status.phase}` : undefined,
        ready ? `Ready=${ready.status} (${ready.reason}): ${ready.message}` : 'no status yet',
      ].filter(Boolean).join(' ');
      if (last.get(id) !== summary) {
        last.set(id, summary);
        say(`${new Date().toISOString().slice(11, 19)}  ${id.padEnd(40)} ${summary}`);
      }
    }
  };
  const timer = setInterval(() => void tick().catch(() => {}), 2000);
  void tick().catch(() => {});
  return { stop: () => clearInterval(timer) };
}

if (import.meta.main) {
  const repoRoot = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
  process.exitCode = await runLocal(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, repoRoot });
}
