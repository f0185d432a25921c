// Restore into a new database (`target.databaseName`) by a role with CREATEDB that is not a superuser,
// on the real PostgreSQL (with pgvector) and S3: a preflight that names everything missing before
// anything is created; the extensions a superuser put in template1; an admin connection that creates
// the database and its extensions; and no half-made database left when the restore fails afterwards.
// Also the owner of an EXISTING database where a superuser installed vector: pg_restore leaves that
// extension alone (no DROP, CREATE or COMMENT ON EXTENSION, which need its owner).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, startS3, type PostgresServer, type S3Server, type TestDatabase } from '../env/index.ts';
import { generateIdentity } from '../../src/adapters/age/index.ts';
import { pgBackupSource, type PgTarget } from '../../src/adapters/pgdump/index.ts';
import type { S3ObjectStore } from '../../src/adapters/s3/index.ts';
import { runBackup, type BackupResult } from '../../src/engines/backup/index.ts';
import { runRestore } from '../../src/engines/restore/index.ts';
import { ManualClock } from '../../src/clock.ts';
import { isOperatorError } from '../../src/errors.ts';
import { adminTarget, fillDatabase, rowCounts, storeOn } from './backup-fixture.ts';
import { join } from 'node:path';
import { repoRoot } from '../env/process.ts';
import { createConnector } from '../../src/adapters/postgres/connection.ts';
import { createMigrationEngine, HNSW_EF_SEARCH_SETTING } from '../../src/engines/migrations/index.ts';

