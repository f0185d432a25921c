// 006_post_search_vector on a live `post` table (real PostgreSQL, the pass's major). 24 000 posts at 005;
// right after step 1 (column and trigger) another session holds one row of the 10th backfill batch FOR
// UPDATE, so the backfill stops there. While 006 is still running: the 9 batches before it are committed
// and visible (one transaction per batch),
// their rows and the rows after the held one can be updated without waiting for a lock, and a writer
// inserting posts all along never waits on a lock for long (both run under a lock_timeout, so this holds
// however busy the machine is); its rows get their vector from the trigger. Released, 006
// completes: every row (old, inserted, updated) holds the original's document and the app's statement
// goes through ix_post_search_vector.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { TestDatabase } from '../env/postgres.ts';
import { postgresFixture } from './postgres-fixture.ts';
import { repoRoot } from '../env/process.ts';
import { createConnector } from '../../src/adapters/postgres/connection.ts';
import { createMigrationEngine } from '../../src/engines/migrations/index.ts';
import { eventually, SUITE_TIMEOUT_MS } from '../wait.ts';

const POSTS = 24_000;
const HELD = 19_001; // in the 10th batch of 2000 ids: [18001, 20001)
const DONE = 18_000; // the 9 batches before it
// The inserter's lock_timeout: it may wait for step 1 (column and trigger), far less than for the whole
// backfill would take.
const INSERT_LOCK_TIMEOUT = '2s';
// The mid-backfill updates touch rows no batch holds: they wait for no lock at all.
const UPDATE_LOCK_TIMEOUT = '50ms';

