// The "Restore without the operator" procedure of docs/operations.md, executed step by step against a
// real PostgreSQL (LOKDARPAN_PG_MAJOR, 15 by default) and a real S3 server (SeaweedFS): a migrated
// LokDarpan database filled by the data generator is backed up by the backup engine, then the doc's
// ```bash restore-step blocks (taken from the page itself, so the doc cannot drift from what is
// tested) and scripts/restore-without-operator.sh restore it with curl, jq, sha256sum, age, zstd, psql
// and pg_restore; every table's row count must equal the source's. A tampered object and a non-empty
// target are refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type PostgresServer, type TestDatabase } from '../env/postgres.ts';
import { startS3, type S3Server } from '../env/s3.ts';
import { repoRoot } from '../env/process.ts';
import { generateIdentity } from '../../src/adapters/age/index.ts';
import { createConnector } from '../../src/adapters/postgres/connection.ts';
import { pgBackupSource } from '../../src/adapters/pgdump/index.ts';
import type { S3ObjectStore } from '../../src/adapters/s3/index.ts';
import { runBackup, type BackupResult } from '../../src/engines/backup/index.ts';
import { createMigrationEngine } from '../../src/engines/migrations/index.ts';
import { generateLokdarpanData } from '../../src/engines/datagen/index.ts';
import { restoreProcedureSteps } from '../unit/docs/restore-procedure.ts';
import { adminTarget, storeOn } from './backup-fixture.ts';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runBash(args: string[], env: Record<string, string>, input?: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', args, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

describe('docs/operations.md: restore without the operator (real PostgreSQL, S3, age, zstd, pg_restore)', () => {
  let server: PostgresServer | undefined;
  let s3: S3Server | undefined;
  let store: S3ObjectStore | undefined;
  let db: TestDatabase;
  let dir = '';
  let older: BackupResult;
  let backup: BackupResult;
  let olderCounts: Record<string, number>;
  let sourceCounts: Record<string, number>;
  let baseEnv: Record<string, string>;
  const key = generateIdentity();
  const other = generateIdentity();

  /** Exact row counts of every user table and materialized view of `database`. */
  const countsOf = async (database: string): Promise<Record<string, number>> => {
    const client = new pg.Client(server!.adminConfig(database));
    await client.connect();
    try {
      const { rows } = await client.query<{ schema: string; name: string }>(
        `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
         ORDER BY 1, 2`,
      );
      const counts: Record<string, number> = {};
      for (const r of rows) {
        const q = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${r.schema}"."${r.name}"`);
        counts[`${r.schema}.${r.name}`] = Number(q.rows[0]?.n);
      }
      return counts;
    } finally {
      await client.end();
    }
  };
  const databaseExists = async (name: string): Promise<boolean> =>
    (await server!.query<{ n: string }>('SELECT count(*) AS n FROM pg_database WHERE datname = $1', [name])).rows[0]?.n === '1';

  before(async () => {
    const [p, s] = await Promise.allSettled([startPostgres(), startS3({ name: 'docs-restore', region: 'ap-south-1' })]);
    if (p.status === 'fulfilled') server = p.value;
    if (s.status === 'fulfilled') s3 = s.value;
    if (p.status === 'rejected') throw p.reason;
    if (s.status === 'rejected') throw s.reason;
    await s3!.createBucket('backups');
    store = storeOn(s3!, 'primary', 'backups', 'lokdarpan/prod/');
    db = await server!.createDatabase({ withVector: true, withOwnerRole: false });
    const engine = createMigrationEngine({ connection: createConnector({ connectionString: db.url }), migrationsDir: join(repoRoot, 'migrations'), instance: 'docs-restore-test' });
    try {
      await engine.up({});
    } finally {
      await engine.close();
    }
    const client = new pg.Client(server!.adminConfig(db.name));
    await client.connect();
    try {
      await generateLokdarpanData(client, { seed: 'docs-restore', posts: 400, embeddings: 30, modelExecutions: 60, reports: 12, metrics: 40, users: 8, years: 1, now: new Date('2026-11-20T06:30:00Z') });
      await client.query('REFRESH MATERIALIZED VIEW ward_analytics_summary; REFRESH MATERIALIZED VIEW daily_ward_trends');
    } finally {
      await client.end();
    }
    const takeBackup = (backupId: string): Promise<BackupResult> =>
      runBackup({
        source: pgBackupSource(adminTarget(server!, db.name), { binDirs: { [server!.major]: server!.binDir } }),
        primary: store!,
        replicas: [],
        recipients: [other.recipient, key.recipient],
        database: 'lokdarpan',
        backupId,
      });
    // Two backups: the older one's id sorts last, so "the newest" must come from the objects' times.
    olderCounts = await countsOf(db.name);
    older = await takeBackup('zz-manual-before-cleanup');
    await server!.query('DELETE FROM ai_model_execution WHERE id IN (SELECT id FROM ai_model_execution ORDER BY id LIMIT 7)', [], db.name);
    await new Promise((r) => setTimeout(r, 1_100));
    sourceCounts = await countsOf(db.name);
    backup = await takeBackup('lokdarpan-nightly-20261125-2030');
    dir = await mkdtemp(join(tmpdir(), 'lokdarpan-docs-restore-'));
    await writeFile(join(dir, 'key.txt'), `# created: by the test\n# public key: ${key.recipient}\n${key.identity}\n`, { mode: 0o600 });
    const c = s3!.connection();
    baseEnv = {
      S3_BUCKET_URL: `${c.endpoint}/backups`,
      S3_REGION: c.region,
      AWS_ACCESS_KEY_ID: c.accessKeyId,
      AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
      AGE_IDENTITY_FILE: join(dir, 'key.txt'),
      PG_BIN: server!.binDir,
    };
  });

  after(async () => {
    store?.destroy();
    await Promise.allSettled([server?.stop(), s3?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the source holds LokDarpan data in every table the manifest lists', () => {
    const tables = backup.manifest.tables;
    assert.ok(tables.length >= 15, `only ${tables.length} tables`);
    for (const t of tables) assert.equal(t.rows, sourceCounts[`${t.schema}.${t.table}`], `${t.schema}.${t.table}`);
    assert.equal((olderCounts['public.ai_model_execution'] ?? 0) - 7, sourceCounts['public.ai_model_execution']);
    assert.ok((sourceCounts['public.post'] ?? 0) >= 400);
    assert.ok((sourceCounts['public.ai_embedding_store'] ?? 0) >= 30);
  });

  it('runs the documented steps one by one: the newest manifest is found, checked, decrypted, restored, counted', async () => {
    const steps = await restoreProcedureSteps();
    assert.ok(steps.length >= 8, `docs/operations.md has ${steps.length} restore-step blocks`);
    // Each step in order, in one shell (the steps share variables, as in the on-call's terminal).
    const script = ['set -euo pipefail', ...steps.flatMap((s, i) => [`echo "::step ${i + 1}::" >&2`, s]), 'echo "::done::" >&2'].join('\n');
    const ran = await runBash(['-s'], {
      ...baseEnv,
      BACKUP_PREFIX: 'lokdarpan/prod/lokdarpan/',
      TARGET_DATABASE_URL: server!.url(server!.superuser.user, server!.superuser.password, 'restored_from_docs'),
      WORK_DIR: join(dir, 'docs'),
    }, script);
    const reached = [...ran.stderr.matchAll(/::step (\d+)::/g)].map((m) => Number(m[1]));
    assert.equal(ran.code, 0, `failed in step ${reached.at(-1)}:\n${ran.stderr}\n${ran.stdout}`);
    assert.deepEqual(reached, steps.map((_, i) => i + 1));
    assert.match(ran.stderr, /::done::/);
    assert.match(ran.stdout, new RegExp(`backup ${backup.id} of database lokdarpan`));
    assert.match(ran.stdout, new RegExp(`SHA-256 ${backup.manifest.sha256} matches the manifest`));
    assert.match(ran.stdout, new RegExp(`${backup.manifest.tables.length} tables checked, 0 mismatches`));
    assert.deepEqual(await countsOf('restored_from_docs'), sourceCounts);
    const downloaded = await readFile(join(dir, 'docs', 'manifest.json'), 'utf8');
    assert.equal(JSON.parse(downloaded).id, backup.id);
  });

  it('scripts/restore-without-operator.sh restores the older backup by its manifest key', async () => {
    const ran = await runBash([join(repoRoot, 'scripts', 'restore-without-operator.sh'), '--manifest-key', older.manifestKey, '--target-url', server!.url(server!.superuser.user, server!.superuser.password, 'restored_by_script'), '--work-dir', join(dir, 'script')], baseEnv);
    assert.equal(ran.code, 0, `${ran.stderr}\n${ran.stdout}`);
    assert.match(ran.stdout, new RegExp(`backup ${older.id} of database lokdarpan`));
    assert.match(ran.stdout, /0 mismatches/);
    assert.deepEqual(await countsOf('restored_by_script'), olderCounts);
  });

  it('the S3 requests are really signed: wrong credentials are refused', async () => {
    const steps = await restoreProcedureSteps();
    const ran = await runBash(['-s'], { ...baseEnv, AWS_SECRET_ACCESS_KEY: 'not-the-secret', MANIFEST_KEY: backup.manifestKey, WORK_DIR: join(dir, 'wrong-secret') }, ['set -euo pipefail', steps[0]!, steps[1]!].join('\n'));
    assert.notEqual(ran.code, 0);
    assert.match(ran.stderr, /curl: \(22\) The requested URL returned error: 403/);
  });

  it('step 8 reports a table whose row count differs from the manifest', async () => {
    await server!.query('DELETE FROM ai_model_execution WHERE id IN (SELECT id FROM ai_model_execution ORDER BY id LIMIT 3)', [], 'restored_by_script');
    const steps = await restoreProcedureSteps();
    const expected = olderCounts['public.ai_model_execution']!;
    const ran = await runBash(['-s'], {
      ...baseEnv,
      TARGET_DATABASE_URL: server!.url(server!.superuser.user, server!.superuser.password, 'restored_by_script'),
      WORK_DIR: join(dir, 'script'),
    }, ['set -euo pipefail', steps[0]!, steps[7]!].join('\n'));
    assert.notEqual(ran.code, 0);
    assert.match(ran.stderr, new RegExp(`row count mismatch: public\\.ai_model_execution has ${expected - 3} rows, the manifest says ${expected}`));
    assert.match(ran.stdout, /1 mismatches/);
  });

  it('step 5 refuses a pg_restore older than the backup\'s pg_dump', async () => {
    const steps = await restoreProcedureSteps();
    const fakeBin = join(dir, 'old-pg');
    await mkdir(fakeBin, { recursive: true });
    await writeFile(join(fakeBin, 'pg_restore'), `#!/bin/sh\necho "pg_restore (PostgreSQL) ${backup.manifest.pgDump.major - 1}.9"\n`, { mode: 0o755 });
    const ran = await runBash(['-s'], { ...baseEnv, PG_BIN: fakeBin, WORK_DIR: join(dir, 'docs') }, ['set -euo pipefail', steps[0]!, steps[4]!].join('\n'));
    assert.notEqual(ran.code, 0);
    assert.match(ran.stderr, new RegExp(`pg_restore ${backup.manifest.pgDump.major - 1} cannot read a pg_dump ${backup.manifest.pgDump.major} archive`));
    const current = await runBash(['-s'], { ...baseEnv, WORK_DIR: join(dir, 'docs') }, ['set -euo pipefail', steps[0]!, steps[4]!].join('\n'));
    assert.equal(current.code, 0, current.stderr);
  });

  it('refuses a tampered object before it touches any database', async () => {
    const data = await store!.getBuffer(backup.destinations[0]!.key);
    const tampered = Buffer.from(data);
    tampered[Math.floor(tampered.length / 2)]! ^= 0x01;
    await store!.put(store!.key('tampered/20260101T000000Z.dump.zst.age'), tampered);
    await store!.put(store!.key('tampered/20260101T000000Z.manifest.json'), await store!.getBuffer(backup.manifestKey));
    const ran = await runBash([join(repoRoot, 'scripts', 'restore-without-operator.sh'), '--manifest-key', store!.key('tampered/20260101T000000Z.manifest.json'), '--target-url', server!.url(server!.superuser.user, server!.superuser.password, 'restored_tampered'), '--work-dir', join(dir, 'tampered')], baseEnv);
    assert.equal(ran.code, 1, ran.stderr);
    assert.match(ran.stderr, /SHA-256 mismatch: the object has [0-9a-f]{64}, the manifest says [0-9a-f]{64}/);
    assert.equal(await databaseExists('restored_tampered'), false);
  });

  it('refuses a target database that is not empty, and an identity that is not a recipient', async () => {
    const busy = await runBash([join(repoRoot, 'scripts', 'restore-without-operator.sh'), '--latest', 'lokdarpan/prod/lokdarpan/', '--target-url', server!.url(server!.superuser.user, server!.superuser.password, 'restored_by_script'), '--work-dir', join(dir, 'busy')], baseEnv);
    assert.equal(busy.code, 1, busy.stderr);
    assert.match(busy.stderr, /database restored_by_script is not empty/);

    const stranger = generateIdentity();
    await writeFile(join(dir, 'stranger.txt'), `${stranger.identity}\n`, { mode: 0o600 });
    const wrongKey = await runBash([join(repoRoot, 'scripts', 'restore-without-operator.sh'), '--manifest-key', backup.manifestKey, '--identity', join(dir, 'stranger.txt'), '--target-url', server!.url(server!.superuser.user, server!.superuser.password, 'restored_wrong_key'), '--work-dir', join(dir, 'wrong-key')], baseEnv);
    assert.equal(wrongKey.code, 1, wrongKey.stderr);
    assert.match(wrongKey.stderr, /no identity matched|age: error/i);
    // pg_restore --single-transaction committed nothing.
    assert.deepEqual(await countsOf('restored_wrong_key'), {});
  });
});
