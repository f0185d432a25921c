// Adoption of a database built by the LokDarpan Flask app, on PostgreSQL 15 and 18: the base tables
// as the Alembic chain left them (serial ids, timestamp without time zone, json, no post.party, the
// dropped uq_post_epaper_id, no uniqueness on results), an alembic_version row, a legacy
// ai_model_execution from the other Alembic root, and the app's real data quirks (capitalised
// emotions, 'TRS', ward_profile keyed by ward NUMBER, two posts of one e-paper, a result of an unknown
// polling station). The engine baselines 001..003 with migrations/adopt/lokdarpan-flask.sql, then
// applies 004..009: every row is kept and the database ends at the latest version, with the app's
// post.search_vector filled and kept by the trigger. A Flask database that already has the original
// 005's column, trigger and GIN index keeps them working through the same path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type PgMajor, type PostgresServer, type TestDatabase } from '../env/postgres.ts';
import { repoRoot } from '../env/process.ts';
import { createConnector } from '../../src/adapters/postgres/connection.ts';
import { createMigrationEngine, lokdarpanAdopters } from '../../src/engines/migrations/index.ts';

const migrationsDir = join(repoRoot, 'migrations');
const LATER = ['004_ai_infrastructure', '005_electoral_optimization', '006_post_search_vector', '007_embedding_inline_storage', '008_hnsw_ef_search', '009_hnsw_dense_graph'];
// The original 005's trigger document ('english'; text A, city B, emotion C, party B; NULL as '').
const ORIGINAL_DOCUMENT = `setweight(to_tsvector('english', coalesce(text, '')), 'A') || setweight(to_tsvector('english', coalesce(city, '')), 'B')
  || setweight(to_tsvector('english', coalesce(emotion, '')), 'C') || setweight(to_tsvector('english', coalesce(party, '')), 'B')`;
// What the original 005 (section 3.2 of the original's description) leaves when it is applied by hand.
const ORIGINAL_FULL_TEXT = `
ALTER TABLE post ADD COLUMN party varchar(64);
ALTER TABLE post ADD COLUMN search_vector tsvector;
CREATE OR REPLACE FUNCTION update_post_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector := setweight(to_tsvector('english', COALESCE(NEW.text, '')), 'A') ||
                       setweight(to_tsvector('english', COALESCE(NEW.city, '')), 'B') ||
                       setweight(to_tsvector('english', COALESCE(NEW.emotion, '')), 'C') ||
                       setweight(to_tsvector('english', COALESCE(NEW.party, '')), 'B');
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS update_post_search_vector_trigger ON post;
CREATE TRIGGER update_post_search_vector_trigger BEFORE INSERT OR UPDATE ON post FOR EACH ROW EXECUTE FUNCTION update_post_search_vector();
UPDATE post SET search_vector = NULL WHERE search_vector IS NULL;
CREATE INDEX ix_post_search_vector ON post USING gin (search_vector);
`;