describe('006 on a live post table: batches commit one by one, writers are not blocked', { timeout: SUITE_TIMEOUT_MS }, () => {
  const postgres = postgresFixture();
  let db: TestDatabase;
  const connect = (): Promise<pg.Client> => postgres.connect(db);
  const engine = () =>
    createMigrationEngine({
      connection: createConnector({ connectionString: db.appUrl }),
      migrationsDir: join(repoRoot, 'migrations'),
      instance: 'live-006',
      // The held row makes one batch wait; the test releases it within seconds.
      stepLockTimeoutMs: 120_000,
    });

  before(async () => {
    db = await postgres.database({ withVector: true });
    const e = engine();
    await e.up({ to: '005_electoral_optimization' });
    await e.close();
    const c = await connect();
    await c.query(
      `INSERT INTO post (text, city, emotion, party, created_at)
       SELECT 'Residents of ward ' || g || ' complain about ' || (ARRAY['flooded roads', 'water supply', 'elections', 'garbage'])[1 + g % 4],
              (ARRAY['Kapra', 'Jubilee Hills', 'Khairatabad', NULL])[1 + g % 4],
              (ARRAY['Anger', 'Hopeful', NULL])[1 + g % 3],
              (ARRAY['BJP', 'INC', 'TRS', NULL, 'Independent'])[1 + g % 5],
              now() - make_interval(mins => g)
         FROM generate_series(1, ${POSTS}) g`,
    );
    await c.query('ANALYZE post');
  });

  test('the backfill stops at a held row with the batches before it committed; writers go on; released, every row is right', async () => {
    const locker = await connect();
    const observer = await connect();
    const writer = await connect();
    const inserter = await connect();
    const gate = await connect();
    await writer.query(`SET lock_timeout = '${UPDATE_LOCK_TIMEOUT}'`);
    await inserter.query(`SET lock_timeout = '${INSERT_LOCK_TIMEOUT}'`);
    const lockerPid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

    // The held row must be locked after step 1 asked for its ACCESS EXCLUSIVE lock on post (a row lock
    // taken before would make step 1 wait for it) and granted before the backfill reaches it. A gate
    // holds step 1 until the row lock request has queued behind it: an open transaction that read post.
    await gate.query('BEGIN');
    await gate.query('SELECT 1 FROM post LIMIT 1');
    const e = engine();
    let settled = false;
    const running = e.up({ to: '006_post_search_vector' }).finally(() => (settled = true));
    const waiting = async (where: string): Promise<boolean> => {
      assert.equal(settled, false, '006 ended while step 1 should wait at the gate');
      return (await observer.query(`SELECT 1 FROM pg_locks WHERE locktype = 'relation' AND relation = 'post'::regclass AND NOT granted AND ${where}`)).rows.length > 0;
    };
    await eventually('step 1 to wait for its ACCESS EXCLUSIVE lock on post', () => waiting(`mode = 'AccessExclusiveLock'`));
    await locker.query('BEGIN');
    const rowLocked = locker.query('SELECT id FROM post WHERE id = $1 FOR UPDATE', [HELD]);
    await eventually('the row lock request to queue behind step 1', () => waiting(`pid = ${lockerPid}`));
    await gate.query('COMMIT');

    // A writer inserting posts from step 1 on (its first inserts may wait for step 1's lock); a lock wait
    // past its lock_timeout fails it.
    const insertMs: number[] = [];
    let inserting = true;
    const insertLoop = (async () => {
      for (let i = 0; inserting; i++) {
        const t0 = performance.now();
        await inserter.query(`INSERT INTO post (text, city, emotion, party) VALUES ($1, 'Kapra', 'Positive', 'BJP')`, [`live post ${i} on drainage`]);
        insertMs.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    // Kept (and awaited below) so that a failed insert fails the test with its error, not as unhandled.
    const insertOutcome = insertLoop.then(() => undefined, (error: unknown) => error);
    // Granted the moment step 1 commits, long before the backfill reaches the 10th batch.
    await rowLocked;
    try {
      // Wait until the batches before the held row are committed (seen from another session).
      const deadline = Date.now() + 180_000;
      let done = 0;
      let maxIdAtColumn: number | undefined;
      for (;;) {
        assert.equal(settled, false, '006 must not finish while a row of its backfill is held');
        const column = await observer.query(`SELECT 1 FROM pg_attribute WHERE attrelid = 'post'::regclass AND attname = 'search_vector'`);
        if (column.rows.length > 0) {
          // The column and the trigger commit together: rows inserted from now on are the trigger's.
          maxIdAtColumn ??= Number((await observer.query<{ m: number }>('SELECT max(id) AS m FROM post')).rows[0]!.m);
          const { rows } = await observer.query<{ n: string }>(`SELECT count(*) AS n FROM post WHERE id <= ${DONE} AND search_vector IS NOT NULL`);
          done = Number(rows[0]!.n);
          if (done === DONE) break;
        }
        assert.ok(Date.now() < deadline, `the first 9 batches were not all committed in time (${done} of ${DONE} rows)`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const { rows: [later] } = await observer.query<{ n: string }>(`SELECT count(*) AS n FROM post WHERE id > 20000 AND id <= $1 AND search_vector IS NOT NULL`, [POSTS]);
      assert.equal(Number(later!.n), 0, 'the backfill has not gone past the held row');

      // Mid-backfill: rows already done and rows not yet reached are updated without waiting for a lock
      // (under lock_timeout; not rows of the held row's batch: its UPDATE may already hold some of them).
      assert.equal((await writer.query<{ lock_timeout: string }>('SHOW lock_timeout')).rows[0]?.lock_timeout, UPDATE_LOCK_TIMEOUT);
      for (const id of [1, 9_000, 17_999, 21_000, 23_999]) {
        await writer.query(`UPDATE post SET emotion = 'Hopeful', city = 'Kapra' WHERE id = $1`, [id]);
      }
      const { rows: [inserted] } = await observer.query<{ n: string; missing: string }>(
        `SELECT count(*) AS n, count(*) FILTER (WHERE search_vector IS NULL) AS missing FROM post WHERE id > $1`, [maxIdAtColumn]);
      assert.ok(Number(inserted!.n) > 0, 'the writer inserted posts during the migration');
      assert.equal(Number(inserted!.missing), 0, 'rows inserted after the trigger exist have their vector');
      assert.equal(settled, false, '006 is still waiting on the held row');
    } finally {
      await locker.query('ROLLBACK');
    }
    const result = await running;
    assert.deepEqual(result.applied.map((a) => a.name), ['006_post_search_vector']);
    inserting = false;
    assert.equal(await insertOutcome, undefined, 'no insert failed (none waited for a lock past its lock_timeout)');
    await e.close();

    assert.ok(insertMs.length > 0);
    assert.equal((await inserter.query<{ lock_timeout: string }>('SHOW lock_timeout')).rows[0]?.lock_timeout, INSERT_LOCK_TIMEOUT);
    console.log(`inserts during 006: ${insertMs.length}, worst ${Math.round(Math.max(...insertMs))} ms (wall clock, not asserted: load-dependent)`);
    const { rows: [check] } = await observer.query<{ n: string; off: string }>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE search_vector IS DISTINCT FROM
         setweight(to_tsvector('english', coalesce(text, '')), 'A') || setweight(to_tsvector('english', coalesce(city, '')), 'B')
         || setweight(to_tsvector('english', coalesce(emotion, '')), 'C') || setweight(to_tsvector('english', coalesce(party, '')), 'B')) AS off
       FROM post`);
    assert.equal(Number(check!.n), POSTS + insertMs.length);
    assert.equal(Number(check!.off), 0, 'every row holds the original trigger document');
    assert.deepEqual((await observer.query(`SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid`)).rows, []);
    await observer.query('ANALYZE post');
    const plan = (await observer.query(
      `EXPLAIN SELECT id, ts_rank(search_vector, plainto_tsquery($1)) AS rank FROM post
        WHERE search_vector @@ plainto_tsquery($1) ORDER BY rank DESC LIMIT 20`, ['drainage'])).rows.map((r) => r['QUERY PLAN']).join('\n');
    assert.match(plan, /Bitmap Index Scan on ix_post_search_vector/, plan);
  });
});
