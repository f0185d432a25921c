// The LokDarpan schema (migrations 001-009) on real PostgreSQL + pgvector, on BOTH majors (15 and 18):
// apply / no-op / down to 003 / up again; the known data set's numbers from both materialized views
// (refreshed CONCURRENTLY) and the three functions, worked out by hand; the vocabulary CHECKs against
// the app's capitalised data; a top-10 similarity search through the HNSW index; the app's own
// full-text statements on post.search_vector (006) through its GIN index; 006 down restores 005's
// expression index and up again brings the column back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type PgMajor, type PostgresServer, type TestDatabase } from '../env/postgres.ts';
import { repoRoot } from '../env/process.ts';
import { createConnector } from '../../src/adapters/postgres/connection.ts';
import { createMigrationEngine, HNSW_EF_SEARCH_SETTING } from '../../src/engines/migrations/index.ts';
import { knownDataset, loadKnownDataset } from '../../src/engines/datagen/index.ts';

const migrationsDir = join(repoRoot, 'migrations');
const HOUR = 3_600_000;
/** 009's HNSW graph, as pg_get_indexdef prints it. */
const DENSE = /USING hnsw \(embedding halfvec_cosine_ops\) WITH \(m='24', ef_construction='128'\)$/;

/** The calendar date in Asia/Kolkata (UTC+05:30, no DST) of an instant, as YYYY-MM-DD. */
function istDate(t: Date): string {
  return new Date(t.getTime() + 5.5 * HOUR).toISOString().slice(0, 10);
}

