// Performance validation under the operator (a child process, real kube-apiserver and PostgreSQL with
// pgvector): on seeded posts and embeddings the probes measure real figures and PerformanceHealthy is
// True; dropping the ward index that 005 creates turns it False naming wardQuery and its figure;
// recreating the index turns it True again; a database without 008's hnsw.ef_search turns it False
// naming vectorSearch and the setting.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { condition, describeLdb, startOperatorHarness, type AppliedDatabase, type Ldb, type OperatorHarness } from './operator-harness.ts';
import { SUITE_TIMEOUT_MS } from '../wait.ts';

const VALIDATE = 'lokdarpan.io/validate-requested-at';
// The index is the discriminator; the timing thresholds are loose because the test machine is shared.
const THRESHOLDS = { wardQueryP95Ms: 500, vectorSearchP95Ms: 500, fullTextSearchP95Ms: 500, competitiveAnalysisP95Ms: 1000 };
const PROBES = ['wardQuery', 'vectorSearch', 'fullTextSearch', 'competitiveAnalysis'];

describe('LokdarpanDatabase operator: performance validation', { timeout: SUITE_TIMEOUT_MS }, () => {
  let h: OperatorHarness;
  let target: AppliedDatabase;

  before(async () => {
    h = await startOperatorHarness();
    await h.startOperator();
    target = await h.applyDatabase({ name: 'perf', spec: { validation: { samples: 10, thresholds: THRESHOLDS } } });
    await h.waitForCondition(target.namespace, target.name, 'Ready', 'True');
    await h.seed(target.db, { posts: 3_000, embeddings: 100 });
  });

  after(async () => {
    await h?.stop();
  });

  async function validateNow(): Promise<Ldb> {
    const requestedAt = new Date().toISOString();
    await h.annotate(target.namespace, target.name, { [VALIDATE]: requestedAt });
    return h.waitFor(target.namespace, target.name, `the validation requested at ${requestedAt}`, (l) => l.status?.validation?.lastRequest === requestedAt);
  }

  it('on seeded data every probe is measured against its threshold: PerformanceHealthy True', async () => {
    const before = await h.get(target.namespace, target.name);
    // The first reconcile validated an empty database: probes without data are skipped, not failed.
    assert.equal(condition(before, 'PerformanceHealthy')?.status, 'True', describeLdb(before));
    const validated = await validateNow();
    const healthy = condition(validated, 'PerformanceHealthy');
    assert.equal(healthy?.status, 'True', describeLdb(validated));
    assert.equal(healthy.reason, 'ThresholdsMet');
    const results = validated.status?.validation?.results ?? [];
    assert.deepEqual(results.map((r) => r.query), PROBES);
    for (const r of results) {
      assert.ok(r.p95Ms > 0, `${r.query} was measured (p95 ${r.p95Ms} ms), not skipped`);
      assert.equal(r.thresholdMs, THRESHOLDS[`${r.query}P95Ms` as keyof typeof THRESHOLDS]);
      assert.equal(r.passed, true, `${r.query}: ${JSON.stringify(r)}`);
      assert.match(healthy.message, new RegExp(`${r.query} p95 [\\d.]+ ms <= ${r.thresholdMs} ms`));
    }
    for (const q of ['wardQuery', 'vectorSearch', 'fullTextSearch']) assert.equal(results.find((r) => r.query === q)?.usesIndex, true, `${q} uses its index`);
    const v = validated.status?.validation;
    assert.ok(v?.lastRunTime && v.nextRunTime && v.nextRunTime > v.lastRunTime, 'the next scheduled run is recorded');
    assert.equal(condition(validated, 'Ready')?.status, 'True');
  });

  it('DROP INDEX ix_post_city_created: the next validation is PerformanceHealthy False naming wardQuery; recreating it heals', async () => {
    await h.adminQuery(target.db, 'DROP INDEX ix_post_city_created');
    const missed = await validateNow();
    const unhealthy = condition(missed, 'PerformanceHealthy');
    assert.equal(unhealthy?.status, 'False', describeLdb(missed));
    assert.equal(unhealthy.reason, 'ThresholdsMissed');
    assert.match(unhealthy.message, /^wardQuery cannot use ix_post_city_created \(p95 [\d.]+ ms, threshold 500 ms\)$/);
    const ward = missed.status?.validation?.results?.find((r) => r.query === 'wardQuery');
    assert.equal(ward?.passed, false);
    assert.equal(ward.usesIndex, false);
    for (const r of missed.status?.validation?.results ?? []) if (r.query !== 'wardQuery') assert.equal(r.passed, true, `${r.query} still passes`);
    const event = (await h.events(target.namespace, target.name)).find((e) => e.reason === 'ThresholdsMissed');
    assert.ok(event, 'a ThresholdsMissed event');
    assert.equal(event.type, 'Warning');
    assert.match(event.message, /wardQuery/);

    await h.adminQuery(
      target.db,
      'CREATE INDEX ix_post_city_created ON post (city, created_at) INCLUDE (author_id, emotion, party) WHERE city IS NOT NULL',
    );
    const healed = await validateNow();
    assert.equal(condition(healed, 'PerformanceHealthy')?.status, 'True', describeLdb(healed));
    assert.equal(healed.status?.validation?.results?.find((r) => r.query === 'wardQuery')?.usesIndex, true);
  });

  it("without 008's hnsw.ef_search (as in a database restored into a new one): PerformanceHealthy False naming vectorSearch and the setting; setting it again heals", async () => {
    const database = target.db.name;
    await h.adminQuery(target.db, `ALTER DATABASE ${database} RESET hnsw.ef_search`);
    const missed = await validateNow();
    const unhealthy = condition(missed, 'PerformanceHealthy');
    assert.equal(unhealthy?.status, 'False', describeLdb(missed));
    assert.equal(unhealthy.reason, 'ThresholdsMissed');
    assert.match(unhealthy.message, /^vectorSearch hnsw\.ef_search is 40, below 300 \(migration 008_hnsw_ef_search sets it for the database; .*ALTER DATABASE \.\.\. SET hnsw\.ef_search = 300\) \(p95 [\d.]+ ms, threshold 500 ms\)$/);
    assert.equal(missed.status?.validation?.results?.find((r) => r.query === 'vectorSearch')?.passed, false);

    await h.adminQuery(target.db, `ALTER DATABASE ${database} SET hnsw.ef_search = 300`);
    const healed = await validateNow();
    assert.equal(condition(healed, 'PerformanceHealthy')?.status, 'True', describeLdb(healed));
  });

  it('never writes a password or connection URI into its logs, events or statuses', async () => {
    await h.assertNoSecretsLeaked();
  });
});
