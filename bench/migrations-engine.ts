// Benchmark of the migration engine with the real LokDarpan migrations on a throwaway PostgreSQL, each
// phase against a named baseline in the same run: `psql -v ON_ERROR_STOP=1 -f` applying the same
// .up.sql files (raw SQL: no steps, locks, history, checksums or retries).
//   1. empty database: 001..latest, median of --runs, engine vs psql; also a no-op `up` and `plan`;
//   2. loaded database (--posts posts, schema at 004): 005..latest while a writer inserts posts
//      continuously, engine vs psql on a copy of the same database; the writer's p50/p99/worst wait.
// Usage: node bench/migrations-engine.ts [--posts 1000000] [--runs 3] [--json]   (LOKDARPAN_PG_MAJOR=15|18)
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs, promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { pino } from 'pino';
import { quoteIdent, startPostgres, type PostgresServer, type TestDatabase } from '../test/env/postgres.ts';
import { repoRoot } from '../test/env/process.ts';
import { createConnector } from '../src/adapters/postgres/connection.ts';
import { createMigrationEngine } from '../src/engines/migrations/index.ts';
import { GHMC_WARDS } from '../src/engines/datagen/wards.ts';

const { values } = parseArgs({
  options: { posts: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } },
});
const POSTS = Number(values.posts);
const RUNS = Number(values.runs);
const migrationsDir = join(repoRoot, 'migrations');
const upFiles = readdirSync(migrationsDir).filter((f) => /^\d{3}_.*\.up\.sql$/.test(f)).sort();
const LOADED_FROM = '004_ai_infrastructure';
const loadedFiles = upFiles.filter((f) => f > `${LOADED_FROM}.up.sql`);
const latest = upFiles.at(-1)?.replace(/\.up\.sql$/, '') ?? '';
const loadStart = loadavg();
const run = promisify(execFile);

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

/** The baseline: psql applying the given files in order, as the database's owner role, stopping at the first error. */
async function psqlApply(server: PostgresServer, db: { name: string; appUser: string; appPassword: string }, files: string[]): Promise<number> {
  const t = performance.now();
  await run(join(server.binDir, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...files.flatMap((f) => ['-f', join(migrationsDir, f)])], {
    env: { ...process.env, ...server.cliEnv(db.name, { user: db.appUser, password: db.appPassword }) },
    maxBuffer: 16 * 1024 * 1024,
  });
  return performance.now() - t;
}

const wards = GHMC_WARDS.map((w) => w.name);

/** Inserts posts one at a time (2 ms apart) until stopped: what the app sees while a migration runs. */
function startPostWriter(config: pg.ClientConfig) {
  const latencies: number[] = [];
  let writing = true;
  const client = new pg.Client(config);
  client.on('error', () => {});
  const loop = (async () => {
    await client.connect();
    for (let n = 0; writing; n++) {
      const s = performance.now();
      await client.query(`INSERT INTO post (text, author_id, city, emotion, party) VALUES ($1, $2, $3, 'Positive', 'BJP')`, [`live ${n}`, 1 + (n % 5000), wards[n % wards.length]]);
      latencies.push(performance.now() - s);
      await new Promise((r) => setTimeout(r, 2));
    }
    await client.end();
  })();
  return {
    async stop() {
      writing = false;
      await loop;
      return { inserts: latencies.length, p50Ms: round(pct(latencies, 50)), p99Ms: round(pct(latencies, 99)), maxMs: round(Math.max(...latencies)), over1s: latencies.filter((l) => l > 1000).length };
    },
  };
}

/** Runs `work` between 500 ms of writing before and after, and returns its duration and the writer's figures. */
async function underWriter(config: pg.ClientConfig, work: () => Promise<unknown>) {
  const writer = startPostWriter(config);
  await new Promise((r) => setTimeout(r, 500));
  const t = performance.now();
  await work();
  const ms = performance.now() - t;
  await new Promise((r) => setTimeout(r, 500));
  return { ms: Math.round(ms), writer: await writer.stop() };
}

async function loadPosts(config: pg.ClientConfig): Promise<void> {
  const admin = new pg.Client(config);
  await admin.connect();
  try {
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
    await admin.query('VACUUM ANALYZE post');
  } finally {
    await admin.end();
  }
}