const FLASK_SCHEMA = `
CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version VALUES ('ac47afe8f5c3');
CREATE TABLE "user" (
  id serial PRIMARY KEY, username varchar(80) NOT NULL, email varchar(120) NOT NULL, password_hash varchar(256) NOT NULL,
  created_at timestamp NOT NULL DEFAULT now(), last_login timestamp, is_active boolean NOT NULL DEFAULT true,
  failed_login_attempts integer NOT NULL DEFAULT 0, last_failed_login timestamp);
CREATE UNIQUE INDEX ix_user_username ON "user" (username);
CREATE UNIQUE INDEX ix_user_email ON "user" (email);
CREATE TABLE author (id serial PRIMARY KEY, name varchar(120) NOT NULL UNIQUE, party varchar(64));
CREATE TABLE epaper (id serial PRIMARY KEY, publication_name varchar(100) NOT NULL, publication_date date NOT NULL,
  raw_text text NOT NULL, created_at timestamp, sha256 varchar(64) NOT NULL);
CREATE UNIQUE INDEX ix_epaper_sha256 ON epaper (sha256);
CREATE INDEX ix_epaper_publication_date ON epaper (publication_date);
CREATE INDEX ix_epaper_created_at ON epaper (created_at);
CREATE TABLE post (id serial PRIMARY KEY, text text NOT NULL, author_id integer REFERENCES author (id), city varchar(120),
  emotion varchar(64), created_at timestamp NOT NULL, epaper_id integer CONSTRAINT fk_post_epaper REFERENCES epaper (id));
CREATE INDEX ix_post_created_at ON post (created_at);
CREATE INDEX ix_post_epaper_id ON post (epaper_id);
CREATE TABLE alert (id serial PRIMARY KEY, ward varchar(120), description varchar(512), severity varchar(32), opportunities text,
  threats text, actionable_alerts text, source_articles text, created_at timestamp NOT NULL, updated_at timestamp NOT NULL);
CREATE INDEX ix_alert_ward ON alert (ward);
CREATE TABLE election (id serial PRIMARY KEY, type varchar(16) NOT NULL, year integer NOT NULL, round varchar(32), official_ref varchar(256));
CREATE TABLE polling_station (id serial PRIMARY KEY, ps_id varchar(64) NOT NULL UNIQUE, name varchar(256), address varchar(512),
  lat double precision, lon double precision, ac_id varchar(64), pc_id varchar(64), ward_id varchar(64), ward_name varchar(256), source_meta json);
CREATE INDEX ix_polling_station_ward_id ON polling_station (ward_id);
CREATE TABLE result_ps (id serial PRIMARY KEY, election_id integer NOT NULL REFERENCES election (id), ps_id varchar(64) NOT NULL,
  party varchar(64) NOT NULL, candidate varchar(256), votes integer, total_polled integer, rejected integer, created_at timestamp NOT NULL);
CREATE TABLE result_ward_agg (id serial PRIMARY KEY, election_id integer NOT NULL REFERENCES election (id), ward_id varchar(64) NOT NULL,
  party varchar(64) NOT NULL, votes integer, vote_share double precision, turnout_pct double precision, computed_at timestamp NOT NULL);
CREATE INDEX ix_result_ward_agg_ward_id ON result_ward_agg (ward_id);
CREATE TABLE ward_profile (id serial PRIMARY KEY, ward_id varchar(64) NOT NULL UNIQUE, electors integer, votes_cast integer,
  turnout_pct double precision, last_winner_party varchar(64), last_winner_year integer, updated_at timestamp NOT NULL);
CREATE TABLE ward_demographics (id serial PRIMARY KEY, ward_id varchar(64) NOT NULL UNIQUE, literacy_idx double precision,
  muslim_idx double precision, scst_idx double precision, secc_deprivation_idx double precision, updated_at timestamp NOT NULL);
CREATE TABLE ward_features (id serial PRIMARY KEY, ward_id varchar(64) NOT NULL UNIQUE, as23_party_shares json, ls24_party_shares json,
  dvi json, aci_23 double precision, turnout_volatility double precision, incumbency_weakness json, updated_at timestamp NOT NULL);
-- The other Alembic root (001_multimodel_ai): a different ai_model_execution.
CREATE TABLE ai_model_execution (id serial PRIMARY KEY, request_id varchar(64) NOT NULL, user_id integer REFERENCES "user" (id),
  provider varchar(32) NOT NULL, model_name varchar(64) NOT NULL, prompt_caching_enabled boolean, cost_usd numeric(10,6),
  created_at timestamp NOT NULL);
CREATE INDEX ix_ai_model_execution_created_at ON ai_model_execution (created_at);
`;

