// The LokdarpanDatabase operator end to end: a real kube-apiserver (RBAC on) with the generated CRDs
// (`kubectl apply -f crds/`), PostgreSQL with pgvector, and the operator itself running as a CHILD
// PROCESS (`node src/cli/main.ts operator`) under the ServiceAccount bound to manifests/base/rbac.yaml.
// Each operator's stdout/stderr goes to a file, so a test can read its logs and, at the end, grep
// everything the operator wrote (logs, events, statuses) for the database password.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import {
  freePort,
  repoRoot,
  startKube,
  startPostgres,
  startProcess,
  type KubeEnv,
  type KubectlResult,
  type ManagedProcess,
  type PostgresServer,
  type TestDatabase,
} from '../env/index.ts';
import { KubeClient } from '../../src/runtime/kube.ts';
import { eventually, GENEROUS_WAIT_MS } from '../wait.ts';
import { generateLokdarpanData, type Counts } from '../../src/engines/datagen/index.ts';

export const OPERATOR_NAMESPACE = 'lokdarpan-system';
export const OPERATOR_SERVICE_ACCOUNT = 'lokdarpan-operator';
export const LDB_PATH = '/apis/lokdarpan.io/v1alpha1';

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export interface Ldb {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; generation: number; annotations?: Record<string, string>; resourceVersion?: string };
  spec: Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    conditions?: Condition[];
    schemaVersion?: string;
    pendingCount?: number;
    pendingMigrations?: string[];
    plan?: { hash: string; steps: { name: string }[] };
    appliedMigrations?: { name: string; checksum: string; appliedAt: string; durationMs: number }[];
    server?: { version?: string; pgvectorVersion?: string };
    views?: { lastRefreshTime?: string; lastSuccessfulRefreshTime?: string; lastDurationMs?: number; nextRefreshTime?: string; lastError?: string; lastRequest?: string };
    validation?: { lastRunTime?: string; nextRunTime?: string; lastRequest?: string; results?: { query: string; p95Ms: number; thresholdMs: number; passed: boolean; usesIndex?: boolean }[] };
  };
}

/** One `node src/cli/main.ts operator` child process. */
export interface OperatorProcess {
  readonly name: string;
  readonly logFile: string;
  readonly metricsPort: number;
  readonly process: ManagedProcess;
  /** The whole log so far. */
  log(): string;
  /** The JSON log lines (pino) so far; non-JSON lines are skipped. */
  lines(): Record<string, unknown>[];
  /** Waits until a log line matches (searching from `fromLine`), returns its index. */
  waitForLog(what: RegExp, timeoutMs?: number, fromLine?: number): Promise<number>;
  /** GET http://127.0.0.1:<metricsPort><path> (e.g. /metrics, /readyz). */
  http(path: string): Promise<{ status: number; body: string }>;
  /** SIGTERM then SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
}

export interface StartOperatorOptions {
  /** Log file and POD_NAME suffix (default operator-<n>). */
  name?: string;
  /** Extra environment (LOKDARPAN_LEADER_ELECTION, POD_NAME, ...). */
  env?: Record<string, string>;
  /** Kubeconfig to run under (default: the ServiceAccount's). */
  kubeconfig?: string;
  /** Wait until /readyz answers 200 (default true; false with leader election is fine too). */
  waitReady?: boolean;
  /** The CLI entry to run, relative to the repository (default src/cli/main.ts; dist/cli/main.js: the bundle). */
  entry?: string;
  /** The entry's arguments (default ['operator']). */
  args?: string[];
}

export interface DatabaseOptions {
  /** LokdarpanDatabase name (default: a random one). */
  name?: string;
  namespace?: string;
  /** Extra spec fields merged over `{connection: {secretName}}`. */
  spec?: Record<string, unknown>;
  /** Reuse this database instead of creating one. */
  database?: TestDatabase;
  /** Create the LokdarpanDatabase without its Secret. */
  withoutSecret?: boolean;
}

export interface AppliedDatabase {
  name: string;
  namespace: string;
  secretName: string;
  db: TestDatabase;
}

