// The operator (a child process under its ServiceAccount and the ClusterRole of manifests/base/rbac.yaml)
// on a real kube-apiserver and PostgreSQL: a LokdarpanDatabase reaches Ready with the whole schema,
// spec changes bump observedGeneration, a deleted Secret is a condition + event and recovers without a
// restart, the approval gate holds migrations back until the plan hash is approved, and no password
// ever appears in the logs, events or statuses.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { condition, describeLdb, operatorFixture } from './operator-harness.ts';
import { GENEROUS_WAIT_MS, SUITE_TIMEOUT_MS } from '../wait.ts';

const MIGRATIONS = ['001_core_tables', '002_electoral_tables', '003_ward_intelligence_tables', '004_ai_infrastructure', '005_electoral_optimization',
  '006_post_search_vector', '007_embedding_inline_storage', '008_hnsw_ef_search', '009_hnsw_dense_graph'];

describe('LokdarpanDatabase operator: lifecycle', { timeout: SUITE_TIMEOUT_MS }, () => {
  const fx = operatorFixture();

  it('kubectl apply of a LokdarpanDatabase and its Secret: Ready with the schema at the latest migration, printer columns, event, history', async () => {
    const crd = await fx.h.kubectlOk(['get', 'crd', 'lokdarpandatabases.lokdarpan.io', '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']);
    assert.equal(crd, 'True');
    const { name, namespace } = await fx.h.applyDatabase({ name: 'lokdarpan' });
    const waited = await fx.h.kubectl(['wait', '--for=condition=Ready', `lokdarpandatabase/${name}`, '-n', namespace, '--timeout=60s']);
    assert.equal(waited.code, 0, `${waited.stderr}\n${describeLdb(await fx.h.get(namespace, name))}\n${fx.operator.process.tail(20)}`);

    const ldb = await fx.h.get(namespace, name);
    assert.equal(ldb.status?.schemaVersion, '009_hnsw_dense_graph');
    assert.equal(ldb.status?.pendingCount, 0);
    assert.deepEqual(ldb.status?.pendingMigrations, []);
    const applied = ldb.status?.appliedMigrations ?? [];
    assert.deepEqual(applied.map((m) => m.name), MIGRATIONS);
    for (const m of applied) {
      assert.match(m.checksum, /^[0-9a-f]{64}$/, `${m.name} has a sha256 checksum`);
      assert.ok(!Number.isNaN(Date.parse(m.appliedAt)), `${m.name} appliedAt is a time`);
      assert.ok(m.durationMs >= 0);
    }
    assert.match(ldb.status?.server?.version ?? '', /^\d+\.\d+/);
    assert.match(ldb.status?.server?.pgvectorVersion ?? '', /^\d+\.\d+/);
    for (const type of ['Ready', 'SchemaReady', 'ExtensionsReady', 'ViewsFresh']) assert.equal(condition(ldb, type)?.status, 'True', `${type}: ${describeLdb(ldb)}`);
    assert.equal(condition(ldb, 'Reconciling')?.status, 'False');
    assert.equal(condition(ldb, 'Stalled')?.status, 'False');

    // Printer columns, by the short name.
    const table = await fx.h.kubectlOk(['get', 'ldb', '-n', namespace]);
    const [header, row] = table.trim().split('\n');
    assert.match(header ?? '', /^NAME\s+READY\s+SCHEMA\s+PENDING\s+VIEWS\s+AGE$/);
    assert.match(row ?? '', new RegExp(`^${name}\\s+True\\s+009_hnsw_dense_graph\\s+0\\s+True\\s+\\d+s$`));

    // The event, as `kubectl get events` shows it.
    const events = await fx.h.events(namespace, name);
    const migrated = events.find((e) => e.reason === 'MigrationsApplied');
    assert.ok(migrated, `a MigrationsApplied event; got ${events.map((e) => e.reason).join(', ')}`);
    assert.equal(migrated.type, 'Normal');
    assert.match(migrated.message, /applied 9 migration\(s\) 001_core_tables, .*009_hnsw_dense_graph/);
    const listed = await fx.h.kubectlOk(['get', 'events', '-n', namespace, '--field-selector', `involvedObject.name=${name}`]);
    assert.match(listed, /MigrationsApplied/);

    // The tables really are there, owned by the application role.
    const tables = await fx.h.adminQuery(fx.h.databaseOf(fx.h.namespace, name), `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('post', 'ai_embedding_store')`);
    assert.equal(tables.rows[0]?.n, 2);
  });

  it('a spec change bumps status.observedGeneration and every condition observedGeneration', async () => {
    const name = 'lokdarpan';
    const before = await fx.h.get(fx.h.namespace, name);
    assert.equal(before.status?.observedGeneration, before.metadata.generation);
    await fx.h.client.patch(
      `/apis/lokdarpan.io/v1alpha1/namespaces/${fx.h.namespace}/lokdarpandatabases/${name}`,
      { spec: { validation: { samples: 7 } } },
      'merge',
    );
    const generation = before.metadata.generation + 1;
    const after = await fx.h.waitFor(fx.h.namespace, name, `observedGeneration ${generation}`, (l) => l.status?.observedGeneration === generation, GENEROUS_WAIT_MS);
    assert.equal(after.metadata.generation, generation);
    for (const c of after.status?.conditions ?? []) assert.equal(c.observedGeneration, generation, `${c.type}.observedGeneration`);
    assert.equal(condition(after, 'Ready')?.status, 'True');
    // A status-only change (the operator's own write) does not bump the generation.
    assert.equal((await fx.h.get(fx.h.namespace, name)).metadata.generation, generation);
  });

  it('/metrics counts the API requests by method, resource and code (status patches, Secret reads, events), names never', async () => {
    const { status, body } = await fx.operator.http('/metrics');
    assert.equal(status, 200);
    const requests = new Map<string, number>();
    for (const line of body.split('\n')) {
      const m = /^rest_client_requests_total\{(.*)\} (\d+)$/.exec(line);
      if (m) requests.set(m[1]!, Number(m[2]));
    }
    const count = (method: string, resource: string, code: string): number =>
      [...requests].find(([labels]) => labels.includes(`method="${method}"`) && labels.includes(`resource="${resource}"`) && labels.includes(`code="${code}"`))?.[1] ?? 0;
    // Two spec generations reconciled so far: each wrote its status (one merge patch, never a full PUT) and read the password Secret.
    assert.ok(count('PATCH', 'lokdarpandatabases/status', '200') >= 2, [...requests.keys()].join('\n'));
    assert.equal([...requests.keys()].filter((labels) => labels.includes('method="PUT"') && labels.includes('/status')).length, 0, 'no status PUT');
    assert.ok(count('GET', 'secrets', '200') >= 1, [...requests.keys()].join('\n'));
    assert.ok(count('GET', 'lokdarpandatabases', '200') >= 1, 'the informer list');
    assert.ok(count('POST', 'events', '201') >= 1, [...requests.keys()].join('\n'));
    assert.doesNotMatch([...requests.keys()].join('\n'), /lokdarpan-db|name=/, 'no object names in labels');
    assert.match(body, /^rest_client_rate_limiter_duration_seconds_count \d+$/m);
  });

  it('deleting the Secret turns Ready False (SecretNotFound) with a Warning event; re-creating it recovers without a restart', async () => {
    const name = 'lokdarpan';
    const secretName = `${name}-db`;
    const pid = fx.operator.process.child.pid;
    const readyBefore = condition(await fx.h.get(fx.h.namespace, name), 'Ready');
    // Ask for a reconcile now (a refresh) so the missing Secret is noticed without waiting for a schedule.
    await fx.h.kubectlOk(['delete', 'secret', secretName, '-n', fx.h.namespace]);
    await fx.h.annotate(fx.h.namespace, name, { 'lokdarpan.io/refresh-requested-at': new Date().toISOString() });
    const broken = await fx.h.waitForCondition(fx.h.namespace, name, 'Ready', 'False', { reason: 'SecretNotFound' });
    const ready = condition(broken, 'Ready');
    assert.match(ready?.message ?? '', new RegExp(`Secret ${fx.h.namespace}/${secretName} not found`));
    assert.notEqual(ready?.lastTransitionTime, undefined);
    assert.equal(condition(broken, 'Reconciling')?.status, 'True', 'still trying (with backoff)');
    assert.equal(condition(broken, 'Stalled')?.status, 'False');
    const warning = (await fx.h.events(fx.h.namespace, name)).find((e) => e.reason === 'SecretNotFound');
    assert.ok(warning, 'a SecretNotFound event');
    assert.equal(warning.type, 'Warning');
    assert.ok(readyBefore?.lastTransitionTime !== ready?.lastTransitionTime || readyBefore?.status !== ready?.status);

    // Put it back (short outage: backoff is 500 ms doubling, so the next retry comes within seconds).
    await fx.h.applySecret(fx.h.namespace, secretName, fx.h.databaseOf(fx.h.namespace, name));
    const recovered = await fx.h.waitForCondition(fx.h.namespace, name, 'Ready', 'True');
    assert.equal(condition(recovered, 'Reconciling')?.status, 'False');
    assert.equal(fx.operator.process.child.pid, pid);
    assert.equal(fx.operator.process.child.exitCode, null, 'the operator was not restarted');
  });

  it('with requireApproval nothing is applied until approvedPlanHash carries the published plan hash', async () => {
    const { name, namespace, db } = await fx.h.applyDatabase({ name: 'gated', spec: { migrations: { requireApproval: true } } });
    const waiting = await fx.h.waitForCondition(namespace, name, 'SchemaReady', 'False', { reason: 'AwaitingApproval' });
    const hash = waiting.status?.plan?.hash ?? '';
    assert.match(hash, /^[0-9a-f]{16,64}$/, `plan hash published: ${describeLdb(waiting)}`);
    assert.deepEqual(waiting.status?.plan?.steps.map((s) => s.name), MIGRATIONS);
    assert.equal(condition(waiting, 'Ready')?.status, 'False');
    assert.equal(condition(waiting, 'Ready')?.reason, 'AwaitingApproval');
    assert.match(condition(waiting, 'SchemaReady')?.message ?? '', new RegExp(`approvedPlanHash to ${hash}`));
    assert.equal(waiting.status?.pendingCount, MIGRATIONS.length);
    const tables = await fx.h.adminQuery(db, `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
    assert.equal(tables.rows[0]?.n, 0, 'no table was created before approval');
    const approvalEvent = (await fx.h.events(namespace, name)).find((e) => e.reason === 'AwaitingApproval');
    assert.ok(approvalEvent, 'an AwaitingApproval event');

    // A wrong hash changes nothing.
    await fx.h.client.patch(`/apis/lokdarpan.io/v1alpha1/namespaces/${namespace}/lokdarpandatabases/${name}`, { spec: { migrations: { approvedPlanHash: 'deadbeefdeadbeef' } } }, 'merge');
    await fx.h.waitFor(namespace, name, 'the wrong hash observed', (l) => l.status?.observedGeneration === l.metadata.generation && condition(l, 'SchemaReady')?.reason === 'AwaitingApproval', GENEROUS_WAIT_MS);
    assert.equal((await fx.h.adminQuery(db, `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)).rows[0]?.n, 0);

    await fx.h.client.patch(`/apis/lokdarpan.io/v1alpha1/namespaces/${namespace}/lokdarpandatabases/${name}`, { spec: { migrations: { approvedPlanHash: hash } } }, 'merge');
    const approved = await fx.h.waitForCondition(namespace, name, 'Ready', 'True');
    assert.equal(approved.status?.schemaVersion, '009_hnsw_dense_graph');
    assert.equal(approved.status?.pendingCount, 0);
    assert.ok((await fx.h.adminQuery(db, `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)).rows[0]!.n > 10);
  });

  it('never writes a password or connection URI into its logs, events or statuses', async () => {
    const seen = await fx.h.assertNoSecretsLeaked();
    assert.ok(seen.events >= 3, `events were checked (${seen.events})`);
    assert.ok(seen.resources >= 2);
  });

});
