// The RetentionPolicy controller end to end on the real parts: the operator (child process) migrates a
// LokdarpanDatabase, the test fills its ai_* tables with tens of thousands of generated rows, and a
// RetentionPolicy run on request (annotation lokdarpan.io/run-requested-at) removes exactly the rows its
// rules name (independent SQL counts and fingerprints before and after), archives the reports its
// archive rule names to S3 (the age CLI + zstd give back exactly the deleted rows), reports per-rule
// counts, Ready and an event, and a writer inserting meanwhile never waits on a lock for long (its
// statements run under lock_timeout = 50ms and none fails, however busy the machine is).
// Invalid rules are refused by the API server where the CRD can say so (patterns) and otherwise stall
// the policy with a clear message before any statement runs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { ageBinary, zstdBinary } from '../env/index.ts';
import { condition, describe as describeObj, eventually, startControllersEnv, type ControllersEnv } from './controllers-harness.ts';
import { EXECUTION_INSERT_SQL, fingerprint, seedAiTables, startWriter } from './retention-fixture.ts';
import { GENEROUS_WAIT_MS, SUITE_TIMEOUT_MS } from '../wait.ts';

const BUCKET = 'retention-archive';
const POLICY = 'cleanup';

// The rules under test and the independent SQL that names the same rows.
const EXEC_EXPIRED = `FROM ai_model_execution WHERE created_at < now() - interval '180 days' AND success_status <> 'error'`;
const METRICS_EXPIRED = `FROM ai_system_metrics WHERE created_at < now() - interval '365 days'`;
const REPORTS_EXPIRED = `FROM ai_geopolitical_report t WHERE requested_at < now() - interval '1095 days'`;
// The writer's lock_timeout: no lock held against it for longer than this during a run.
const WRITER_LOCK_TIMEOUT_MS = 50;

