// A writer inserting into the table retention is deleting from never waits on a lock for long: its
// statements run under lock_timeout = 50ms during a batched run and none fails (a lock held against it
// for longer would, on any machine, as the second test shows), and the run removes exactly the expired
// rows while every row the writer inserted survives. The engine gives the session its own settings back.
// The writer (also bench/retention.ts's) stops when its connection is lost.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createRetentionEngine } from '../../src/engines/retention/index.ts';
import { eventually } from '../wait.ts';
import { aiDatabaseFixture, EXECUTION_INSERT_SQL, seedAiTables, startWriter } from './retention-fixture.ts';

const ROWS = 120_000;
const WRITER_LOCK_TIMEOUT_MS = 50;
const BAND_MS = 30 * 60_000;

describe('retention beside a concurrent writer', () => {
  const ai = aiDatabaseFixture((client) => seedAiTables(client, new Date(), { executions: ROWS, embeddings: 100, reports: 100, metrics: 100, posts: 10 }));

  it('deletes exactly the expired executions while single-row inserts never wait on a lock for long', async (t) => {
    // Rows keep expiring while the test runs (the seed has one at every 400 s, and edge rows a minute either
    // side of the boundary), so the run's cutoff is only known to lie between t0 - 180 days and a bound
    // BAND_MS later: everything expired at t0 must go, everything not expired at t0 + BAND_MS must stay,
    // and what the run deleted in between is accounted for row by row.
    const t0 = (await ai.client.query<{ t0: Date }>('SELECT now() AS t0')).rows[0]!.t0;
    const expiredAt = (offsetMs: number) =>
      `FROM ai_model_execution WHERE request_id NOT LIKE 'w%' AND created_at < $1::timestamptz + make_interval(secs => ${offsetMs / 1000}) - interval '180 days' AND success_status <> 'error'`;
    const count = async (sql: string) => Number((await ai.client.query(`SELECT count(*) n ${sql}`, sql.includes('$1') ? [t0] : [])).rows[0].n);
    const keptSql = `SELECT count(*)::int n, md5(string_agg(id::text, ',' ORDER BY id)) h FROM ai_model_execution
      WHERE request_id NOT LIKE 'w%' AND NOT (created_at < $1::timestamptz + make_interval(secs => ${BAND_MS / 1000}) - interval '180 days' AND success_status <> 'error')`;
    const expired = await count(expiredAt(0));
    const expiredByBandEnd = await count(expiredAt(BAND_MS));
    const totalBefore = await count("FROM ai_model_execution WHERE request_id NOT LIKE 'w%'");
    const kept = (await ai.client.query(keptSql, [t0])).rows[0];
    assert.ok(expired > 40_000, `enough expired rows (${expired})`);

    const writer = startWriter(ai.db.appConfig(), `${EXECUTION_INSERT_SQL} RETURNING id`, { lockTimeoutMs: WRITER_LOCK_TIMEOUT_MS });
    await eventually('the writer to get going', () => writer.inserts() + writer.errors() >= 10);
    const insertsBefore = writer.inserts();
    const engine = createRetentionEngine({ db: ai.client, batchSize: 1000, pauseMs: 10, lockTimeoutMs: 2000 });
    const result = await engine.run([
      { name: 'model-executions-180d', table: 'ai_model_execution', olderThan: { column: 'created_at', age: '180d' }, filters: [{ column: 'success_status', op: 'ne', value: 'error' }], action: 'delete' },
    ]);
    const insertsDuring = writer.inserts() - insertsBefore;
    const stats = await writer.stop();

    assert.equal(result.status, 'complete');
    assert.ok(Date.now() - t0.getTime() < BAND_MS, 'the run ended within the band its cutoff is known to lie in');
    const deleted = result.rules[0]?.deleted ?? -1;
    assert.ok(deleted >= expired && deleted <= expiredByBandEnd, `deleted ${deleted}: between the ${expired} expired at the start and ${expiredByBandEnd}`);
    assert.equal(await count(expiredAt(0)), 0);
    // Exactly the deleted rows are gone; every row not expired by the band's end is still there, and so is
    // every row the writer inserted.
    assert.equal(await count("FROM ai_model_execution WHERE request_id NOT LIKE 'w%'"), totalBefore - deleted);
    assert.deepEqual((await ai.client.query(keptSql, [t0])).rows[0], kept);
    assert.equal(Number((await ai.client.query("SELECT count(*) n FROM ai_model_execution WHERE request_id LIKE 'w%'")).rows[0].n), stats.inserts);
    t.diagnostic(
      `deleted ${deleted} rows in ${result.rules[0]?.batches} batches, ${result.durationMs} ms; writer: ${stats.inserts} inserts (${insertsDuring} during the run), ` +
        `p50 ${stats.p50Ms.toFixed(1)} ms, p99 ${stats.p99Ms.toFixed(1)} ms, max ${stats.maxMs.toFixed(1)} ms (not asserted: load-dependent)`,
    );
    assert.ok(insertsDuring > 50, `the writer ran during the deletion (${insertsDuring} inserts)`);
    // No statement of the writer waited for a lock longer than its lock_timeout.
    assert.equal(stats.lockTimeout, `${WRITER_LOCK_TIMEOUT_MS}ms`);
    assert.deepEqual(stats.errors, []);
  });

  it('the writer fails when a lock is held against it longer than its lock_timeout', async () => {
    const locker = new pg.Client(ai.db.appConfig());
    await locker.connect();
    const writer = startWriter(ai.db.appConfig(), EXECUTION_INSERT_SQL, { lockTimeoutMs: WRITER_LOCK_TIMEOUT_MS });
    try {
      await eventually('the writer to insert', () => writer.inserts() >= 1);
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE ai_model_execution IN SHARE MODE');
      await eventually('the writer to fail on its lock_timeout (not wait past it)', () => writer.errors() >= 1);
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end().catch(() => {});
    }
    const stats = await writer.stop();
    assert.match(stats.errors[0] ?? '', /^55P03: canceling statement due to lock timeout/);
  });

  it('the writer stops by itself when its connection is lost, instead of spinning on failed statements', async () => {
    const writer = startWriter({ ...ai.db.appConfig(), application_name: 'lokdarpan-test-lost-writer' }, EXECUTION_INSERT_SQL);
    await eventually('the writer to insert', () => writer.inserts() >= 1);
    await ai.server.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lokdarpan-test-lost-writer'");
    await eventually('the writer to stop', () => !writer.running());
    const stats = await writer.stop();
    assert.ok(stats.errors.length >= 1 && stats.errors.length <= 2, `the lost connection failed one statement, not a loop of them: ${stats.errors.length}`);
  });

  // Delete and mark batches run in autocommit under session-level settings the engine sets per rule.
  it("gives the session its own lock_timeout, statement_timeout and TimeZone back after a rule, whether it fails or not", async () => {
    await ai.client.query(
      `INSERT INTO ai_model_execution (request_id, operation_type, provider, model_name, success_status, created_at)
       SELECT 's' || i, 'embedding', 'openai', 'm', 'success', now() - interval '400 days' FROM generate_series(1, 3000) i`,
    );
    const settings = async (): Promise<unknown> =>
      (await ai.client.query("SELECT current_setting('lock_timeout') a, current_setting('statement_timeout') b, current_setting('TimeZone') c")).rows[0];
    await ai.client.query("SET lock_timeout = '7s'; SET statement_timeout = '11min'; SET TimeZone = 'Asia/Kolkata'");
    try {
      const before = await settings();
      const rule = { name: 'executions-400d', table: 'ai_model_execution', olderThan: { column: 'created_at', age: '399d' }, action: 'delete' };
      const locker = new pg.Client(ai.db.appConfig());
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE ai_model_execution IN ACCESS EXCLUSIVE MODE');
        const engine = createRetentionEngine({ db: ai.client, batchSize: 100, pauseMs: 0, countBeforeRun: false, lockTimeoutMs: 50, maxBatchRetries: 1 });
        const failed = await engine.run([rule]);
        assert.equal(failed.rules[0]?.error?.reason, 'RetentionBatchFailed', 'the batches time out waiting for the table lock');
      } finally {
        await locker.query('ROLLBACK').catch(() => {});
        await locker.end().catch(() => {});
      }
      assert.deepEqual(await settings(), before);
      const ok = await createRetentionEngine({ db: ai.client, batchSize: 100, pauseMs: 0 }).run([rule]);
      assert.equal(ok.status, 'complete');
      assert.ok((ok.rules[0]?.deleted ?? 0) >= 3000);
      assert.deepEqual(await settings(), before);
    } finally {
      await ai.client.query('RESET lock_timeout; RESET statement_timeout; RESET TimeZone');
    }
  });
});
