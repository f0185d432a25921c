// Shared by the retention integration tests and bench/retention.ts: a database built from the project's
// migrations 001-004, a deterministic generator of ai_* rows around a fixed "now", fingerprints of
// table contents for exact before/after comparisons, and a concurrent writer that measures how long
// each of its inserts takes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { before } from 'node:test';
import type { PostgresServer, TestDatabase } from '../env/postgres.ts';
import { repoRoot } from '../env/process.ts';
import type { Queryable } from '../../src/adapters/postgres/session.ts';
import { postgresFixture } from './postgres-fixture.ts';

/** Fresh database with the schema of migrations 001..004 (as the owner role; vector created by the superuser). */
export async function createAiDatabase(server: PostgresServer): Promise<{ db: TestDatabase; client: pg.Client }> {
  const db = await server.createDatabase({ withVector: true });
  const client = new pg.Client(db.appConfig());
  client.on('error', () => {});
  await client.connect();
  const dir = join(repoRoot, 'migrations');
  const files = readdirSync(dir).filter((f) => /^00[1-4]_.*\.up\.sql$/.test(f)).sort();
  for (const file of files) await client.query(readFileSync(join(dir, file), 'utf8'));
  await client.query("SET TimeZone = 'UTC'");
  return { db, client };
}

export interface AiDatabaseFixture {
  readonly server: PostgresServer;
  readonly db: TestDatabase;
  /** The owner role's session createAiDatabase opened (TimeZone UTC). */
  readonly client: pg.Client;
}

/** For one describe: PostgreSQL and a createAiDatabase database filled by `seed` in before(); all gone in after(). */
export function aiDatabaseFixture(seed: (client: pg.Client) => Promise<void>): AiDatabaseFixture {
  const postgres = postgresFixture();
  let ai: { db: TestDatabase; client: pg.Client } | undefined;
  before(async () => {
    const { db, client } = await createAiDatabase(postgres.server);
    postgres.onCleanup(() => db.drop());
    postgres.onCleanup(() => client.end());
    await seed(client);
    ai = { db, client };
  });
  const ready = (): { db: TestDatabase; client: pg.Client } => {
    if (!ai) throw new Error('the ai database fixture is read before its before() hook ran');
    return ai;
  };
  return {
    get server() {
      return postgres.server;
    },
    get db() {
      return ready().db;
    },
    get client() {
      return ready().client;
    },
  };
}

export interface SeedSizes {
  embeddings?: number;
  executions?: number;
  reports?: number;
  metrics?: number;
  posts?: number;
  /** Also insert the rows around every period boundary (default true). */
  edges?: boolean;
}

/**
 * Deterministic rows spread over ~4 years before `now`, covering every branch of the default rules:
 * all embedding sources, NULL and set last access / expiry, all execution statuses, finished and
 * unfinished, archived and live reports. last_accessed_at is never before created_at.
 */