export interface OperatorHarness {
  readonly kube: KubeEnv;
  readonly pg: PostgresServer;
  /** Admin client for reading resources. */
  readonly client: KubeClient;
  readonly serviceAccountKubeconfig: string;
  readonly operators: OperatorProcess[];
  /** Namespace the test resources live in (created at start). */
  readonly namespace: string;
  kubectl(args: string[], opts?: { input?: string; kubeconfig?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** kubectl that must succeed; returns stdout. */
  kubectlOk(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
  startOperator(opts?: StartOperatorOptions): Promise<OperatorProcess>;
  /** A fresh database (with the vector extension) owned by a non-superuser role; its password is tracked as a secret. */
  createDatabase(): Promise<TestDatabase>;
  /** `kubectl apply` of the Secret (uri = the app role URL) and the LokdarpanDatabase. */
  applyDatabase(opts?: DatabaseOptions): Promise<AppliedDatabase>;
  applySecret(namespace: string, secretName: string, db: TestDatabase): Promise<void>;
  /** The database behind a LokdarpanDatabase applied with applyDatabase(). */
  databaseOf(namespace: string, name: string): TestDatabase;
  get(namespace: string, name: string): Promise<Ldb>;
  /**
   * Polls `read` until what it returns (undefined: not there yet) satisfies `predicate`; fails with
   * `show` of the last one read and the operators' log tails.
   */
  waitForObject<T extends object>(what: string, read: () => Promise<T | undefined>, predicate: (o: T) => boolean, show: (last: T | undefined) => string, timeoutMs?: number): Promise<T>;
  /** Polls until `predicate` holds for the resource; fails with its last status. */
  waitFor(namespace: string, name: string, what: string, predicate: (ldb: Ldb) => boolean, timeoutMs?: number): Promise<Ldb>;
  waitForCondition(namespace: string, name: string, type: string, status: string, opts?: { reason?: string; timeoutMs?: number }): Promise<Ldb>;
  /** Merge-patches metadata.annotations. */
  annotate(namespace: string, name: string, annotations: Record<string, string>): Promise<void>;
  /** Events (core/v1 view) about one object. */
  events(namespace: string, name?: string): Promise<KubeEventView[]>;
  /** Fills a migrated database with synthetic posts (and embeddings) as its owner role, then ANALYZEs. */
  seed(db: TestDatabase, opts?: { posts?: number; embeddings?: number }): Promise<Counts>;
  /** A client connected as the superuser to `db`. */
  adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(db: TestDatabase, sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Fails if any tracked secret appears in any operator log, any Event, or any LokdarpanDatabase. */
  assertNoSecretsLeaked(): Promise<{ logBytes: number; events: number; resources: number; secrets: number }>;
  stop(): Promise<void>;
}

export interface KubeEventView {
  type: string;
  reason: string;
  message: string;
  involvedObject: { name: string; namespace: string; kind: string };
  reportingComponent?: string;
}

export function condition(ldb: Ldb, type: string): Condition | undefined {
  return ldb.status?.conditions?.find((c) => c.type === type);
}

export function describeLdb(ldb: Ldb | undefined): string {
  if (!ldb) return '(not found)';
  const conds = (ldb.status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}: ${c.message}`).join('\n  ');
  return `${ldb.metadata.namespace}/${ldb.metadata.name} gen ${ldb.metadata.generation} observed ${ldb.status?.observedGeneration} schema ${ldb.status?.schemaVersion}\n  ${conds}`;
}

export { eventually, GENEROUS_WAIT_MS, sleep } from '../wait.ts';

/**
 * How a test reads one operator, a child process or a container alike: its log file, the JSON lines in it,
 * its metrics port, and the waits for a log line and for /readyz (which fail at once when it exits).
 */
export function operatorReader(name: string, logFile: string, metricsPort: number, proc: ManagedProcess) {
  const running = (): boolean => proc.child.exitCode === null && proc.child.signalCode === null;
  const log = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const lines = (): Record<string, unknown>[] =>
    log()
      .split('\n')
      .flatMap((l) => {
        if (!l.startsWith('{')) return [];
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  const http = async (path: string): Promise<{ status: number; body: string }> => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}${path}`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.text() };
  };
  const exitedError = (): Error => new Error(`${name} exited with ${proc.child.exitCode ?? proc.child.signalCode}:\n${proc.tail(30)}`);
  const tail = (): string => `${name} log tail:\n${proc.tail(30)}`;
  return {
    running,
    log,
    lines,
    http,
    waitForLog(what: RegExp, timeoutMs = GENEROUS_WAIT_MS, fromLine = 0): Promise<number> {
      return eventually(
        `log line ${what} from ${name}`,
        async () => {
          const all = log().split('\n');
          for (let i = fromLine; i < all.length; i++) if (what.test(all[i] ?? '')) return i;
          if (!running()) throw exitedError();
          return undefined;
        },
        timeoutMs,
        tail,
      );
    },
    /**
     * Until /readyz answers 200. No requirement: the Deployment's readinessProbe has no startup deadline
     * (only /healthz has a liveness limit), so this only has to be long enough for a slow start.
     */
    async waitReady(): Promise<void> {
      await eventually(
        `${name} /readyz`,
        async () => {
          if (!running()) throw exitedError();
          return (await http('/readyz')).status === 200;
        },
        GENEROUS_WAIT_MS,
        tail,
      );
    },
  };
}

let counter = 0;
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * Starts kube-apiserver (no kube-controller-manager) with the CRDs applied by `kubectl apply -f crds/`, and
 * PostgreSQL; creates the operator's namespace and ServiceAccount, applies manifests/base/rbac.yaml, and a
 * namespace for the test resources. Operators are started with `startOperator()`.
 */
export async function startOperatorHarness(options: { namespace?: string; rbacFile?: string } = {}): Promise<OperatorHarness> {
  const [kube, pgServer] = await Promise.all([startKube({ kcm: false, crds: ['crds/'] }), startPostgres()]);
  const namespace = options.namespace ?? 'lokdarpan';
  const secrets = new Set<string>([pgServer.superuser.password]);
  const operators: OperatorProcess[] = [];
  const databases: TestDatabase[] = [];
  const applied = new Map<string, TestDatabase>();
  const client = new KubeClient(kube.kubeConfig());

  const kubectl: OperatorHarness['kubectl'] = (args, opts = {}) => kube.kubectl(args, opts);
  const kubectlOk: OperatorHarness['kubectlOk'] = async (args, opts = {}) => {
    const result = await kube.kubectl(args, opts);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
    return result.stdout;
  };

  try {
    await kubectlOk(['create', 'namespace', OPERATOR_NAMESPACE]);
    await kubectlOk(['create', 'serviceaccount', OPERATOR_SERVICE_ACCOUNT, '-n', OPERATOR_NAMESPACE]);
    await kubectlOk(['apply', '-f', options.rbacFile ?? join(repoRoot, 'manifests/base/rbac.yaml')]);
    await kubectlOk(['create', 'namespace', namespace]);
  } catch (error) {
    await Promise.all([kube.stop(), pgServer.stop()]);
    throw error;
  }
  const serviceAccountKubeconfig = await kube.serviceAccountKubeconfig(OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT);

  const get = (ns: string, name: string): Promise<Ldb> => client.get<Ldb>(`${LDB_PATH}/namespaces/${ns}/lokdarpandatabases/${name}`);

  const harness: OperatorHarness = {
    kube,
    pg: pgServer,
    client,
    serviceAccountKubeconfig,
    operators,
    namespace,
    kubectl,
    kubectlOk,

    async startOperator(opts = {}) {
      const name = opts.name ?? `operator-${operators.length + 1}`;
      const metricsPort = await freePort();
      const logFile = join(kube.dir, 'logs', `${name}.log`);
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        KUBECONFIG: opts.kubeconfig ?? serviceAccountKubeconfig,
        LOKDARPAN_METRICS_PORT: String(metricsPort),
        LOKDARPAN_METRICS_HOST: '127.0.0.1',
        LOG_LEVEL: 'debug',
        POD_NAME: name,
        POD_NAMESPACE: OPERATOR_NAMESPACE,
        LOKDARPAN_SHUTDOWN_GRACE_SECONDS: '5',
        ...opts.env,
      };
      // The test runner's own variables would make a child `node` think it is a test file.
      delete env['NODE_TEST_CONTEXT'];
      const proc = startProcess(name, process.execPath, [opts.entry ?? 'src/cli/main.ts', ...(opts.args ?? ['operator'])], logFile, { cwd: repoRoot, env });
      const reader = operatorReader(name, logFile, metricsPort, proc);
      const operator: OperatorProcess = {
        name,
        logFile,
        metricsPort,
        process: proc,
        ...reader,
        stop: (graceMs = 10_000) => proc.stop(graceMs),
        async kill() {
          if (reader.running()) proc.child.kill('SIGKILL');
          await proc.exited;
        },
      };
      operators.push(operator);
      if (opts.waitReady ?? true) await reader.waitReady();
      return operator;
    },

    async createDatabase() {
      const db = await pgServer.createDatabase({ withVector: true });
      databases.push(db);
      secrets.add(db.appPassword);
      secrets.add(db.appUrl);
      secrets.add(db.url);
      return db;
    },

    async applySecret(ns, secretName, db) {
      const manifest = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: secretName, namespace: ns },
        type: 'Opaque',
        stringData: { uri: db.appUrl },
      };
      await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    },

