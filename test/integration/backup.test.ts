// The backup and restore engines end to end on a real PostgreSQL (LOKDARPAN_PG_MAJOR, 15 by default)
// and two real S3 servers: a backup lands in a primary and two replicas (same server: server-side copy;
// other server: streaming copy), each verified by SHA-256, manifest last; it restores into a fresh
// database with identical row counts, and the CLI tools restore it without the operator.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { otherPgMajor, startPostgres, type PostgresServer, type TestDatabase } from '../env/postgres.ts';
import { startTwoRegions, type S3Server } from '../env/s3.ts';
import { ageBinary, zstdBinary } from '../env/tools.ts';
import { generateIdentity, parseIdentity } from '../../src/adapters/age/index.ts';
import { pgBackupSource } from '../../src/adapters/pgdump/index.ts';
import type { S3ObjectStore } from '../../src/adapters/s3/index.ts';
import { listBackups, runBackup, verifyBackup, type BackupResult } from '../../src/engines/backup/index.ts';
import { runRestore } from '../../src/engines/restore/index.ts';
import { ManualClock } from '../../src/clock.ts';
import { isOperatorError } from '../../src/errors.ts';
import { adminTarget, EXPECTED_TABLES, fillDatabase, keysIn, openMultipartUploads, rowCounts, startServers, storeOn } from './backup-fixture.ts';

const run = promisify(execFile);

