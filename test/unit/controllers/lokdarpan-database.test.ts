// The LokdarpanDatabase reconciler with fake engines at the seam: what it decides and reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/clock.ts';
import { OperatorError } from '../../../src/errors.ts';
import { KeyedMutex } from '../../../src/controllers/shared/database-mutex.ts';
import { SharedRuns } from '../../../src/controllers/shared/shared-runs.ts';
import { Semaphore } from '../../../src/runtime/semaphore.ts';
import type { ViewRefreshResult } from '../../../src/engines/views/refresh.ts';
import { reconcileDatabase, REFRESH_REQUEST_ANNOTATION, type DatabaseEngines, type LokdarpanDatabase } from '../../../src/controllers/lokdarpan-database/reconciler.ts';
import type { MigrationEngine, MigrationPlan, MigrationStatus, PreflightReport } from '../../../src/engines/migrations/index.ts';

interface FakeDb {
  applied: string[];
  files: string[];
  refreshes: number;
  validations: number;
  refreshError?: OperatorError;
  p95?: number;
  /** WARNINGs a migration raises when it is applied. */
  warnings?: Record<string, string[]>;
}

function fakeEngines(db: FakeDb): DatabaseEngines {
  const status = (): MigrationStatus => ({
    schemaVersion: db.applied.at(-1) ?? null,
    latest: db.files.at(-1) ?? null,
    pending: db.files.filter((f) => !db.applied.includes(f)).map((name) => ({ name, checksum: `sha-${name}`, transactional: true, steps: 1 })),
    history: db.applied.map((name) => ({ name, checksum: `sha-${name}`, appliedAt: new Date('2026-01-01T00:00:00Z'), durationMs: 5, appliedBy: 'test', transactional: true, kind: 'applied' as const })),
    problems: [],
  });
  const plan = (): MigrationPlan => {
    const pending = status().pending;
    return { direction: 'up', from: db.applied.at(-1) ?? null, target: db.files.at(-1) ?? null, migrations: pending, hash: `hash-${pending.map((p) => p.name).join('+')}` };
  };
  const preflight = (): PreflightReport => ({ serverVersion: '15.18', serverMajor: 15, role: 'app', superuser: false, database: 'db', extensions: [{ name: 'vector', installedVersion: '0.8.0', defaultVersion: '0.8.0', availableVersions: ['0.8.0'], action: 'none' }] });
  const engine: MigrationEngine = {
    preflight: async () => preflight(),
    status: async () => status(),
    plan: async () => plan(),
    inspect: async (options) => {
      options?.onPreflight?.(preflight());
      return { plan: plan(), status: status() };
    },
    up: async () => {
      const pending = status().pending;
      db.applied.push(...pending.map((p) => p.name));
      return { ...status(), direction: 'up', applied: pending.map((p) => ({ name: p.name, checksum: p.checksum, durationMs: 5, transactional: true, rebuiltIndexes: [], ...(db.warnings?.[p.name] ? { warnings: db.warnings[p.name] } : {}) })), planHash: 'x', adopted: [] };
    },
    down: async () => { throw new Error('not used'); },
    repair: async () => ({ updatedChecksums: [], removedMissing: [] }) as never,
    close: async () => {},
  };
  return {
    connector: () => ({ description: 'fake', connect: async () => { throw new Error('no real connections in unit tests'); } }),
    migrations: () => engine,
    refreshViews: async () => {
      db.refreshes++;
      if (db.refreshError) throw db.refreshError;
      return { startedAt: new Date(), durationMs: 7, views: [{ name: 'ward_analytics_summary', rows: 150, durationMs: 4, concurrently: true }] };
    },
    validate: async (_c, validation) => {
      db.validations++;
      const p95Ms = db.p95 ?? 1;
      const thresholdMs = validation.thresholds.wardQueryP95Ms;
      return { startedAt: new Date(), durationMs: 3, passed: p95Ms <= thresholdMs, results: [{ query: 'wardQuery', p95Ms, thresholdMs, usesIndex: true, passed: p95Ms <= thresholdMs, samples: 20 }] };
    },
  };
}

const secrets = { read: async (_ns: string, name: string) => (name === 'db' ? { uri: 'postgres://app:pw@h/db' } : undefined) };

