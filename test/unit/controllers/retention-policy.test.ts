// The RetentionPolicy reconciler with a fake engine at the seam: scheduling, reporting, refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/clock.ts';
import { OperatorError } from '../../../src/errors.ts';
import { KeyedMutex } from '../../../src/controllers/shared/database-mutex.ts';
import { CACHE_LAG_RECHECK_MS, effectiveRules, reconcileRetentionPolicy, RUN_REQUEST_ANNOTATION, type RetentionEngines, type RetentionPolicyResource } from '../../../src/controllers/retention-policy/reconciler.ts';
import { retentionPolicySpecSchema } from '../../../src/api/retention-policy.ts';
import type { RetentionRule, RetentionRunResult } from '../../../src/engines/retention/index.ts';

const readyDatabase = {
  metadata: { name: 'ldb', namespace: 'ns' },
  spec: { connection: { secretName: 'db' } },
  status: { schemaVersion: '005', conditions: [{ type: 'SchemaReady', status: 'True' as const, reason: 'SchemaUpToDate', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
};

function setup(options: { fail?: OperatorError; database?: typeof readyDatabase | undefined } = {}) {
  const runs: Array<{ rules: readonly RetentionRule[]; dryRun: boolean }> = [];
  const engines: RetentionEngines = {
    async run(_settings, rules, { dryRun }) {
      runs.push({ rules, dryRun });
      if (options.fail) throw options.fail;
      const result: RetentionRunResult = {
        runId: 'r1', dryRun, startedAt: '2026-03-10T03:30:00.000Z', durationMs: 42, status: 'complete', partial: false,
        rules: [{ rule: 'model-executions-180d', table: 'ai_model_execution', action: 'delete', matched: 12, deleted: 12, archived: 0, marked: 0, batches: 1, durationMs: 40, partial: false, objects: [] }],
        totals: { matched: 12, deleted: 12, archived: 0, marked: 0, batches: 1 },
      };
      return result;
    },
    archiveSink: async () => { throw new Error('no archive in this test'); },
  };
  const clock = new ManualClock('2026-03-10T01:00:00Z');
  const deps = {
    databases: { get: async () => ('database' in options ? options.database : readyDatabase) },
    secrets: { read: async () => ({ uri: 'postgres://app:pw@h/db' }) },
    engines, mutex: new KeyedMutex(), clock,
  };
  return { runs, deps, clock };
}

const policy = (spec: Record<string, unknown> = {}, extra: Partial<RetentionPolicyResource> = {}): RetentionPolicyResource => ({
  apiVersion: 'lokdarpan.io/v1alpha1', kind: 'RetentionPolicy',
  metadata: { name: 'rp', namespace: 'ns', generation: 1, ...(extra.metadata ?? {}) },
  spec: { databaseRef: { name: 'ldb' }, ...spec },
  ...(extra.status ? { status: extra.status } : {}),
});

const cond = (s: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> | undefined }, type: string) => s.conditions?.find((c) => c.type === type);

test('a new policy waits for its first scheduled slot, then runs once it has come', async () => {
  const { runs, deps, clock } = setup();
  const first = await reconcileRetentionPolicy(policy(), deps);
  assert.equal(runs.length, 0);
  assert.equal(first.status.nextRunTime, '2026-03-10T03:30:00.000Z', 'default schedule 30 3 * * * UTC');
  assert.equal(cond(first.status, 'Ready')?.reason, 'NotRunYet');
  assert.equal(first.requeueAfterMs, 2.5 * 3_600_000);
  clock.set('2026-03-10T03:30:00Z');
  const second = await reconcileRetentionPolicy(policy({}, { status: first.status }), deps);
  assert.equal(runs.length, 1);
  assert.equal(second.status.lastRun?.deleted, 12);
  assert.equal(second.status.lastRun?.rules?.[0]?.table, 'ai_model_execution');
  assert.equal(second.status.nextRunTime, '2026-03-11T03:30:00.000Z');
  assert.equal(cond(second.status, 'Ready')?.reason, 'RunSucceeded');
  assert.ok(second.events.some((e) => e.type === 'Normal' && /deleted 12 rows/.test(e.note)));
});

test('the run-now annotation runs at once, and only once per value', async () => {
  const { runs, deps } = setup();
  const asked = policy({ dryRun: true }, { metadata: { name: 'rp', namespace: 'ns', generation: 1, annotations: { [RUN_REQUEST_ANNOTATION]: 't1' } } });
  const first = await reconcileRetentionPolicy(asked, deps);
  assert.equal(runs.length, 1);
  assert.equal(runs[0]?.dryRun, true);
  await reconcileRetentionPolicy({ ...asked, status: first.status }, deps);
  assert.equal(runs.length, 1);
});

test('a run starts only from the current object: a cached copy older than the last status write runs nothing', async () => {
  // The informer still holds the copy from before this process recorded the requested run (the watch event
  // of its own write not yet in): running from it would run the request a second time.
  const { runs, deps } = setup();
  const annotations = { [RUN_REQUEST_ANNOTATION]: 't1' };
  const cached = policy({}, { metadata: { name: 'rp', namespace: 'ns', generation: 1, resourceVersion: '41', annotations } });
  const recorded = await reconcileRetentionPolicy(cached, deps);
  assert.equal(runs.length, 1);
  const current = { ...cached, metadata: { ...cached.metadata, resourceVersion: '42' }, status: recorded.status };
  const lagging = await reconcileRetentionPolicy(cached, { ...deps, fresh: async () => current });
  assert.equal(runs.length, 1, 'not run again from the lagging copy');
  assert.deepEqual(lagging.status, {}, 'the cached status as it was: nothing decided from it');
  assert.deepEqual(lagging.events, []);
  assert.equal(lagging.requeueAfterMs, CACHE_LAG_RECHECK_MS, 'looked at again once the cache has caught up');
  // The caught-up copy says the request has run.
  await reconcileRetentionPolicy(current, { ...deps, fresh: async () => current });
  assert.equal(runs.length, 1);
  // A new request on a current copy runs.
  const asked = { ...current, metadata: { ...current.metadata, resourceVersion: '43', annotations: { [RUN_REQUEST_ANNOTATION]: 't2' } } };
  await reconcileRetentionPolicy(asked, { ...deps, fresh: async () => asked });
  assert.equal(runs.length, 2);
});

test('rules the engine refuses stall the policy; an unready database is retried', async () => {
  const refused = setup({ fail: new OperatorError('RetentionUnknownColumn', 'table ai_model_execution has no column "nope"', { terminal: true }) });
  const asked = policy({}, { metadata: { name: 'rp', namespace: 'ns', generation: 1, annotations: { [RUN_REQUEST_ANNOTATION]: 't1' } } });
  const stalled = await reconcileRetentionPolicy(asked, refused.deps);
  // Terminal: carried to the controller, which counts it and does not retry (it looks again while Stalled).
  assert.equal(stalled.error?.reason, 'RetentionUnknownColumn');
  assert.equal(stalled.error?.terminal, true);
  assert.equal(cond(stalled.status, 'Stalled')?.status, 'True');
  assert.equal(cond(stalled.status, 'Reconciling')?.status, 'False');
  assert.match(cond(stalled.status, 'Ready')?.message ?? '', /no column "nope"/);
  const missing = setup({ database: undefined });
  const retried = await reconcileRetentionPolicy(asked, missing.deps);
  assert.equal(retried.error?.reason, 'DatabaseNotFound');
  assert.equal(missing.runs.length, 0);
});

test('spec rules replace default rules of the same name; defaults can be turned off', () => {
  const own = { name: 'model-executions-180d', table: 'ai_model_execution', olderThan: { column: 'created_at', age: '30d' }, action: 'delete' };
  const rules = effectiveRules(retentionPolicySpecSchema.parse({ databaseRef: { name: 'x' }, rules: [own] }));
  assert.equal(rules.filter((r) => r.name === 'model-executions-180d').length, 1);
  assert.equal(rules.find((r) => r.name === 'model-executions-180d')?.olderThan?.age, '30d');
  assert.ok(rules.length > 1);
  assert.equal(effectiveRules(retentionPolicySpecSchema.parse({ databaseRef: { name: 'x' }, rules: [own], useDefaultRules: false })).length, 1);
});

test('the run gets the reconcile signal; an aborted run reports the abort reason, retried and not stalled', async () => {
  const abort = new AbortController();
  let received: AbortSignal | undefined;
  const { deps } = setup();
  deps.engines = {
    ...deps.engines,
    async run(_settings, _rules, options) {
      received = options.signal;
      abort.abort(new OperatorError('LeaderElectionLost', 'this replica lost the leader Lease', { terminal: true }));
      throw new Error('Connection terminated unexpectedly');
    },
  };
  const outcome = await reconcileRetentionPolicy(policy({}, { metadata: { name: 'rp', namespace: 'ns', generation: 1, annotations: { [RUN_REQUEST_ANNOTATION]: 'now' } } }), deps, abort.signal);
  assert.equal(received, abort.signal);
  assert.equal(outcome.error?.reason, 'LeaderElectionLost');
  assert.equal(cond(outcome.status, 'Stalled')?.status, 'False', 'losing leadership does not stall the policy');
  assert.equal(outcome.status.lastRun, undefined, 'no run recorded');
});
