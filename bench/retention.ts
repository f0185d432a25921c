// Benchmark: the retention engine deleting --expired rows vs one set-based `DELETE ... WHERE` on the same
// data (the baseline), in the same run. During every case two writers work on the same table: one
// updating random rows (some of them expired, so they wait for the batch holding them), one inserting.
// Reports rows deleted per second, the ratio to the baseline, and each writer's p50/p99/max latency.
// Goal (issue 13): at least 150k rows/s with no writer statement waiting more than 50 ms.
//
//   node bench/retention.ts [--expired 1000000] [--batch-size 1000] [--pause-ms 10] [--target-batch-ms 20]
//                           [--skip-fixed] [--json]        (LOKDARPAN_PG_MAJOR=15|18)
//
// Cases: the engine as shipped (batches sized to --target-batch-ms), the engine with fixed 1000-row
// batches (how it worked before adaptive sizing; --skip-fixed leaves it out), and the single DELETE.
// Starts its own throwaway PostgreSQL (test/env), schema from migrations 001-004.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { createRetentionEngine, DEFAULT_TARGET_BATCH_MS } from '../src/engines/retention/index.ts';
import { startPostgres } from '../test/env/postgres.ts';
import { createAiDatabase, EXECUTION_INSERT_SQL, startWriter, type WriterStats } from '../test/integration/retention-fixture.ts';

