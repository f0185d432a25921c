// Materialized views under the operator (a child process, real kube-apiserver and PostgreSQL): the
// refresh annotation triggers a REFRESH ... CONCURRENTLY (a reader holding the view open is not
// blocked), a `* * * * *` schedule refreshes again by itself, and a view dropped by hand becomes
// ViewsFresh False / ViewMissing with an event, not a crash.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { condition, describeLdb, type AppliedDatabase, operatorFixture } from './operator-harness.ts';
import { GENEROUS_WAIT_MS, SUITE_TIMEOUT_MS } from '../wait.ts';

const REFRESH = 'lokdarpan.io/refresh-requested-at';

describe('LokdarpanDatabase operator: materialized views', { timeout: SUITE_TIMEOUT_MS }, () => {
  const fx = operatorFixture();
  let scheduled: AppliedDatabase;
  let annotatedRefreshAt = '';

  it('the refresh annotation refreshes CONCURRENTLY: a reader holding the view open is not blocked; status records it', async () => {
    scheduled = await fx.h.applyDatabase({ name: 'views', spec: { views: { refreshSchedule: '* * * * *', timeZone: 'Asia/Kolkata' } } });
    const { name, namespace, db } = scheduled;
    const first = await fx.h.waitForCondition(namespace, name, 'Ready', 'True');
    const firstRefresh = first.status?.views?.lastRefreshTime;
    assert.ok(firstRefresh, `the first reconcile refreshed the views: ${describeLdb(first)}`);
    await fx.h.seed(db, { posts: 2_000 });

    // A reader in an open transaction holds ACCESS SHARE on the view: a plain REFRESH (ACCESS EXCLUSIVE)
    // would wait for it and fail on lock_timeout; CONCURRENTLY (EXCLUSIVE) goes through.
    const reader = new pg.Client(db.appConfig());
    await reader.connect();
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM daily_ward_trends');
      await reader.query('SELECT count(*) FROM ward_analytics_summary');
      const requestedAt = new Date().toISOString();
      await fx.h.annotate(namespace, name, { [REFRESH]: requestedAt });
      const refreshed = await fx.h.waitFor(namespace, name, 'the requested refresh', (l) => l.status?.views?.lastRequest === requestedAt, GENEROUS_WAIT_MS);
      const views = refreshed.status?.views;
      assert.ok(views?.lastRefreshTime && views.lastRefreshTime > firstRefresh, `lastRefreshTime moved: ${firstRefresh} -> ${views?.lastRefreshTime}`);
      assert.equal(views.lastSuccessfulRefreshTime, views.lastRefreshTime);
      assert.equal(views.lastError, undefined);
      assert.equal(typeof views.lastDurationMs, 'number');
      assert.ok(views.nextRefreshTime && Date.parse(views.nextRefreshTime) - Date.parse(views.lastRefreshTime) <= 60_000, 'next refresh within the minute');
      const fresh = condition(refreshed, 'ViewsFresh');
      assert.equal(fresh?.status, 'True', describeLdb(refreshed));
      assert.equal(fresh.reason, 'ViewsRefreshed');
      // Row counts after the refresh: the seeded posts are in both views; "first fill" would mean not concurrently.
      const counts = Object.fromEntries([...fresh.message.matchAll(/(\w+) \((\d+) rows/g)].map((m) => [m[1], Number(m[2])]));
      assert.ok((counts['ward_analytics_summary'] ?? 0) > 0, fresh.message);
      assert.ok((counts['daily_ward_trends'] ?? 0) > 0, fresh.message);
      assert.doesNotMatch(fresh.message, /first fill/);
      annotatedRefreshAt = views.lastRefreshTime;
      // The reader's snapshot still works, and the data is really in the views for new readers.
      await reader.query('SELECT count(*) FROM daily_ward_trends');
    } finally {
      await reader.query('ROLLBACK').catch(() => {});
      await reader.end();
    }
    const inView = await fx.h.adminQuery(db, 'SELECT sum(total_posts)::int AS n FROM ward_analytics_summary');
    const posts = await fx.h.adminQuery(db, `SELECT count(*)::int AS n FROM post WHERE city IS NOT NULL AND btrim(city) <> ''`);
    assert.ok((posts.rows[0]?.n ?? 0) > 1_000);
    assert.equal(inView.rows[0]?.n, posts.rows[0]?.n);
  });

  it('a view dropped by hand: ViewsFresh False (ViewMissing) with an event, Ready False, the operator keeps running', async () => {
    const { name, namespace, db } = await fx.h.applyDatabase({ name: 'dropped' });
    await fx.h.waitForCondition(namespace, name, 'Ready', 'True');
    await fx.h.adminQuery(db, 'DROP MATERIALIZED VIEW daily_ward_trends');
    await fx.h.annotate(namespace, name, { [REFRESH]: new Date().toISOString() });
    const broken = await fx.h.waitForCondition(namespace, name, 'ViewsFresh', 'False', { reason: 'ViewMissing' });
    assert.match(condition(broken, 'ViewsFresh')?.message ?? '', /daily_ward_trends not found/);
    assert.equal(condition(broken, 'Ready')?.status, 'False');
    assert.equal(condition(broken, 'Ready')?.reason, 'ViewMissing');
    assert.equal(condition(broken, 'SchemaReady')?.status, 'True', 'the schema itself is still reported as migrated');
    assert.match(broken.status?.views?.lastError ?? '', /daily_ward_trends/);
    const event = (await fx.h.events(namespace, name)).find((e) => e.reason === 'ViewMissing');
    assert.ok(event, 'a ViewMissing event');
    assert.equal(event.type, 'Warning');
    assert.equal(fx.operator.process.child.exitCode, null, 'the operator did not crash');
    assert.equal((await fx.operator.http('/healthz')).status, 200);
  });

  it('a "* * * * *" refreshSchedule refreshes again by itself within about a minute', async () => {
    const { name, namespace } = scheduled;
    assert.ok(annotatedRefreshAt, 'the first test recorded its refresh');
    const again = await fx.h.waitFor(
      namespace,
      name,
      'a scheduled refresh after the requested one',
      (l) => (l.status?.views?.lastSuccessfulRefreshTime ?? '') > annotatedRefreshAt,
      75_000,
    );
    const views = again.status?.views;
    // The scheduled run starts at a minute boundary (cron in Asia/Kolkata, a whole-minute offset from UTC).
    const startedSeconds = new Date(views?.lastRefreshTime ?? '').getUTCSeconds();
    assert.ok(startedSeconds <= 10, `refresh started near the minute boundary (second ${startedSeconds})`);
    assert.equal(views?.lastRequest, (await fx.h.get(namespace, name)).metadata.annotations?.[REFRESH], 'no new request was made');
    assert.equal(condition(again, 'ViewsFresh')?.status, 'True');
  });

  it('never writes a password or connection URI into its logs, events or statuses', async () => {
    const seen = await fx.h.assertNoSecretsLeaked();
    assert.ok(seen.events >= 2);
  });
});
