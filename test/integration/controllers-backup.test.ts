// The Backup, BackupPolicy and Restore controllers end to end on the real parts: kube-apiserver with the
// CRDs, the operator as a child process under its ServiceAccount, PostgreSQL (LOKDARPAN_PG_MAJOR, 15 by
// default) with a LokdarpanDatabase migrated by the operator and filled by the data generator, two S3
// regions, and the age / zstd / pg_restore CLIs. A BackupPolicy on `* * * * *` (with a restore drill
// and a webhook) backs up on its schedule and an on-demand Backup runs beside it; both land verified in
// both regions; a Restore brings one back with identical row counts, and so do the CLI tools without the
// operator; the drill runs as its own Restore and reports RestoreVerified; the webhook gets the JSON;
// no secret leaks anywhere.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ageBinary, zstdBinary } from '../env/index.ts';
import { condition, describe as describeObj, eventually, startControllersEnv, type ControllersEnv, type Obj } from './controllers-harness.ts';
import { GENEROUS_WAIT_MS, SUITE_TIMEOUT_MS } from '../wait.ts';

const run = promisify(execFile);
const POLICY = 'nightly';
const COUNTED_TABLES = ['post', '"user"', 'ward_profile', 'polling_station', 'ai_embedding_store', 'ai_model_execution', 'ai_system_metrics'];

