// Benchmark: batched retention deletion vs one set-based `DELETE ... WHERE` on the same data, in the
// same run, each with a concurrent single-row writer on the same table. Reports rows deleted per second
// and the writer's p50/p99/max latency in both cases, for two writers: one inserting new rows, one
// updating random existing rows (some of them expired: those wait for the deleting transaction).
//
//   node bench/retention.ts [--rows 1000000] [--batch-size 1000] [--pause-ms 10] [--json]
//
// Starts its own throwaway PostgreSQL (test/env), schema from migrations 001-004.
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { createRetentionEngine } from '../src/engines/retention/index.ts';
import { startPostgres } from '../test/env/postgres.ts';
import { createAiDatabase, EXECUTION_INSERT_SQL, seedAiTables, startWriter, type WriterStats } from '../test/integration/retention-fixture.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    'batch-size': { type: 'string', default: '1000' },
    'pause-ms': { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows);
const batchSize = Number(values['batch-size']);
const pauseMs = Number(values['pause-ms']);

const RULE = {
  name: 'model-executions-180d', table: 'ai_model_execution', olderThan: { column: 'created_at', age: '180d' },
  filters: [{ column: 'success_status', op: 'ne', value: 'error' }], action: 'delete',
};
const EXPIRED = "created_at < now() - interval '180 days' AND success_status <> 'error'";

interface Case { method: string; writerKind: string; maxBatchMs?: number; deleted: number; seconds: number; rowsPerSecond: number; writer: WriterStats }

const WRITERS = {
  insert: { sql: EXECUTION_INSERT_SQL, params: (i: number): unknown[] => [`w${i}`] },
  update: {
    sql: 'UPDATE ai_model_execution SET retry_count = retry_count + 1 WHERE id = $1',
    params: (i: number): unknown[] => [1 + ((i * 7919) % rows)],
  },
} as const;

async function reseed(client: pg.Client): Promise<number> {
  await client.query('TRUNCATE ai_model_execution RESTART IDENTITY'); // ids 1..rows again: the updater targets them
  await seedAiTables(client, new Date(), { executions: rows, embeddings: 0, reports: 0, metrics: 0, posts: 0, edges: false });
  await client.query('CHECKPOINT').catch(() => {}); // needs superuser; best effort
  return Number((await client.query(`SELECT count(*) n FROM ai_model_execution WHERE ${EXPIRED}`)).rows[0].n);
}

let lastMaxBatchMs: number | undefined;

async function measure(method: string, writerKind: keyof typeof WRITERS, config: pg.ClientConfig, work: () => Promise<number>): Promise<Case> {
  lastMaxBatchMs = undefined;
  const writer = startWriter(config, WRITERS[writerKind].sql, { params: WRITERS[writerKind].params });
  await new Promise((r) => setTimeout(r, 500));
  const start = performance.now();
  const deleted = await work();
  const seconds = (performance.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 200));
  const stats = await writer.stop();
  return { method, writerKind, deleted, seconds, rowsPerSecond: deleted / seconds, writer: stats, ...(lastMaxBatchMs === undefined ? {} : { maxBatchMs: lastMaxBatchMs }) };
}

const server = await startPostgres();
try {
  const { db, client } = await createAiDatabase(server);
  const cases: Case[] = [];
  for (const writerKind of ['insert', 'update'] as const) {
    const expected1 = await reseed(client);
    cases.push(
      await measure(`batched (${batchSize}/batch, ${pauseMs} ms pause)`, writerKind, db.appConfig(), async () => {
        const result = await createRetentionEngine({ db: client, batchSize, pauseMs, budgetMs: 3_600_000, countBeforeRun: false }).run([RULE]);
        lastMaxBatchMs = result.rules[0]?.maxBatchMs;
        if (result.rules[0]?.deleted !== expected1) throw new Error(`batched run deleted ${result.rules[0]?.deleted}, expected ${expected1}`);
        return result.rules[0]?.deleted ?? 0;
      }),
    );
    const expected2 = await reseed(client);
    cases.push(
      await measure('single DELETE ... WHERE', writerKind, db.appConfig(), async () => {
        const result = await client.query(`DELETE FROM ai_model_execution WHERE ${EXPIRED}`);
        if (result.rowCount !== expected2) throw new Error(`DELETE removed ${result.rowCount}, expected ${expected2}`);
        return result.rowCount ?? 0;
      }),
    );
  }
  await client.end();
  await db.drop();
  if (values.json) {
    console.log(JSON.stringify({ rows, postgres: server.version, cases }, null, 2));
  } else {
    console.log(`ai_model_execution: ${rows} rows, PostgreSQL ${server.version}`);
    console.log('| method | writer | rows deleted | seconds | rows/s | longest transaction ms | writer statements | writer p50 ms | writer p99 ms | writer max ms |');
    console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of cases) {
      console.log(`| ${c.method} | ${c.writerKind} | ${c.deleted} | ${c.seconds.toFixed(2)} | ${Math.round(c.rowsPerSecond)} | ${(c.maxBatchMs ?? c.seconds * 1000).toFixed(0)} | ${c.writer.inserts} | ${c.writer.p50Ms.toFixed(1)} | ${c.writer.p99Ms.toFixed(1)} | ${c.writer.maxMs.toFixed(1)} |`);
    }
  }
} finally {
  await server.stop();
}
