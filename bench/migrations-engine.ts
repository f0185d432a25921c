// Benchmark of the migration engine with the real LokDarpan migrations on a throwaway PostgreSQL:
//   1. 001..005 on an empty database (median of --runs), a no-op `up`, and `plan`;
//   2. 005 on a database holding --posts posts while a writer inserts continuously: the writer's
//      latency percentiles and worst case (goal: no insert blocked > 1 s), and 005's step times.
// Usage: node bench/migrations-engine.ts [--posts 1000000] [--runs 5] [--json]   (LOKDARPAN_PG_MAJOR=15|18)
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { pino } from 'pino';
import { startPostgres, type TestDatabase } from '../test/env/postgres.ts';
import { repoRoot } from '../test/env/process.ts';
import { createConnector } from '../src/adapters/postgres/connection.ts';
import { createMigrationEngine } from '../src/engines/migrations/index.ts';
import { GHMC_WARDS } from '../src/engines/datagen/wards.ts';

const { values } = parseArgs({
  options: { posts: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '5' }, json: { type: 'boolean', default: false } },
});
const POSTS = Number(values.posts);
const RUNS = Number(values.runs);
const migrationsDir = join(repoRoot, 'migrations');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const round = (x: number): number => Math.round(x * 10) / 10;

/** A logger that keeps the engine's debug lines (step timings) in memory. */
function captureLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

const server = await startPostgres();
const report: Record<string, unknown> = { pgMajor: server.major, serverVersion: server.version, posts: POSTS, runs: RUNS };
try {
  // 1. Empty database.
  const perMigration = new Map<string, number[]>();
  const totals: number[] = [];
  const noops: number[] = [];
  const plans: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const db = await server.createDatabase({ withVector: true });
    const engine = createMigrationEngine({ connection: createConnector({ connectionString: db.appUrl }), migrationsDir, instance: 'bench' });
    let t = performance.now();
    const result = await engine.up();
    totals.push(performance.now() - t);
    for (const a of result.applied) perMigration.set(a.name, [...(perMigration.get(a.name) ?? []), a.durationMs]);
    t = performance.now();
    await engine.up();
    noops.push(performance.now() - t);
    t = performance.now();
    await engine.plan();
    plans.push(performance.now() - t);
    await engine.close();
    await db.drop();
    process.stderr.write(`empty run ${i + 1}/${RUNS}: ${Math.round(totals.at(-1)!)} ms\n`);
  }
  report['emptyDatabase'] = {
    totalMsMedian: round(median(totals)),
    perMigrationMsMedian: Object.fromEntries([...perMigration].map(([k, v]) => [k, median(v)])),
    noopUpMsMedian: round(median(noops)),
    planMsMedian: round(median(plans)),
  };

  // 2. 005 under a continuous writer.
  const db: TestDatabase = await server.createDatabase({ withVector: true });
  const { logger, lines } = captureLogger();
  const engine = createMigrationEngine({ connection: createConnector({ connectionString: db.appUrl }), migrationsDir, instance: 'bench', logger });
  await engine.up({ to: '004_ai_infrastructure' });
  const admin = new pg.Client(db.appConfig());
  await admin.connect();
  admin.on('error', () => {});
  process.stderr.write(`loading ${POSTS} posts\n`);
  const wards = GHMC_WARDS.map((w) => w.name);
  let t = performance.now();
  await admin.query(`INSERT INTO author (name, party) SELECT 'author ' || g, (ARRAY['BJP','INC','BRS','AIMIM',NULL])[1 + g % 5] FROM generate_series(1, 5000) g`);
  await admin.query(
    `INSERT INTO post (text, author_id, city, emotion, party, created_at)
     SELECT 'post ' || g || ' about roads, water and drainage in the ward',
            (1 + (g * 7919) % 5000)::int,
            ($1::text[])[1 + (g * 31) % array_length($1::text[], 1)],
            (ARRAY['Positive','Negative','Neutral','Hopeful','Anger','Frustration','Pride','Concern'])[1 + (g * 13) % 8],
            (ARRAY['BJP','INC','BRS','AIMIM','Independent',NULL])[1 + (g * 17) % 6],
            now() - make_interval(secs => (g * 104729) % (3 * 365 * 86400))
       FROM generate_series(1::bigint, $2::bigint) g`,
    [wards, POSTS],
  );
  await admin.query('ANALYZE post');
  const loadMs = performance.now() - t;

  const writer = new pg.Client(db.appConfig());
  await writer.connect();
  writer.on('error', () => {});
  process.stderr.write('running 005 under a continuous writer\n');
  const latencies: number[] = [];
  let writing = true;
  const writerLoop = (async () => {
    let n = 0;
    while (writing) {
      const s = performance.now();
      await writer.query(`INSERT INTO post (text, author_id, city, emotion, party) VALUES ($1, $2, $3, 'Positive', 'BJP')`, [`live ${n}`, 1 + (n % 5000), wards[n % wards.length]]);
      latencies.push(performance.now() - s);
      n++;
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  await new Promise((r) => setTimeout(r, 500));
  t = performance.now();
  const result = await engine.up();
  const migrateMs = performance.now() - t;
  await new Promise((r) => setTimeout(r, 500));
  writing = false;
  await writerLoop;
  const steps = lines.filter((l) => l['msg'] === 'step done' && l['migration'] === '005_electoral_optimization').map((l) => ({ step: l['step'], transactional: l['transactional'], ms: l['ms'] }));
  report['live005'] = {
    loadMs: Math.round(loadMs),
    migrateMs: Math.round(migrateMs),
    applied: result.applied.map((a) => a.name),
    steps,
    writer: {
      inserts: latencies.length,
      p50Ms: round(pct(latencies, 50)),
      p99Ms: round(pct(latencies, 99)),
      maxMs: round(Math.max(...latencies)),
      over1s: latencies.filter((l) => l > 1000).length,
      goal: 'no insert blocked > 1000 ms',
    },
  };
  await writer.end();
  await admin.end();
  await engine.close();
  await db.drop();
} finally {
  await server.stop();
}
if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else console.dir(report, { depth: 5 });