describe('Backup, BackupPolicy and Restore controllers (real apiserver, PostgreSQL, S3, CLIs)', { timeout: SUITE_TIMEOUT_MS }, () => {
  let env: ControllersEnv;
  let db: { name: string; dbName: string; url: string };
  let webhook: Server;
  const hooks: Record<string, unknown>[] = [];
  const webhookToken = `tok-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  let onDemand: Obj;
  let scheduled: Obj;
  let sourceCounts: Record<string, number>;

  const counts = async (database: string): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const t of COUNTED_TABLES) {
      const r = await env.h.pg.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`, [], database);
      out[t] = Number(r.rows[0]?.n);
    }
    return out;
  };

  before(async () => {
    env = await startControllersEnv({ buckets: { primary: ['backups'], secondary: ['dr-backups'] } });
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (req.url === `/hook?token=${webhookToken}`) hooks.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    const port = (webhook.address() as { port: number }).port;
    const url = `http://127.0.0.1:${port}/hook?token=${webhookToken}`;
    env.trackSecret(webhookToken);
    await env.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'webhook', namespace: env.h.namespace }, stringData: { url } });
    await env.startOperator();
    db = await env.readyDatabase('lokdarpan');
    const generated = await env.h.seed(env.h.databaseOf(env.h.namespace, db.name), { posts: 3000, embeddings: 300 });
    assert.ok((generated['post'] ?? 0) >= 3000, `generated ${JSON.stringify(generated)}`);
    sourceCounts = await counts(db.dbName);
    for (const t of ['post', 'ai_embedding_store']) assert.ok((sourceCounts[t] ?? 0) > 0, `${t} has rows`);
  });

  after(async () => {
    webhook?.close();
    await env?.stop();
  });

  it('a BackupPolicy on a schedule and an on-demand Backup: both Completed, verified in both regions, conditions, kubectl columns', async () => {
    const ns = env.h.namespace;
    await env.apply({
      apiVersion: 'lokdarpan.io/v1alpha1',
      kind: 'BackupPolicy',
      metadata: { name: POLICY, namespace: ns },
      spec: {
        databaseRef: { name: db.name },
        schedule: '* * * * *',
        startingDeadline: '5m',
        destination: env.destination('primary', 'primary', 'backups'),
        replicas: [env.destination('secondary', 'dr-region', 'dr-backups', 'copies/')],
        recipients: [env.key.recipient],
        retention: { keepLast: 20, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 },
        restoreDrill: { schedule: '* * * * *', identitySecret: { name: 'age-identity' }, connectionSecret: env.superuserSecret },
        webhook: { urlSecret: { name: 'webhook' } },
      },
    });
    onDemand = await env.runBackup('ondemand-1', POLICY);
    assert.equal(onDemand.status?.['phase'], 'Completed', describeObj(onDemand));

    // The scheduled slot: `* * * * *` fires at the next minute boundary.
    scheduled = await eventually(
      'a scheduled Backup of the policy to complete',
      async () => {
        const all = await env.list('backups');
        return all.find((b) => b.metadata.labels?.['lokdarpan.io/backup-policy'] === POLICY && b.status?.['phase'] === 'Completed');
      },
      GENEROUS_WAIT_MS,
      async () => (await env.list('backups')).map(describeObj).join('\n'),
    );
    assert.match(scheduled.metadata.name, new RegExp(`^${POLICY}-\\d{8}-\\d{4}$`));
    const slot = scheduled.metadata.annotations?.['lokdarpan.io/scheduled-at'] ?? '';
    assert.equal(new Date(slot).getUTCSeconds(), 0, `slot ${slot} is a minute boundary`);

    for (const b of [onDemand, scheduled]) {
      const s = b.status ?? {};
      assert.equal(s['phase'], 'Completed', describeObj(b));
      assert.equal(s['replicated'], true, describeObj(b));
      assert.match(String(s['sha256']), /^[0-9a-f]{64}$/);
      assert.ok(Number(s['encryptedBytes']) > 10_000 && Number(s['plainBytes']) > Number(s['encryptedBytes']), `sizes ${s['plainBytes']} / ${s['encryptedBytes']}`);
      const dests = s['destinations'] as Array<{ name: string; bucket: string; key: string; verified: boolean }>;
      assert.deepEqual(dests.map((d) => [d.name, d.bucket, d.verified]), [['primary', 'backups', true], ['dr-region', 'dr-backups', true]]);
      assert.equal(condition(b, 'Succeeded')?.status, 'True');
      assert.equal(condition(b, 'Replicated')?.status, 'True');
      // Data object and manifest really are in both buckets, manifest beside the data.
      const primaryKeys = await env.keys('primary', 'backups');
      const drKeys = await env.keys('secondary', 'dr-backups');
      assert.ok(primaryKeys.includes(dests[0]!.key), `${dests[0]!.key} in ${primaryKeys.join(', ')}`);
      assert.ok(drKeys.includes(dests[1]!.key), `${dests[1]!.key} in ${drKeys.join(', ')}`);
      assert.ok(primaryKeys.includes(String(s['manifestKey'])), `manifest ${s['manifestKey']}`);
      assert.ok(drKeys.some((k) => k.startsWith('copies/') && k.endsWith(`${b.metadata.name}.manifest.json`)), `replica manifest of ${b.metadata.name}`);
      const manifest = JSON.parse((await env.getObject('primary', 'backups', String(s['manifestKey']))).toString()) as { sha256: string; tables: { table: string; rows: number }[]; server: { major: number } };
      assert.equal(manifest.sha256, s['sha256']);
      assert.equal(manifest.server.major, env.major);
      assert.equal(manifest.tables.find((t) => t.table === 'post')?.rows, sourceCounts['post']);
    }

    const policy = await env.waitFor('backuppolicies', POLICY, 'LastBackupSucceeded and Replicated True', (p) => condition(p, 'LastBackupSucceeded')?.status === 'True' && condition(p, 'Replicated')?.status === 'True');
    assert.ok(policy.status?.['lastSuccessfulBackup'], describeObj(policy));
    assert.ok(policy.status?.['nextScheduleTime']);

    const table = await env.h.kubectlOk(['get', 'backups', '-n', ns]);
    const lines = table.trim().split('\n');
    assert.match(lines[0] ?? '', /^NAME\s+POLICY\s+PHASE\s+SIZE\s+AGE$/);
    for (const b of [onDemand, scheduled]) {
      const row = lines.find((l) => l.startsWith(`${b.metadata.name} `));
      assert.match(row ?? '', new RegExp(`^${b.metadata.name}\\s+${POLICY}\\s+Completed\\s+[\\d.]+ (KiB|MiB)\\s+\\d+[sm]`), table);
    }
  });

  it('a Restore of the on-demand Backup into a fresh database: Completed, identical row counts (independent SQL)', async () => {
    const ns = env.h.namespace;
    await env.apply({
      apiVersion: 'lokdarpan.io/v1alpha1',
      kind: 'Restore',
      metadata: { name: 'restore-1', namespace: ns },
      spec: { backupRef: { name: 'ondemand-1' }, target: { connectionSecret: env.superuserSecret, databaseName: 'restored_by_operator' }, identitySecret: { name: 'age-identity' } },
    });
    const restore = await env.finished('restores', 'restore-1');
    assert.equal(restore.status?.['phase'], 'Completed', describeObj(restore));
    assert.equal(restore.status?.['targetDatabase'], 'restored_by_operator');
    assert.equal(restore.status?.['rowCountCheck']?.passed, true);
    assert.ok(restore.status?.['rowCountCheck']?.tablesChecked >= 10, describeObj(restore));
    assert.deepEqual(await counts('restored_by_operator'), sourceCounts);
    // It stays Completed (a later reconcile on a stale cached copy once turned it Failed/Interrupted).
    await new Promise((r) => setTimeout(r, 3000));
    const later = await env.get('restores', 'restore-1');
    assert.equal(later?.status?.['phase'], 'Completed', describeObj(later));
    for (const b of [onDemand, scheduled]) assert.equal((await env.get('backups', b.metadata.name))?.status?.['phase'], 'Completed', b.metadata.name);
    const vec = await env.h.pg.query<{ n: string }>(`SELECT count(*) AS n FROM ai_embedding_store WHERE embedding IS NOT NULL`, [], 'restored_by_operator');
    assert.ok(Number(vec.rows[0]?.n) > 0, 'vectors came back');
    const table = await env.h.kubectlOk(['get', 'restores', '-n', ns]);
    assert.match(table, /restore-1\s+ondemand-1\s+Completed\s+restored_by_operator/);
  });

  it('the scheduled backup restores without the operator: age -d -i KEY | zstd -d | pg_restore (CLI tools of the server major)', async () => {
    const dir = env.h.kube.dir;
    const dests = scheduled.status?.['destinations'] as Array<{ key: string }>;
    // From the secondary region's copy.
    const encrypted = join(dir, 'scheduled.age');
    await writeFile(encrypted, await env.getObject('secondary', 'dr-backups', dests[1]!.key));
    const keyFile = join(dir, 'age-key.txt');
    await writeFile(keyFile, `${env.key.identity}\n`, { mode: 0o600 });
    await env.h.pg.query('CREATE DATABASE restored_by_cli TEMPLATE template0');
    const pgRestore = join(env.h.pg.binDir, 'pg_restore');
    await run('bash', ['-c', 'set -e -o pipefail; "$AGE" -d -i "$KEY" "$IN" | "$ZSTD" -dq | "$PGR" --no-owner --exit-on-error -d restored_by_cli'], {
      env: { ...process.env, ...env.h.pg.cliEnv('restored_by_cli'), AGE: ageBinary(), ZSTD: zstdBinary(), PGR: pgRestore, KEY: keyFile, IN: encrypted },
    });
    assert.deepEqual(await counts('restored_by_cli'), sourceCounts);
  });

  it('the restore drill (* * * * *, superuser connection Secret) reports RestoreVerified and drops its scratch database', async () => {
    const policy = await env.waitFor(
      'backuppolicies',
      POLICY,
      'RestoreVerified True',
      (p) => condition(p, 'RestoreVerified')?.status === 'True' || p.status?.['lastRestoreDrill']?.succeeded === false,
      GENEROUS_WAIT_MS,
    );
    assert.equal(condition(policy, 'RestoreVerified')?.status, 'True', describeObj(policy));
    const drill = policy.status?.['lastRestoreDrill'];
    assert.equal(drill?.succeeded, true);
    assert.ok(drill?.durationMs > 0);
    assert.match(drill?.message ?? '', /row counts match/);
    // The drill ran as its own visible Restore, owned by the policy, into a scratch database it dropped.
    const drillRestore = await env.get('restores', String(drill?.restore));
    assert.ok(drillRestore, `drill Restore ${drill?.restore}`);
    assert.equal(drillRestore.metadata.labels?.['lokdarpan.io/restore-drill-of'], POLICY);
    assert.deepEqual((drillRestore.metadata as { ownerReferences?: Array<{ kind: string; name: string }> }).ownerReferences?.map((o) => [o.kind, o.name]), [['BackupPolicy', POLICY]]);
    assert.equal(drillRestore.spec?.['dropAfterCheck'], true);
    assert.equal(drillRestore.status?.['phase'], 'Completed', describeObj(drillRestore));
    const scratch = await env.h.pg.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'lokdarpan_drill%'`);
    assert.deepEqual(scratch.rows, [], 'the scratch database is dropped');
    const events = await env.events(POLICY);
    assert.ok(events.some((e) => e.reason === 'RestoreDrillPassed'), events.map((e) => e.reason).join(', '));
  });

  it('the webhook (URL from a Secret) receives the BackupFinished JSON', async () => {
    const hook = await eventually('webhook for ondemand-1', async () => hooks.find((x) => x['backup'] === 'ondemand-1'), GENEROUS_WAIT_MS, () => JSON.stringify(hooks));
    assert.equal(hook['kind'], 'BackupFinished');
    assert.equal(hook['policy'], POLICY);
    assert.equal(hook['namespace'], env.h.namespace);
    assert.equal(hook['phase'], 'Completed');
    assert.equal(hook['sha256'], onDemand.status?.['sha256']);
    assert.deepEqual(hook['destinations'], [{ name: 'primary', verified: true }, { name: 'dr-region', verified: true }]);
    assert.ok(hooks.some((x) => x['backup'] === scheduled.metadata.name), 'the scheduled backup notified too');
  });

  it('no secret (S3 keys, DB passwords, age identity, webhook token) appears in logs, events or statuses', async () => {
    await env.delete('backuppolicies', POLICY);
    await env.assertNoSecretsLeaked();
  });
});
