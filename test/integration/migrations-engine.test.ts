// The migration engine against a real PostgreSQL + pgvector (major from LOKDARPAN_PG_MAJOR, default 15):
// apply/no-op/down/up, drift, the lock, a killed runner, an INVALID concurrent index, adoption.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type PostgresServer, type TestDatabase } from '../env/postgres.ts';
import { postgresFixture } from './postgres-fixture.ts';
import { makeTempDir, repoRoot } from '../env/process.ts';
import { eventually, GENEROUS_WAIT_MS } from '../wait.ts';
import { createConnector, type PgConnector } from '../../src/adapters/postgres/connection.ts';
import { isOperatorError, type OperatorError } from '../../src/errors.ts';
import { createMigrationEngine, lokdarpanAdopters, type MigrationEngineOptions, type PreflightReport } from '../../src/engines/migrations/index.ts';

const fixtures = join(repoRoot, 'test', 'fixtures');
const postgres = postgresFixture();
const database = (withVector = true): Promise<TestDatabase> => postgres.database({ withVector });

function engineFor(db: TestDatabase, migrationsDir: string, extra: Partial<MigrationEngineOptions> = {}) {
  const engine = createMigrationEngine({
    connection: createConnector({ connectionString: db.appUrl }),
    migrationsDir,
    instance: 'test-runner',
    lockTimeoutMs: 30_000,
    lockPollMs: 50,
    ...extra,
  });
  postgres.onCleanup(() => engine.close());
  return engine;
}

async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(db: TestDatabase, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client(db.adminConfig());
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function tableExists(db: TestDatabase, name: string): Promise<boolean> {
  const rows = await sql<{ ok: boolean }>(db, 'SELECT to_regclass($1) IS NOT NULL AS ok', [name]);
  return rows[0]!.ok;
}

async function historyNames(db: TestDatabase): Promise<string[]> {
  if (!(await tableExists(db, 'public.lokdarpan_schema_history'))) return [];
  return (await sql<{ name: string }>(db, 'SELECT name FROM lokdarpan_schema_history ORDER BY name')).map((r) => r.name);
}

async function rejectsWith(promise: Promise<unknown>, reason: string): Promise<OperatorError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isOperatorError(error), `expected an OperatorError ${reason}, got ${String(error)}`);
    assert.equal(error.reason, reason, error.message);
    return error;
  }
  assert.fail(`expected ${reason}, but it resolved`);
}

async function copyFixture(name: string): Promise<string> {
  const dir = await makeTempDir('migrations');
  await cp(join(fixtures, name), dir, { recursive: true });
  return dir;
}