function resource(spec: Record<string, unknown>, extra: Partial<LokdarpanDatabase> = {}): LokdarpanDatabase {
  return { apiVersion: 'lokdarpan.io/v1alpha1', kind: 'LokdarpanDatabase', metadata: { name: 'ldb', namespace: 'ns', generation: 3 }, spec: { connection: { secretName: 'db' }, ...spec }, ...extra };
}

const condition = (status: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> | undefined }, type: string) =>
  status.conditions?.find((c) => c.type === type);

function deps(db: FakeDb, clock = new ManualClock('2026-03-10T10:30:00Z')) {
  return { secrets, engines: fakeEngines(db), mutex: new KeyedMutex(), clock, instance: 'test' };
}

test('a fresh database is migrated, its views refreshed and validated, and it becomes Ready', async () => {
  const db: FakeDb = { applied: [], files: ['001', '002'], refreshes: 0, validations: 0 };
  const outcome = await reconcileDatabase(resource({}), deps(db));
  assert.equal(outcome.error, undefined);
  assert.deepEqual(db.applied, ['001', '002']);
  assert.equal(outcome.status.schemaVersion, '002');
  assert.equal(outcome.status.pendingCount, 0);
  assert.equal(outcome.status.observedGeneration, 3);
  assert.equal(condition(outcome.status, 'Ready')?.status, 'True');
  assert.equal(condition(outcome.status, 'ViewsFresh')?.status, 'True');
  assert.equal(condition(outcome.status, 'PerformanceHealthy')?.status, 'True');
  assert.deepEqual(['Reconciling', 'Stalled'].map((t) => [condition(outcome.status, t)?.status, condition(outcome.status, t)?.reason]), [['False', 'Idle'], ['False', 'Idle']]);
  assert.equal(outcome.status.views?.nextRefreshTime, '2026-03-10T11:00:00.000Z');
  assert.equal(outcome.requeueAfterMs, 30 * 60_000, 'back at the next hourly refresh / half-hourly validation');
  assert.ok(outcome.events.some((e) => e.reason === 'MigrationsApplied' && /001, 002/.test(e.note)));
});

test("a migration's WARNING (008 run by a role that does not own the database) becomes a Warning event naming the migration; none without one", async () => {
  const warning = 'hnsw.ef_search = 300 is set for role migrator in database db only: the role does not own the database, so other roles keep pgvector\'s default (40, lower recall). The owner should run: ALTER DATABASE db SET hnsw.ef_search = 300';
  const db: FakeDb = { applied: [], files: ['007', '008'], refreshes: 0, validations: 0, warnings: { '008': [warning] } };
  const outcome = await reconcileDatabase(resource({}), deps(db));
  assert.equal(outcome.error, undefined);
  const warned = outcome.events.filter((e) => e.type === 'Warning');
  assert.deepEqual(warned.map((e) => [e.reason, e.action, e.note]), [['MigrationWarning', 'Migrate', `008: ${warning}`]]);
  assert.equal(condition(outcome.status, 'SchemaReady')?.status, 'True', 'the schema is at its target all the same');

  const quiet: FakeDb = { applied: [], files: ['007', '008'], refreshes: 0, validations: 0 };
  const clean = await reconcileDatabase(resource({}), deps(quiet));
  assert.deepEqual(clean.events.filter((e) => e.type === 'Warning'), []);
});

test('scheduled work waits for its time; an annotation asks for a refresh now', async () => {
  const db: FakeDb = { applied: [], files: ['001'], refreshes: 0, validations: 0 };
  const clock = new ManualClock('2026-03-10T10:30:00Z');
  const first = await reconcileDatabase(resource({}), deps(db, clock));
  clock.advance(60_000);
  const second = await reconcileDatabase(resource({}, { status: first.status }), deps(db, clock));
  assert.equal(db.refreshes, 1);
  const asked = await reconcileDatabase(resource({}, { status: second.status, metadata: { name: 'ldb', namespace: 'ns', generation: 3, annotations: { [REFRESH_REQUEST_ANNOTATION]: 'now-1' } } }), deps(db, clock));
  assert.equal(db.refreshes, 2);
  assert.equal(asked.status.views?.lastRequest, 'now-1');
  clock.set('2026-03-10T11:00:00Z');
  await reconcileDatabase(resource({}, { status: asked.status }), deps(db, clock));
  assert.equal(db.refreshes, 3);
});

