// Benchmark: top-10 cosine similarity over halfvec(3072) embeddings, the validation probe's query
// (`SELECT id FROM ai_embedding_store ORDER BY embedding <=> $1::halfvec LIMIT 10`), on a throwaway
// PostgreSQL with the generator's clustered embeddings (`seed --embeddings N`).
//   1. Schema at 006 (vectors in TOAST, as before 007): the plan and p50/p95 with default settings.
//   2. 007 applied (vectors moved inline in batches while the HNSW index is maintained): its duration.
//   3. After 007, with the settings a fresh connection gets: the plan, p50/p95, recall@10 against exact
//      search, and the baseline: exact search (index scans disabled), p50/p95.
//   4. With --posts N: the validation's ward query (posts, distinct authors and party mentions of one
//      ward over 30 days) for every ward on a fresh connection, p50/p95; baseline, same run: the same
//      queries without 005's ix_post_city_created (dropped in a transaction that is rolled back), i.e.
//      with the indexes the schema had before 005.
// Usage: node bench/vector.ts [--embeddings 100000] [--queries 100] [--at-latest] [--ef-search 100,200]
//        [--posts 1000000] [--json]   (LOKDARPAN_PG_MAJOR=15|18)
// --ef-search: also measured with SET hnsw.ef_search = each value, for comparison (the app's connections
// get the database default that 008 sets; the report says which value that was).
// --at-latest loads into the schema at its latest version (vectors inline from the start): no "before
// 007" figures and no rewrite, for sizes where the rewrite would take too long on the machine at hand.
// --embeddings 0 skips the vector part (e.g. `--embeddings 0 --posts 1000000 --at-latest` for the ward query alone).
// --hnsw 16:64,32:128: after the schema's own index is measured, the HNSW index is rebuilt with each
// m:ef_construction in turn (CREATE INDEX on the loaded table, the way a migration's CONCURRENTLY build
// reads it, without the wait for other transactions) and measured at every --ef-search value against
// the same exact top 10: its build time, the building backend's peak RSS (VmHWM) and the index size.
// --maintenance-work-mem sets the server's maintenance_work_mem (default 1GB; the index must fit in it
// or pgvector builds the rest on disk, much slower, and says so in a NOTICE that the report keeps).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { startPostgres } from '../test/env/postgres.ts';
import { repoRoot } from '../test/env/process.ts';
import { createConnector } from '../src/adapters/postgres/connection.ts';
import { createMigrationEngine } from '../src/engines/migrations/index.ts';
import { generateLokdarpanData } from '../src/engines/datagen/index.ts';
import { lokdarpanProbes } from '../src/engines/validation/lokdarpan-probes.ts';

const { values } = parseArgs({
  options: {
    embeddings: { type: 'string', default: '100000' },
    queries: { type: 'string', default: '100' },
    'at-latest': { type: 'boolean', default: false },
    'ef-search': { type: 'string', default: '100,200' },
    posts: { type: 'string', default: '1000' },
    hnsw: { type: 'string', default: '' },
    'maintenance-work-mem': { type: 'string', default: '1GB' },
    json: { type: 'boolean', default: false },
  },
});
const EMBEDDINGS = Number(values.embeddings);
const QUERIES = Number(values.queries);
const AT_LATEST = values['at-latest'];
const EF_SEARCH = values['ef-search'].split(',').filter((x) => x !== '').map(Number);
const POSTS = Number(values.posts);
const HNSW = values.hnsw.split(',').filter((x) => x !== '').map((x) => {
  const [m, efConstruction] = x.split(':').map(Number);
  if (!Number.isInteger(m) || !Number.isInteger(efConstruction)) throw new Error(`--hnsw takes m:ef_construction pairs, not "${x}"`);
  return { m: m!, efConstruction: efConstruction! };
});
const PROBE = 'SELECT id FROM ai_embedding_store ORDER BY embedding <=> $1::halfvec LIMIT 10';
const WARD_QUERY = lokdarpanProbes.find((p) => p.name === 'wardQuery')!.sql;