    async applyDatabase(opts = {}) {
      const ns = opts.namespace ?? namespace;
      const name = opts.name ?? uniqueName('ldb');
      const secretName = `${name}-db`;
      const db = opts.database ?? (await harness.createDatabase());
      if (!opts.withoutSecret) await harness.applySecret(ns, secretName, db);
      const spec = { ...opts.spec, connection: { secretName, ...(opts.spec?.['connection'] as object | undefined) } };
      const manifest = { apiVersion: 'lokdarpan.io/v1alpha1', kind: 'LokdarpanDatabase', metadata: { name, namespace: ns }, spec };
      await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
      applied.set(`${ns}/${name}`, db);
      return { name, namespace: ns, secretName, db };
    },

    databaseOf(ns, name) {
      const db = applied.get(`${ns}/${name}`);
      if (!db) throw new Error(`no database was applied for ${ns}/${name}`);
      return db;
    },

    get,

    async waitForObject(what, read, predicate, show, timeoutMs = GENEROUS_WAIT_MS) {
      let last: Awaited<ReturnType<typeof read>>;
      return eventually(
        what,
        async () => {
          last = await read();
          return last !== undefined && predicate(last) ? last : undefined;
        },
        timeoutMs,
        () => `last seen: ${show(last)}\noperator log tail:\n${operators.map((o) => `[${o.name}]\n${o.process.tail(20)}`).join('\n')}`,
      );
    },

