// Delete and mark batches run in autocommit under session-level settings the engine sets per rule: the
// session gets its own lock_timeout, statement_timeout and TimeZone back afterwards, also after a failed rule.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { createRetentionEngine } from '../../src/engines/retention/index.ts';
import { startPostgres, type PostgresServer, type TestDatabase } from '../env/postgres.ts';
import { createAiDatabase, seedAiTables } from './retention-fixture.ts';

describe('retention session settings', () => {
  let server: PostgresServer;
  let db: TestDatabase;
  let client: pg.Client;

  before(async () => {
    server = await startPostgres();
    ({ db, client } = await createAiDatabase(server));
    await seedAiTables(client, new Date(), { executions: 3000, embeddings: 10, reports: 10, metrics: 10, posts: 10 });
  });
  after(async () => {
    await client?.end().catch(() => {});
    await db?.drop().catch(() => {});
    await server?.stop();
  });

  const settings = async (): Promise<string[]> =>
    Object.values((await client.query("SELECT current_setting('lock_timeout') a, current_setting('statement_timeout') b, current_setting('TimeZone') c")).rows[0] as object).map(String);

  it('puts the caller\'s settings back after a rule, whether it succeeds or fails', async () => {
    await client.query("SET lock_timeout = '7s'; SET statement_timeout = '11min'; SET TimeZone = 'Asia/Kolkata'");
    const before = await settings();
    const engine = createRetentionEngine({ db: client, batchSize: 100, pauseMs: 0, statementTimeoutMs: 1 });
    const failed = await engine.run([{ name: 'slow', table: 'ai_model_execution', olderThan: { column: 'created_at', age: '180d' }, action: 'delete' }]);
    assert.equal(failed.status, 'failed', 'a 1 ms statement_timeout fails the batches');
    assert.deepEqual(await settings(), before);
    const ok = await createRetentionEngine({ db: client, batchSize: 100, pauseMs: 0 }).run([
      { name: 'execs', table: 'ai_model_execution', olderThan: { column: 'created_at', age: '180d' }, action: 'delete' },
    ]);
    assert.equal(ok.status, 'complete');
    assert.ok((ok.rules[0]?.deleted ?? 0) > 1000);
    assert.deepEqual(await settings(), before);
  });
});