const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};
const round = (x: number): number => Math.round(x * 100) / 100;
const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);

async function planOf(client: pg.Client, vector: string, sql = PROBE): Promise<string> {
  const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, [vector]);
  return rows.map((r) => r['QUERY PLAN']).filter((l) => /Scan/.test(l)).map((l) => l.trim().replace(/\s+\(cost.*$/, '')).join('; ');
}

/** Latencies (ms) and top-10 ids of the probe for every query vector, on this connection's settings. */
async function run(client: pg.Client, vectors: readonly string[], sql = PROBE): Promise<{ ms: number[]; ids: number[][] }> {
  const ms: number[] = [];
  const ids: number[][] = [];
  await client.query(sql, [vectors[0]]); // warm the cache and the plan
  for (const v of vectors) {
    const t0 = performance.now();
    const { rows } = await client.query<{ id: number }>(sql, [v]);
    ms.push(performance.now() - t0);
    ids.push(rows.map((r) => r.id));
  }
  return { ms, ids };
}

/**
 * The validation's ward query for every ward on a fresh connection (p50/p95 over all wards), then the
 * baseline: the same queries with ix_post_city_created dropped in a transaction that is rolled back.
 */
async function wardQuery(config: pg.ClientConfig): Promise<Record<string, unknown>> {
  const c = new pg.Client(config);
  await c.connect();
  try {
    const wards = (await c.query<{ city: string }>(`SELECT DISTINCT city FROM post WHERE city IS NOT NULL ORDER BY city`)).rows.map((r) => r.city);
    log(`ward query: ${wards.length} wards`);
    const indexed = await run(c, wards, WARD_QUERY);
    const plan = await planOf(c, wards[0]!, WARD_QUERY);
    await c.query('BEGIN');
    await c.query('DROP INDEX ix_post_city_created');
    log('ward query baseline: without ix_post_city_created');
    const without = await run(c, wards, WARD_QUERY);
    const basePlan = await planOf(c, wards[0]!, WARD_QUERY);
    await c.query('ROLLBACK');
    const [n] = (await c.query<{ n: string }>('SELECT count(*) AS n FROM post')).rows;
    return {
      posts: Number(n?.n), wards: wards.length,
      withIndex: { plan, ...summary(indexed.ms) },
      baselineWithoutIxPostCityCreated: { plan: basePlan, ...summary(without.ms) },
      speedupVsBaseline: { p50: round(pct(without.ms, 50) / pct(indexed.ms, 50)), p95: round(pct(without.ms, 95) / pct(indexed.ms, 95)) },
    };
  } finally {
    await c.end();
  }
}

const summary = (ms: readonly number[]) => ({ p50Ms: round(pct(ms, 50)), p95Ms: round(pct(ms, 95)), maxMs: round(Math.max(...ms)) });