describe('restore into a new database as a non-superuser (real PostgreSQL and S3)', () => {
  let pg: PostgresServer | undefined;
  let s3: S3Server | undefined;
  let store: S3ObjectStore;
  let db: TestDatabase;
  let backup: BackupResult;
  let expected: Record<string, number>;
  const key = generateIdentity();
  const clock = new ManualClock('2026-12-04T02:00:00Z');
  const role = (user: string, database: string): PgTarget => ({ host: pg!.host, port: pg!.port, user, password: `${user}-pw`, database });
  const restore = (target: PgTarget, options: { admin?: PgTarget; manifestKey?: string } = {}) =>
    runRestore({
      store,
      manifestKey: options.manifestKey ?? (backup.manifestKey as string),
      identities: [key.identity],
      target,
      createDatabase: true,
      binDirs: { [pg!.major]: pg!.binDir },
      ...(options.admin ? { admin: options.admin } : {}),
    });
  const databases = async (): Promise<string[]> => (await pg!.query<{ datname: string }>('SELECT datname FROM pg_database ORDER BY 1')).rows.map((r) => r.datname);
  const ownerOf = async (database: string): Promise<string | undefined> =>
    (await pg!.query<{ owner: string }>('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [database])).rows[0]?.owner;

  before(async () => {
    const [p, s] = await Promise.allSettled([startPostgres(), startS3({ name: 'restore-new-db' })]);
    if (p.status === 'fulfilled') pg = p.value;
    if (s.status === 'fulfilled') s3 = s.value;
    if (p.status === 'rejected') throw p.reason;
    if (s.status === 'rejected') throw s.reason;
    assert.equal(pg!.withoutVector, false, 'this test needs pgvector');
    await s3!.createBucket('backups');
    store = storeOn(s3!, 'primary', 'backups');
    db = await pg!.createDatabase({ withVector: true, withOwnerRole: false });
    await fillDatabase(pg!, db, { vector: true, rows: 300 });
    expected = await rowCounts(pg!, db.name);
    backup = await runBackup({
      source: pgBackupSource(adminTarget(pg!, db.name), { binDirs: { [pg!.major]: pg!.binDir } }),
      primary: store,
      replicas: [],
      recipients: [key.recipient],
      database: 'lokdarpan',
      clock,
    });
    await pg!.createRole('restorer', 'restorer-pw', { login: true, createdb: true });
    await pg!.createRole('plain', 'plain-pw', { login: true });
  });

  after(async () => {
    store?.destroy();
    await Promise.allSettled([pg?.stop(), s3?.stop()]);
  });

  it('refuses before creating anything, naming every missing piece', async () => {
    const before = await databases();
    await assert.rejects(restore(role('plain', 'r_plain')), (e: unknown) => {
      assert.ok(isOperatorError(e) && e.reason === 'RestorePreflightFailed', String(e));
      assert.match(e.message, /cannot create database r_plain for the restore \(nothing was created\)/);
      assert.match(e.message, /role plain may not create databases \(ALTER ROLE plain CREATEDB/);
      assert.match(e.message, /extension vector is not in template1 and only a superuser may create it/);
      assert.ok(!e.message.includes('plain-pw'));
      return true;
    });
    await assert.rejects(restore(role('restorer', 'r_missing')), (e: unknown) => {
      assert.ok(isOperatorError(e) && e.reason === 'RestorePreflightFailed', String(e));
      assert.doesNotMatch(e.message, /CREATEDB/);
      assert.match(e.message, /extension vector is not in template1/);
      return true;
    });
    assert.deepEqual(await databases(), before, 'no database was created');
  });

  it('restores with an admin connection that creates the database and its extensions, owned by the restorer', async () => {
    const result = await restore(role('plain', 'r_admin'), { admin: adminTarget(pg!, 'postgres') });
    assert.equal(result.createdDatabase, true);
    assert.equal(result.rowCountCheck?.passed, true);
    assert.deepEqual(await rowCounts(pg!, 'r_admin'), expected);
    assert.equal(await ownerOf('r_admin'), 'plain');
    const ext = await pg!.query<{ extname: string }>("SELECT extname FROM pg_extension WHERE extname = 'vector'", [], 'r_admin');
    assert.equal(ext.rowCount, 1);
    assert.deepEqual(result.databaseSettings, { applied: [], warnings: [] }, 'no schema history, no schema settings');
  });

  it("re-applies the database settings of the schema's migrations (008's hnsw.ef_search), which a dump does not carry", async () => {
    const lokdarpan = await pg!.createDatabase({ withVector: true });
    const engine = createMigrationEngine({ connection: createConnector({ connectionString: lokdarpan.appUrl }), migrationsDir: join(repoRoot, 'migrations'), instance: 'restore-settings' });
    await engine.up();
    await engine.close();
    const settingsOf = async (database: string): Promise<string[]> =>
      (await pg!.query<{ s: string[] }>(
        `SELECT setconfig AS s FROM pg_db_role_setting WHERE setrole = 0 AND setdatabase = (SELECT oid FROM pg_database WHERE datname = $1)`, [database])).rows[0]?.s ?? [];
    const expectedSetting = `${HNSW_EF_SEARCH_SETTING.name}=${HNSW_EF_SEARCH_SETTING.value}`;
    assert.deepEqual(await settingsOf(lokdarpan.name), [expectedSetting]);
    const schemaBackup = await runBackup({
      source: pgBackupSource(adminTarget(pg!, lokdarpan.name), { binDirs: { [pg!.major]: pg!.binDir } }),
      primary: store, replicas: [], recipients: [key.recipient], database: 'lokdarpan-schema', clock,
    });
    const result = await restore(role('plain', 'r_schema'), { admin: adminTarget(pg!, 'postgres'), manifestKey: schemaBackup.manifestKey as string });
    assert.equal(result.rowCountCheck?.passed, true);
    assert.deepEqual(result.databaseSettings, { applied: [`${HNSW_EF_SEARCH_SETTING.name} = ${HNSW_EF_SEARCH_SETTING.value}`], warnings: [] });
    assert.deepEqual(await settingsOf('r_schema'), [expectedSetting], 'the new database has the setting for every role');
  });

  it('restores as a CREATEDB role once a superuser has put vector in template1', async () => {
    await pg!.query('CREATE EXTENSION vector', [], 'template1');
    try {
      const result = await restore(role('restorer', 'r_template1'));
      assert.equal(result.createdDatabase, true);
      assert.equal(result.rowCountCheck?.passed, true);
      assert.deepEqual(await rowCounts(pg!, 'r_template1'), expected);
      assert.equal(await ownerOf('r_template1'), 'restorer');
      const { rows } = await pg!.query<{ n: string }>("SELECT count(*) AS n FROM post WHERE embedding <-> '[1,2,3]' < 100", [], 'r_template1');
      assert.ok(Number(rows[0]?.n) > 0, 'the vector column came back and its operators work');

      // A failure after the database was created (the stored object corrupted near its end) leaves no database behind.
      const dataKey = backup.destinations[0]!.key;
      const original = await store.getBuffer(dataKey);
      const corrupt = Buffer.from(original);
      corrupt[corrupt.length - 20] = corrupt[corrupt.length - 20]! ^ 0xff;
      await store.put(dataKey, corrupt);
      try {
        await assert.rejects(restore(role('restorer', 'r_corrupt')), (e: unknown) => isOperatorError(e) && ['ChecksumMismatch', 'DecryptionFailed'].includes(e.reason));
        assert.ok(!(await databases()).includes('r_corrupt'), 'the half-made database was dropped');
      } finally {
        await store.put(dataKey, original);
      }
    } finally {
      await pg!.query('DROP EXTENSION vector', [], 'template1');
    }
  });

  it("restores with overwrite as the owner of an existing database where a superuser installed vector, keeping the superuser's extension", async () => {
    const existing = await pg!.createDatabase({ withVector: true });
    const owner: PgTarget = { ...role(existing.appUser, existing.name), password: existing.appPassword };
    // The application's own tables, some with the dump's names: overwrite drops and recreates them.
    await pg!.query(`CREATE TABLE "user" (id int); INSERT INTO "user" VALUES (1), (2); CREATE TABLE post (id int, embedding vector(3))`, [], existing.name);
    await pg!.query(`ALTER TABLE "user" OWNER TO ${existing.appUser}; ALTER TABLE post OWNER TO ${existing.appUser}`, [], existing.name);
    const extension = async () => (await pg!.query<{ oid: string; owner: string }>(
      "SELECT oid::text AS oid, pg_get_userbyid(extowner) AS owner FROM pg_extension WHERE extname = 'vector'", [], existing.name)).rows[0];
    const before = await extension();
    assert.equal(before?.owner, pg!.superuser.user);

    const result = await runRestore({
      store, manifestKey: backup.manifestKey as string, identities: [key.identity], target: owner, overwrite: true, binDirs: { [pg!.major]: pg!.binDir },
    });
    assert.equal(result.createdDatabase, false);
    assert.equal(result.rowCountCheck?.passed, true);
    assert.deepEqual(result.extensions, { kept: ['vector'], warnings: [] });
    assert.deepEqual(await rowCounts(pg!, existing.name), expected);
    assert.deepEqual(await extension(), before, 'the superuser\'s extension was neither dropped nor recreated');
    const { rows } = await pg!.query<{ n: string }>("SELECT count(*) AS n FROM post WHERE embedding <-> '[1,2,3]' < 100", [], existing.name);
    assert.ok(Number(rows[0]?.n) > 0, 'the vector column came back and its operators work');

    // An empty database (no overwrite): the archive's COMMENT ON EXTENSION vector is skipped as well.
    const empty = await pg!.createDatabase({ withVector: true });
    const into = await runRestore({
      store, manifestKey: backup.manifestKey as string, identities: [key.identity], binDirs: { [pg!.major]: pg!.binDir },
      target: { ...role(empty.appUser, empty.name), password: empty.appPassword },
    });
    assert.equal(into.rowCountCheck?.passed, true);
    assert.deepEqual(into.extensions.kept, ['vector']);
  });
});