for (const major of [15, 18] as PgMajor[]) {
  describe(`LokDarpan schema on PostgreSQL ${major}`, () => {
    let server: PostgresServer;
    let db: TestDatabase;
    let client: pg.Client;
    const cleanups: Array<() => Promise<void>> = [];

    const engine = () => {
      const e = createMigrationEngine({
        connection: createConnector({ connectionString: db.appUrl }),
        migrationsDir,
        instance: 'schema-test',
        lockTimeoutMs: 30_000,
      });
      cleanups.push(() => e.close());
      return e;
    };
    /** hnsw.ef_search as a new session of the app's role gets it (pgvector's library loaded by a cast first). */
    const freshEfSearch = async (): Promise<string> => {
      const c = new pg.Client(db.appConfig());
      await c.connect();
      try {
        await c.query(`SELECT '[1]'::vector`);
        return (await c.query<{ v: string }>(`SELECT current_setting('hnsw.ef_search') AS v`)).rows[0]!.v;
      } finally {
        await c.end();
      }
    };
    const q = async <R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> =>
      (await client.query<R>(text, values)).rows;
    const hnswDef = async (): Promise<string> =>
      (await q<{ def: string }>(`SELECT pg_get_indexdef('ix_ai_embedding_hnsw'::regclass) AS def`))[0]!.def;

    before(async () => {
      server = await startPostgres({ major });
      db = await server.createDatabase({ withVector: true });
      client = new pg.Client(db.appConfig());
      await client.connect();
    });
    after(async () => {
      await client?.end().catch(() => {});
      for (const c of cleanups.reverse()) await c().catch(() => {});
      await db?.drop().catch(() => {});
      await server?.stop();
    });

    test('001-009 apply on an empty database as its (non-superuser) owner; a second run is a no-op', async () => {
      const first = await engine().up();
      assert.deepEqual(first.applied.map((a) => a.name), [
        '001_core_tables', '002_electoral_tables', '003_ward_intelligence_tables', '004_ai_infrastructure', '005_electoral_optimization',
        '006_post_search_vector', '007_embedding_inline_storage', '008_hnsw_ef_search', '009_hnsw_dense_graph',
      ]);
      assert.deepEqual(first.applied.find((a) => a.name === '008_hnsw_ef_search')?.warnings, [], 'the owner sets the database default');
      assert.equal(await freshEfSearch(), String(HNSW_EF_SEARCH_SETTING.value), 'a new session of the app gets 008\'s hnsw.ef_search, the value the validation and a restore use');
      const second = await engine().up();
      assert.equal(second.applied.length, 0);
      // 005-009 have several steps: a runner killed after some of them re-runs the whole file, so every
      // step must be idempotent. Forget them in the history and apply them again over themselves.
      await q(`DELETE FROM lokdarpan_schema_history WHERE name >= '005'`);
      const rerun = await engine().up();
      assert.deepEqual(rerun.applied.map((a) => a.name), ['005_electoral_optimization', '006_post_search_vector', '007_embedding_inline_storage', '008_hnsw_ef_search', '009_hnsw_dense_graph']);
      const [fts] = await q<{ def: string; storage: string; col: string }>(
        `SELECT pg_get_indexdef('ix_post_search_vector'::regclass) AS def,
                (SELECT attstorage FROM pg_attribute WHERE attrelid = 'ai_embedding_store'::regclass AND attname = 'embedding') AS storage,
                (SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'post'::regclass AND attname = 'search_vector') AS col`);
      assert.equal(fts!.def, 'CREATE INDEX ix_post_search_vector ON public.post USING gin (search_vector)');
      assert.equal(fts!.col, 'tsvector');
      assert.equal(fts!.storage, 'p', 'embeddings are stored inline (STORAGE PLAIN)');
      assert.equal((await q(`SELECT 1 FROM pg_class WHERE relname = 'ix_post_search_document'`)).length, 0, "005's expression index is gone");
      assert.match(await hnswDef(), DENSE, "009's graph, under 004's name, also after a rerun over itself");
      assert.deepEqual(await q(`SELECT relname FROM pg_class WHERE relname LIKE 'ix_ai_embedding_hnsw_%'`), [], 'no index of the rebuild is left');

      const invalid = await q(`SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid WHERE NOT x.indisvalid`);
      assert.deepEqual(invalid, []);
      const views = await q<{ matviewname: string }>(`SELECT matviewname FROM pg_matviews ORDER BY 1`);
      assert.deepEqual(views.map((v) => v.matviewname), ['daily_ward_trends', 'ward_analytics_summary']);
      // REFRESH ... CONCURRENTLY needs a unique index without a WHERE clause on each view.
      const unique = await q<{ tbl: string }>(
        `SELECT c.relname AS tbl FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
         WHERE c.relkind = 'm' AND x.indisunique AND x.indpred IS NULL ORDER BY 1`);
      assert.deepEqual(unique.map((u) => u.tbl), ['daily_ward_trends', 'ward_analytics_summary']);
      const [ward] = await q<{ n: string; names: string }>(`SELECT count(*) AS n, count(DISTINCT name_key) AS names FROM ward`);
      assert.equal(Number(ward!.n), 150);
      assert.equal(Number(ward!.names), 150);
      const [col] = await q<{ t: string }>(`SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute
        WHERE attrelid = 'ai_embedding_store'::regclass AND attname = 'embedding'`);
      assert.equal(col!.t, 'halfvec(3072)');
      const [created] = await q<{ t: string }>(`SELECT data_type AS t FROM information_schema.columns WHERE table_name = 'post' AND column_name = 'created_at'`);
      assert.equal(created!.t, 'timestamp with time zone');
      // No index predicate calls a volatile or stable function (the original 004 used now()).
      const predicates = await q<{ pred: string }>(`SELECT pg_get_expr(indpred, indrelid) AS pred FROM pg_index WHERE indpred IS NOT NULL`);
      for (const p of predicates) assert.doesNotMatch(p.pred, /now\(\)|current_|clock_/i);
    });

    test('the known data set: views refreshed CONCURRENTLY and functions return the hand-worked numbers', async () => {
      const { now } = await loadKnownDataset(client);
      await q('SELECT refresh_ward_analytics()');
      // The refresh is recorded in ai_system_metrics.
      const [metric] = await q<{ n: string }>(`SELECT count(*) AS n FROM ai_system_metrics WHERE metric_name = 'materialized_view_refresh'`);
      assert.equal(Number(metric!.n), 1);
      // Concurrent for real: while another session is in the middle of reading both views, a
      // CONCURRENTLY refresh goes through, and a plain one would have to wait (lock timeout).
      const reader = new pg.Client(db.appConfig());
      await reader.connect();
      try {
        await reader.query('BEGIN');
        await reader.query('SELECT count(*) FROM ward_analytics_summary');
        await reader.query('SELECT count(*) FROM daily_ward_trends');
        await q(`SET lock_timeout = '3s'`);
        await q('REFRESH MATERIALIZED VIEW CONCURRENTLY ward_analytics_summary');
        await q('REFRESH MATERIALIZED VIEW CONCURRENTLY daily_ward_trends');
        await q('SELECT refresh_ward_analytics()');
        await q(`SET lock_timeout = '300ms'`);
        await assert.rejects(q('REFRESH MATERIALIZED VIEW ward_analytics_summary'), /lock timeout/);
      } finally {
        await q('RESET lock_timeout');
        await reader.query('ROLLBACK').catch(() => {});
        await reader.end();
      }

      const [jh] = await q(`SELECT * FROM ward_analytics_summary WHERE ward_name = 'Jubilee Hills'`);
      assert.ok(jh);
      assert.equal(jh['ward_no'], 95);
      assert.equal(Number(jh['total_posts']), 16);
      assert.equal(Number(jh['unique_authors']), 6);
      assert.equal(Number(jh['active_parties']), 5); // BJP INC BRS(incl. TRS) IND AIMIM
      assert.equal(Number(jh['posts_last_7d']), 8);
      assert.equal(Number(jh['posts_last_30d']), 14);
      assert.equal(jh['positive_pct'], '56.25'); // 9 of 16 (Positive, Hopeful, Pride, Admiration)
      assert.equal(jh['negative_pct'], '25.00'); // 4 of 16 (Anger, Negative, Frustration, Negative)
      assert.equal(jh['neutral_pct'], '6.25');   // 1 of 16
      assert.equal(jh['dominant_party'], 'BJP');
      assert.equal(Number(jh['bjp_mentions']), 6);
      assert.equal(Number(jh['inc_mentions']), 3);
      assert.equal(Number(jh['brs_mentions']), 3);
      assert.equal(Number(jh['aimim_mentions']), 1);
      // ward_profile keys Jubilee Hills by NUMBER ('95'), as the Flask seeder did: still joined.
      assert.equal(jh['electors'], 61234);
      assert.equal(jh['last_winner_party'], 'BRS');
      assert.equal(jh['activity_trend_pct'], '57.14'); // 8 / 14
      assert.equal(jh['activity_level'], 'high_activity');

      const [kh] = await q(`SELECT * FROM ward_analytics_summary WHERE ward_name = 'Khairatabad'`);
      assert.ok(kh);
      assert.equal(Number(kh['total_posts']), 3);
      assert.equal(kh['electors'], 52000); // keyed by name
      assert.equal(Number(kh['bjp_mentions']), 1); // 'bjp' normalised

      const comp30 = await q(`SELECT * FROM get_ward_competitive_analysis('Jubilee Hills', 30)`);
      assert.deepEqual(comp30.map((r) => [r['party'], Number(r['mention_count']), r['mention_share'], r['avg_sentiment'], r['recent_trend']]), [
        ['BJP', 5, '41.67', '0.200', '3.929'], // recent 3 of 5: (3/7)/(2/23) - 1
        ['BRS', 3, '25.00', '0.667', '5.571'], // BRS + TRS; (2/7)/(1/23) - 1
        ['INC', 3, '25.00', '0.000', '0.643'], // Unknown counts as 0; (1/7)/(2/23) - 1
        ['IND', 1, '8.33', '1.000', '-1.000'], // 'Independent'; no recent mention
      ]);
      // The ward given by number or in another spelling resolves to the same ward.
      assert.deepEqual(await q(`SELECT * FROM get_ward_competitive_analysis('95', 30)`), comp30);
      assert.deepEqual(await q(`SELECT * FROM get_ward_competitive_analysis('  jubilee   HILLS ', 30)`), comp30);

      const comp7 = await q(`SELECT * FROM get_ward_competitive_analysis('Jubilee Hills', 7)`);
      assert.deepEqual(comp7.map((r) => [r['party'], Number(r['mention_count']), r['mention_share'], r['avg_sentiment'], r['recent_trend']]), [
        ['BJP', 3, '50.00', '0.333', null],
        ['BRS', 2, '33.33', '0.500', null],
        ['INC', 1, '16.67', '-1.000', null],
      ]);
      const comp3 = await q(`SELECT * FROM get_ward_competitive_analysis('Jubilee Hills', 3)`);
      assert.deepEqual(comp3.map((r) => [r['party'], Number(r['mention_count']), r['mention_share'], r['avg_sentiment'], r['recent_trend']]), [
        ['BJP', 3, '75.00', '0.333', null],
        ['INC', 1, '25.00', '-1.000', null],
      ]);
      await assert.rejects(q(`SELECT * FROM get_ward_competitive_analysis('Jubilee Hills', 0)`), /p_days must be at least 1/);

      // Timeline: expected buckets computed here from the data set (IST calendar days).
      const expected = new Map<string, { pos: number; neg: number; neu: number; total: number }>();
      const polarity = (e: string): number | null =>
        ({ positive: 1, hopeful: 1, pride: 1, admiration: 1, negative: -1, anger: -1, frustration: -1, sadness: -1, neutral: 0 } as Record<string, number>)[e.toLowerCase()] ?? null;
      for (const p of knownDataset().posts) {
        if (p.city !== 'Jubilee Hills' || p.emotion === null || p.hoursAgo >= 30 * 24) continue;
        const day = istDate(new Date(now.getTime() - p.hoursAgo * HOUR));
        const b = expected.get(day) ?? { pos: 0, neg: 0, neu: 0, total: 0 };
        const pol = polarity(p.emotion);
        if (pol === 1) b.pos++;
        if (pol === -1) b.neg++;
        if (pol === 0) b.neu++;
        b.total++;
        expected.set(day, b);
      }
      const timeline = await q(`SELECT date_bucket::text AS d, positive_count, negative_count, neutral_count, total_posts, sentiment_score
        FROM get_ward_sentiment_timeline('Jubilee Hills', 30)`);
      const wanted = [...expected.entries()].sort((a, b) => (a[0] < b[0] ? 1 : -1)).map(([d, b]) =>
        [d, b.pos, b.neg, b.neu, b.total, ((100 * (b.pos - b.neg)) / b.total).toFixed(2)]);
      assert.deepEqual(timeline.map((r) => [r['d'], Number(r['positive_count']), Number(r['negative_count']), Number(r['neutral_count']),
        Number(r['total_posts']), r['sentiment_score']]), wanted);
      assert.equal(timeline.reduce((a, r) => a + Number(r['total_posts']), 0), 13);

      // daily_ward_trends: posts_7d_avg = posts of the 7 calendar days ending that day / 7.
      const daily = await q<{ d: string; daily_posts: string; posts_7d_avg: string }>(
        `SELECT trend_date::text AS d, daily_posts, posts_7d_avg FROM daily_ward_trends WHERE ward_name = 'Jubilee Hills' ORDER BY trend_date`);
      const perDay = new Map<string, number>();
      for (const p of knownDataset().posts) {
        if (p.city !== 'Jubilee Hills' || p.hoursAgo >= 80 * 24) continue;
        const day = istDate(new Date(now.getTime() - p.hoursAgo * HOUR));
        perDay.set(day, (perDay.get(day) ?? 0) + 1);
      }
      assert.equal(daily.length, perDay.size);
      for (const row of daily) {
        let sum = 0;
        for (let k = 0; k < 7; k++) sum += perDay.get(new Date(Date.parse(row.d) - k * 24 * HOUR).toISOString().slice(0, 10)) ?? 0;
        assert.equal(Number(row.daily_posts), perDay.get(row.d), row.d);
        assert.equal(row.posts_7d_avg, (sum / 7).toFixed(2), row.d);
      }
    });

    test('the vocabulary CHECKs accept what the app writes, and reject what is outside it', async () => {
      const rows = await q<{ conname: string; convalidated: boolean }>(
        `SELECT conname, convalidated FROM pg_constraint WHERE conname IN ('chk_post_emotion', 'chk_post_party', 'chk_ward_turnout', 'chk_result_ward_agg_pct') ORDER BY 1`);
      assert.deepEqual(rows.map((r) => [r.conname, r.convalidated]), [
        ['chk_post_emotion', true], ['chk_post_party', true], ['chk_result_ward_agg_pct', true], ['chk_ward_turnout', true],
      ]);
      for (const [emotion, party] of [['Positive', 'BJP'], ['Hopeful', 'TRS'], ['Anger', 'Independent'], ['Error', 'CPI(M)'],
        ['Unknown', 'PRAJA_RAJYAM'], [' sadness ', 'Praja Rajyam'], ['PRIDE', 'Congress'], ['Admiration', 'AIMIM']]) {
        await q(`INSERT INTO post (text, city, emotion, party) VALUES ('check', 'Kapra', $1, $2)`, [emotion, party]);
      }
      await assert.rejects(q(`INSERT INTO post (text, city, emotion) VALUES ('x', 'Kapra', 'Furious')`), /chk_post_emotion/);
      await assert.rejects(q(`INSERT INTO post (text, city, party) VALUES ('x', 'Kapra', 'Galactic Party')`), /chk_post_party/);
      await assert.rejects(q(`INSERT INTO ward_profile (ward_id, turnout_pct) VALUES ('Kapra', 140)`), /chk_ward_turnout/);
      const norm = await q<{ e: string; p: string; pol: number }>(
        `SELECT lokdarpan_emotion('Hopeful') AS e, lokdarpan_party('TRS') AS p, lokdarpan_emotion_polarity('Anger') AS pol`);
      assert.deepEqual(norm[0], { e: 'hopeful', p: 'BRS', pol: -1 });
    });

    test('top-10 similarity search goes through the HNSW index (halfvec(3072), cosine)', async () => {
      // 300 unit vectors in 3072 dimensions around 10 directions, generated in SQL.
      await q('SELECT setseed(0.42)');
      await q(`INSERT INTO ai_embedding_store (content_hash, source_type, content_chunk, ward_context, embedding)
        SELECT md5(i::text), 'news', 'chunk ' || i, CASE WHEN i % 2 = 0 THEN 'Kapra' END,
               (SELECT array_agg(sin(i % 10 + d * 0.37) + 0.3 * (random() - 0.5))::halfvec(3072) FROM generate_series(1, 3072) d)
        FROM generate_series(1, 300) i`);
      await q('ANALYZE ai_embedding_store');
      await client.query('BEGIN');
      try {
        // Honest: over 300 rows a seq scan is cheaper (with the vectors inline the index wins from ~2000
        // rows on, schema-vector-plan.test.ts), so seq scans are switched off here.
        await client.query('SET LOCAL enable_seqscan = off');
        await client.query('SET LOCAL hnsw.ef_search = 200');
        const probe = `(SELECT embedding FROM ai_embedding_store WHERE content_hash = md5('42'))`;
        const plan = (await client.query(`EXPLAIN SELECT id FROM ai_embedding_store ORDER BY embedding <=> ${probe} LIMIT 10`)).rows
          .map((r) => r['QUERY PLAN']).join('\n');
        assert.match(plan, /Index Scan using ix_ai_embedding_hnsw/);
        // As the app calls it: the query vector as a parameter (a sub-select argument would stop inlining).
        const vector = (await client.query(`SELECT ${probe}::text AS v`)).rows[0]!['v'] as string;
        const fnPlan = (await client.query(`EXPLAIN SELECT * FROM ai_find_similar_content($1::halfvec, NULL, 10)`, [vector])).rows
          .map((r) => r['QUERY PLAN']).join('\n');
        assert.match(fnPlan, /Index Scan using ix_ai_embedding_hnsw/, 'the SQL function is inlined and uses the index');
        const top = (await client.query(`SELECT id, content_chunk, similarity FROM ai_find_similar_content($1::halfvec, NULL, 10)`, [vector])).rows;
        assert.equal(top.length, 10);
        assert.equal(top[0]!['content_chunk'], 'chunk 42');
        assert.ok(Math.abs(top[0]!['similarity'] - 1) < 1e-3);
        for (const r of top) assert.ok(r['similarity'] <= top[0]!['similarity']);
        // Exact top-10 (no index) agrees with the index on at least 9 of 10.
        await client.query('SET LOCAL enable_indexscan = off');
        await client.query('SET LOCAL enable_seqscan = on');
        const exact = (await client.query(`SELECT id FROM ai_embedding_store ORDER BY embedding <=> ${probe} LIMIT 10`)).rows.map((r) => r['id']);
        const overlap = top.filter((r) => exact.includes(r['id'])).length;
        assert.ok(overlap >= 9, `HNSW top-10 overlaps the exact top-10 on ${overlap}`);
      } finally {
        await client.query('ROLLBACK');
      }
      const ward = await q(`SELECT ward_context FROM ai_find_similar_content((SELECT embedding FROM ai_embedding_store WHERE content_hash = md5('42')), 'Kapra', 5)`);
      for (const r of ward) assert.equal(r['ward_context'], 'Kapra');
    });

    test("the app's full-text statements run unchanged on post.search_vector, kept by the trigger, through ix_post_search_vector", async () => {
      // Every row has the original trigger's document ('english'; text A, city B, emotion C, party B; NULL as '').
      const original = `setweight(to_tsvector('english', coalesce(text, '')), 'A') || setweight(to_tsvector('english', coalesce(city, '')), 'B')
        || setweight(to_tsvector('english', coalesce(emotion, '')), 'C') || setweight(to_tsvector('english', coalesce(party, '')), 'B')`;
      const [counts] = await q<{ n: string; off: string }>(`SELECT count(*) AS n, count(*) FILTER (WHERE search_vector IS DISTINCT FROM ${original}) AS off FROM post`);
      assert.ok(Number(counts!.n) > 0);
      assert.equal(Number(counts!.off), 0);

      // The trigger: on insert, and on updates that name a source column.
      const [ins] = await q<{ id: number; v: string }>(`INSERT INTO post (text) VALUES ('Flooded roads near the lake') RETURNING id, search_vector::text AS v`);
      assert.equal(ins!.v, `'flood':1A 'lake':5A 'near':3A 'road':2A`);
      const [upd] = await q<{ v: string }>(`UPDATE post SET city = 'Kapra', emotion = 'Anger', party = 'BJP' WHERE id = $1 RETURNING search_vector::text AS v`, [ins!.id]);
      assert.equal(upd!.v, `'anger':7C 'bjp':8B 'flood':1A 'kapra':6B 'lake':5A 'near':3A 'road':2A`);
      const [upd2] = await q<{ v: string }>(`UPDATE post SET text = 'Elections in the ward' WHERE id = $1 RETURNING search_vector::text AS v`, [ins!.id]);
      assert.equal(upd2!.v, `'anger':6C 'bjp':7B 'elect':1A 'kapra':5B 'ward':4A`);

      // The app's statements, as it sends them: the term parsed with the session's default configuration.
      const app = `SELECT id, ts_rank(search_vector, plainto_tsquery($1)) AS rank FROM post
                   WHERE search_vector @@ plainto_tsquery($1) ORDER BY rank DESC LIMIT 20`;
      const hits = await q<{ id: number; rank: number }>(app, ['election']);
      assert.equal(hits[0]?.id, ins!.id, "'election' finds 'Elections' (both stemmed by 'english')");
      const [development] = await q<{ n: string }>(`SELECT count(*) AS n FROM post WHERE search_vector @@ plainto_tsquery('development')`);
      assert.ok(Number(development!.n) >= 16);
      const ward = await q<{ ward_name: string }>(`SELECT * FROM search_posts('development', 'Jubilee Hills', 50)`);
      assert.equal(ward.length, 16);
      assert.ok(ward.every((r) => r.ward_name === 'Jubilee Hills'));
      await client.query('BEGIN');
      try {
        // A few dozen rows: without this the planner rightly reads the whole table.
        await client.query('SET LOCAL enable_seqscan = off');
        for (const sql of [app, `SELECT * FROM search_posts($1)`]) {
          const plan = (await client.query(`EXPLAIN ${sql}`, ['development'])).rows.map((r) => r['QUERY PLAN']).join('\n');
          assert.match(plan, /Bitmap Index Scan on ix_post_search_vector/, sql);
        }
      } finally {
        await client.query('ROLLBACK');
      }
    });

    test("006 down restores 005's full-text search (expression index, no column, no trigger); up again brings the column back", async () => {
      const down = await engine().down({ to: '005_electoral_optimization', allowDowngrade: true });
      assert.deepEqual(down.applied.map((a) => a.name), ['009_hnsw_dense_graph', '008_hnsw_ef_search', '007_embedding_inline_storage', '006_post_search_vector']);
      assert.match(await hnswDef(), /WITH \(m='16', ef_construction='64'\)$/, "009 down: 004's graph again");
      assert.equal(await freshEfSearch(), '40', "008 down: new sessions get pgvector's default again");
      assert.equal((await q(`SELECT 1 FROM pg_attribute WHERE attrelid = 'post'::regclass AND attname = 'search_vector' AND NOT attisdropped`)).length, 0);
      assert.equal((await q(`SELECT 1 FROM pg_trigger WHERE tgname = 'update_post_search_vector_trigger'`)).length, 0);
      assert.equal((await q(`SELECT 1 FROM pg_proc WHERE proname IN ('update_post_search_vector', 'post_search_vector_of')`)).length, 0);
      const [idx] = await q<{ def: string }>(`SELECT pg_get_indexdef('ix_post_search_vector'::regclass) AS def`);
      assert.match(idx!.def, /USING gin \(post_search_document\(text, \(?city\)?(::text)?, \(?emotion\)?(::text)?, \(?party\)?(::text)?\)\)/);
      const [storage] = await q<{ s: string }>(`SELECT attstorage AS s FROM pg_attribute WHERE attrelid = 'ai_embedding_store'::regclass AND attname = 'embedding'`);
      assert.equal(storage!.s, 'e', "007 down gives embedding its type's storage back");
      const ward = await q(`SELECT * FROM search_posts('development', 'Jubilee Hills', 50)`);
      assert.equal(ward.length, 16);
      assert.deepEqual(await q(`SELECT 1 FROM pg_index WHERE NOT indisvalid`), []);

      const up = await engine().up();
      assert.deepEqual(up.applied.map((a) => a.name), ['006_post_search_vector', '007_embedding_inline_storage', '008_hnsw_ef_search', '009_hnsw_dense_graph']);
      assert.match(await hnswDef(), DENSE);
      assert.equal(await freshEfSearch(), String(HNSW_EF_SEARCH_SETTING.value));
      const [counts] = await q<{ n: string; missing: string }>(`SELECT count(*) AS n, count(*) FILTER (WHERE search_vector IS NULL) AS missing FROM post`);
      assert.ok(Number(counts!.n) > 0);
      assert.equal(Number(counts!.missing), 0, 'the backfill filled every row again');
      const [def] = await q<{ def: string }>(`SELECT pg_get_indexdef('ix_post_search_vector'::regclass) AS def`);
      assert.equal(def!.def, 'CREATE INDEX ix_post_search_vector ON public.post USING gin (search_vector)');
    });

    test('ai_cleanup_expired_data keeps error logs, counts archived reports and never re-archives', async () => {
      const [u] = await q<{ id: number }>(`INSERT INTO "user" (username, email, password_hash) VALUES ('u', 'u@x', '!') RETURNING id`);
      await q(`INSERT INTO ai_model_execution (request_id, operation_type, provider, model_name, success_status, created_at) VALUES
        ('a', 'retrieval', 'openai', 'gpt-4o', 'success', now() - interval '200 days'),
        ('b', 'retrieval', 'openai', 'gpt-4o', 'error', now() - interval '200 days'),
        ('c', 'retrieval', 'openai', 'gpt-4o', 'success', now() - interval '10 days')`);
      await q(`INSERT INTO ai_geopolitical_report (user_id, query_text, query_hash, status, requested_at, completed_at) VALUES
        ($1, 'q1', 'h1', 'completed', now() - interval '120 days', now() - interval '120 days'),
        ($1, 'q2', 'h2', 'completed', now() - interval '5 days', now() - interval '5 days')`, [u!.id]);
      await q(`INSERT INTO ai_embedding_store (content_hash, source_type, content_chunk, created_at, last_accessed_at, access_count, expires_at) VALUES
        ('e1', 'news', 'idle news', now() - interval '100 days', NULL, 0, NULL),
        ('e2', 'news', 'used news', now() - interval '100 days', now() - interval '10 days', 1, NULL),
        ('e3', 'news', 'popular news', now() - interval '100 days', NULL, 10, NULL),
        ('e4', 'manual', 'manual note', now() - interval '100 days', NULL, 0, NULL),
        ('e5', 'analysis', 'expired', now() - interval '1 day', NULL, 0, now() - interval '1 hour')`);
      const first = await q<{ table_name: string; action: string; row_count: string }>(`SELECT * FROM ai_cleanup_expired_data()`);
      const embeddingsLeft = await q<{ content_hash: string }>(`SELECT content_hash FROM ai_embedding_store WHERE content_hash LIKE 'e_' ORDER BY 1`);
      assert.deepEqual(embeddingsLeft.map((r) => r.content_hash), ['e2', 'e3', 'e4']);
      const get = (rows: typeof first, t: string, a: string) => Number(rows.find((r) => r.table_name === t && r.action === a)!.row_count);
      assert.equal(get(first, 'ai_model_execution', 'deleted'), 1);
      assert.equal(get(first, 'ai_geopolitical_report', 'archived'), 1);
      const kept = await q<{ request_id: string }>(`SELECT request_id FROM ai_model_execution ORDER BY 1`);
      assert.deepEqual(kept.map((r) => r.request_id), ['b', 'c']);
      const second = await q<{ table_name: string; action: string; row_count: string }>(`SELECT * FROM ai_cleanup_expired_data()`);
      assert.equal(get(second, 'ai_geopolitical_report', 'archived'), 0);
    });

    test('down to 003 removes 004-009 cleanly; up again restores them with the data of 001-003 intact', async () => {
      const [before] = await q<{ n: string }>(`SELECT count(*) AS n FROM post`);
      const down = await engine().down({ to: '003_ward_intelligence_tables', allowDowngrade: true });
      assert.deepEqual(down.applied.map((a) => a.name), ['009_hnsw_dense_graph', '008_hnsw_ef_search', '007_embedding_inline_storage', '006_post_search_vector', '005_electoral_optimization', '004_ai_infrastructure']);
      for (const gone of ['ward_analytics_summary', 'ai_embedding_store', 'ward', 'ix_post_city_created', 'ix_post_search_vector']) {
        const [r] = await q<{ ok: boolean }>(`SELECT to_regclass($1) IS NULL AS ok`, [gone]);
        assert.ok(r!.ok, `${gone} was dropped`);
      }
      const up = await engine().up();
      assert.deepEqual(up.applied.map((a) => a.name), ['004_ai_infrastructure', '005_electoral_optimization', '006_post_search_vector', '007_embedding_inline_storage', '008_hnsw_ef_search', '009_hnsw_dense_graph']);
      const [afterCount] = await q<{ n: string }>(`SELECT count(*) AS n FROM post`);
      assert.equal(afterCount!.n, before!.n);
      await q('SELECT refresh_ward_analytics()');
      const [jh] = await q(`SELECT total_posts FROM ward_analytics_summary WHERE ward_name = 'Jubilee Hills'`);
      assert.equal(Number(jh!['total_posts']), 16);
      const invalid = await q(`SELECT 1 FROM pg_index WHERE NOT indisvalid`);
      assert.equal(invalid.length, 0);
    });
  });
}