const server = await startPostgres({ settings: { maintenance_work_mem: values['maintenance-work-mem'], shared_buffers: '1GB' } });
const report: Record<string, unknown> = {
  date: new Date().toISOString(), pgMajor: server.major, serverVersion: server.version, embeddings: EMBEDDINGS, queries: QUERIES,
  loadAverageAtStart: loadavg().map(round),
};
try {
  const db = await server.createDatabase({ withVector: true });
  const migrationsDir = join(repoRoot, 'migrations');
  const engine = createMigrationEngine({ connection: createConnector({ connectionString: db.appUrl }), migrationsDir, instance: 'bench' });
  await engine.up(AT_LATEST ? {} : { to: '006_post_search_vector' });
  const client = new pg.Client(db.appConfig());
  await client.connect();
  const [ext] = (await client.query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'`)).rows;
  report['pgvector'] = ext?.v;

  log(`generating ${EMBEDDINGS} embeddings, ${POSTS} posts`);
  let t = performance.now();
  await generateLokdarpanData(client, {
    seed: 'bench-vector', posts: POSTS, embeddings: EMBEDDINGS, modelExecutions: 10, reports: 1, metrics: 10,
    onTable: (table, rows, ms) => log(`  ${table}: ${rows} rows in ${Math.round(ms)} ms`),
  });
  await client.query('VACUUM (ANALYZE) ai_embedding_store');
  await client.query('VACUUM (ANALYZE) post');
  report['loadSeconds'] = Math.round((performance.now() - t) / 1000);
  if (POSTS >= 10_000) report['wardQuery'] = await wardQuery(db.appConfig());
  if (EMBEDDINGS > 0) await vectorSearch();
  await engine.close();
  await client.end();
  await db.drop();

  async function vectorSearch(): Promise<void> {
    const [sizes] = (await client.query<{ heap: string; toast: string; index: string; ver: string }>(
      `SELECT pg_size_pretty(pg_relation_size('ai_embedding_store')) AS heap,
              pg_size_pretty(pg_relation_size((SELECT reltoastrelid FROM pg_class WHERE oid = 'ai_embedding_store'::regclass))) AS toast,
              pg_size_pretty(pg_relation_size('ix_ai_embedding_hnsw')) AS index`)).rows;
    report[AT_LATEST ? 'sizes' : 'sizesBefore007'] = sizes;

    // Query vectors: stored embeddings spread over the table (each query's own row is its nearest neighbour).
    const step = Math.max(1, Math.floor(EMBEDDINGS / QUERIES));
    const vectors = (await client.query<{ v: string }>(
      `SELECT embedding::text AS v FROM ai_embedding_store WHERE id % $1 = 7 AND embedding IS NOT NULL ORDER BY id LIMIT $2`, [step, QUERIES])).rows.map((r) => r.v);

    if (!AT_LATEST) {
      log('before 007: default settings');
      const before = await run(client, vectors);
      report['before007'] = { plan: await planOf(client, vectors[0]!), ...summary(before.ms) };

      log('applying 007 (rewrite of every row, HNSW maintained)');
      t = performance.now();
      const applied = await engine.up();
      report['migration007'] = { applied: applied.applied.map((a) => a.name), seconds: Math.round((performance.now() - t) / 1000) };
      const [after] = (await client.query<{ heap: string; toast: string }>(
        `SELECT pg_size_pretty(pg_relation_size('ai_embedding_store')) AS heap,
                pg_size_pretty(pg_relation_size((SELECT reltoastrelid FROM pg_class WHERE oid = 'ai_embedding_store'::regclass))) AS toast`)).rows;
      report['sizesAfter007'] = after;
    }

    // A fresh connection: exactly the settings the app's connections get.
    const fresh = new pg.Client(db.appConfig());
    await fresh.connect();
    const [settings] = (await fresh.query<{ ef: string }>(`SELECT current_setting('hnsw.ef_search', true) AS ef`)).rows;
    log('latest schema: the settings a fresh connection gets');
    const indexed = await run(fresh, vectors);
    report['appSettings'] = { plan: await planOf(fresh, vectors[0]!), efSearch: settings?.ef ?? 'default (40)', ...summary(indexed.ms) };

    // For comparison only (the app's connections get the value above): other candidate lists.
    const tuned: Array<{ efSearch: number; result: { ms: number[]; ids: number[][] }; plan: string }> = [];
    for (const ef of EF_SEARCH) {
      log(`latest schema: SET hnsw.ef_search = ${ef}`);
      await fresh.query(`SET hnsw.ef_search = ${ef}`);
      tuned.push({ efSearch: ef, result: await run(fresh, vectors), plan: await planOf(fresh, vectors[0]!) });
    }
    await fresh.query('RESET hnsw.ef_search');

    log('baseline: exact search (index scans off)');
    await fresh.query('SET enable_indexscan = off');
    const exact = await run(fresh, vectors);
    report['exactBaseline'] = { plan: await planOf(fresh, vectors[0]!), ...summary(exact.ms) };
    await fresh.end();

    const recall = (found: number[][]): number => {
      let hits = 0;
      let total = 0;
      found.forEach((ids, i) => {
        const truth = new Set(exact.ids[i]);
        hits += ids.filter((id) => truth.has(id)).length;
        total += truth.size;
      });
      return Math.round((hits / total) * 1000) / 1000;
    };
    report['recallAt10'] = recall(indexed.ids);
    report['withEfSearch'] = tuned.map((t) => ({ efSearch: t.efSearch, plan: t.plan, ...summary(t.result.ms), recallAt10: recall(t.result.ids) }));
    report['speedupVsExact'] = { p50: round(pct(exact.ms, 50) / pct(indexed.ms, 50)), p95: round(pct(exact.ms, 95) / pct(indexed.ms, 95)) };
    if (HNSW.length > 0) report['indexVariants'] = await indexVariants(vectors, recall);
  }

  /** The HNSW index rebuilt with each --hnsw m:ef_construction, measured at every --ef-search value. */
  async function indexVariants(vectors: readonly string[], recall: (found: number[][]) => number): Promise<unknown[]> {
    const [schemaIndex] = (await client.query<{ def: string }>(`SELECT pg_get_indexdef('ix_ai_embedding_hnsw'::regclass) AS def`)).rows;
    const [build] = (await client.query<{ mwm: string; workers: string }>(
      `SELECT current_setting('maintenance_work_mem') AS mwm, current_setting('max_parallel_maintenance_workers') AS workers`)).rows;
    report['schemaIndex'] = schemaIndex?.def;
    report['indexBuild'] = { maintenanceWorkMem: build?.mwm, maxParallelMaintenanceWorkers: Number(build?.workers) };
    const out: unknown[] = [];
    for (const { m, efConstruction } of HNSW) {
      const builder = new pg.Client(db.appConfig());
      await builder.connect();
      const notices: string[] = [];
      builder.on('notice', (n) => notices.push(n.message ?? ''));
      const [{ pid }] = (await builder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
      await builder.query('DROP INDEX IF EXISTS ix_ai_embedding_hnsw');
      log(`index variant m = ${m}, ef_construction = ${efConstruction}: building`);
      const t0 = performance.now();
      await builder.query(`CREATE INDEX ix_ai_embedding_hnsw ON ai_embedding_store USING hnsw (embedding halfvec_cosine_ops) WITH (m = ${m}, ef_construction = ${efConstruction})`);
      const buildSeconds = Math.round((performance.now() - t0) / 1000);
      const peakRss = await readFile(`/proc/${pid}/status`, 'utf8').then((s) => /VmHWM:\s+(\d+) kB/.exec(s)?.[1], () => undefined);
      const [size] = (await builder.query<{ size: string }>(`SELECT pg_size_pretty(pg_relation_size('ix_ai_embedding_hnsw')) AS size`)).rows;
      await builder.end();
      log(`  built in ${buildSeconds} s`);
      const q = new pg.Client(db.appConfig());
      await q.connect();
      const results: unknown[] = [];
      for (const ef of EF_SEARCH) {
        await q.query(`SET hnsw.ef_search = ${ef}`);
        const r = await run(q, vectors);
        results.push({ efSearch: ef, plan: await planOf(q, vectors[0]!), ...summary(r.ms), recallAt10: recall(r.ids) });
        log(`  ef_search ${ef}: ${JSON.stringify(results.at(-1))}`);
      }
      await q.end();
      out.push({
        m, efConstruction, buildSeconds, builderPeakRssMiB: peakRss === undefined ? null : Math.round(Number(peakRss) / 1024),
        indexSize: size?.size, notices, withEfSearch: results,
      });
    }
    return out;
  }
} finally {
  report['loadAverageAtEnd'] = loadavg().map(round);
  await server.stop();
}
if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else console.dir(report, { depth: 5 });