/** Starts `migrate up` in a child process, waits until it sits in pg_sleep inside a migration, SIGKILLs it. */
async function killCliMidway(db: TestDatabase, dir: string, instance: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  const script = `import { runMigrateCli } from ${JSON.stringify(join(repoRoot, 'src/cli/migrate.ts'))};
process.exitCode = await runMigrateCli(process.argv.slice(1), { stdout: process.stdout, stderr: process.stderr, env: {} });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, 'up', '--database-url', db.appUrl, '--migrations-dir', dir, '--instance', instance], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const inside = await eventually('the child to reach the middle of the migration', async () => {
    const r = await sql(db, "SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep%' AND state = 'active'", [`lokdarpan-migrate/${instance}`]);
    return r.length > 0;
  }, GENEROUS_WAIT_MS, undefined, 50).catch(() => false);
  child.kill('SIGKILL');
  await exited;
  assert.ok(inside, 'the child reached the middle of the migration before it was killed');
}

describe(`migration engine on PostgreSQL ${process.env['LOKDARPAN_PG_MAJOR'] ?? '15'}`, () => {
  test('applies on an empty database, a second run is a no-op, down and up again work', async () => {
    const db = await database();
    const engine = engineFor(db, join(fixtures, 'migrations-basic'));

    const plan = await engine.plan();
    assert.deepEqual(plan.migrations.map((m) => [m.name, m.transactional]), [['001_people', true], ['002_notes', true], ['003_note_index', false]]);
    assert.match(plan.hash, /^[0-9a-f]{64}$/);
    assert.deepEqual(await engine.inspect(), { plan, status: await engine.status() });

    const first = await engine.up({ approvedPlanHash: plan.hash });
    assert.deepEqual(first.applied.map((a) => a.name), ['001_people', '002_notes', '003_note_index']);
    assert.equal(first.schemaVersion, '003_note_index');
    assert.deepEqual(first.pending, []);
    const rows = await sql<{ name: string; checksum: string; applied_by: string; transactional: boolean; kind: string; duration_ms: number }>(
      db, 'SELECT name, checksum, applied_by, transactional, kind, duration_ms FROM lokdarpan_schema_history ORDER BY name');
    assert.deepEqual(rows.map((r) => [r.name, r.transactional, r.kind, r.applied_by]), [
      ['001_people', true, 'applied', 'test-runner'],
      ['002_notes', true, 'applied', 'test-runner'],
      ['003_note_index', false, 'applied', 'test-runner'],
    ]);
    assert.equal(rows[0]!.checksum, first.applied[0]!.checksum);
    const valid = await sql<{ indisvalid: boolean }>(db, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'note_person_created_idx'::regclass");
    assert.equal(valid[0]?.indisvalid, true);
    assert.deepEqual(await sql(db, 'SELECT note_count(1) AS n'), [{ n: '0' }]);

    const second = await engine.up();
    assert.deepEqual(second.applied, []);
    assert.equal(second.schemaVersion, '003_note_index');

    await rejectsWith(engine.down({ to: '001_people', allowDowngrade: false }), 'DowngradeNotAllowed');
    const down = await engine.down({ to: '001_people', allowDowngrade: true });
    assert.deepEqual(down.applied.map((a) => a.name), ['003_note_index', '002_notes']);
    assert.equal(down.schemaVersion, '001_people');
    assert.equal(await tableExists(db, 'note'), false);
    assert.equal(await tableExists(db, 'person'), true);
    assert.deepEqual(await historyNames(db), ['001_people']);

    const again = await engine.up({ to: '002_notes' });
    assert.deepEqual(again.applied.map((a) => a.name), ['002_notes']);
    assert.deepEqual(again.pending.map((p) => p.name), ['003_note_index']);
    const inspected = await engine.inspect({ to: '001_people' });
    assert.deepEqual(inspected, { plan: await engine.plan({ to: '001_people' }), status: await engine.status() });
    assert.equal(inspected.plan.direction, 'down');
    assert.equal(inspected.status.schemaVersion, '002_notes');
    await rejectsWith(engine.up({ to: '001_people' }), 'DowngradeNotAllowed');
    await rejectsWith(engine.up({ to: '009_nope' }), 'UnknownTarget');
    await rejectsWith(engine.up({ approvedPlanHash: plan.hash }), 'PlanNotApproved');
    const last = await engine.up();
    assert.deepEqual(last.applied.map((a) => a.name), ['003_note_index']);

    const all = await engine.down({ to: null, allowDowngrade: true });
    assert.equal(all.schemaVersion, null);
    assert.equal(await tableExists(db, 'person'), false);
  });

  test('a changed applied file is refused with both checksums; repair re-records it', async () => {
    const db = await database();
    const dir = await copyFixture('migrations-basic');
    const engine = engineFor(db, dir);
    const first = await engine.up();
    const recorded = first.applied.find((a) => a.name === '002_notes')!.checksum;
    const file = join(dir, '002_notes.up.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}\n-- edited after it was applied\n`);

    const error = await rejectsWith(engine.up(), 'ChecksumMismatch');
    assert.equal(error.details['recorded'], recorded);
    const actual = error.details['actual'] as string;
    assert.notEqual(actual, recorded);
    assert.ok(error.message.includes(recorded) && error.message.includes(actual) && error.message.includes(file), error.message);
    assert.equal(error.terminal, true);

    const status = await engine.status();
    assert.deepEqual(status.problems.map((p) => p.reason), ['ChecksumMismatch']);
    await rejectsWith(engine.inspect(), 'ChecksumMismatch');

    const repaired = await engine.repair();
    assert.deepEqual(repaired.updatedChecksums, [{ name: '002_notes', recorded, actual }]);
    assert.deepEqual((await engine.up()).applied, []);
  });

  test('a missing applied file is refused; repair --remove-missing forgets it', async () => {
    const db = await database();
    const dir = await copyFixture('migrations-basic');
    const engine = engineFor(db, dir);
    await engine.up();
    await engine.down({ to: '002_notes', allowDowngrade: true });
    await engine.up();
    await cp(join(dir, '003_note_index.up.sql'), join(dir, '..', `${Date.now()}-keep.sql`));
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, '003_note_index.up.sql'));
    await rm(join(dir, '003_note_index.down.sql'));
    const error = await rejectsWith(engine.up(), 'MigrationMissing');
    assert.match(error.message, /003_note_index/);
    const repaired = await engine.repair({ removeMissing: true });
    assert.deepEqual(repaired.removedMissing, ['003_note_index']);
    assert.deepEqual(await historyNames(db), ['001_people', '002_notes']);
  });

  test('an out-of-order new file is refused', async () => {
    const db = await database();
    const dir = await copyFixture('migrations-basic');
    const engine = engineFor(db, dir);
    await engine.up();
    await writeFile(join(dir, '002a_late.up.sql'), 'CREATE TABLE late (id int);\n');
    await writeFile(join(dir, '002a_late.down.sql'), 'DROP TABLE late;\n');
    await rejectsWith(engine.up(), 'OutOfOrderMigration');
  });

  test('two runners started together: the schema is applied exactly once', async () => {
    const db = await database();
    const dir = join(fixtures, 'migrations-slow');
    // Make 002 sleep: 001 creates the control table, so apply it first and set the delay.
    const a = engineFor(db, dir, { instance: 'runner-a' });
    const b = engineFor(db, dir, { instance: 'runner-b' });
    await a.up({ to: '001_control' });
    await sql(db, 'UPDATE test_control SET seconds = 1.5');
    const [ra, rb] = await Promise.all([a.up(), b.up()]);
    const appliedBoth = [...ra.applied, ...rb.applied].map((m) => m.name);
    assert.deepEqual(appliedBoth, ['002_slow'], 'exactly one runner applied 002');
    assert.deepEqual(await historyNames(db), ['001_control', '002_slow']);
  });

  test('a second runner that cannot wait fails fast naming the holder', async () => {
    const db = await database();
    const dir = join(fixtures, 'migrations-slow');
    const a = engineFor(db, dir, { instance: 'runner-holder' });
    const b = engineFor(db, dir, { instance: 'runner-impatient', lockTimeoutMs: 300 });
    await a.up({ to: '001_control' });
    await sql(db, 'UPDATE test_control SET seconds = 3');
    const running = a.up();
    // Wait until runner A is inside its migration (its pg_sleep shows in pg_stat_activity).
    await eventually('runner A to be inside its migration', async () => {
      const r = await sql(db, "SELECT 1 FROM pg_stat_activity WHERE application_name = 'lokdarpan-migrate/runner-holder' AND query LIKE '%pg_sleep%' AND state = 'active'");
      return r.length > 0;
    }, GENEROUS_WAIT_MS, undefined, 50);
    const started = Date.now();
    const error = await rejectsWith(b.up(), 'MigrationLockBusy');
    assert.ok(Date.now() - started < 2500, 'failed fast');
    assert.match(error.message, /lokdarpan-migrate\/runner-holder/);
    assert.match(error.message, /pid \d+/);
    assert.equal(error.terminal, false);
    const holder = error.details['holder'] as { pid: number; applicationName: string };
    assert.equal(holder.applicationName, 'lokdarpan-migrate/runner-holder');
    assert.deepEqual((await running).applied.map((m) => m.name), ['002_slow']);
  });

  test('a runner killed in the middle of a migration leaves nothing behind; the next run completes it', async () => {
    const db = await database();
    const dir = join(fixtures, 'migrations-slow');
    const engine = engineFor(db, dir, { instance: 'after-kill' });
    await engine.up({ to: '001_control' });
    await sql(db, 'UPDATE test_control SET seconds = 600');

    await killCliMidway(db, dir, 'doomed');

    assert.equal(await tableExists(db, 'half_done'), false);
    assert.equal(await tableExists(db, 'after_sleep'), false);
    assert.deepEqual(await historyNames(db), ['001_control']);

    await sql(db, 'UPDATE test_control SET seconds = 0');
    // The dead runner's backend notices the lost client within client_connection_check_interval and frees the lock.
    const result = await engine.up();
    assert.deepEqual(result.applied.map((m) => m.name), ['002_slow']);
    assert.equal(await tableExists(db, 'half_done'), true);
    assert.equal(await tableExists(db, 'after_sleep'), true);
    const doomed = await sql(db, "SELECT 1 FROM pg_stat_activity WHERE application_name = 'lokdarpan-migrate/doomed'");
    assert.equal(doomed.length, 0);
  });

  test('killed between steps of a multi-step migration: the committed step stays, no history row, the re-run completes', async () => {
    const db = await database();
    const dir = join(fixtures, 'migrations-multistep');
    const engine = engineFor(db, dir, { instance: 'after-kill-2' });
    await engine.up({ to: '001_control' });
    await sql(db, 'UPDATE test_control SET seconds = 600');
    await killCliMidway(db, dir, 'doomed-2');
    assert.equal(await tableExists(db, 'first_step'), true);
    assert.equal(await tableExists(db, 'second_step'), false);
    assert.deepEqual(await historyNames(db), ['001_control']);
    await sql(db, 'UPDATE test_control SET seconds = 0');
    const result = await engine.up();
    assert.deepEqual(result.applied.map((m) => m.name), ['002_two_steps']);
    assert.equal(await tableExists(db, 'second_step'), true);
  });

  test('an INVALID index from a failed CONCURRENTLY build is detected, dropped and rebuilt', async () => {
    const db = await database();
    const engine = engineFor(db, join(fixtures, 'migrations-invalid-index'));
    const error = await rejectsWith(engine.up(), 'MigrationFailed');
    assert.match(error.message, /002_unique_x\.up\.sql step 1\/1 \(no-transaction, line 2\)/);
    assert.match(error.message, /23505/);
    assert.deepEqual(await historyNames(db), ['001_dups']);
    const invalid = await sql<{ indisvalid: boolean }>(db, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'dup_t_x_key'::regclass");
    assert.deepEqual(invalid, [{ indisvalid: false }], 'the failed build left an INVALID index');

    await sql(db, 'DELETE FROM dup_t WHERE id IN (SELECT max(id) FROM dup_t GROUP BY x HAVING count(*) > 1)');
    const result = await engine.up();
    assert.deepEqual(result.applied.map((a) => [a.name, a.rebuiltIndexes]), [['002_unique_x', ['"public"."dup_t_x_key"']]]);
    const valid = await sql<{ indisvalid: boolean }>(db, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'dup_t_x_key'::regclass");
    assert.deepEqual(valid, [{ indisvalid: true }]);
    await assert.rejects(sql(db, 'INSERT INTO dup_t (x) VALUES (1)'), /duplicate key/);
  });

  test('preflight: a role that cannot create vector gets InsufficientPrivilege before any statement runs', async () => {
    const db = await database(false);
    const engine = engineFor(db, join(fixtures, 'migrations-basic'));
    const error = await rejectsWith(engine.up(), 'InsufficientPrivilege');
    assert.match(error.message, /CREATE EXTENSION vector/);
    assert.match(error.message, /superuser/);
    assert.equal(error.details['missing'] !== undefined, true);
    assert.equal(await tableExists(db, 'public.lokdarpan_schema_history'), false);
    assert.equal(await tableExists(db, 'person'), false);
    // Once a superuser has created it, the same role passes.
    await sql(db, 'CREATE EXTENSION vector');
    const report = await engine.preflight();
    assert.equal(report.superuser, false);
    assert.equal(report.extensions[0]?.action, 'none');
  });

  test('inspect with onPreflight: the preflight report, the plan and the history from one session; a failing preflight throws first', async () => {
    const db = await database(false);
    const direct = createConnector({ connectionString: db.appUrl });
    let sessions = 0;
    const connection: PgConnector = { description: direct.description, connect: (options) => (sessions++, direct.connect(options)) };
    const engine = engineFor(db, join(fixtures, 'migrations-basic'), { connection });
    const reports: PreflightReport[] = [];
    const onPreflight = (report: PreflightReport): void => void reports.push(report);
    await rejectsWith(engine.inspect({ onPreflight }), 'InsufficientPrivilege');
    assert.deepEqual(reports, []);
    assert.equal(sessions, 1);

    await sql(db, 'CREATE EXTENSION vector');
    sessions = 0;
    const inspected = await engine.inspect({ onPreflight });
    assert.equal(sessions, 1, 'one session for the preflight and the inspection');
    assert.deepEqual(reports, [await engine.preflight()]);
    assert.deepEqual(inspected, { plan: await engine.plan(), status: await engine.status() });
  });

  test('preflight: a role without CREATE on schema public gets InsufficientPrivilege', async () => {
    const db = await database();
    await postgres.server.createRole(`${db.name}_ro`, 'pw-ro');
    postgres.onCleanup(async () => {
      await postgres.server.query(`DROP OWNED BY ${db.name}_ro`, [], db.name).catch(() => {});
      await postgres.server.query(`DROP ROLE IF EXISTS ${db.name}_ro`);
    });
    await sql(db, `GRANT CONNECT ON DATABASE ${db.name} TO ${db.name}_ro`);
    const engine = createMigrationEngine({
      connection: createConnector({ connectionString: postgres.server.url(`${db.name}_ro`, 'pw-ro', db.name) }),
      migrationsDir: join(fixtures, 'migrations-basic'),
      instance: 'ro',
    });
    postgres.onCleanup(() => engine.close());
    const error = await rejectsWith(engine.up(), 'InsufficientPrivilege');
    assert.match(error.message, /CREATE on schema public/);
  });

  test('adopts a Flask-era database: keeps rows, records 001..003 as adopted, runs the rest', async () => {
    const db = await database();
    // The Flask app's shape: timestamp without time zone, no post.party, an alembic_version row.
    await sql(db, `
      CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
      INSERT INTO alembic_version VALUES ('ac47afe8f5c3');
      CREATE TABLE "user" (id serial PRIMARY KEY, username varchar(80) NOT NULL);
      CREATE TABLE author (id serial PRIMARY KEY, name varchar(120) NOT NULL UNIQUE, party varchar(64));
      CREATE TABLE epaper (id serial PRIMARY KEY, sha256 varchar(64) NOT NULL UNIQUE);
      CREATE TABLE post (id serial PRIMARY KEY, text text NOT NULL, author_id int REFERENCES author (id), city varchar(120),
                         emotion varchar(64), created_at timestamp NOT NULL, epaper_id int REFERENCES epaper (id));
      CREATE TABLE alert (id serial PRIMARY KEY, ward varchar(120));
      CREATE TABLE election (id serial PRIMARY KEY, type varchar(16) NOT NULL, year int NOT NULL);
      CREATE TABLE polling_station (id serial PRIMARY KEY, ps_id varchar(64) NOT NULL UNIQUE);
      CREATE TABLE result_ps (id serial PRIMARY KEY, election_id int NOT NULL, ps_id varchar(64) NOT NULL, party varchar(64) NOT NULL);
      CREATE TABLE result_ward_agg (id serial PRIMARY KEY, election_id int NOT NULL, ward_id varchar(64) NOT NULL, party varchar(64) NOT NULL);
      CREATE TABLE ward_profile (id serial PRIMARY KEY, ward_id varchar(64) NOT NULL UNIQUE);
      CREATE TABLE ward_demographics (id serial PRIMARY KEY, ward_id varchar(64) NOT NULL UNIQUE);
      CREATE TABLE ward_features (id serial PRIMARY KEY, ward_id varchar(64) NOT NULL UNIQUE);
      INSERT INTO author (name) VALUES ('Deccan Chronicle');
      INSERT INTO post (text, author_id, city, emotion, created_at) VALUES ('Roads flooded again', 1, 'Jubilee Hills', 'Anger', now()),
                                                                          ('New flyover opened', 1, 'Khairatabad', 'Hopeful', now());
      ALTER TABLE "user" OWNER TO ${db.appUser}; ALTER TABLE author OWNER TO ${db.appUser}; ALTER TABLE epaper OWNER TO ${db.appUser};
      ALTER TABLE post OWNER TO ${db.appUser}; ALTER TABLE alembic_version OWNER TO ${db.appUser};
    `);
    const dir = join(fixtures, 'migrations-adopt');
    const engine = engineFor(db, dir, { adopters: lokdarpanAdopters(dir) });
    const status = await engine.status();
    assert.equal(status.adoptableBy, 'lokdarpan-flask');
    const plan = await engine.plan();
    assert.deepEqual(plan.adoption?.names, ['001_base', '002_post_city', '003_comments']);
    assert.deepEqual(plan.migrations.map((m) => m.name), ['004_party_index']);
    assert.deepEqual(await engine.inspect(), { plan, status });

    const result = await engine.up({ approvedPlanHash: plan.hash });
    assert.deepEqual(result.adopted, ['001_base', '002_post_city', '003_comments']);
    assert.deepEqual(result.applied.map((a) => a.name), ['004_party_index']);
    assert.deepEqual(result.history.map((h) => [h.name, h.kind]), [
      ['001_base', 'adopted'], ['002_post_city', 'adopted'], ['003_comments', 'adopted'], ['004_party_index', 'applied'],
    ]);
    assert.match(result.history[0]!.appliedBy, /adopted: lokdarpan-flask/);
    assert.deepEqual(await sql(db, 'SELECT count(*)::int AS n FROM post'), [{ n: 2 }]);
    assert.equal(await tableExists(db, 'post_party_created_idx'), true);
    assert.deepEqual((await engine.up()).applied, []);
  });

  test('adoption refuses a database that lacks the base tables', async () => {
    const db = await database();
    await sql(db, `CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('x');
                   CREATE TABLE post (id serial PRIMARY KEY, text text NOT NULL); ALTER TABLE alembic_version OWNER TO ${db.appUser};`);
    const dir = join(fixtures, 'migrations-adopt');
    const engine = engineFor(db, dir, { adopters: lokdarpanAdopters(dir) });
    const error = await rejectsWith(engine.up(), 'AdoptionVerificationFailed');
    assert.match(error.message, /missing base table\(s\): user, author, epaper/);
    assert.match(error.message, /post lacks column\(s\) author_id, city, emotion, created_at/);
    assert.deepEqual(await historyNames(db), []);
  });
});

describe('preflight on a server without pgvector', () => {
  let bare: PostgresServer;
  before(async () => {
    bare = await startPostgres({ withoutVector: true });
  });
  after(async () => {
    await bare?.stop();
  });

  test('ExtensionMissing with the remedy, before any statement runs', async () => {
    const db = await bare.createDatabase({ withOwnerRole: false });
    const engine = createMigrationEngine({
      connection: createConnector({ connectionString: db.url }),
      migrationsDir: join(fixtures, 'migrations-basic'),
      instance: 'bare',
    });
    try {
      const error = await rejectsWith(engine.up(), 'ExtensionMissing');
      assert.match(error.message, /extension vector is not available/);
      assert.match(error.message, /install vector >= 0\.7\.0/);
      assert.equal(error.terminal, true);
      const rows = await bare.query<{ ok: boolean }>("SELECT to_regclass('public.lokdarpan_schema_history') IS NOT NULL AS ok", [], db.name);
      assert.equal(rows.rows[0]!.ok, false);
    } finally {
      await engine.close();
      await db.drop();
    }
  });
});