export async function seedAiTables(client: Queryable, now: Date, sizes: SeedSizes = {}): Promise<void> {
  const n = { embeddings: 3000, executions: 6000, reports: 2000, metrics: 4000, posts: 500, ...sizes };
  const p = [now.toISOString()];
  await client.query(`INSERT INTO "user" (username, email, password_hash)
    SELECT 'u' || i, 'u' || i || '@example.org', 'x' FROM generate_series(1, 5) i ON CONFLICT DO NOTHING`);
  await client.query(
    `INSERT INTO ai_embedding_store (content_hash, source_type, content_chunk, content_type, fetched_at, created_at, updated_at,
       last_accessed_at, access_count, expires_at)
     SELECT md5('e' || i), (ARRAY['news','analysis','perplexity','report','manual','epaper','post'])[1 + i % 7], 'chunk ' || i,
       (ARRAY['news','analysis','report'])[1 + i % 3], c, c, c,
       CASE WHEN i % 3 = 0 THEN NULL ELSE c + (($1::timestamptz - c) * ((i * 37) % 100) / 100.0) END,
       (i * 13) % 9,
       CASE WHEN i % 4 = 0 THEN $1::timestamptz + make_interval(days => (i % 41) - 20) END
     FROM (SELECT i, $1::timestamptz - make_interval(days => (i * 7) % 1500, secs => i) AS c FROM generate_series(1, ${n.embeddings}) i) s`,
    p,
  );
  await client.query(
    `INSERT INTO ai_model_execution (request_id, operation_type, provider, model_name, success_status, created_at)
     SELECT 'r' || i, 'embedding', 'openai', 'm', (ARRAY['success','error','timeout','rate_limited'])[1 + i % 4],
       $1::timestamptz - make_interval(days => (i * 3) % 400, secs => i)
     FROM generate_series(1, ${n.executions}) i`,
    p,
  );
  await client.query(
    `INSERT INTO ai_geopolitical_report (user_id, query_text, query_hash, status, requested_at, completed_at, last_accessed_at,
       expires_at, is_archived, archive_reason)
     SELECT 1 + i % 5, 'q' || i, md5('q' || i), CASE WHEN i % 5 = 0 THEN 'failed' ELSE 'completed' END, r,
       CASE WHEN i % 5 = 0 THEN NULL ELSE r + interval '1 hour' END,
       CASE WHEN i % 3 = 0 THEN NULL ELSE r + (($1::timestamptz - r) * ((i * 53) % 100) / 100.0) END,
       CASE WHEN i % 7 = 0 THEN $1::timestamptz + make_interval(days => (i % 21) - 10) END,
       i % 4 = 0, CASE WHEN i % 4 = 0 THEN 'manual' END
     FROM (SELECT i, $1::timestamptz - make_interval(days => (i * 11) % 1400, secs => i) AS r FROM generate_series(1, ${n.reports}) i) s`,
    p,
  );
  await client.query(
    `INSERT INTO ai_system_metrics (metric_name, metric_category, metric_scope, metric_value, period_start, period_end, aggregation_type, created_at)
     SELECT 'latency', 'performance', 'system', i, c, c, 'avg', c
     FROM (SELECT i, $1::timestamptz - make_interval(days => (i * 5) % 500, secs => i) AS c FROM generate_series(1, ${n.metrics}) i) s`,
    p,
  );
  // Rows one minute on either side of every period boundary, so an off-by-a-day rule shows.
  if (sizes.edges === false) {
    await client.query(`INSERT INTO post (text, city) SELECT 'post ' || i, 'Ward 1' FROM generate_series(1, ${n.posts}) i`);
    await client.query('ANALYZE');
    return;
  }
  const edges = `(SELECT $1::timestamptz - make_interval(days => b) + make_interval(secs => d) AS t, b, d
                  FROM unnest(ARRAY[90, 180, 365, 730, 1095]) b, unnest(ARRAY[-60, 60]) d) e`;
  await client.query(
    `INSERT INTO ai_embedding_store (content_hash, source_type, content_chunk, fetched_at, created_at, updated_at, last_accessed_at, access_count)
     SELECT md5('edge' || b || d || s || a || l), s, 'edge', t, t, t, CASE WHEN l THEN t END, a
     FROM ${edges}, unnest(ARRAY['news','analysis','perplexity','report','manual','epaper']) s, unnest(ARRAY[0, 4, 5]) a, unnest(ARRAY[true, false]) l`,
    p,
  );
  await client.query(
    `INSERT INTO ai_model_execution (request_id, operation_type, provider, model_name, success_status, created_at)
     SELECT 'edge', 'embedding', 'openai', 'm', s, t FROM ${edges}, unnest(ARRAY['success','error','timeout']) s`,
    p,
  );
  await client.query(
    `INSERT INTO ai_geopolitical_report (user_id, query_text, query_hash, requested_at, completed_at, last_accessed_at, is_archived)
     SELECT 1, 'edge', md5('edge'), t - interval '1 hour', CASE WHEN c THEN t END, CASE WHEN l THEN t END, a
     FROM ${edges}, unnest(ARRAY[true, false]) c, unnest(ARRAY[true, false]) l, unnest(ARRAY[true, false]) a`,
    p,
  );
  await client.query(
    `INSERT INTO ai_system_metrics (metric_name, metric_category, metric_scope, metric_value, period_start, period_end, aggregation_type, created_at)
     SELECT 'edge', 'usage', 'system', b, t, t, 'avg', t FROM ${edges}`,
    p,
  );
  await client.query(
    `INSERT INTO post (text, city, created_at) SELECT 'post ' || i, 'Ward ' || (i % 150), $1::timestamptz - make_interval(days => i % 3000)
     FROM generate_series(1, ${n.posts}) i`,
    p,
  );
  await client.query('ANALYZE');
}

