// The synthetic data generator and `lokdarpan seed` against real PostgreSQL + pgvector (major from
// LOKDARPAN_PG_MAJOR, default 15): loads by COPY into a schema at 004, is deterministic for a seed,
// produces data that satisfies 005's CHECKs (applied afterwards, as the bench does) and fills the views.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type PostgresServer, type TestDatabase } from '../env/postgres.ts';
import { repoRoot } from '../env/process.ts';
import { createConnector } from '../../src/adapters/postgres/connection.ts';
import { createMigrationEngine } from '../../src/engines/migrations/index.ts';
import { generateLokdarpanData, GHMC_WARDS } from '../../src/engines/datagen/index.ts';
import { runSeedCli } from '../../src/cli/seed.ts';
import { runCaptured } from '../cli-io.ts';

const migrationsDir = join(repoRoot, 'migrations');
const NOW = '2026-11-20T06:30:00.000Z';

describe('synthetic LokDarpan data', () => {
  let server: PostgresServer;
  const dbs: TestDatabase[] = [];

  const migrated = async (to?: string): Promise<TestDatabase> => {
    const db = await server.createDatabase({ withVector: true });
    dbs.push(db);
    const engine = createMigrationEngine({ connection: createConnector({ connectionString: db.appUrl }), migrationsDir, instance: 'datagen-test' });
    try {
      await engine.up(to === undefined ? {} : { to });
    } finally {
      await engine.close();
    }
    return db;
  };
  const query = async <R extends pg.QueryResultRow = pg.QueryResultRow>(db: TestDatabase, text: string): Promise<R[]> => {
    const c = new pg.Client(db.appConfig());
    await c.connect();
    try {
      return (await c.query<R>(text)).rows;
    } finally {
      await c.end();
    }
  };
  const fingerprint = async (db: TestDatabase): Promise<Record<string, string>> => {
    const rows = await query<{ t: string; h: string }>(db, `
      SELECT 'post' AS t, md5(string_agg(concat_ws('|', id, text, author_id, city, emotion, party, created_at, epaper_id), ',' ORDER BY id)) AS h FROM post
      UNION ALL SELECT 'result_ps', md5(string_agg(concat_ws('|', id, election_id, ps_id, party, votes), ',' ORDER BY id)) FROM result_ps
      UNION ALL SELECT 'ai_embedding_store', md5(string_agg(concat_ws('|', id, content_hash, embedding::text), ',' ORDER BY id)) FROM ai_embedding_store
      UNION ALL SELECT 'ai_model_execution', md5(string_agg(concat_ws('|', id, request_id, cost_usd, created_at), ',' ORDER BY id)) FROM ai_model_execution`);
    return Object.fromEntries(rows.map((r) => [r.t, r.h]));
  };

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    for (const db of dbs) await db.drop().catch(() => {});
    await server?.stop();
  });

  test('`lokdarpan seed` loads the requested rows by COPY and reports them as JSON', async () => {
    const db = await migrated('004_ai_infrastructure');
    const { code, out, err } = await runCaptured(
      runSeedCli,
      ['--seed', 'lokdarpan', '--posts', '3000', '--embeddings', '40', '--model-executions', '500', '--reports', '30', '--metrics', '100',
        '--years', '3', '--now', NOW, '--json'],
      { env: { DATABASE_URL: db.appUrl } },
    );
    assert.equal(code, 0, err);
    const report = JSON.parse(out) as { counts: Record<string, number> };
    assert.equal(report.counts['post'], 3000);
    assert.equal(report.counts['ai_embedding_store'], 40);
    assert.equal(report.counts['ai_model_execution'], 500);
    assert.equal(report.counts['ward_profile'], 150);
    assert.equal(report.counts['result_ward_agg'], 6 * 150 * 6);
    assert.doesNotMatch(out + err, new RegExp(db.appPassword.replace(/[^A-Za-z0-9]/g, '.')));

    const [p] = await query<{ n: string; wards: string; first: Date; last: Date }>(db,
      `SELECT count(*) AS n, count(DISTINCT city) AS wards, min(created_at) AS first, max(created_at) AS last FROM post`);
    assert.equal(Number(p!.n), 3000);
    assert.ok(Number(p!.wards) > 100, 'posts spread over the wards');
    assert.ok(p!.last.getTime() <= Date.parse(NOW));
    assert.ok(p!.first.getTime() >= Date.parse(NOW) - 3 * 366 * 86_400_000);
    const names = await query<{ ward_id: string }>(db, `SELECT ward_id FROM ward_profile ORDER BY id`);
    assert.deepEqual(names.map((r) => r.ward_id), GHMC_WARDS.map((w) => w.name));
    const emotions = await query<{ emotion: string }>(db, `SELECT DISTINCT emotion FROM post WHERE emotion IS NOT NULL ORDER BY 1`);
    assert.ok(emotions.some((e) => e.emotion === 'Positive') && emotions.some((e) => e.emotion === 'Hopeful'), 'capitalised, as the app writes');
    const [dims] = await query<{ d: number }>(db, `SELECT DISTINCT vector_dims(embedding) AS d FROM ai_embedding_store`);
    assert.equal(dims!.d, 3072);
    // Identity sequences were moved past the explicit ids: a plain insert works.
    await query(db, `INSERT INTO author (name) VALUES ('after seeding')`);

    // The same data through 005: CHECKs validate, views fill, one row per active ward.
    const engine = createMigrationEngine({ connection: createConnector({ connectionString: db.appUrl }), migrationsDir, instance: 'datagen-test' });
    try {
      await engine.up();
    } finally {
      await engine.close();
    }
    const checks = await query<{ ok: boolean }>(db, `SELECT bool_and(convalidated) AS ok FROM pg_constraint WHERE conname LIKE 'chk_%'`);
    assert.equal(checks[0]!.ok, true);
    await query(db, 'SELECT refresh_ward_analytics()');
    const [summary] = await query<{ n: string; joined: string }>(db,
      `SELECT count(*) AS n, count(electors) AS joined FROM ward_analytics_summary`);
    assert.equal(Number(summary!.n), Number(p!.wards));
    assert.equal(summary!.joined, summary!.n, 'every ward joined to its profile');

    // A second run into a non-empty schema is refused.
    const again = await runCaptured(runSeedCli, ['--posts', '10', '--embeddings', '0'], { env: { DATABASE_URL: db.appUrl } });
    assert.equal(again.code, 1);
    assert.match(again.err, /already hold data/);
  });

  test('the same seed and now give identical rows; another seed gives others', async () => {
    const options = { posts: 1500, embeddings: 10, modelExecutions: 200, reports: 10, metrics: 50, now: new Date(NOW) };
    const prints: Array<Record<string, string>> = [];
    for (const seed of ['s1', 's1', 's2']) {
      const db = await migrated('004_ai_infrastructure');
      const client = new pg.Client(db.appConfig());
      await client.connect();
      try {
        await generateLokdarpanData(client, { seed, ...options });
      } finally {
        await client.end();
      }
      prints.push(await fingerprint(db));
    }
    assert.deepEqual(prints[0], prints[1]);
    for (const table of Object.keys(prints[0]!)) assert.notEqual(prints[0]![table], prints[2]![table], table);
  });
});