const FLASK_DATA = `
INSERT INTO "user" (username, email, password_hash, created_at) VALUES ('admin', 'admin@lokdarpan.io', '!', '2025-01-01 10:00');
INSERT INTO author (name, party) VALUES ('Ravi Reddy', 'BJP'), ('Ayesha Khan', NULL);
INSERT INTO epaper (publication_name, publication_date, raw_text, created_at, sha256)
  VALUES ('Eenadu', '2025-08-01', 'raw', NULL, repeat('a', 64));
INSERT INTO post (text, author_id, city, emotion, created_at, epaper_id) VALUES
  ('Roads in Jubilee Hills', 1, 'Jubilee Hills', 'Positive', now() AT TIME ZONE 'UTC' - interval '1 day', 1),
  ('Same article again', 2, 'Jubilee Hills', 'Hopeful', now() AT TIME ZONE 'UTC' - interval '2 days', 1),
  ('Anger over drainage', 2, 'Jubilee Hills', 'Anger', now() AT TIME ZONE 'UTC' - interval '3 days', NULL),
  ('LLM failed', NULL, 'Khairatabad', 'Error', now() AT TIME ZONE 'UTC' - interval '4 days', NULL),
  ('Pride in the lake', 1, 'Khairatabad', 'Pride', '2019-05-01 06:30:00', NULL),
  ('no emotion yet', 1, 'Kapra', NULL, now() AT TIME ZONE 'UTC' - interval '5 days', NULL);
INSERT INTO alert (ward, description, severity, created_at, updated_at) VALUES ('Jubilee Hills', 'x', 'High', now(), now());
INSERT INTO election (type, year, round) VALUES ('GHMC', 2020, NULL), ('GHMC', 2020, NULL);
INSERT INTO polling_station (ps_id, ward_id, ward_name, source_meta) VALUES ('PS-1', '95', 'Jubilee Hills', '{"src": "tsec"}');
INSERT INTO result_ps (election_id, ps_id, party, votes, created_at) VALUES
  (1, 'PS-1', 'TRS', 500, now()), (1, 'PS-1', 'BJP', 400, now()), (1, 'PS-404', 'INC', 10, now());
INSERT INTO result_ward_agg (election_id, ward_id, party, votes, vote_share, turnout_pct, computed_at)
  VALUES (1, '95', 'TRS', 500, 55.5, 44.1, now());
INSERT INTO ward_profile (ward_id, electors, votes_cast, turnout_pct, last_winner_party, last_winner_year, updated_at)
  VALUES ('95', 61234, 27555, 45.0, 'TRS', 2020, now()), ('Khairatabad', 52000, 20800, 40.0, 'TRS', 2020, now());
INSERT INTO ward_demographics (ward_id, literacy_idx, updated_at) VALUES ('95', 0.8, now());
INSERT INTO ward_features (ward_id, as23_party_shares, updated_at) VALUES ('95', '{"BJP": 30.1}', now());
INSERT INTO ai_model_execution (request_id, user_id, provider, model_name, prompt_caching_enabled, cost_usd, created_at)
  VALUES ('r-1', 1, 'openai', 'gpt-4o', true, 0.01, now());
`;

const TABLES = ['user', 'author', 'epaper', 'post', 'alert', 'election', 'polling_station', 'result_ps', 'result_ward_agg',
  'ward_profile', 'ward_demographics', 'ward_features'];