    waitFor(ns, name, what, predicate, timeoutMs) {
      return harness.waitForObject(`${ns}/${name}: ${what}`, () => get(ns, name), predicate, describeLdb, timeoutMs);
    },

    waitForCondition(ns, name, type, status, opts = {}) {
      const want = `${type}=${status}${opts.reason ? ` (${opts.reason})` : ''}`;
      return harness.waitFor(
        ns,
        name,
        want,
        (ldb) => {
          const c = condition(ldb, type);
          return c?.status === status && (opts.reason === undefined || c.reason === opts.reason);
        },
        opts.timeoutMs,
      );
    },

    async annotate(ns, name, annotations) {
      await client.patch(`${LDB_PATH}/namespaces/${ns}/lokdarpandatabases/${name}`, { metadata: { annotations } }, 'merge');
    },

    async events(ns, name) {
      const out = await kubectlOk(['get', 'events', '-n', ns, '-o', 'json']);
      const items = (JSON.parse(out) as { items: KubeEventView[] }).items;
      return name === undefined ? items : items.filter((e) => e.involvedObject?.name === name);
    },

    async seed(db, opts = {}) {
      const c = new pg.Client(db.appConfig());
      await c.connect();
      try {
        const counts = await generateLokdarpanData(c, {
          seed: 'operator-tests',
          posts: opts.posts ?? 2_000,
          embeddings: opts.embeddings ?? 0,
          modelExecutions: 50,
          reports: 5,
          metrics: 50,
          users: 5,
          years: 1,
        });
        await c.query('ANALYZE');
        return counts;
      } finally {
        await c.end();
      }
    },

    async adminQuery(db, sql, params) {
      const c = new pg.Client(db.adminConfig());
      await c.connect();
      try {
        return await c.query(sql, params);
      } finally {
        await c.end();
      }
    },

    async assertNoSecretsLeaked() {
      const logs = await Promise.all(operators.map((o) => readFile(o.logFile, 'utf8').catch(() => '')));
      const events = await kubectlOk(['get', 'events', '-A', '-o', 'json']);
      const eventsV1 = await kubectlOk(['get', 'events.v1.events.k8s.io', '-A', '-o', 'json']);
      const resources = await kubectlOk(['get', 'lokdarpandatabases', '-A', '-o', 'json']);
      const haystacks: [string, string][] = [
        ...logs.map((l, i): [string, string] => [`log of ${operators[i]?.name}`, l]),
        ['kubectl get events -A', events],
        ['kubectl get events.v1.events.k8s.io -A', eventsV1],
        ['kubectl get lokdarpandatabases -A', resources],
      ];
      // Something must have been written, or the check proves nothing: the logs are the reconcile logs
      // (they name the resources' keys) and the events are about the resources.
      assert.ok(logs.join('').length > 0, 'the operators wrote no log at all');
      assert.match(logs.join(''), new RegExp(`"key":"${namespace}/`), 'the operator logs mention the reconciled resources');
      assert.match(events, /"kind": "LokdarpanDatabase"/, 'there are events about LokdarpanDatabases');
      for (const secret of secrets) {
        for (const [where, text] of haystacks) {
          assert.ok(!text.includes(secret), `a secret (${secret.length} characters) appears in ${where}`);
        }
      }
      return {
        logBytes: logs.reduce((n, l) => n + l.length, 0),
        events: (JSON.parse(events) as { items: unknown[] }).items.length,
        resources: (JSON.parse(resources) as { items: unknown[] }).items.length,
        secrets: secrets.size,
      };
    },

