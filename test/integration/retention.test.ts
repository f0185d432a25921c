// Retention engine against real PostgreSQL (schema of migrations 001-004): the default rules remove
// exactly what migration 004's own SQL policy removes; refusals happen before anything runs; dry runs
// change nothing; budgets stop cleanly and the next run finishes; crashed archive batches resolve.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { OperatorError } from '../../src/errors.ts';
import {
  createRetentionEngine, defaultRetentionRules, MemoryArchiveSink, RetentionReasons, type ArchiveSink,
} from '../../src/engines/retention/index.ts';
import { aiDatabaseFixture, fingerprint, seedAiTables } from './retention-fixture.ts';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const identity = (plain: Buffer): Promise<Buffer> => Promise.resolve(Buffer.from(plain));

describe('retention engine (PostgreSQL)', () => {
  const ai = aiDatabaseFixture((client) => seedAiTables(client, NOW));

  /** Runs `fn` inside a transaction that is always rolled back. */
  async function rolledBack<T>(fn: () => Promise<T>): Promise<T> {
    await ai.client.query('BEGIN');
    try {
      return await fn();
    } finally {
      await ai.client.query('ROLLBACK');
    }
  }

  it('refuses unknown tables and columns, injection attempts, bad durations and wrong types before any statement runs', async () => {
    const engine = createRetentionEngine({ db: ai.client, clock: new ManualClock(NOW), pauseMs: 0 });
    const before = await fingerprint(ai.client);
    const good = { name: 'metrics', table: 'ai_system_metrics', olderThan: { column: 'created_at', age: '1y' }, action: 'delete' };
    const cases: Array<[unknown, string, RegExp]> = [
      [{ ...good, name: 'x', table: 'ai_no_such_table' }, RetentionReasons.RetentionUnknownTable, /public\.ai_no_such_table does not exist/],
      [{ ...good, name: 'x', olderThan: { column: 'created', age: '1y' } }, RetentionReasons.RetentionUnknownColumn, /no column "created"/],
      [{ ...good, name: 'x', filters: [{ column: 'nope', op: 'isNull' }] }, RetentionReasons.RetentionUnknownColumn, /no column "nope"/],
      [{ ...good, name: 'x', table: 'ai_system_metrics; DROP TABLE post' }, RetentionReasons.RetentionIdentifierInvalid, /not a plain SQL identifier/],
      [{ ...good, name: 'x', olderThan: { column: 'created_at" < now() OR "1"="1', age: '1y' } }, RetentionReasons.RetentionIdentifierInvalid, /identifier/],
      [{ ...good, name: 'x', olderThan: { column: 'created_at', age: '1 year' } }, RetentionReasons.RetentionDurationInvalid, /not a retention duration/],
      [{ ...good, name: 'x', olderThan: { column: 'metric_name', age: '1y' } }, RetentionReasons.RetentionColumnTypeMismatch, /varchar/],
      [{ ...good, name: 'x', filters: [{ column: 'metadata', op: 'eq', value: '{}' }] }, RetentionReasons.RetentionColumnTypeMismatch, /jsonb/],
      [{ ...good, name: 'x', table: 'post', olderThan: { column: 'created_at', age: '5y' } }, RetentionReasons.RetentionTableProtected, /protected/],
      [{ ...good, name: 'x', schema: 'pg_catalog', table: 'pg_class', olderThan: { column: 'created_at', age: '5y' } }, RetentionReasons.RetentionTableProtected, /system schema/],
      [{ ...good, name: 'x', action: 'archive' }, RetentionReasons.RetentionArchiveNotConfigured, /no archive destination/],
      [{ ...good, name: 'x', action: 'mark', mark: { column: 'metric_value' } }, RetentionReasons.RetentionColumnTypeMismatch, /boolean/],
    ];
    for (const [bad, reason, message] of cases) {
      // The valid rule comes first: it must not run either.
      for (const call of [() => engine.run([good, bad]), () => engine.plan([good, bad])]) {
        await assert.rejects(call(), (error: unknown) => {
          assert.ok(error instanceof OperatorError, String(error));
          assert.equal(error.reason, reason, error.message);
          assert.match(error.message, message);
          assert.equal(error.terminal, true);
          return true;
        });
      }
    }
    await ai.client.query('CREATE TABLE no_pk (created_at timestamptz)');
    await ai.client.query("INSERT INTO no_pk VALUES (now() - interval '10 years')");
    await assert.rejects(engine.run([{ ...good, name: 'x', table: 'no_pk' }]), { reason: RetentionReasons.RetentionNoPrimaryKey });
    assert.equal((await ai.client.query('SELECT count(*)::int AS n FROM no_pk')).rows[0].n, 1);
    await ai.client.query('DROP TABLE no_pk');
    assert.deepEqual(await fingerprint(ai.client), before);
  });

  it('plans and dry-runs without changing anything, with the counts of independent SQL', async () => {
    const engine = createRetentionEngine({ db: ai.client, clock: new ManualClock(NOW) });
    const before = await fingerprint(ai.client);
    const plan = await engine.plan(defaultRetentionRules());
    const dry = await engine.run(defaultRetentionRules(), { dryRun: true });
    assert.deepEqual(await fingerprint(ai.client), before);
    const byName = new Map(plan.rules.map((r) => [r.rule, r.matched]));
    const count = async (sql: string): Promise<number> => Number((await ai.client.query(sql, [NOW.toISOString()])).rows[0].n);
    assert.equal(byName.get('model-executions-180d'), await count("SELECT count(*) n FROM ai_model_execution WHERE created_at < $1::timestamptz - interval '180 days' AND success_status <> 'error'"));
    assert.equal(byName.get('metrics-1y'), await count("SELECT count(*) n FROM ai_system_metrics WHERE created_at < $1::timestamptz - interval '365 days'"));
    assert.equal(byName.get('embeddings-expired'), await count('SELECT count(*) n FROM ai_embedding_store WHERE expires_at < $1::timestamptz'));
    assert.equal(
      byName.get('embeddings-news-idle'),
      await count("SELECT count(*) n FROM ai_embedding_store WHERE source_type = 'news' AND access_count < 5 AND coalesce(last_accessed_at, created_at) < $1::timestamptz - interval '90 days'"),
    );
    assert.ok((byName.get('model-executions-180d') ?? 0) > 0 && (byName.get('reports-archive-idle') ?? 0) > 0);
    assert.equal(dry.dryRun, true);
    assert.equal(dry.totals.deleted + dry.totals.marked + dry.totals.archived, 0);
    assert.deepEqual(dry.rules.map((r) => r.matched), plan.rules.map((r) => r.matched));
  });

  it('the default rules leave exactly what ai_cleanup_expired_data() of migration 004 leaves', async () => {
    // The reference: the migration's own set-based SQL, run in a transaction that is rolled back.
    const expected = await rolledBack(async () => {
      await ai.client.query('SELECT * FROM ai_cleanup_expired_data($1::timestamptz)', [NOW.toISOString()]);
      return fingerprint(ai.client);
    });
    const before = await fingerprint(ai.client);
    assert.notDeepEqual(expected, before, 'the seed has expired rows');
    const engine = createRetentionEngine({ db: ai.client, clock: new ManualClock(NOW), batchSize: 97, pauseMs: 0 });
    const result = await engine.run(defaultRetentionRules());
    assert.equal(result.status, 'complete', JSON.stringify(result.rules.filter((r) => r.error)));
    assert.deepEqual(await fingerprint(ai.client), expected);
    // Counts agree with the table sizes, and every rule ran out of rows.
    const gone = (t: string): number => (before[t]?.rows ?? 0) - (expected[t]?.rows ?? 0);
    const deletedIn = (t: string): number => result.rules.filter((r) => r.table === `public.${t}`).reduce((s, r) => s + r.deleted, 0);
    for (const t of ['ai_embedding_store', 'ai_model_execution', 'ai_geopolitical_report', 'ai_system_metrics']) assert.equal(deletedIn(t), gone(t), t);
    assert.equal(expected.post?.rows, before.post?.rows);
    for (const r of result.rules) {
      assert.equal(r.partial, false);
      assert.equal(r.deleted + r.marked, r.matched, `${r.rule}: handled what it matched`);
    }
    // A second run finds nothing: marks are not re-applied, deletions are complete.
    const again = await engine.run(defaultRetentionRules());
    assert.equal(again.totals.deleted + again.totals.marked, 0);
    assert.deepEqual(await fingerprint(ai.client), expected);
  });

  it('stops at the time budget as partial and the next run finishes the job', async () => {
    await ai.client.query(
      `INSERT INTO ai_system_metrics (metric_name, metric_category, metric_scope, metric_value, period_start, period_end, aggregation_type, created_at)
       SELECT 'old', 'usage', 'system', i, t, t, 'sum', t FROM (SELECT i, $1::timestamptz - interval '800 days' - make_interval(secs => i) t FROM generate_series(1, 1000) i) s`,
      [NOW.toISOString()],
    );
    const clock = new ManualClock(NOW);
    // Each pause moves the clock 1 s; the budget is 3.5 s: 4 batches of 100, then stop.
    const engine = createRetentionEngine({ db: ai.client, clock, batchSize: 100, pauseMs: 1000, budgetMs: 3500, sleep: async (ms) => clock.advance(ms) });
    const rules = [{ name: 'metrics-1y', table: 'ai_system_metrics', olderThan: { column: 'created_at', age: '1y' }, action: 'delete' }];
    const first = await engine.run(rules);
    assert.equal(first.status, 'partial');
    assert.equal(first.rules[0]?.deleted, 400);
    assert.equal(first.rules[0]?.batches, 4);
    const left = async (): Promise<number> =>
      Number((await ai.client.query("SELECT count(*) n FROM ai_system_metrics WHERE created_at < $1::timestamptz - interval '365 days'", [NOW.toISOString()])).rows[0].n);
    assert.equal(await left(), 600);
    clock.set(NOW);
    const second = await createRetentionEngine({ db: ai.client, clock: new ManualClock(NOW), batchSize: 1000, pauseMs: 0 }).run(rules);
    assert.equal(second.status, 'complete');
    assert.equal(second.rules[0]?.deleted, 600);
    assert.equal(await left(), 0);
  });

  it('archives then deletes exactly the rows, and resolves batches that failed or crashed between upload and delete', async () => {
    await ai.client.query(
      `INSERT INTO ai_system_metrics (metric_name, metric_category, metric_scope, metric_value, period_start, period_end, aggregation_type, created_at)
       SELECT 'arch', 'cost', 'system', i, t, t, 'sum', t FROM (SELECT i, $1::timestamptz - interval '900 days' - make_interval(secs => i) t FROM generate_series(1, 250) i) s`,
      [NOW.toISOString()],
    );
    const rules = [{
      name: 'metrics-archive', table: 'ai_system_metrics', olderThan: { column: 'created_at', age: '1y' },
      filters: [{ column: 'metric_name', op: 'eq', value: 'arch' }], action: 'archive',
    }];
    const expectedRows = (await ai.client.query<{ id: string; doc: string }>(
      "SELECT id::text, to_jsonb(t)::text AS doc FROM ai_system_metrics t WHERE metric_name = 'arch' ORDER BY id",
    )).rows;
    const memory = new MemoryArchiveSink();
    // 1) verify fails on the 2nd object: that batch rolls back and its object is removed at once.
    let verifies = 0;
    const flakyVerify: ArchiveSink = { ...bind(memory), verify: async (k, s) => (++verifies === 2 ? false : memory.verify(k, s)) };
    const r1 = await createRetentionEngine({ db: ai.client, clock: new ManualClock(NOW), batchSize: 50, pauseMs: 0, archive: { sink: flakyVerify, encrypt: identity } }).run(rules);
    assert.equal(r1.status, 'failed');
    assert.equal(r1.rules[0]?.error?.reason, RetentionReasons.RetentionArchiveVerifyFailed);
    assert.equal(r1.rules[0]?.archived, 50);
    assert.equal(dataKeys(memory).length, 1);
    assert.equal(pendingKeys(memory).length, 0);
    // 2) the manifest write after COMMIT fails (a crash after the delete): the pending marker stays.
    let puts = 0;
    const failAfterCommit: ArchiveSink = {
      ...bind(memory),
      put: async (k, b) => {
        if (k.endsWith('.manifest.json') && ++puts === 1) throw new Error('connection reset');
        return memory.put(k, b);
      },
    };
    const r2 = await createRetentionEngine({ db: ai.client, clock: new ManualClock(NOW), batchSize: 50, pauseMs: 0, archive: { sink: failAfterCommit, encrypt: identity } }).run(rules);
    assert.equal(r2.status, 'failed');
    assert.equal(pendingKeys(memory).length, 1);
    // 3) a batch "crashed" after its upload but before its delete: a marker + object whose rows still exist.
    const crashed = (await ai.client.query<{ id: string; doc: string }>(
      "SELECT id::text, to_jsonb(t)::text doc FROM ai_system_metrics t WHERE metric_name = 'arch' ORDER BY id LIMIT 10",
    )).rows;
    const base = 'retention/public.ai_system_metrics/metrics-archive/';
    const range = `${crashed[0]?.id.padStart(20, '0')}-${crashed[9]?.id.padStart(20, '0')}`;
    await memory.put(`${base}${range}.ndjson.zst.age`, Buffer.from('orphan'));
    await memory.put(`${base}_pending/${range}-x.json`, Buffer.from(JSON.stringify({ keys: crashed.map((c) => c.id), dataKey: `${base}${range}.ndjson.zst.age` })));
    // 4) the next run resolves both markers and archives the rest.
    const r3 = await createRetentionEngine({ db: ai.client, clock: new ManualClock(NOW), batchSize: 50, pauseMs: 0, archive: { sink: memory, encrypt: identity } }).run(rules);
    assert.equal(r3.status, 'complete', JSON.stringify(r3.rules));
    assert.equal(pendingKeys(memory).length, 0);
    assert.equal((await ai.client.query("SELECT count(*)::int n FROM ai_system_metrics WHERE metric_name = 'arch'")).rows[0].n, 0);
    // Every archived row exactly once, byte-identical to PostgreSQL's JSON of the row before the run.
    const { zstdDecompressSync } = await import('node:zlib');
    const archived = dataKeys(memory).flatMap((k) => zstdDecompressSync(memory.objects.get(k) ?? Buffer.alloc(0)).toString('utf8').trimEnd().split('\n'));
    assert.equal(archived.length, expectedRows.length);
    assert.deepEqual([...archived].sort(), expectedRows.map((r) => r.doc).sort());
    const manifests = [...memory.objects.keys()].filter((k) => k.endsWith('.manifest.json'));
    assert.equal(manifests.length, dataKeys(memory).length);
    const total = manifests.reduce((s, k) => s + (JSON.parse(memory.objects.get(k)?.toString() ?? '{}') as { count: number }).count, 0);
    assert.equal(total, expectedRows.length);
    assert.ok(manifests.some((k) => (JSON.parse(memory.objects.get(k)?.toString() ?? '{}') as { recovered?: boolean }).recovered === true));
  });
});

function bind(sink: MemoryArchiveSink): ArchiveSink {
  return { put: (k, b) => sink.put(k, b), verify: (k, s) => sink.verify(k, s), get: (k) => sink.get(k), list: (p) => sink.list(p), delete: (k) => sink.delete(k) };
}
const dataKeys = (sink: MemoryArchiveSink): string[] => [...sink.objects.keys()].filter((k) => k.endsWith('.ndjson.zst.age'));
const pendingKeys = (sink: MemoryArchiveSink): string[] => [...sink.objects.keys()].filter((k) => k.includes('/_pending/'));
