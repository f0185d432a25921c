// Benchmark: time from `kubectl apply` of a LokdarpanDatabase to Ready=True when its database is already
// migrated (the common case: a new resource, or the operator adopting an existing database). The operator
// runs as a child process under its ServiceAccount (RBAC on), as in test/integration/operator-*.test.ts.
// Each sample applies a NEW resource pointing at the same migrated database, so each includes the first
// reconcile's preflight, plan (nothing to do), history read, first view refresh and first validation.
// Usage: node bench/operator-apply-to-ready.ts [--runs 15] [--posts 0] [--json]   (LOKDARPAN_PG_MAJOR=15|18)
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { condition, startOperatorHarness, sleep } from '../test/integration/operator-harness.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '15' }, posts: { type: 'string', default: '0' }, json: { type: 'boolean', default: false } },
});
const RUNS = Number(values.runs);
const POSTS = Number(values.posts);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
};

const h = await startOperatorHarness();
const report: Record<string, unknown> = { runs: RUNS, posts: POSTS, pgVersion: h.pg.version };
try {
  const operator = await h.startOperator({ env: { LOG_LEVEL: 'info' } });
  // Migrate the database once through a first resource.
  const first = await h.applyDatabase({ name: 'migrate-once' });
  const t0 = performance.now();
  await h.waitForCondition(first.namespace, first.name, 'Ready', 'True', { timeoutMs: 120_000 });
  report['firstApplyWithMigrationsMs'] = Math.round(performance.now() - t0);
  if (POSTS > 0) await h.seed(first.db, { posts: POSTS, embeddings: Math.min(1_000, Math.floor(POSTS / 10)) });
  await h.applySecret(h.namespace, 'shared-db', first.db);

  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const name = `bench-${i}`;
    const manifest = JSON.stringify({
      apiVersion: 'lokdarpan.io/v1alpha1',
      kind: 'LokdarpanDatabase',
      metadata: { name, namespace: h.namespace },
      spec: { connection: { secretName: 'shared-db' } },
    });
    const started = performance.now();
    await h.kubectlOk(['apply', '-f', '-'], { input: manifest });
    for (;;) {
      const ldb = await h.get(h.namespace, name).catch(() => undefined);
      if (ldb && condition(ldb, 'Ready')?.status === 'True') break;
      if (performance.now() - started > 60_000) throw new Error(`${name} not Ready after 60 s`);
      await sleep(10);
    }
    samples.push(Math.round(performance.now() - started));
    await h.kubectlOk(['delete', 'ldb', name, '-n', h.namespace]);
  }
  report['applyToReadyMs'] = { median: pct(samples, 50), p90: pct(samples, 90), min: Math.min(...samples), max: Math.max(...samples), samples };
  const status = await h.kubectlOk(['get', '-n', h.namespace, 'ldb', 'migrate-once', '-o', 'jsonpath={.status.conditions[?(@.type=="ViewsFresh")].message}']);
  report['viewsMessage'] = status;
  report['operatorLogLines'] = operator.log().split('\n').length;
} finally {
  await h.stop();
}

if (values.json) console.log(JSON.stringify(report, null, 2));
else {
  const a = report['applyToReadyMs'] as { median: number; p90: number; min: number; max: number };
  console.log(`PostgreSQL ${String(report['pgVersion'])}; ${RUNS} runs; posts ${POSTS}`);
  console.log(`first apply (with migrations 001..005): ${String(report['firstApplyWithMigrationsMs'])} ms`);
  console.log(`kubectl apply -> Ready on a migrated database: median ${a.median} ms, p90 ${a.p90} ms, min ${a.min} ms, max ${a.max} ms`);
}