test('with the approval gate nothing is applied until the plan hash is approved', async () => {
  const db: FakeDb = { applied: [], files: ['001', '002'], refreshes: 0, validations: 0 };
  const waiting = await reconcileDatabase(resource({ migrations: { requireApproval: true } }), deps(db));
  assert.deepEqual(db.applied, []);
  assert.equal(condition(waiting.status, 'SchemaReady')?.reason, 'AwaitingApproval');
  assert.equal(condition(waiting.status, 'Ready')?.status, 'False');
  assert.equal(waiting.status.plan?.hash, 'hash-001+002');
  assert.equal(db.refreshes, 0, 'no view refresh before the schema is ready');
  const wrong = await reconcileDatabase(resource({ migrations: { requireApproval: true, approvedPlanHash: 'hash-old' } }), deps(db));
  assert.deepEqual(db.applied, []);
  assert.equal(condition(wrong.status, 'SchemaReady')?.reason, 'AwaitingApproval');
  const approved = await reconcileDatabase(resource({ migrations: { requireApproval: true, approvedPlanHash: 'hash-001+002' } }), deps(db));
  assert.deepEqual(db.applied, ['001', '002']);
  assert.equal(condition(approved.status, 'Ready')?.status, 'True');
});

test('a missing Secret is a retryable error with reason and event, not a crash', async () => {
  const db: FakeDb = { applied: [], files: ['001'], refreshes: 0, validations: 0 };
  const outcome = await reconcileDatabase(resource({ connection: { secretName: 'gone' } }), deps(db));
  assert.equal(outcome.error?.reason, 'SecretNotFound');
  assert.equal(outcome.error?.terminal, false);
  assert.equal(condition(outcome.status, 'Ready')?.reason, 'SecretNotFound');
  assert.equal(condition(outcome.status, 'Stalled')?.status, 'False');
  assert.equal(condition(outcome.status, 'Reconciling')?.status, 'True');
  assert.equal(condition(outcome.status, 'Reconciling')?.reason, 'SecretNotFound', "Reconciling carries the error's reason");
  assert.ok(outcome.events.some((e) => e.type === 'Warning' && e.reason === 'SecretNotFound'));
});

test('an invalid spec stalls with the field named; suspend does nothing', async () => {
  const db: FakeDb = { applied: [], files: ['001'], refreshes: 0, validations: 0 };
  const invalid = await reconcileDatabase(resource({ views: { refreshSchedule: '0 0 * * * *' } }), deps(db));
  assert.equal(condition(invalid.status, 'Stalled')?.status, 'True');
  assert.match(condition(invalid.status, 'Ready')?.message ?? '', /views.refreshSchedule: .*6 fields/);
  const suspended = await reconcileDatabase(resource({ suspend: true }), deps(db));
  assert.equal(condition(suspended.status, 'Ready')?.reason, 'Suspended');
  assert.deepEqual(db.applied, []);
});

