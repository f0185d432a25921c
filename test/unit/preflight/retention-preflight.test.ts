// A RetentionPolicy's checks around its runs: a failing check turns Ready False between runs, and
// when it passes again Ready goes back to what the last run said (not NotRunYet, not left False).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/clock.ts';
import { OperatorError } from '../../../src/errors.ts';
import { KeyedMutex } from '../../../src/controllers/shared/database-mutex.ts';
import { Preflight } from '../../../src/controllers/shared/preflight.ts';
import { ProbeCache } from '../../../src/controllers/shared/probe-cache.ts';
import { reconcileRetentionPolicy, RUN_REQUEST_ANNOTATION, type RetentionPolicyResource } from '../../../src/controllers/retention-policy/reconciler.ts';
import type { RetentionRunResult } from '../../../src/engines/retention/index.ts';

const database = {
  metadata: { name: 'ldb', namespace: 'ns' },
  spec: { connection: { secretName: 'db' } },
  status: { conditions: [{ type: 'SchemaReady', status: 'True' as const, reason: 'SchemaUpToDate', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
};

test('Ready: RunSucceeded, then False while a rule no longer fits the catalog, then the last run again', async () => {
  const clock = new ManualClock('2026-03-10T03:00:00Z');
  const secrets = { read: async () => ({ uri: 'postgres://app:pw@h/db' }) };
  let tableExists = true;
  const preflight = new Preflight({
    cache: new ProbeCache({ clock }),
    secrets,
    probes: {
      destination: async () => assert.fail('no archive destination'),
      withDatabase: async () => {
        if (!tableExists) throw new OperatorError('RetentionUnknownTable', 'retention rule "old": table public.events does not exist (or is not an ordinary table)', { terminal: true });
        return undefined as never;
      },
      pgDump: async () => assert.fail('retention needs no pg_dump'),
    },
  });
  const result: RetentionRunResult = {
    runId: 'r1', dryRun: false, startedAt: '2026-03-10T03:00:00.000Z', durationMs: 5, status: 'complete', partial: false,
    rules: [{ rule: 'old', table: 'events', action: 'delete', matched: 3, deleted: 3, archived: 0, marked: 0, batches: 1, durationMs: 4, partial: false, objects: [] }],
    totals: { matched: 3, deleted: 3, archived: 0, marked: 0, batches: 1 },
  };
  const deps = {
    databases: { get: async () => database }, secrets, mutex: new KeyedMutex(), clock, preflight,
    engines: { run: async () => result, archiveSink: async () => assert.fail('no archive') },
  };
  const rules = [{ name: 'old', table: 'events', action: 'delete', olderThan: { column: 'created_at', age: '30d' } }];
  const resource = (generation: number, status?: RetentionPolicyResource['status']): RetentionPolicyResource => ({
    apiVersion: 'lokdarpan.io/v1alpha1', kind: 'RetentionPolicy',
    metadata: { name: 'rp', namespace: 'ns', generation, annotations: { [RUN_REQUEST_ANNOTATION]: 'now' } },
    spec: { databaseRef: { name: 'ldb' }, useDefaultRules: false, rules },
    ...(status ? { status } : {}),
  });
  const ready = (s: RetentionPolicyResource['status']) => s?.conditions?.find((c) => c.type === 'Ready');

  const ran = await reconcileRetentionPolicy(resource(1), deps);
  assert.equal(ready(ran.status)?.reason, 'RunSucceeded');
  assert.equal(ran.status.conditions?.find((c) => c.type === 'DatabaseReady')?.status, 'True');

  tableExists = false;
  clock.advance(60_000);
  const broken = await reconcileRetentionPolicy(resource(2, ran.status), deps);
  assert.equal(ready(broken.status)?.status, 'False');
  assert.equal(ready(broken.status)?.reason, 'RetentionUnknownTable');
  assert.match(ready(broken.status)?.message ?? '', /^DatabaseReady: retention rule "old": table public\.events does not exist/);
  assert.equal(broken.status.conditions?.find((c) => c.type === 'Stalled')?.status, 'True');
  assert.ok((broken.requeueAfterMs ?? Infinity) <= 10_000, `rechecked soon, not after ${broken.requeueAfterMs} ms`);
  assert.ok(broken.events.some((e) => e.type === 'Warning' && e.reason === 'RetentionUnknownTable'));

  tableExists = true;
  clock.advance(10_000);
  const fixed = await reconcileRetentionPolicy(resource(2, broken.status), deps);
  assert.equal(ready(fixed.status)?.status, 'True');
  assert.equal(ready(fixed.status)?.reason, 'RunSucceeded');
  assert.match(ready(fixed.status)?.message ?? '', /deleted 3 rows/);
  assert.equal(fixed.status.conditions?.find((c) => c.type === 'Stalled')?.status, 'False');
});
