// The PostgreSQL fault-injecting TCP proxy of the test environment, and the adapter's abort on a hung
// session: pass forwards, blackhole never answers, stall-queries lets a session open and then holds its
// first query; aborting the connector's signal frees a caller stuck in either at once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, startTcpProxy, type PostgresServer, type TcpProxy, type TestDatabase } from '../env/index.ts';
import { createConnector } from '../../src/adapters/postgres/index.ts';
import { SUITE_TIMEOUT_MS } from '../wait.ts';

describe('test env: TCP proxy in front of PostgreSQL', { timeout: SUITE_TIMEOUT_MS }, () => {
  let server: PostgresServer;
  let db: TestDatabase;
  const proxies: TcpProxy[] = [];

  before(async () => {
    server = await startPostgres();
    db = await server.createDatabase();
  });
  after(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await server?.stop();
  });

  const proxyFor = async (mode: TcpProxy['mode']): Promise<TcpProxy> => {
    const u = new URL(db.appUrl);
    const proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port) }, { mode });
    proxies.push(proxy);
    return proxy;
  };

  it('pass: a session works through it', async () => {
    const proxy = await proxyFor('pass');
    const client = await createConnector({ connectionString: proxy.rewrite(db.appUrl) }).connect();
    try {
      assert.equal((await client.query<{ n: number }>('SELECT 41 + 1 AS n')).rows[0]?.n, 42);
    } finally {
      await client.end();
    }
    assert.equal(proxy.accepted, 1);
    assert.equal(proxy.stalled, 0);
  });

  it('blackhole: connecting never gets an answer; an abort ends the wait at once', async () => {
    const proxy = await proxyFor('blackhole');
    const abort = new AbortController();
    const connector = createConnector({ connectionString: proxy.rewrite(db.appUrl) }, { connectTimeoutMs: 120_000, signal: abort.signal });
    const started = Date.now();
    const attempt = connector.connect();
    const outcome = await Promise.race([attempt.then(() => 'connected', () => 'failed'), new Promise((r) => setTimeout(() => r('waiting'), 1_500))]);
    assert.equal(outcome, 'waiting', 'no answer, no failure: it hangs');
    abort.abort(new Error('given up'));
    await assert.rejects(attempt, /given up/);
    assert.ok(Date.now() - started < 30_000);
    assert.equal(proxy.stalled, 1);
  });

  it('stall-queries: the session opens, its first query hangs; an abort closes it and the query rejects', async () => {
    const proxy = await proxyFor('stall-queries');
    const abort = new AbortController();
    const client = await createConnector({ connectionString: proxy.rewrite(db.appUrl) }, { signal: abort.signal }).connect();
    const query = client.query('SELECT 1');
    const outcome = await Promise.race([query.then(() => 'answered', () => 'failed'), new Promise((r) => setTimeout(() => r('waiting'), 1_500))]);
    assert.equal(outcome, 'waiting', 'the query hangs');
    assert.equal(proxy.stalled, 1);
    const aborted = Date.now();
    abort.abort(new Error('reconcile timed out'));
    await assert.rejects(query);
    assert.ok(Date.now() - aborted < 5_000, 'the abort freed the caller at once');
    await assert.rejects(createConnector({ connectionString: db.appUrl }, { signal: abort.signal }).connect(), /reconcile timed out/, 'an aborted connector opens nothing');
  });
});