test('real work waits for a place in realWork; suspended and invalid-spec reconciles (status only) do not take one', async () => {
  const db: FakeDb = { applied: [], files: ['001'], refreshes: 0, validations: 0 };
  const realWork = new Semaphore(1);
  await realWork.acquire();
  const suspended = await reconcileDatabase(resource({ suspend: true }), { ...deps(db), realWork });
  assert.equal(condition(suspended.status, 'Ready')?.reason, 'Suspended');
  const invalid = await reconcileDatabase(resource({ views: { refreshSchedule: '0 0 * * * *' } }), { ...deps(db), realWork });
  assert.equal(condition(invalid.status, 'Stalled')?.status, 'True');

  let settled = false;
  const real = reconcileDatabase(resource({}), { ...deps(db), realWork }).finally(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, false, 'the real reconcile waits while the only place is held');
  assert.deepEqual(db.applied, []);
  realWork.release();
  assert.equal(condition((await real).status, 'Ready')?.status, 'True');
  assert.deepEqual(db.applied, ['001']);
  let acquired = false;
  void realWork.acquire().then(() => (acquired = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(acquired, true, 'the reconcile gave its place back');
});

test('resources on the same database and credentials share one view refresh; another database refreshes its own', async () => {
  const db: FakeDb = { applied: ['001'], files: ['001'], refreshes: 0, validations: 0 };
  const engines = fakeEngines(db);
  const refreshViews = engines.refreshViews;
  const targets: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  engines.refreshViews = async (connector, signal) => {
    targets.push(connector.description);
    await released;
    return refreshViews(connector, signal);
  };
  engines.connector = (settings) => ({ description: String(settings.connectionString ?? settings.database), connect: async () => { throw new Error('no real connections in unit tests'); } });
  const clock = new ManualClock('2026-03-10T10:30:00Z');
  const shared = { secrets: { read: async (_ns: string, name: string) => ({ uri: name === 'other' ? 'postgres://app:pw@h/other' : 'postgres://app:pw@h/db' }) }, engines, mutex: new KeyedMutex(), clock, instance: 'test', refreshes: new SharedRuns<ViewRefreshResult>(() => clock.now().getTime()) };
  const named = (name: string, secretName: string): LokdarpanDatabase => resource({ connection: { secretName } }, { metadata: { name, namespace: 'ns', generation: 1 } });
  const outcomes = Promise.all([
    reconcileDatabase(named('a', 'db'), shared),
    reconcileDatabase(named('b', 'db'), shared),
    reconcileDatabase(named('c', 'other'), shared),
  ]);
  await new Promise((r) => setImmediate(r));
  release();
  const done = await outcomes;
  assert.equal(db.refreshes, 2, `one refresh per database: ${targets.join(', ')}`);
  for (const outcome of done) {
    assert.equal(condition(outcome.status, 'ViewsFresh')?.status, 'True');
    assert.equal(outcome.status.views?.lastSuccessfulRefreshTime, '2026-03-10T10:30:00.000Z');
  }
  // Later work starts anew: nothing in flight is kept.
  clock.advance(60 * 60_000);
  await reconcileDatabase(named('a', 'db'), shared);
  assert.equal(db.refreshes, 3);
});

test('a failing refresh and a missed threshold are conditions with reasons', async () => {
  const db: FakeDb = { applied: [], files: ['001'], refreshes: 0, validations: 0, refreshError: new OperatorError('ViewMissing', 'materialized view ward_analytics_summary not found'), p95: 250 };
  const outcome = await reconcileDatabase(resource({}), deps(db));
  assert.equal(outcome.error, undefined);
  assert.equal(condition(outcome.status, 'ViewsFresh')?.reason, 'ViewMissing');
  assert.equal(condition(outcome.status, 'Ready')?.status, 'False');
  assert.equal(condition(outcome.status, 'PerformanceHealthy')?.status, 'False');
  assert.match(condition(outcome.status, 'PerformanceHealthy')?.message ?? '', /wardQuery p95 250 ms > 100 ms/);
});

test('the signal reaches every engine call; once aborted no further step runs and its reason is the outcome', async () => {
  const db: FakeDb = { applied: [], files: ['001'], refreshes: 0, validations: 0 };
  const base = fakeEngines(db);
  const seen: Array<[string, AbortSignal | undefined]> = [];
  const abort = new AbortController();
  const engines: DatabaseEngines = {
    connector: (settings, signal) => (seen.push(['connector', signal]), base.connector(settings, signal)),
    migrations: (connector, options) => (seen.push(['migrations', options.signal]), base.migrations(connector, options)),
    refreshViews: async (connector, signal) => {
      seen.push(['refreshViews', signal]);
      // The reconcile times out while the views refresh.
      abort.abort(new OperatorError('ReconcileTimeout', 'reconcile of ns/ldb took longer than 1000 ms'));
      throw new Error('Connection terminated unexpectedly');
    },
    validate: async (connector, validation, signal) => (seen.push(['validate', signal]), base.validate(connector, validation, signal)),
  };
  const outcome = await reconcileDatabase(resource({}), { ...deps(db), engines }, abort.signal);
  assert.deepEqual(seen.map(([what]) => what), ['connector', 'migrations', 'refreshViews'], 'validation never started');
  assert.ok(seen.every(([, signal]) => signal === abort.signal), 'each call got the reconcile signal');
  assert.equal(outcome.error?.reason, 'ReconcileTimeout');
  assert.equal(condition(outcome.status, 'Ready')?.reason, 'ReconcileTimeout');
  assert.equal(condition(outcome.status, 'Stalled')?.status, 'False', 'a timeout is retried, not stalled');
  assert.notEqual(condition(outcome.status, 'ViewsFresh')?.reason, 'ViewRefreshFailed', 'the abort is not reported as a failed refresh');
});