    async stop() {
      await Promise.all(operators.map((o) => o.stop(5_000).catch(() => {})));
      if (process.env['LOKDARPAN_KEEP_TMP']) {
        await writeFile(join(kube.dir, 'logs', 'KEPT'), 'kept for inspection\n').catch(() => {});
      }
      await Promise.all([kube.stop(), pgServer.stop()]);
    },
  };
  return harness;
}

/** The harness and its operator for the tests of one `describe`, once the `before` hook has run. */
export interface OperatorFixture {
  readonly h: OperatorHarness;
  readonly operator: OperatorProcess;
}

/**
 * Registers the enclosing describe's before/after hooks: the harness is started and one operator with
 * `operator` options runs until the end of the describe. Tests read `fixture.h` and `fixture.operator`.
 */
export function operatorFixture(operator: StartOperatorOptions = {}): OperatorFixture {
  let started: OperatorFixture | undefined;
  let harness: OperatorHarness | undefined;
  before(async () => {
    harness = await startOperatorHarness();
    started = { h: harness, operator: await harness.startOperator(operator) };
  });
  after(async () => {
    await harness?.stop();
  });
  const get = (): OperatorFixture => {
    if (!started) throw new Error('the operator fixture is read before its before() hook ran');
    return started;
  };
  return {
    get h() {
      return get().h;
    },
    get operator() {
      return get().operator;
    },
  };
}

export interface Histogram {
  /** Cumulative counts per upper bound, ascending (the last is +Inf). */
  buckets: { le: number; count: number }[];
  count: number;
  sum: number;
}

/** One histogram (the series whose labels match `labelMatch`) from a Prometheus text exposition. */
export function parseHistogram(metrics: string, name: string, labelMatch: RegExp): Histogram {
  const buckets: { le: number; count: number }[] = [];
  let count = 0;
  let sum = 0;
  const valueOf = (line: string): number => Number(line.slice(line.lastIndexOf(' ') + 1));
  for (const line of metrics.split('\n')) {
    if (!labelMatch.test(line)) continue;
    if (line.startsWith(`${name}_bucket{`)) {
      const le = /le="([^"]+)"/.exec(line)?.[1];
      buckets.push({ le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), count: valueOf(line) });
    } else if (line.startsWith(`${name}_count{`)) count = valueOf(line);
    else if (line.startsWith(`${name}_sum{`)) sum = valueOf(line);
  }
  buckets.sort((a, b) => a.le - b.le);
  return { buckets, count, sum };
}

/** later - earlier: the observations made between two scrapes. */
export function histogramDelta(later: Histogram, earlier: Histogram): Histogram {
  return {
    buckets: later.buckets.map((b) => ({ le: b.le, count: b.count - (earlier.buckets.find((e) => e.le === b.le)?.count ?? 0) })),
    count: later.count - earlier.count,
    sum: later.sum - earlier.sum,
  };
}

/** Like PromQL histogram_quantile: linear interpolation inside the bucket holding the rank. */
export function histogramQuantile(h: Histogram, q: number): number {
  if (h.count === 0 || h.buckets.length === 0) return Number.NaN;
  const rank = q * h.count;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Number.POSITIVE_INFINITY) return prevLe;
      const within = b.count - prevCount;
      return within === 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / within;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return Number.NaN;
}

/** Fraction of observations at or under `le` (which must be one of the bucket bounds). */
export function histogramFractionUnder(h: Histogram, le: number): number {
  const bucket = h.buckets.find((b) => b.le === le);
  return bucket === undefined || h.count === 0 ? Number.NaN : bucket.count / h.count;
}