for (const major of [15, 18] as PgMajor[]) {
  describe(`adopting a Flask-era LokDarpan database on PostgreSQL ${major}`, () => {
    let server: PostgresServer;
    let db: TestDatabase;
    let client: pg.Client;
    const q = async <R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> =>
      (await client.query<R>(text, values)).rows;
    const engine = () => createMigrationEngine({
      connection: createConnector({ connectionString: db.appUrl }),
      migrationsDir,
      instance: 'adoption-test',
      adopters: lokdarpanAdopters(migrationsDir),
    });

    before(async () => {
      server = await startPostgres({ major });
      db = await server.createDatabase({ withVector: true });
      client = new pg.Client(db.appConfig());
      await client.connect();
      await client.query(FLASK_SCHEMA);
      await client.query(FLASK_DATA);
    });
    after(async () => {
      await client?.end().catch(() => {});
      await db?.drop().catch(() => {});
      await server?.stop();
    });

    test('ends at the latest version, keeps every row, and shows the adoption in the history', async () => {
      const count = async (t: string) => Number((await q<{ n: string }>(`SELECT count(*) AS n FROM "${t}"`))[0]!.n);
      const before: Record<string, number> = {};
      for (const t of TABLES) before[t] = await count(t);
      const posted = await q<{ id: number; utc: string }>(`SELECT id, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS') AS utc FROM post ORDER BY id`);

      const e = engine();
      let result;
      try {
        result = await e.up();
      } finally {
        await e.close();
      }
      assert.deepEqual(result.applied.map((a) => a.name), LATER);
      const history = await q<{ name: string; kind: string }>(`SELECT name, kind FROM lokdarpan_schema_history ORDER BY name`);
      assert.deepEqual(history.map((h) => [h.name, h.kind]), [
        ['001_core_tables', 'adopted'], ['002_electoral_tables', 'adopted'], ['003_ward_intelligence_tables', 'adopted'],
        ...LATER.map((name) => [name, 'applied']),
      ]);

      for (const t of TABLES) assert.equal(await count(t), before[t], `rows of ${t} kept`);
      const legacy = await q<{ request_id: string }>(`SELECT request_id FROM ai_model_execution_legacy`);
      assert.deepEqual(legacy.map((r) => r.request_id), ['r-1']);
      assert.equal(await count('ai_model_execution'), 0);

      // timestamp -> timestamptz read as UTC: the same wall-clock values in UTC.
      const types = await q<{ t: string }>(`SELECT DISTINCT data_type AS t FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = ANY($1) AND column_name IN ('created_at', 'updated_at', 'computed_at')`, [TABLES]);
      assert.deepEqual(types.map((r) => r.t), ['timestamp with time zone']);
      await q(`SET TimeZone = 'UTC'`);
      const after = await q<{ id: number; utc: string }>(`SELECT id, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS') AS utc FROM post ORDER BY id`);
      assert.deepEqual(after, posted);
      await q('RESET TimeZone');

      // The app's full-text column: every adopted post backfilled with the original's document.
      const [fts] = await q<{ n: string; off: string }>(`SELECT count(*) AS n, count(*) FILTER (WHERE search_vector IS DISTINCT FROM ${ORIGINAL_DOCUMENT}) AS off FROM post`);
      assert.equal(Number(fts!.off), 0);
      assert.equal(Number(fts!.n), before['post']);

      // What the chain left out now exists; the app's data satisfies the CHECKs after normalisation.
      await q(`UPDATE post SET party = CASE id WHEN 1 THEN 'BJP' WHEN 2 THEN 'TRS' WHEN 3 THEN 'Independent' END`);
      const [party] = await q<{ v: string }>(`SELECT search_vector::text AS v FROM post WHERE id = 2`);
      assert.match(party!.v, /'trs':\d+B/, 'the trigger put the new party in the vector');
      assert.equal(Number((await q<{ n: string }>(`SELECT count(*) AS n FROM post WHERE search_vector IS DISTINCT FROM ${ORIGINAL_DOCUMENT}`))[0]!.n), 0);
      const checks = await q<{ conname: string; convalidated: boolean }>(
        `SELECT conname, convalidated FROM pg_constraint WHERE conname IN ('chk_post_emotion', 'chk_post_party') ORDER BY 1`);
      assert.deepEqual(checks.map((c) => [c.conname, c.convalidated]), [['chk_post_emotion', true], ['chk_post_party', true]]);
      const [defaults] = await q<{ d: string | null }>(`SELECT column_default AS d FROM information_schema.columns
        WHERE table_name = 'post' AND column_name = 'created_at'`);
      assert.equal(defaults!.d, 'now()');

      // Uniqueness only where the rows allow it: two posts share e-paper 1, two elections are equal.
      const idx = await q<{ ok: boolean }>(`SELECT to_regclass('uq_post_epaper_id') IS NULL AS ok`);
      assert.ok(idx[0]!.ok, 'uq_post_epaper_id left out (duplicates kept)');
      const cons = await q<{ conname: string; convalidated: boolean }>(`SELECT conname, convalidated FROM pg_constraint
        WHERE conname IN ('uq_election_type_year_round', 'uq_result_ps_election_ps_party', 'fk_result_ps_polling_station',
                          'uq_result_ward_agg_election_ward_party') ORDER BY 1`);
      assert.deepEqual(cons.map((c) => [c.conname, c.convalidated]), [
        ['fk_result_ps_polling_station', false], // PS-404 is unknown: kept, FK enforced for new rows only
        ['uq_result_ps_election_ps_party', true],
        ['uq_result_ward_agg_election_ward_party', true],
      ]);
      await assert.rejects(q(`INSERT INTO result_ps (election_id, ps_id, party) VALUES (1, 'PS-999', 'BJP')`), /fk_result_ps_polling_station/);

      // The analytics work on the adopted data: ward_profile keyed by number ('95') joins Jubilee Hills.
      await q('SELECT refresh_ward_analytics()');
      const [jh] = await q(`SELECT * FROM ward_analytics_summary WHERE ward_name = 'Jubilee Hills'`);
      assert.equal(Number(jh!['total_posts']), 3);
      assert.equal(jh!['positive_pct'], '66.67');
      assert.equal(jh!['negative_pct'], '33.33');
      assert.equal(jh!['electors'], 61234);
      const comp = await q(`SELECT party, mention_count, mention_share FROM get_ward_competitive_analysis('Jubilee Hills', 7)`);
      assert.deepEqual(comp.map((r) => [r['party'], Number(r['mention_count']), r['mention_share']]),
        [['BJP', 1, '33.33'], ['BRS', 1, '33.33'], ['IND', 1, '33.33']]);

      // 003 down/up is possible on an adopted database too.
      const e2 = engine();
      try {
        const down = await e2.down({ to: '003_ward_intelligence_tables', allowDowngrade: true });
        assert.deepEqual(down.applied.map((a) => a.name), [...LATER].reverse());
        const up = await e2.up();
        assert.deepEqual(up.applied.map((a) => a.name), LATER);
      } finally {
        await e2.close();
      }
      for (const t of TABLES) assert.equal(await count(t), before[t], `rows of ${t} kept after down/up`);
    });

    test("a Flask database with the original 005's search_vector, trigger and GIN index keeps them: values, index and the app's statement", async () => {
      const flask = await server.createDatabase({ withVector: true });
      const c = new pg.Client(flask.appConfig());
      await c.connect();
      const e = createMigrationEngine({
        connection: createConnector({ connectionString: flask.appUrl }), migrationsDir, instance: 'adoption-test', adopters: lokdarpanAdopters(migrationsDir),
      });
      try {
        await c.query(FLASK_SCHEMA);
        await c.query(FLASK_DATA);
        await c.query(ORIGINAL_FULL_TEXT);
        const before = (await c.query<{ id: number; v: string }>('SELECT id, search_vector::text AS v FROM post ORDER BY id')).rows;
        assert.ok(before.length > 0 && before.every((r) => r.v !== null));
        const result = await e.up();
        assert.deepEqual(result.applied.map((a) => a.name), LATER);
        assert.deepEqual((await c.query<{ id: number; v: string }>('SELECT id, search_vector::text AS v FROM post ORDER BY id')).rows, before);
        const [idx] = (await c.query<{ def: string }>(`SELECT pg_get_indexdef('ix_post_search_vector'::regclass) AS def`)).rows;
        assert.equal(idx!.def, 'CREATE INDEX ix_post_search_vector ON public.post USING gin (search_vector)');
        const triggers = (await c.query<{ tgname: string }>(`SELECT tgname FROM pg_trigger WHERE tgrelid = 'post'::regclass AND NOT tgisinternal`)).rows;
        assert.deepEqual(triggers.map((t) => t.tgname), ['update_post_search_vector_trigger']);
        assert.deepEqual((await c.query(`SELECT 1 FROM pg_index WHERE NOT indisvalid`)).rows, []);
        const { rows: [ins] } = await c.query<{ v: string }>(`INSERT INTO post (text, city, created_at) VALUES ('Flooded roads', 'Kapra', now()) RETURNING search_vector::text AS v`);
        assert.equal(ins!.v, `'flood':1A 'kapra':3B 'road':2A`);
        await c.query('BEGIN');
        await c.query('SET LOCAL enable_seqscan = off');
        const plan = (await c.query(`EXPLAIN SELECT id, ts_rank(search_vector, plainto_tsquery($1)) AS rank FROM post
          WHERE search_vector @@ plainto_tsquery($1) ORDER BY rank DESC LIMIT 20`, ['roads'])).rows.map((r) => r['QUERY PLAN']).join('\n');
        await c.query('ROLLBACK');
        assert.match(plan, /Bitmap Index Scan on ix_post_search_vector/);
      } finally {
        await e.close();
        await c.end().catch(() => {});
        await flask.drop().catch(() => {});
      }
    });
  });
}
