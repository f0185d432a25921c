// The engine with the real LokDarpan migrations (migrations/001..009 and migrations/adopt/): apply on an
// empty database, no-op, down to 003 and up again, the CLI's JSON output, and adopting a Flask-era database.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pg from 'pg';
import type { TestDatabase } from '../env/postgres.ts';
import { postgresFixture } from './postgres-fixture.ts';
import { repoRoot } from '../env/process.ts';
import { createConnector } from '../../src/adapters/postgres/connection.ts';
import { createMigrationEngine, lokdarpanAdopters } from '../../src/engines/migrations/index.ts';
import { runMigrateCli } from '../../src/cli/migrate.ts';
import { runCaptured } from '../cli-io.ts';

const migrationsDir = join(repoRoot, 'migrations');
const postgres = postgresFixture();
const database = (withVector = true): Promise<TestDatabase> => postgres.database({ withVector });

function engineFor(url: string) {
  const engine = createMigrationEngine({
    connection: createConnector({ connectionString: url }),
    migrationsDir,
    instance: 'lokdarpan-test',
    adopters: lokdarpanAdopters(migrationsDir),
  });
  postgres.onCleanup(() => engine.close());
  return engine;
}

async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(config: pg.ClientConfig, text: string): Promise<R[]> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

const ALL = ['001_core_tables', '002_electoral_tables', '003_ward_intelligence_tables', '004_ai_infrastructure', '005_electoral_optimization',
  '006_post_search_vector', '007_embedding_inline_storage', '008_hnsw_ef_search', '009_hnsw_dense_graph'];
const LATEST = '009_hnsw_dense_graph';

