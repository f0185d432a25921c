// `npm run testenv` for real: the CLI starts everything, every printed connection detail works (kubectl with
// the kubeconfig, both PostgreSQL URLs, both S3 regions with their keys and buckets), and SIGTERM stops
// everything and removes the temporary directories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import type { ConnectionDetails, RegionDetails } from '../env/cli.ts';
import { SUITE_TIMEOUT_MS } from '../wait.ts';

const cli = new URL('../env/cli.ts', import.meta.url).pathname;

async function bucketsOf(r: RegionDetails, secretAccessKey = r.secretAccessKey): Promise<string[]> {
  const s3 = new S3Client({
    endpoint: r.endpoint, region: r.region, forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: r.accessKeyId, secretAccessKey },
  });
  try {
    return ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name ?? '');
  } finally {
    s3.destroy();
  }
}

test('the testenv CLI prints working connection details and stops cleanly on SIGTERM', { timeout: SUITE_TIMEOUT_MS }, async () => {
  const child = spawn(process.execPath, [cli, '--json', '--print-timings'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const line = await new Promise<string | undefined>((resolve) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
      });
      void exited.then(() => resolve(undefined));
    });
    assert.ok(line, `the CLI printed no details:\n${stderr}`);
    const d = JSON.parse(line) as ConnectionDetails & { timings: { totalMs: number } };
    assert.ok(d.timings.totalMs > 0);

    // Kubernetes: the printed kubeconfig works with the printed kubectl.
    assert.equal(d.kubernetes.exportLine, `export KUBECONFIG=${d.kubernetes.kubeconfig}`);
    const ns = spawnSync(d.kubernetes.kubectl, ['get', 'namespace', 'default', '-o', 'name'], {
      env: { ...process.env, KUBECONFIG: d.kubernetes.kubeconfig }, encoding: 'utf8', timeout: 30_000,
    });
    assert.equal(ns.status, 0, ns.stderr);
    assert.equal(ns.stdout.trim(), 'namespace/default');

    // PostgreSQL 15 (the default): the app role owns the database and is no superuser; vector is there.
    assert.equal(d.postgres.major, 15);
    const app = new pg.Client({ connectionString: d.postgres.appUrl });
    await app.connect();
    try {
      const row = (await app.query<{ me: string; su: boolean; db: string; vector: string | null }>(
        `SELECT current_user AS me, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su,
                current_database() AS db, (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS vector`,
      )).rows[0];
      assert.deepEqual({ me: row?.me, su: row?.su, db: row?.db }, { me: d.postgres.appUser, su: false, db: d.postgres.database });
      assert.ok(row?.vector, 'the vector extension is created');
      await app.query('CREATE TABLE cli_probe (v vector(3))');
    } finally {
      await app.end();
    }
    const admin = new pg.Client({ connectionString: d.postgres.superuserUrl });
    await admin.connect();
    try {
      const su = await admin.query<{ su: boolean }>('SELECT rolsuper AS su FROM pg_roles WHERE rolname = current_user');
      assert.equal(su.rows[0]?.su, true);
    } finally {
      await admin.end();
    }

    // S3: each region's keys see its own bucket; a wrong secret is refused.
    assert.notEqual(d.s3.primary.endpoint, d.s3.secondary.endpoint);
    assert.deepEqual(await bucketsOf(d.s3.primary), [d.s3.primary.bucket]);
    assert.deepEqual(await bucketsOf(d.s3.secondary), [d.s3.secondary.bucket]);
    await assert.rejects(bucketsOf(d.s3.primary, 'wrong-secret'));

    // SIGTERM: a clean stop (exit 0) that removes every temporary directory.
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /SIGTERM: stopping\.\.\.\nstopped in/);
    for (const dir of [d.kubernetes.dir, dirname(d.postgres.logFile), dirname(d.s3.primary.logFile), dirname(d.s3.secondary.logFile)]) {
      assert.equal(existsSync(dir), false, `${dir} removed`);
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  }
});