describe('RetentionPolicy controller (real apiserver, PostgreSQL, S3, age CLI)', { timeout: SUITE_TIMEOUT_MS }, () => {
  let env: ControllersEnv;
  let client: pg.Client;
  let appConfig: pg.ClientConfig;
  let dbName = '';

  const count = async (sql: string): Promise<number> => Number((await client.query<{ n: string }>(`SELECT count(*) AS n ${sql}`)).rows[0]?.n);
  const policy = (name: string, spec: Record<string, unknown>): object => ({
    apiVersion: 'lokdarpan.io/v1alpha1',
    kind: 'RetentionPolicy',
    metadata: { name, namespace: env.h.namespace },
    spec: { databaseRef: { name: dbName }, schedule: '0 3 * * *', useDefaultRules: false, ...spec },
  });
  const requestRun = async (name: string, value: string): Promise<void> => {
    await env.h.kubectlOk(['annotate', '--overwrite', 'retentionpolicies', name, '-n', env.h.namespace, `lokdarpan.io/run-requested-at=${value}`]);
  };

  before(async () => {
    env = await startControllersEnv({ buckets: { primary: [BUCKET] } });
    await env.startOperator();
    const ready = await env.readyDatabase('aidb');
    dbName = ready.name;
    const db = env.h.databaseOf(env.h.namespace, dbName);
    appConfig = db.appConfig();
    client = new pg.Client(appConfig);
    await client.connect();
    await seedAiTables(client, new Date(), { embeddings: 8000, executions: 30000, reports: 3000, metrics: 10000, posts: 300, edges: false });
  });

  after(async () => {
    await client?.end().catch(() => {});
    await env?.stop();
  });

  it('a requested run deletes and archives exactly the rows its rules name, reports per-rule counts, Ready and an event; a writer is not blocked', async (t) => {
    await env.apply(
      policy(POLICY, {
        batchSize: 500,
        pauseBetweenBatches: '10ms',
        rules: [
          { name: 'executions-180d', table: 'ai_model_execution', olderThan: { column: 'created_at', age: '180d' }, filters: [{ column: 'success_status', op: 'ne', value: 'error' }], action: 'delete' },
          { name: 'metrics-1y', table: 'ai_system_metrics', olderThan: { column: 'created_at', age: '1y' }, action: 'delete' },
          { name: 'reports-3y', table: 'ai_geopolitical_report', olderThan: { column: 'requested_at', age: '3y' }, action: 'archive' },
        ],
        archive: { destination: env.destination('primary', 'archive', BUCKET, 'lokdarpan/'), recipients: [env.key.recipient] },
      }),
    );
    const idle = await env.waitFor('retentionpolicies', POLICY, 'Ready (not run yet)', (p) => condition(p, 'Ready')?.reason === 'NotRunYet');
    assert.ok(idle.status?.['nextRunTime'], describeObj(idle));

    // Independent counts before.
    const before = { exec: await count(EXEC_EXPIRED), metrics: await count(METRICS_EXPIRED), reports: await count(REPORTS_EXPIRED) };
    assert.ok(before.exec > 10_000 && before.metrics > 1_000 && before.reports > 100, JSON.stringify(before));
    const keptBefore = {
      exec: (await client.query(`SELECT count(*)::int n, md5(string_agg(t::text, ',' ORDER BY id)) h FROM ai_model_execution t WHERE NOT (created_at < now() - interval '180 days' AND success_status <> 'error')`)).rows[0],
      metrics: (await client.query(`SELECT count(*)::int n, md5(string_agg(t::text, ',' ORDER BY id)) h FROM ai_system_metrics t WHERE NOT (created_at < now() - interval '365 days')`)).rows[0],
      reports: (await client.query(`SELECT count(*)::int n, md5(string_agg(t::text, ',' ORDER BY id)) h FROM ai_geopolitical_report t WHERE NOT (requested_at < now() - interval '1095 days')`)).rows[0],
    };
    const otherTables = await fingerprint(client);
    const expectedDocs = (await client.query<{ doc: string }>(`SELECT to_jsonb(t)::text AS doc ${REPORTS_EXPIRED} ORDER BY id`)).rows.map((r) => r.doc);

    const writer = startWriter(appConfig, EXECUTION_INSERT_SQL, { lockTimeoutMs: WRITER_LOCK_TIMEOUT_MS });
    await eventually('the writer to be writing', async () => writer.inserts() + writer.errors() >= 10);
    const insertsBefore = writer.inserts();
    await requestRun(POLICY, 'run-1');
    const done = await env.waitFor('retentionpolicies', POLICY, 'the requested run', (p) => p.status?.['lastRequest'] === 'run-1');
    const insertsDuring = writer.inserts() - insertsBefore;
    const stats = await writer.stop();

    const last = done.status?.['lastRun'];
    assert.equal(condition(done, 'Ready')?.status, 'True', describeObj(done));
    assert.equal(condition(done, 'Ready')?.reason, 'RunSucceeded');
    assert.equal(last?.partial, false);
    assert.equal(last?.dryRun, false);
    const rule = (name: string): { matched: number; deleted: number; archived: number; marked: number } => last?.rules?.find((r: { name: string }) => r.name === name);
    assert.deepEqual([rule('executions-180d').deleted, rule('executions-180d').matched], [before.exec, before.exec]);
    assert.equal(rule('metrics-1y').deleted, before.metrics);
    assert.equal(rule('reports-3y').archived, before.reports);
    assert.equal(last?.deleted, before.exec + before.metrics + rule('reports-3y').deleted);
    assert.equal(last?.archived, before.reports);

    // Independent counts after: nothing the rules name is left, everything else is as it was.
    assert.deepEqual({ exec: await count(EXEC_EXPIRED), metrics: await count(METRICS_EXPIRED), reports: await count(REPORTS_EXPIRED) }, { exec: 0, metrics: 0, reports: 0 });
    const keptAfter = {
      exec: (await client.query(`SELECT count(*)::int n, md5(string_agg(t::text, ',' ORDER BY id)) h FROM ai_model_execution t WHERE request_id NOT LIKE 'w%'`)).rows[0],
      metrics: (await client.query(`SELECT count(*)::int n, md5(string_agg(t::text, ',' ORDER BY id)) h FROM ai_system_metrics t`)).rows[0],
      reports: (await client.query(`SELECT count(*)::int n, md5(string_agg(t::text, ',' ORDER BY id)) h FROM ai_geopolitical_report t`)).rows[0],
    };
    assert.deepEqual(keptAfter, keptBefore);
    const after = await fingerprint(client);
    for (const table of ['ai_embedding_store', 'ai_budget_tracker', 'post', 'user']) assert.deepEqual(after[table], otherTables[table], table);
    assert.equal(await count(`FROM ai_model_execution WHERE request_id LIKE 'w%'`), stats.inserts, 'every insert of the writer landed');

    const events = await env.events(POLICY);
    const event = events.find((e) => e.reason === 'RunSucceeded');
    assert.ok(event, events.map((e) => e.reason).join(', '));
    assert.match(event.message, new RegExp(`deleted ${last?.deleted} rows, archived ${before.reports}`));

    // The archive: age CLI + zstd give back exactly the archived rows.
    const keyFile = join(env.h.kube.dir, 'retention-key.txt');
    writeFileSync(keyFile, `${env.key.identity}\n`, { mode: 0o600 });
    const keys = await env.keys('primary', BUCKET, 'lokdarpan/');
    assert.deepEqual(keys.filter((k) => k.includes('/_pending/')), [], 'no batch left in flight');
    const dataKeys = keys.filter((k) => k.endsWith('.ndjson.zst.age'));
    assert.ok(dataKeys.length >= 1, keys.join(', '));
    const archived: string[] = [];
    for (const key of dataKeys) {
      assert.ok(key.startsWith(`lokdarpan/retention/${env.h.namespace}/${POLICY}/public.ai_geopolitical_report/reports-3y/`), key);
      const body = await env.getObject('primary', BUCKET, key);
      const decrypted = spawnSync(ageBinary(), ['-d', '-i', keyFile], { input: body, maxBuffer: 256 << 20 });
      assert.equal(decrypted.status, 0, decrypted.stderr?.toString());
      const plain = spawnSync(zstdBinary(), ['-dc'], { input: decrypted.stdout, maxBuffer: 256 << 20 });
      assert.equal(plain.status, 0, plain.stderr?.toString());
      archived.push(...plain.stdout.toString('utf8').trimEnd().split('\n'));
    }
    assert.equal(archived.length, expectedDocs.length);
    assert.deepEqual(archived.map((d) => JSON.stringify(JSON.parse(d))).sort(), expectedDocs.map((d) => JSON.stringify(JSON.parse(d))).sort());

    t.diagnostic(
      `run ${last?.durationMs} ms; writer ${stats.inserts} inserts (${insertsDuring} from request to result), ` +
        `p50 ${stats.p50Ms.toFixed(1)} ms, p99 ${stats.p99Ms.toFixed(1)} ms, max ${stats.maxMs.toFixed(1)} ms (not asserted: load-dependent)`,
    );
    assert.ok(insertsDuring > 50, `the writer ran during the run (${insertsDuring} inserts from request to result)`);
    // No statement of the writer waited for a lock longer than its lock_timeout.
    assert.equal(stats.lockTimeout, `${WRITER_LOCK_TIMEOUT_MS}ms`);
    assert.deepEqual(stats.errors, []);
  });

  it('rules the CRD can judge (injection in a name, bad durations, bad rule names) are refused by the API server', async () => {
    const bad: Array<[string, Record<string, unknown>, RegExp]> = [
      ['table injection', { name: 'x', table: 'post; DROP TABLE post; --', olderThan: { column: 'created_at', age: '1d' }, action: 'delete' }, /spec\.rules\[0\]\.table/],
      ['column injection', { name: 'x', table: 'post', olderThan: { column: 'created_at" OR 1=1 --', age: '1d' }, action: 'delete' }, /spec\.rules\[0\]\.olderThan\.column/],
      ['filter column injection', { name: 'x', table: 'post', olderThan: { column: 'created_at', age: '1d' }, filters: [{ column: '1=1)--', op: 'eq', value: 1 }], action: 'delete' }, /spec\.rules\[0\]\.filters\[0\]\.column/],
      ['bad duration', { name: 'x', table: 'post', olderThan: { column: 'created_at', age: '90 days' }, action: 'delete' }, /spec\.rules\[0\]\.olderThan\.age/],
      ['bad rule name', { name: 'Robert"); DROP', table: 'post', olderThan: { column: 'created_at', age: '1d' }, action: 'delete' }, /spec\.rules\[0\]\.name/],
    ];
    for (const [what, rule, where] of bad) {
      const stderr = await env.applyRefused(policy('refused', { rules: [rule] }));
      assert.match(stderr, where, `${what}: ${stderr}`);
      assert.match(stderr, /should match|pattern/i, `${what}: ${stderr}`);
    }
    assert.equal(await env.get('retentionpolicies', 'refused'), undefined);
    // A bad operator-level duration too.
    const stderr = await env.applyRefused(policy('refused', { budget: 'ten minutes', rules: [] }));
    assert.match(stderr, /spec\.budget/);
  });

  it('unknown tables and columns stall the policy with a clear message; nothing runs (not even the valid rules before them)', async () => {
    const everything = await fingerprint(client);
    const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
      ['no-table', { name: 'ghost', table: 'no_such_table', olderThan: { column: 'created_at', age: '1d' }, action: 'delete' }, 'RetentionUnknownTable', /table public\.no_such_table does not exist/],
      ['no-column', { name: 'ghost', table: 'ai_embedding_store', olderThan: { column: 'no_such_column', age: '1d' }, action: 'delete' }, 'RetentionUnknownColumn', /has no column "no_such_column"/],
    ];
    for (const [name, ghost, reason, message] of cases) {
      // A valid rule that would delete every metric older than an hour comes first.
      await env.apply(policy(name, { rules: [{ name: 'all-metrics', table: 'ai_system_metrics', olderThan: { column: 'created_at', age: '1h' }, action: 'delete' }, ghost] }));
      await requestRun(name, 'now');
      const stalled = await env.waitFor('retentionpolicies', name, 'Stalled', (p) => condition(p, 'Stalled')?.status === 'True', GENEROUS_WAIT_MS);
      assert.equal(condition(stalled, 'Stalled')?.reason, reason, describeObj(stalled));
      assert.match(condition(stalled, 'Stalled')?.message ?? '', message);
      assert.match(condition(stalled, 'Stalled')?.message ?? '', /retention rule "ghost"/);
      assert.equal(condition(stalled, 'Ready')?.status, 'False');
      assert.equal(stalled.status?.['lastRun'], undefined, 'no run recorded');
      const events = await env.events(name);
      assert.ok(events.some((e) => e.type === 'Warning' && e.reason === reason), events.map((e) => e.reason).join(', '));
    }
    assert.deepEqual(await fingerprint(client), everything, 'nothing deleted');
  });

  it('no secret appears in logs, events or statuses', async () => {
    await env.assertNoSecretsLeaked();
  });
});