describe(`LokDarpan migrations through the engine on PostgreSQL ${process.env['LOKDARPAN_PG_MAJOR'] ?? '15'}`, () => {
  test('001..009 apply as the non-superuser owner, a second run is a no-op, down to 003 and up again work', async () => {
    const db = await database(true);
    const engine = engineFor(db.appUrl);
    const plan = await engine.plan();
    assert.deepEqual(plan.migrations.map((m) => m.name), ALL);
    assert.equal(plan.migrations.find((m) => m.name === '005_electoral_optimization')?.transactional, false);

    const first = await engine.up({ approvedPlanHash: plan.hash });
    assert.deepEqual(first.applied.map((a) => a.name), ALL);
    assert.equal(first.schemaVersion, LATEST);
    const invalid = await query(db.adminConfig(), 'SELECT indexrelid::regclass AS idx FROM pg_index WHERE NOT indisvalid');
    assert.deepEqual(invalid, []);

    assert.deepEqual((await engine.up()).applied, []);
    const down = await engine.down({ to: '003_ward_intelligence_tables', allowDowngrade: true });
    assert.deepEqual(down.applied.map((a) => a.name), ALL.slice(3).reverse());
    assert.equal(down.schemaVersion, '003_ward_intelligence_tables');
    const again = await engine.up();
    assert.deepEqual(again.applied.map((a) => a.name), ALL.slice(3));
    const history = await query<{ name: string; transactional: boolean }>(db.adminConfig(), 'SELECT name, transactional FROM lokdarpan_schema_history ORDER BY name');
    assert.deepEqual(history.map((h) => h.name), ALL);
    assert.equal(history.find((h) => h.name === '007_embedding_inline_storage')?.transactional, false);

    const all = await engine.down({ to: null, allowDowngrade: true });
    assert.deepEqual(all.history, []);
    const left = await query(db.adminConfig(), "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND relkind IN ('r','m','v') AND relname <> 'lokdarpan_schema_history'");
    assert.deepEqual(left, [], 'every down removes what its up created');
  });

  test("008 run by a role that does not own the database: the setting is made for that role only, and a WARNING says so", async () => {
    const db = await database(true);
    const owner = engineFor(db.appUrl);
    await owner.up({ to: '007_embedding_inline_storage' });
    const migrator = `${db.name}_migrator`;
    await postgres.server.createRole(migrator, 'migrator-pw');
    postgres.onCleanup(async () => void (await postgres.server.query(`DROP OWNED BY ${migrator}; DROP ROLE ${migrator}`, [], db.name).catch(() => {})));
    await query(db.appConfig(), `GRANT CREATE ON SCHEMA public TO ${migrator}; GRANT SELECT, INSERT, UPDATE, DELETE ON lokdarpan_schema_history TO ${migrator}`);
    const migratorUrl = postgres.server.url(migrator, 'migrator-pw', db.name);
    const result = await engineFor(migratorUrl).up({ to: '008_hnsw_ef_search' });
    assert.deepEqual(result.applied.map((a) => a.name), ['008_hnsw_ef_search']);
    assert.equal(result.applied[0]!.warnings?.length, 1);
    assert.match(result.applied[0]!.warnings![0]!, new RegExp(`^hnsw\\.ef_search = 300 is set for role ${migrator} in database ${db.name} only: .*The owner should run: ALTER DATABASE ${db.name} SET hnsw\\.ef_search = 300$`));
    const efOf = async (config: pg.ClientConfig) =>
      (await query<{ v: string }>(config, `SELECT '[1]'::vector IS NOT NULL AS loaded, current_setting('hnsw.ef_search') AS v`))[0]!.v;
    assert.equal(await efOf({ connectionString: migratorUrl }), '300');
    assert.equal(await efOf(db.appConfig()), '40', 'other roles keep the default');
    const down = await engineFor(migratorUrl).down({ to: '007_embedding_inline_storage', allowDowngrade: true });
    assert.deepEqual(down.applied.map((a) => a.name), ['008_hnsw_ef_search']);
    assert.equal(await efOf({ connectionString: migratorUrl }), '40');
  });

  test('the CLI: up --json, status, plan after the fact', async () => {
    const db = await database(true);
    const up = await runCaptured(runMigrateCli, ['up', '--json', '--database-url', db.appUrl, '--instance', 'cli-test'], { env: {}, repoRoot });
    assert.equal(up.code, 0, up.err);
    const result = JSON.parse(up.out) as { applied: Array<{ name: string; durationMs: number }>; schemaVersion: string; history: Array<{ appliedBy: string }> };
    assert.deepEqual(result.applied.map((a) => a.name), ALL);
    assert.equal(result.schemaVersion, LATEST);
    assert.equal(result.history[0]?.appliedBy, 'cli-test');
    const status = await runCaptured(runMigrateCli, ['status', '--database-url', db.appUrl], { env: {}, repoRoot });
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, new RegExp(`schema version: ${LATEST}`));
    assert.match(status.out, /pending: none/);
    const plan = await runCaptured(runMigrateCli, ['plan', '--to', '003_ward_intelligence_tables', '--database-url', db.appUrl], { env: {}, repoRoot });
    assert.equal(plan.code, 0, plan.err);
    assert.match(plan.out, new RegExp(`plan down: ${LATEST} -> 003_ward_intelligence_tables`));
    const refused = await runCaptured(runMigrateCli, ['down', '--to', '003_ward_intelligence_tables', '--database-url', db.appUrl], { env: {}, repoRoot });
    assert.equal(refused.code, 1);
    assert.match(refused.err, /DowngradeNotAllowed/);
  });

  test('a Flask-era database is adopted: rows kept, 001..003 adopted, 004..009 applied', async () => {
    const db = await database(true);
    // Built as the app's own role, as the Flask app did: naive timestamps, JSON, no post.party, an alembic_version row.
    await query(db.appConfig(), `
      CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);
      INSERT INTO alembic_version VALUES ('ac47afe8f5c3');
      CREATE TABLE "user" (id serial PRIMARY KEY, username varchar(80) NOT NULL, email varchar(120) NOT NULL,
        password_hash varchar(256) NOT NULL, created_at timestamp NOT NULL DEFAULT now(), last_login timestamp,
        is_active boolean NOT NULL DEFAULT true, failed_login_attempts integer NOT NULL DEFAULT 0, last_failed_login timestamp);
      CREATE UNIQUE INDEX ix_user_username ON "user" (username);
      CREATE UNIQUE INDEX ix_user_email ON "user" (email);
      CREATE TABLE author (id serial PRIMARY KEY, name varchar(120) NOT NULL UNIQUE, party varchar(64));
      CREATE TABLE epaper (id serial PRIMARY KEY, publication_name varchar(100) NOT NULL, publication_date date NOT NULL,
        raw_text text NOT NULL, created_at timestamp, sha256 varchar(64) NOT NULL);
      CREATE UNIQUE INDEX ix_epaper_sha256 ON epaper (sha256);
      CREATE TABLE post (id serial PRIMARY KEY, text text NOT NULL, author_id integer REFERENCES author (id), city varchar(120),
        emotion varchar(64), created_at timestamp NOT NULL, epaper_id integer CONSTRAINT fk_post_epaper REFERENCES epaper (id));
      CREATE INDEX ix_post_created_at ON post (created_at);
      CREATE TABLE alert (id serial PRIMARY KEY, ward varchar(120), description varchar(512), severity varchar(32),
        opportunities text, threats text, actionable_alerts text, source_articles text,
        created_at timestamp NOT NULL, updated_at timestamp NOT NULL);
      CREATE TABLE election (id serial PRIMARY KEY, type varchar(16) NOT NULL, year integer NOT NULL, round varchar(32), official_ref varchar(256));
      CREATE TABLE polling_station (id serial PRIMARY KEY, ps_id varchar(64) NOT NULL UNIQUE, name varchar(256), address varchar(512),
        lat double precision, lon double precision, ac_id varchar(64), pc_id varchar(64), ward_id varchar(64), ward_name varchar(256), source_meta json);
      CREATE TABLE result_ps (id serial PRIMARY KEY, election_id integer NOT NULL REFERENCES election (id), ps_id varchar(64) NOT NULL,
        party varchar(64) NOT NULL, candidate varchar(256), votes integer, total_polled integer, rejected integer, created_at timestamp NOT NULL);
      CREATE TABLE result_ward_agg (id serial PRIMARY KEY, election_id integer NOT NULL REFERENCES election (id), ward_id varchar(64) NOT NULL,
        party varchar(64) NOT NULL, votes integer, vote_share double precision, turnout_pct double precision, computed_at timestamp NOT NULL);
      CREATE TABLE ward_profile (id serial PRIMARY KEY, ward_id varchar(64) NOT NULL UNIQUE, electors integer, votes_cast integer,
        turnout_pct double precision, last_winner_party varchar(64), last_winner_year integer, updated_at timestamp NOT NULL);
      CREATE TABLE ward_demographics (id serial PRIMARY KEY, ward_id varchar(64) NOT NULL UNIQUE, literacy_idx double precision,
        muslim_idx double precision, scst_idx double precision, secc_deprivation_idx double precision, updated_at timestamp NOT NULL);
      CREATE TABLE ward_features (id serial PRIMARY KEY, ward_id varchar(64) NOT NULL UNIQUE, as23_party_shares json, ls24_party_shares json,
        dvi json, aci_23 double precision, turnout_volatility double precision, incumbency_weakness json, updated_at timestamp NOT NULL);
      INSERT INTO author (name, party) VALUES ('Deccan Chronicle', NULL), ('Ravi Kumar', 'BRS');
      INSERT INTO post (text, author_id, city, emotion, created_at) VALUES
        ('Roads flooded again near the junction', 1, 'Jubilee Hills', 'Anger', '2025-08-01 10:00'),
        ('New flyover opened, commuters relieved', 2, 'Khairatabad', 'Hopeful', '2025-08-02 11:30'),
        ('Ward office closed on a weekday', 1, 'Jubilee Hills', 'Positive', '2025-08-03 09:15'),
        ('An LLM wrote a free-form emotion here', 2, 'Khairatabad', 'Bewildered-ish', '2025-08-04 08:00');
      INSERT INTO election (type, year) VALUES ('GHMC', 2020);
      INSERT INTO result_ward_agg (election_id, ward_id, party, votes, vote_share, computed_at) VALUES (1, 'Jubilee Hills', 'BJP', 1200, 41.5, now());
    `);
    const engine = engineFor(db.appUrl);
    assert.equal((await engine.status()).adoptableBy, 'lokdarpan-flask');
    const result = await engine.up();
    assert.deepEqual(result.adopted, ALL.slice(0, 3));
    assert.deepEqual(result.applied.map((a) => a.name), ALL.slice(3));
    assert.deepEqual(result.history.map((h) => h.kind), [...ALL.slice(0, 3).map(() => 'adopted'), ...ALL.slice(3).map(() => 'applied')]);
    const posts = await query<{ n: number }>(db.adminConfig(), 'SELECT count(*)::int AS n FROM post');
    assert.deepEqual(posts, [{ n: 4 }]);
    // The legacy row outside the emotion vocabulary is kept; 005 says so with a WARNING the engine reports.
    const warnings = result.applied.find((a) => a.name === '005_electoral_optimization')?.warnings ?? [];
    assert.ok(warnings.some((w) => /chk_post_emotion stays NOT VALID/.test(w)), JSON.stringify(warnings));
    // No UPDATE may write that row (the NOT VALID CHECK applies to every new row version): 006's
    // backfill keeps it as it is, without a vector, and says so; fixing its value fills the vector.
    const backfill = result.applied.find((a) => a.name === '006_post_search_vector')?.warnings ?? [];
    assert.ok(backfill.some((w) => /search_vector stays NULL for 1 post\(s\)/.test(w)), JSON.stringify(backfill));
    const unfilled = await query<{ emotion: string }>(db.adminConfig(), 'SELECT emotion FROM post WHERE search_vector IS NULL');
    assert.deepEqual(unfilled, [{ emotion: 'Bewildered-ish' }]);
    await query(db.appConfig(), "UPDATE post SET emotion = 'Unknown' WHERE emotion = 'Bewildered-ish'");
    assert.deepEqual(await query(db.adminConfig(), 'SELECT id FROM post WHERE search_vector IS NULL'), []);
    const party = await query(db.adminConfig(), "SELECT 1 FROM pg_attribute WHERE attrelid = 'post'::regclass AND attname = 'party'");
    assert.equal(party.length, 1);
    assert.deepEqual((await engine.up()).applied, []);
  });
});