export const AI_TABLES = ['ai_embedding_store', 'ai_model_execution', 'ai_geopolitical_report', 'ai_budget_tracker', 'ai_system_metrics', 'post', '"user"'] as const;

/** md5 of every row of every table (whole rows, in key order): equal fingerprints mean equal contents. */
export async function fingerprint(client: Queryable): Promise<Record<string, { rows: number; md5: string }>> {
  const out: Record<string, { rows: number; md5: string }> = {};
  for (const table of AI_TABLES) {
    const r = await client.query<{ rows: string; md5: string | null }>(
      `SELECT count(*) AS rows, md5(string_agg(t::text, E'\\n' ORDER BY t.id)) AS md5 FROM ${table} t`,
    );
    out[table.replace(/"/g, '')] = { rows: Number(r.rows[0]?.rows ?? 0), md5: r.rows[0]?.md5 ?? '' };
  }
  return out;
}

export interface WriterStats {
  inserts: number;
  /** Statements that failed (`SQLSTATE: message`); a lock wait past the writer's lock_timeout is one. */
  errors: string[];
  /** The writer session's lock_timeout as PostgreSQL reports it (`SHOW lock_timeout`). */
  lockTimeout: string;
  /** Wall-clock latencies: diagnostics only, they depend on the machine's load. */
  maxMs: number;
  p99Ms: number;
  p50Ms: number;
}

export interface Writer {
  /** Statements that succeeded so far. */
  inserts(): number;
  /** Statements that failed so far. */
  errors(): number;
  /** False once the loop has ended: stopped, or its connection was lost. */
  running(): boolean;
  stop(): Promise<WriterStats>;
}

/**
 * Runs one statement at a time (autocommit; by default an insert whose $1 is "w<i>") until stopped,
 * timing each: what an application writing during retention sees. With `lockTimeoutMs` the session runs
 * under that lock_timeout, so any wait for a lock longer than it fails the statement (and shows in
 * `errors`) however slow the machine is: no failure proves no lock was held against the writer longer.
 */
export function startWriter(config: pg.ClientConfig, sql: string, options: { lockTimeoutMs?: number; params?: (i: number) => unknown[] } = {}): Writer {
  const params = options.params ?? ((i: number) => [`w${i}`]);
  const latencies: number[] = [];
  const errors: string[] = [];
  let lockTimeout = '';
  let running = true;
  const client = new pg.Client(config);
  client.on('error', () => {});
  let ended = false;
  const loop = (async () => {
    await client.connect();
    if (options.lockTimeoutMs !== undefined) await client.query(`SET lock_timeout = '${Math.trunc(options.lockTimeoutMs)}ms'`);
    lockTimeout = String((await client.query<{ lock_timeout: string }>('SHOW lock_timeout')).rows[0]?.lock_timeout);
    let i = 0;
    while (running) {
      const start = performance.now();
      try {
        await client.query(sql, params(i++));
        latencies.push(performance.now() - start);
      } catch (error) {
        const e = error as { code?: string; message?: string };
        errors.push(`${e.code ?? '?'}: ${e.message ?? String(error)}`);
        // A lost connection ends the loop: pg fails every later statement at once (process.nextTick), a busy
        // loop that starves the event loop until the process is killed.
        if (connectionLost(e.code)) break;
      }
    }
    await client.end();
  })().finally(() => {
    ended = true;
  });
  return {
    inserts: () => latencies.length,
    errors: () => errors.length,
    running: () => !ended,
    async stop(): Promise<WriterStats> {
      running = false;
      await loop;
      const sorted = [...latencies].sort((a, b) => a - b);
      const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
      return { inserts: sorted.length, errors, lockTimeout, maxMs: sorted[sorted.length - 1] ?? 0, p99Ms: at(0.99), p50Ms: at(0.5) };
    },
  };
}

/**
 * The error is the connection's, not the statement's: pg's own errors (no SQLSTATE), a socket error, or a
 * SQLSTATE of class 08 (connection exception) or 57P (the server shutting down or terminating the session).
 */
function connectionLost(code: string | undefined): boolean {
  return code === undefined || !/^[0-9A-Z]{5}$/.test(code) || code.startsWith('08') || code.startsWith('57P');
}

export const EXECUTION_INSERT_SQL =
  "INSERT INTO ai_model_execution (request_id, operation_type, provider, model_name, success_status) VALUES ($1, 'embedding', 'openai', 'm', 'success')";
