// Pooled PostgreSQL sessions (src/adapters/postgres/pool.ts) on a real server, as a password (SCRAM) role:
// a session given back is lent again (same server process) with the next caller's settings and nothing of
// the previous caller's (settings, advisory locks, an open transaction); a cut session is not reused; a
// caller never waits when every pooled session is taken; idle sessions close and their pool goes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { startPostgres, type PostgresServer, type TestDatabase } from '../env/index.ts';
import { PgPools } from '../../src/adapters/postgres/index.ts';
import { eventually, GENEROUS_WAIT_MS } from '../wait.ts';

describe('pooled PostgreSQL sessions (real PostgreSQL)', { timeout: 120_000 }, () => {
  let server: PostgresServer;
  let db: TestDatabase;

  before(async () => {
    server = await startPostgres();
    db = await server.createDatabase();
  });
  after(async () => {
    await server?.stop();
  });

  const one = async <R extends pg.QueryResultRow>(client: pg.Client, sql: string): Promise<R> => (await client.query<R>(sql)).rows[0] as R;

  it('lends a given-back session again with the new caller settings and none of the old caller state', async () => {
    const pools = new PgPools({ maxPerTarget: 2 });
    const settings = { connectionString: db.appUrl };
    try {
      const first = await pools.connector(settings).connect({ applicationName: 'first', sessionSettings: { statement_timeout: '1234ms' } });
      const pid = (await one<{ pid: number }>(first, 'SELECT pg_backend_pid() AS pid')).pid;
      assert.equal((await one<{ a: string }>(first, 'SELECT current_setting(\'application_name\') AS a')).a, 'first');
      assert.equal((await one<{ s: string }>(first, 'SELECT current_setting(\'statement_timeout\') AS s')).s, '1234ms');
      await first.query('SELECT pg_advisory_lock(42)');
      await first.end();

      const second = await pools.connector(settings, { applicationName: 'second' }).connect({ sessionSettings: { lock_timeout: '5s' } });
      assert.equal((await one<{ pid: number }>(second, 'SELECT pg_backend_pid() AS pid')).pid, pid, 'the same server process');
      assert.equal((await one<{ a: string }>(second, 'SELECT current_setting(\'application_name\') AS a')).a, 'second');
      assert.equal((await one<{ s: string }>(second, 'SELECT current_setting(\'statement_timeout\') AS s')).s, '0', 'the first caller setting is gone');
      assert.equal((await one<{ s: string }>(second, 'SELECT current_setting(\'lock_timeout\') AS s')).s, '5s');
      const locks = await server.query<{ n: string }>("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory'", [], db.name);
      assert.equal(locks.rows[0]?.n, '0', 'the advisory lock was released on give-back');

      // Left inside a transaction: not reusable, the next caller gets another session.
      await second.query('BEGIN');
      await second.end();
      const third = await pools.connector(settings).connect();
      assert.notEqual((await one<{ pid: number }>(third, 'SELECT pg_backend_pid() AS pid')).pid, pid);
      assert.equal((await one<{ s: string }>(third, 'SELECT now() = statement_timestamp() AS s')).s, true, 'not inside the old transaction');
      await third.end();
      assert.equal(pools.size, 1);
    } finally {
      pools.close();
    }
  });

  it('a fresh session is never a pooled one: it has a database default set after the pooled sessions started', async () => {
    const pools = new PgPools({ maxPerTarget: 2 });
    const settings = { connectionString: db.appUrl };
    try {
      const pooled = await pools.connector(settings).connect();
      const pid = (await one<{ pid: number }>(pooled, 'SELECT pg_backend_pid() AS pid')).pid;
      await pooled.end();
      await server.query(`ALTER DATABASE ${db.name} SET work_mem = '7MB'`, [], db.name);
      const reused = await pools.connector(settings).connect();
      assert.equal((await one<{ pid: number }>(reused, 'SELECT pg_backend_pid() AS pid')).pid, pid, 'the pooled session is reused');
      assert.notEqual((await one<{ w: string }>(reused, "SELECT current_setting('work_mem') AS w")).w, '7MB', 'it started before the ALTER');
      const fresh = await pools.connector(settings).connect({ fresh: true });
      assert.notEqual((await one<{ pid: number }>(fresh, 'SELECT pg_backend_pid() AS pid')).pid, pid);
      assert.equal((await one<{ w: string }>(fresh, "SELECT current_setting('work_mem') AS w")).w, '7MB');
      await Promise.all([reused.end(), fresh.end()]);
    } finally {
      pools.close();
    }
  });

  it('an unknown setting fails the connect with its SQLSTATE and the session is not reused', async () => {
    const pools = new PgPools();
    try {
      const connector = pools.connector({ connectionString: db.appUrl });
      await assert.rejects(connector.connect({ sessionSettings: { no_such_setting: 'x' } }), (e: unknown) => (e as { code?: string }).code === '42704');
      const client = await connector.connect();
      assert.equal((await one<{ n: number }>(client, 'SELECT 1 AS n')).n, 1);
      await client.end();
    } finally {
      pools.close();
    }
  });

  it('an aborted signal cuts the lent session; it is not lent again', async () => {
    const pools = new PgPools();
    try {
      const abort = new AbortController();
      const connector = pools.connector({ connectionString: db.appUrl }, { signal: abort.signal });
      const client = await connector.connect();
      const pid = (await one<{ pid: number }>(client, 'SELECT pg_backend_pid() AS pid')).pid;
      const sleeping = client.query('SELECT pg_sleep(30)');
      abort.abort(new Error('reconcile aborted'));
      await assert.rejects(sleeping);
      await client.end();
      const next = await pools.connector({ connectionString: db.appUrl }).connect();
      assert.notEqual((await one<{ pid: number }>(next, 'SELECT pg_backend_pid() AS pid')).pid, pid);
      await next.end();
      await assert.rejects(connector.connect(), /reconcile aborted/, 'an aborted connector opens nothing');
    } finally {
      pools.close();
    }
  });

  it('never waits when every pooled session is taken; idle sessions close and the pool goes', async () => {
    const pools = new PgPools({ maxPerTarget: 1, idleMs: 200 });
    const connector = pools.connector({ connectionString: db.appUrl });
    try {
      const held = await connector.connect();
      const extra = await connector.connect({ applicationName: 'one-off' });
      const pids = [(await one<{ pid: number }>(held, 'SELECT pg_backend_pid() AS pid')).pid, (await one<{ pid: number }>(extra, 'SELECT pg_backend_pid() AS pid')).pid];
      assert.equal((await one<{ a: string }>(extra, 'SELECT current_setting(\'application_name\') AS a')).a, 'one-off');
      await extra.end();
      await held.end();
      assert.equal(pools.sessions, 1, 'only the pooled one stays open');
      await eventually('the idle pool is dropped', () => pools.size === 0, GENEROUS_WAIT_MS);
      await eventually('no session left on the server', async () => {
        const sessions = await server.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE pid = ANY($1)', [pids], 'postgres');
        return sessions.rows[0]?.n === '0';
      }, GENEROUS_WAIT_MS);
    } finally {
      pools.close();
    }
  });
});