describe('backup and restore engines (real PostgreSQL and S3)', () => {
  const started: Parameters<typeof startServers>[0] = {};
  let pg: PostgresServer;
  let s3: { primary: S3Server; secondary: S3Server };
  let db: TestDatabase;
  let primary: S3ObjectStore;
  let sameServerReplica: S3ObjectStore;
  let otherServerReplica: S3ObjectStore;
  let dir = '';
  const keyA = generateIdentity();
  const keyB = generateIdentity();
  const clock = new ManualClock('2026-03-01T02:00:00Z');
  let backup: BackupResult;
  let expectedCounts: Record<string, number>;

  before(async () => {
    ({ pg, s3 } = await startServers(started, () => startPostgres(), () => startTwoRegions()));
    await Promise.all([s3.primary.createBucket('backups'), s3.primary.createBucket('backups-copy'), s3.secondary.createBucket('dr-backups')]);
    primary = storeOn(s3.primary, 'primary', 'backups');
    sameServerReplica = storeOn(s3.primary, 'same-region', 'backups-copy', 'copies');
    otherServerReplica = storeOn(s3.secondary, 'dr', 'dr-backups');
    db = await pg.createDatabase({ withVector: !pg.withoutVector, withOwnerRole: false });
    await fillDatabase(pg, db, { vector: !pg.withoutVector });
    await pg.query(`CREATE TABLE public.lokdarpan_schema_history (name text PRIMARY KEY); INSERT INTO public.lokdarpan_schema_history VALUES ('0001_base'), ('0002_views')`, [], db.name);
    expectedCounts = await rowCounts(pg, db.name);
    dir = await mkdtemp(join(tmpdir(), 'lokdarpan-backup-'));
  });

  after(async () => {
    for (const store of [primary, sameServerReplica, otherServerReplica]) store?.destroy();
    await Promise.allSettled([started.pg?.stop(), started.s3?.primary.stop(), started.s3?.secondary.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes a verified backup to the primary and two replicas, with the manifest last', async () => {
    backup = await runBackup({
      source: pgBackupSource(adminTarget(pg, db.name), { binDirs: { [pg.major]: pg.binDir } }),
      primary,
      replicas: [sameServerReplica, otherServerReplica],
      recipients: [keyA.recipient, keyB.recipient],
      database: 'lokdarpan',
      partSize: 5 * 1024 * 1024,
      clock,
    });
    assert.equal(backup.id, '20260301T020000Z');
    assert.equal(backup.replicated, true);
    assert.deepEqual(
      backup.destinations.map((d) => [d.name, d.method, d.verified]),
      [['primary', 'upload', true], ['same-region', 'server', true], ['dr', 'stream', true]],
    );
    const m = backup.manifest;
    assert.equal(m.server.major, pg.major);
    assert.equal(m.pgDump.major, pg.major);
    assert.equal(m.schemaVersion, '0002_views');
    assert.match(m.sha256, /^[0-9a-f]{64}$/);
    assert.ok(m.plainBytes > 100_000 && m.encryptedBytes > 0 && m.encryptedBytes < m.plainBytes, `sizes ${m.plainBytes} / ${m.encryptedBytes}`);
    assert.equal(m.encryption.recipients.length, 2);
    const counted = Object.fromEntries(m.tables.map((t) => [`${t.schema}.${t.table}`, t.rows]));
    for (const t of EXPECTED_TABLES) assert.equal(counted[t], expectedCounts[t], t);
    for (const store of [primary, sameServerReplica, otherServerReplica]) {
      const keys = await keysIn(store);
      assert.deepEqual(keys, [store.key('lokdarpan/20260301T020000Z.dump.zst.age'), store.key('lokdarpan/20260301T020000Z.manifest.json')], store.name);
      const listed = await listBackups(store, 'lokdarpan');
      assert.deepEqual(listed.backups.map((b) => b.id), ['20260301T020000Z']);
      assert.equal((await verifyBackup(store, listed.backups[0]!.manifestKey)).sha256, m.sha256);
      assert.equal(await openMultipartUploads(store), 0);
    }
    // The same id again is refused, not overwritten.
    await assert.rejects(
      runBackup({ source: pgBackupSource(adminTarget(pg, db.name), { binDirs: { [pg.major]: pg.binDir } }), primary, recipients: [keyA.recipient], database: 'lokdarpan', clock }),
      (e: unknown) => isOperatorError(e) && e.reason === 'AlreadyExists',
    );
  });

  it('decrypts and decompresses completely with either key (verify with identities)', async () => {
    const r = await verifyBackup(otherServerReplica, backup.destinations[2]!.manifestKey as string, { identities: [parseIdentity(keyB.identity)] });
    assert.equal(r.decrypted, true);
    assert.equal(r.plainBytes, backup.manifest.plainBytes);
  });

  it('restores from a replica into a fresh database with identical row counts', async () => {
    const target = adminTarget(pg, 'restored_fresh');
    const result = await runRestore({
      store: otherServerReplica,
      manifestKey: backup.destinations[2]!.manifestKey as string,
      identities: [keyA.identity],
      target,
      createDatabase: true,
      binDirs: { [pg.major]: pg.binDir },
      clock,
    });
    assert.equal(result.createdDatabase, true);
    assert.equal(result.rowCountCheck?.passed, true);
    assert.ok((result.rowCountCheck?.tablesChecked ?? 0) >= 3);
    assert.deepEqual(await rowCounts(pg, 'restored_fresh'), expectedCounts);
    if (!pg.withoutVector) {
      const { rows } = await pg.query<{ e: string }>(`SELECT embedding::text AS e FROM post WHERE id = 10`, [], 'restored_fresh');
      assert.equal(rows[0]?.e, '[3,10,10]');
    }
  });

  it('restores without the operator: age -d -i KEY | zstd -d | pg_restore', async () => {
    const encrypted = join(dir, 'backup.age');
    const keyFile = join(dir, 'key.txt');
    await writeFile(keyFile, `# test key\n${keyB.identity}\n`, { mode: 0o600 });
    const { body } = await primary.get(backup.destinations[0]!.key);
    await pipeline(body, createWriteStream(encrypted));
    await pg.query('CREATE DATABASE restored_cli TEMPLATE template0');
    const env = { ...process.env, ...pg.cliEnv('restored_cli') };
    await run('sh', ['-c', `"$AGE" -d -i "$KEY" "$IN" | "$ZSTD" -dq | "$PGR" --no-owner --exit-on-error -d restored_cli`], {
      env: { ...env, AGE: ageBinary(), ZSTD: zstdBinary(), PGR: join(pg.binDir, 'pg_restore'), KEY: keyFile, IN: encrypted },
    });
    assert.deepEqual(await rowCounts(pg, 'restored_cli'), expectedCounts);
  });

  it("replicaMode 'during' writes both servers from one stream, each verified, and it restores", async () => {
    const r = await runBackup({
      source: pgBackupSource(adminTarget(pg, db.name), { binDirs: { [pg.major]: pg.binDir } }),
      primary,
      replicas: [otherServerReplica],
      recipients: [keyA.recipient],
      database: 'lokdarpan-tee',
      partSize: 5 * 1024 * 1024,
      replicaMode: 'during',
      clock,
    });
    assert.deepEqual(r.destinations.map((d) => [d.name, d.method, d.verified]), [['primary', 'upload', true], ['dr', 'upload', true]]);
    assert.equal(await openMultipartUploads(otherServerReplica), 0);
    const restored = await runRestore({
      store: otherServerReplica,
      manifestKey: r.destinations[1]!.manifestKey as string,
      identities: [keyA.identity],
      target: adminTarget(pg, 'restored_tee'),
      createDatabase: true,
      binDirs: { [pg.major]: pg.binDir },
    });
    assert.equal(restored.rowCountCheck?.passed, true);
  });

  it('restores into the other supported major when it is newer, and refuses an older one', async () => {
    const other = await startPostgres({ major: otherPgMajor(pg.major) });
    try {
      const binDirs = { [pg.major]: pg.binDir, [other.major]: other.binDir };
      const restoring = runRestore({
        store: primary,
        manifestKey: backup.manifestKey,
        identities: [keyA.identity],
        target: { host: other.host, port: other.port, user: other.superuser.user, password: other.superuser.password, database: 'cross_major' },
        createDatabase: true,
        binDirs,
      });
      if (other.major > pg.major) {
        const result = await restoring;
        assert.equal(result.rowCountCheck?.passed, true);
        assert.equal(Number(result.pgRestoreVersion.split('.')[0]), other.major);
      } else {
        await assert.rejects(restoring, (e: unknown) => isOperatorError(e) && e.reason === 'InvalidRequest' && /cannot be restored into PostgreSQL/.test(e.message));
      }
    } finally {
      await other.stop();
    }
  });

  it('refuses a non-empty database without overwrite, and replaces its contents with it', async () => {
    const target = adminTarget(pg, 'restored_busy');
    await pg.query('CREATE DATABASE restored_busy TEMPLATE template0');
    await pg.query('CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)', [], 'restored_busy');
    await assert.rejects(
      runRestore({ store: primary, manifestKey: backup.manifestKey, identities: [keyA.identity], target, binDirs: { [pg.major]: pg.binDir } }),
      (e: unknown) => isOperatorError(e) && e.reason === 'TargetNotEmpty',
    );
    const { rows } = await pg.query<{ n: string }>('SELECT count(*) AS n FROM keep_me', [], 'restored_busy');
    assert.equal(rows[0]?.n, '1', 'the refused restore touched nothing');
    // Same names as the dump: overwrite drops and recreates them.
    await pg.query(`CREATE TABLE "user" (id int); INSERT INTO "user" VALUES (1), (2)`, [], 'restored_busy');
    const result = await runRestore({
      store: primary,
      manifestKey: backup.manifestKey,
      identities: [keyA.identity],
      target,
      overwrite: true,
      binDirs: { [pg.major]: pg.binDir },
    });
    assert.equal(result.rowCountCheck?.passed, true);
    assert.deepEqual(result.extensions, { kept: [], warnings: [] }, 'a superuser owns every extension: pg_restore skips none');
    assert.deepEqual(await rowCounts(pg, 'restored_busy'), expectedCounts);
  });
});