const { values } = parseArgs({
  options: {
    expired: { type: 'string', default: '1000000' },
    'batch-size': { type: 'string', default: '1000' },
    'pause-ms': { type: 'string', default: '10' },
    'target-batch-ms': { type: 'string', default: String(DEFAULT_TARGET_BATCH_MS) },
    'skip-fixed': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const expired = Number(values.expired);
const batchSize = Number(values['batch-size']);
const pauseMs = Number(values['pause-ms']);
const targetBatchMs = Number(values['target-batch-ms']);
// Of every 10 rows 8 are expired, 1 is recent and 1 is old but kept by the rule's filter.
const totalRows = Math.ceil(expired / 0.8);
const loadStart = loadavg();

const RULE = {
  name: 'model-executions-180d', table: 'ai_model_execution', olderThan: { column: 'created_at', age: '180d' },
  filters: [{ column: 'success_status', op: 'ne', value: 'error' }], action: 'delete',
};
const EXPIRED = "created_at < now() - interval '180 days' AND success_status <> 'error'";

interface Case {
  method: string;
  deleted: number;
  seconds: number;
  rowsPerSecond: number;
  batches?: number;
  maxBatchMs?: number;
  maxBatchRows?: number;
  writers: { update: WriterStats; insert: WriterStats };
}

async function reseed(client: pg.Client): Promise<number> {
  await client.query('TRUNCATE ai_model_execution RESTART IDENTITY'); // ids 1..totalRows again: the updater targets them
  await client.query(
    `INSERT INTO ai_model_execution (request_id, operation_type, provider, model_name, success_status, created_at)
     SELECT 'r' || i, 'embedding', 'openai', 'm', CASE WHEN i % 10 = 5 THEN 'error' ELSE 'success' END,
       CASE WHEN i % 10 = 0 THEN now() - make_interval(secs => i % 86400) ELSE now() - interval '200 days' - make_interval(secs => i) END
     FROM generate_series(1, $1::int) i`,
    [totalRows],
  );
  await client.query('VACUUM ANALYZE ai_model_execution');
  await client.query('CHECKPOINT').catch(() => {}); // needs superuser; best effort
  return Number((await client.query(`SELECT count(*) n FROM ai_model_execution WHERE ${EXPIRED}`)).rows[0].n);
}

async function measure(
  method: string,
  config: pg.ClientConfig,
  work: () => Promise<Omit<Case, 'method' | 'seconds' | 'rowsPerSecond' | 'writers'>>,
): Promise<Case> {
  const update = startWriter(config, 'UPDATE ai_model_execution SET retry_count = retry_count + 1 WHERE id = $1', {
    params: (i) => [1 + ((i * 7919) % totalRows)],
  });
  const insert = startWriter(config, EXECUTION_INSERT_SQL);
  await new Promise((r) => setTimeout(r, 500));
  const start = performance.now();
  const done = await work();
  const seconds = (performance.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 200));
  const writers = { update: await update.stop(), insert: await insert.stop() };
  process.stderr.write(`${method}: ${done.deleted} rows in ${seconds.toFixed(2)} s\n`);
  return { method, ...done, seconds, rowsPerSecond: done.deleted / seconds, writers };
}

function engineCase(client: pg.Client, expected: number, target: number) {
  return async () => {
    const engine = createRetentionEngine({ db: client, batchSize, pauseMs, targetBatchMs: target, budgetMs: 3_600_000, countBeforeRun: false });
    const outcome = (await engine.run([RULE])).rules[0];
    if (outcome?.deleted !== expected) throw new Error(`the engine deleted ${outcome?.deleted}, expected ${expected} (${outcome?.error?.message ?? 'no error'})`);
    return { deleted: outcome.deleted, batches: outcome.batches, maxBatchMs: outcome.maxBatchMs ?? 0, maxBatchRows: outcome.maxBatchRows ?? 0 };
  };
}

const server = await startPostgres();
const cases: Case[] = [];
try {
  const { db, client } = await createAiDatabase(server);
  process.stderr.write(`seeding ${totalRows} rows per case\n`);
  let expected = await reseed(client);
  cases.push(await measure(`engine (first batch ${batchSize}, target ${targetBatchMs} ms, ${pauseMs} ms pause)`, db.appConfig(), engineCase(client, expected, targetBatchMs)));
  if (!values['skip-fixed']) {
    expected = await reseed(client);
    cases.push(await measure(`engine, fixed ${batchSize}-row batches (${pauseMs} ms pause)`, db.appConfig(), engineCase(client, expected, 0)));
  }
  expected = await reseed(client);
  cases.push(
    await measure('baseline: single DELETE ... WHERE', db.appConfig(), async () => {
      const result = await client.query(`DELETE FROM ai_model_execution WHERE ${EXPIRED}`);
      if (result.rowCount !== expected) throw new Error(`DELETE removed ${result.rowCount}, expected ${expected}`);
      return { deleted: result.rowCount };
    }),
  );
  await client.end();
  await db.drop();
} finally {
  await server.stop();
}

const baseline = cases[cases.length - 1]!;
const engine = cases[0]!;
const writerMax = (c: Case): number => Math.max(c.writers.update.maxMs, c.writers.insert.maxMs);
const report = {
  benchmark: 'retention',
  postgres: server.version,
  expiredRows: expired,
  tableRows: totalRows,
  loadAverageStart: loadStart,
  loadAverageEnd: loadavg(),
  cases: cases.map((c) => ({ ...c, ratioToBaseline: c.rowsPerSecond / baseline.rowsPerSecond })),
  goal: {
    rowsPerSecond: 150_000,
    writerMaxMs: 50,
    metRowsPerSecond: engine.rowsPerSecond >= 150_000,
    metWriterMax: writerMax(engine) <= 50,
  },
};
if (values.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const f = (x: number): string => x.toFixed(1);
  console.log(`ai_model_execution: ${expired} expired of ${totalRows} rows, PostgreSQL ${server.version}; load average ${loadStart.map(f).join(' ')} -> ${report.loadAverageEnd.map(f).join(' ')}`);
  console.log('| method | rows deleted | seconds | rows/s | vs baseline | batches | largest batch | longest transaction ms | update p99 / max ms | insert p99 / max ms |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of report.cases) {
    const w = c.writers;
    console.log(
      `| ${c.method} | ${c.deleted} | ${c.seconds.toFixed(2)} | ${Math.round(c.rowsPerSecond)} | ${c.ratioToBaseline.toFixed(2)}x | ${c.batches ?? 1} | ` +
        `${c.maxBatchRows ?? c.deleted} | ${(c.maxBatchMs ?? c.seconds * 1000).toFixed(0)} | ${f(w.update.p99Ms)} / ${f(w.update.maxMs)} | ${f(w.insert.p99Ms)} / ${f(w.insert.maxMs)} |`,
    );
  }
  console.log(`goal: >= 150000 rows/s (${report.goal.metRowsPerSecond ? 'met' : 'not met'}), writer max <= 50 ms (${report.goal.metWriterMax ? 'met' : 'not met'})`);
}