const server = await startPostgres();
const report: Record<string, unknown> = {
  benchmark: 'migrations-engine', pgMajor: server.major, serverVersion: server.version, migrations: `001..${latest}`, posts: POSTS, runs: RUNS,
  baseline: 'psql -X -v ON_ERROR_STOP=1 -f <the same .up.sql files>',
  loadAverageStart: loadStart,
};
try {
  // 1. Empty database: engine vs psql, alternating so both see the same machine.
  const perMigration = new Map<string, number[]>();
  const engineTotals: number[] = [];
  const psqlTotals: number[] = [];
  const noops: number[] = [];
  const plans: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const db = await server.createDatabase({ withVector: true });
    const engine = createMigrationEngine({ connection: createConnector({ connectionString: db.appUrl }), migrationsDir, instance: 'bench' });
    let t = performance.now();
    const result = await engine.up();
    engineTotals.push(performance.now() - t);
    for (const a of result.applied) perMigration.set(a.name, [...(perMigration.get(a.name) ?? []), a.durationMs]);
    t = performance.now();
    await engine.up();
    noops.push(performance.now() - t);
    t = performance.now();
    await engine.plan();
    plans.push(performance.now() - t);
    await engine.close();
    await db.drop();
    const raw = await server.createDatabase({ withVector: true });
    psqlTotals.push(await psqlApply(server, raw, upFiles));
    await raw.drop();
    process.stderr.write(`empty run ${i + 1}/${RUNS}: engine ${Math.round(engineTotals.at(-1)!)} ms, psql ${Math.round(psqlTotals.at(-1)!)} ms\n`);
  }
  report['emptyDatabase'] = {
    engineMsMedian: round(median(engineTotals)),
    psqlMsMedian: round(median(psqlTotals)),
    ratioEngineToPsql: Math.round((median(engineTotals) / median(psqlTotals)) * 100) / 100,
    perMigrationMsMedian: Object.fromEntries([...perMigration].map(([k, v]) => [k, median(v)])),
    noopUpMsMedian: round(median(noops)),
    planMsMedian: round(median(plans)),
  };

  // 2. Loaded database: the same posts in two databases (the second a file copy of the first).
  const db: TestDatabase = await server.createDatabase({ withVector: true });
  const prepare = createMigrationEngine({ connection: createConnector({ connectionString: db.appUrl }), migrationsDir, instance: 'bench' });
  await prepare.up({ to: LOADED_FROM });
  await prepare.close();
  process.stderr.write(`loading ${POSTS} posts\n`);
  let t = performance.now();
  await loadPosts(db.appConfig());
  const loadMs = performance.now() - t;
  const copyName = `${db.name}_psql`;
  await server.query(`CREATE DATABASE ${quoteIdent(copyName)} TEMPLATE ${quoteIdent(db.name)} OWNER ${quoteIdent(db.appUser)}`);
  const copy = { name: copyName, appUser: db.appUser, appPassword: db.appPassword };
  try {
    const { logger, lines } = captureLogger();
    const engine = createMigrationEngine({ connection: createConnector({ connectionString: db.appUrl }), migrationsDir, instance: 'bench', logger });
    process.stderr.write(`engine: ${loadedFiles.join(', ')} under a continuous writer\n`);
    const engineRun = await underWriter(db.appConfig(), () => engine.up());
    await engine.close();
    process.stderr.write(`psql: the same files on the copy under the same writer\n`);
    const psqlRun = await underWriter({ ...db.appConfig(), database: copyName }, () => psqlApply(server, copy, loadedFiles));
    const steps = lines
      .filter((l) => l['msg'] === 'step done')
      .map((l) => ({ migration: l['migration'], step: l['step'], transactional: l['transactional'], ms: l['ms'] }));
    report['loadedDatabase'] = {
      loadMs: Math.round(loadMs),
      migrations: loadedFiles.map((f) => f.replace(/\.up\.sql$/, '')),
      engine: engineRun,
      psql: psqlRun,
      ratioEngineToPsql: Math.round((engineRun.ms / psqlRun.ms) * 100) / 100,
      steps,
      goal: 'no insert blocked > 1000 ms while the engine migrates',
    };
  } finally {
    await server.query(`DROP DATABASE IF EXISTS ${quoteIdent(copyName)} WITH (FORCE)`);
    await db.drop();
  }
} finally {
  await server.stop();
}
report['loadAverageEnd'] = loadavg();
if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else console.dir(report, { depth: 5 });
