// Benchmark: the operator with many LokdarpanDatabase resources (default 500). The operator runs as a
// child process under its ServiceAccount (RBAC on) against a real kube-apiserver and PostgreSQL, as in
// test/integration/operator-*.test.ts. Phases:
//   A. create N resources with spec.suspend: true (cheap reconciles: status only) in one burst;
//   B. change the spec of all N again in one burst, with the cache warm (still suspended);
//   C. unsuspend --real of them (default 100), spread over --databases migrated databases: real
//      reconciles (preflight, plan, history, first view refresh, first validation) in one burst;
//   D. steady state: --rate spec changes per second for --trickle seconds on suspended resources;
//   E. idle for --idle seconds with everything in place (RSS at rest).
// For each phase: wall time until every resource shows the new generation/annotation, the controller's
// CPU and RSS (peak), kube-apiserver's and etcd's CPU (from /proc), and from the operator's /metrics the
// delta of workqueue_queue_duration_seconds (p50, p99 and the share under 1 s) and
// controller_runtime_reconcile_time_seconds, Kubernetes API requests per
// reconcile (rest_client_requests_total / controller_runtime_reconcile_total, every controller; the Secret
// GETs among them separately), and the PostgreSQL sessions opened (pg_stat_database.sessions) per
// reconcile. lastStatusAfterLastRequestMs: how long after the phase's last request its last status was
// seen. Load average recorded at start and end.
// Goals (issue 13): bursts' statuses all written within 2 s of the last request, p99 < 1 s; real
// reconciles p99 < 3 s.
// Usage: node bench/operator-scale.ts [--resources 500] [--real 100] [--databases 5] [--rate 10] [--trickle 20]
//          [--idle 20] [--node-options="--max-old-space-size=128"] [--entry bundle|source|PATH] [--log-level info]
//          [--cpu-prof DIR] [--baseline floor] [--json]
// --baseline floor: before the operator starts, phases A and B run twice against the floor instead
// (bench/floor-controller.ts: a watch and one status merge patch per event, no queue, no rate limiter, the
// same status, as a child under the same ServiceAccount; the first round only warms the API server up), its
// resources deleted after each round; then the operator's run follows on the same API server. Reported as
// `baseline` (the floor's A and B: the same fields but the operator's /metrics ones) and `operatorOverFloor`
// (operator / floor of request -> status p50/p99/max, last status after last request, API server and etcd
// CPU): how far the operator is above what this machine allows any controller.
// --entry: what the operator child runs: `bundle` (default; what the image ships: scripts/build-bundle.ts,
// built into dist/cli first), `source` (src/cli/main.ts with Node's type stripping) or the path of a bundle
// built beforehand (e.g. with other esbuild options, two levels under the repository root like dist/cli).
// --node-options: the child's NODE_OPTIONS, whichever the entry (compare entries with the same value); write it
// with `=` (parseArgs takes a separate value starting with `--` for an option).
// --cpu-prof DIR: the child writes a V8 CPU profile of its whole run into DIR when it stops.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import {
  condition,
  histogramDelta,
  histogramFractionUnder,
  histogramQuantile,
  parseHistogram,
  sleep,
  startOperatorHarness,
  type Histogram,
  type Ldb,
  type OperatorProcess,
} from '../test/integration/operator-harness.ts';
import { Informer, kubeListWatchSource } from '../src/runtime/informer.ts';
import { buildBundle, repoRoot } from '../scripts/build-bundle.ts';
import type { KubeObject } from '../src/runtime/kube.ts';

const { values } = parseArgs({
  options: {
    resources: { type: 'string', default: '500' },
    real: { type: 'string', default: '100' },
    databases: { type: 'string', default: '5' },
    idle: { type: 'string', default: '20' },
    rate: { type: 'string', default: '10' },
    trickle: { type: 'string', default: '20' },
    'node-options': { type: 'string', default: '' },
    'log-level': { type: 'string', default: 'info' },
    entry: { type: 'string', default: 'bundle' },
    'cpu-prof': { type: 'string' },
    baseline: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(values.resources);
const REAL = Math.min(N, Number(values.real));
const DATABASES = Math.max(1, Number(values.databases));
const IDLE_S = Number(values.idle);
const RATE = Number(values.rate);
const TRICKLE_S = Number(values.trickle);
const LDB = '/apis/lokdarpan.io/v1alpha1';
if (values.baseline !== undefined && values.baseline !== 'floor') throw new Error(`--baseline: only floor, got ${values.baseline}`);

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024);
}

/** Samples RSS every 250 ms until stopped; returns the peak. */
function rssSampler(pid: number): { stop(): number } {
  let peak = rssMb(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMb(pid));
    } catch {
      // exited
    }
  }, 250);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    }),
  );
}

// The image runs the bundle (scripts/build-bundle.ts), so that is the default: built here, into dist/cli.
const operatorEntry =
  values.entry === 'bundle' ? relative(repoRoot, await buildBundle()) : values.entry === 'source' ? 'src/cli/main.ts' : relative(repoRoot, resolve(values.entry));
if (!existsSync(resolve(repoRoot, operatorEntry))) throw new Error(`--entry ${values.entry}: bundle, source or an existing bundle's path`);

const loadAverage = (): number[] => loadavg().map((x) => Math.round(x * 100) / 100);
const startLoad = loadAverage();
const h = await startOperatorHarness();
const report: Record<string, unknown> = { resources: N, real: REAL, databases: DATABASES, pgVersion: h.pg.version, loadAverageStart: startLoad };

/** Sum of a counter's samples whose labels match. */
function counterSum(metrics: string, name: string, labelMatch: RegExp = /.*/): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!labelMatch.test(line)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
interface PhaseEntry {
  phase: string;
  controller: string;
  serverCpuMs: Record<string, number>;
  requestToStatusMs?: { p50: number; p99: number; max: number; n: number };
  lastStatusAfterLastRequestMs?: number;
  peakRssMb: number;
  [field: string]: unknown;
}
const phases: PhaseEntry[] = [];
/** The floor's phases A and B (--baseline floor). */
const baseline: PhaseEntry[] = [];
let watcher: Informer<KubeObject> | undefined;
try {
  // The bench watches (one informer) rather than polling 500 objects: polling would load the shared API server.
  watcher = new Informer<KubeObject>({
    name: 'bench',
    source: kubeListWatchSource(h.client, { type: { apiVersion: 'lokdarpan.io/v1alpha1', kind: 'LokdarpanDatabase', plural: 'lokdarpandatabases', namespaced: true }, namespace: h.namespace }),
  });
  let onObject: ((item: Ldb, at: number) => void) | undefined;
  watcher.onKey((_key, _event, object) => {
    if (object && onObject) onObject(object as unknown as Ldb, performance.now());
  });
  watcher.start();
  await watcher.whenSynced();
  const cache = watcher;
  const list = async (): Promise<Ldb[]> => cache.list() as unknown as Ldb[];
  const cpuMsOf = (of: number): number => {
    const fields = readFileSync(`/proc/${of}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
  };
  // The API server and etcd of this run (their command lines name its temporary directory): what the
  // operator's requests cost on the server side, which dominates the CPU in bursts.
  const serverPids = Object.fromEntries(
    ['kube-apiserver', 'etcd'].map((comm) => [
      comm,
      readdirSync('/proc').find((p) => {
        try {
          return /^\d+$/.test(p) && readFileSync(`/proc/${p}/comm`, 'utf8').trim() === comm && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(h.kube.dir);
        } catch {
          return false;
        }
      }),
    ]),
  );
  const serverCpuMs = (): Record<string, number> =>
    Object.fromEntries(Object.entries(serverPids).flatMap(([comm, p]) => (p ? [[comm, cpuMsOf(Number(p))]] : [])));

  const scrape = async (op: OperatorProcess): Promise<{ queue: Histogram; reconcile: Histogram; limiter: Histogram; apiRequests: number; secretGets: number; reconciles: number; pgSessions: number; gc: Record<string, { ms: number; count: number }> }> => {
    const text = (await op.http('/metrics')).body;
    const sessions = await h.pg.query<{ n: string }>('SELECT sum(sessions) AS n FROM pg_stat_database');
    return {
      queue: parseHistogram(text, 'workqueue_queue_duration_seconds', /name="lokdarpandatabase"/),
      reconcile: parseHistogram(text, 'controller_runtime_reconcile_time_seconds', /controller="lokdarpandatabase"/),
      // Unlabelled: the +Inf bucket is its count.
      limiter: ((hist) => ({ ...hist, count: hist.buckets.at(-1)?.count ?? 0 }))(parseHistogram(text, 'rest_client_rate_limiter_duration_seconds', /le="/)),
      apiRequests: counterSum(text, 'rest_client_requests_total'),
      secretGets: counterSum(text, 'rest_client_requests_total', /^(?=.*method="GET")(?=.*resource="secrets")/),
      reconciles: counterSum(text, 'controller_runtime_reconcile_total'),
      pgSessions: Number(sessions.rows[0]?.n ?? 0),
      gc: Object.fromEntries(
        ['minor', 'major', 'incremental'].map((kind) => {
          const labels = new RegExp(`kind="${kind}"`);
          return [kind, { ms: counterSum(text, 'nodejs_gc_duration_seconds_sum', labels) * 1000, count: counterSum(text, 'nodejs_gc_duration_seconds_count', labels) }];
        }),
      ),
    };
  };
  const heapUsedMb = async (op: OperatorProcess): Promise<number> => {
    const line = (await op.http('/metrics')).body.split('\n').find((l) => l.startsWith('nodejs_heap_size_used_bytes'));
    return Math.round(Number(line?.slice(line.lastIndexOf(' ') + 1)) / 1024 / 1024);
  };
  const pctOf = (xs: number[], p: number): number => {
    const sorted = [...xs].sort((a, b) => a - b);
    return Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN);
  };

  /** The controller under test: the operator (with its /metrics) or the floor; its phases go to `into`. */
  interface Subject {
    controller: OperatorProcess;
    label: string;
    metrics: boolean;
    into: PhaseEntry[];
  }

  /**
   * Runs `act` (which records when it sent each resource's request in `sentAt`), polls the list every 100 ms
   * until `done(items)` holds, and records the phase; `reached(item)` says when one resource is there, giving
   * each resource's request -> observed latency as a client sees it.
   */
  const phase = async (
    subject: Subject,
    name: string,
    act: (sentAt: Map<string, number>) => Promise<void>,
    done: (items: Ldb[]) => boolean,
    timeoutMs: number,
    reached?: (item: Ldb) => boolean,
  ): Promise<void> => {
    const op = subject.controller;
    const pid = op.process.child.pid ?? 0;
    const before = subject.metrics ? await scrape(op) : undefined;
    const cpuBefore = cpuMsOf(pid);
    const serverCpuBefore = serverCpuMs();
    const rss = rssSampler(pid);
    const sentAt = new Map<string, number>();
    const seenAt = new Map<string, number>();
    onObject = (item, at) => {
      const key = item.metadata.name;
      if (reached && !seenAt.has(key) && sentAt.has(key) && reached(item)) seenAt.set(key, at);
    };
    const t0 = performance.now();
    let acting = true;
    const acted = act(sentAt).finally(() => (acting = false));
    for (;;) {
      const now = performance.now();
      if (!acting && done(await list())) break;
      if (now - t0 > timeoutMs) throw new Error(`phase ${name} not done after ${timeoutMs} ms`);
      await sleep(100);
    }
    onObject = undefined;
    await acted;
    const actedMs = Math.max(...[...sentAt.values()], t0) - t0;
    const wallMs = performance.now() - t0;
    const latencies = [...seenAt].map(([key, at]) => at - (sentAt.get(key) ?? at));
    const lastStatusAfterLastRequestMs = seenAt.size > 0 ? Math.round(Math.max(...seenAt.values()) - Math.max(...sentAt.values())) : undefined;
    await sleep(500); // let the last status writes' watch events be processed
    const controllerCpuMs = Math.round(cpuMsOf(pid) - cpuBefore);
    const serverCpu = Object.fromEntries(Object.entries(serverCpuMs()).map(([comm, ms]) => [comm, Math.round(ms - (serverCpuBefore[comm] ?? 0))]));
    const entry: PhaseEntry = {
      phase: name,
      controller: subject.label,
      controllerCpuMs,
      serverCpuMs: serverCpu,
      requestsMs: Math.round(actedMs),
      allObservedMs: Math.round(wallMs),
      ...(latencies.length > 0 ? { requestToStatusMs: { p50: pctOf(latencies, 50), p99: pctOf(latencies, 99), max: pctOf(latencies, 100), n: latencies.length } } : {}),
      ...(lastStatusAfterLastRequestMs === undefined ? {} : { lastStatusAfterLastRequestMs }),
      peakRssMb: rss.stop(),
      rssAfterMb: rssMb(pid),
      ...(before ? operatorMetrics(before, await scrape(op), controllerCpuMs, await heapUsedMb(op)) : {}),
    };
    subject.into.push(entry);
    if (!values.json) console.log(JSON.stringify(entry));
  };

  /** What the operator's /metrics (and PostgreSQL) say about a phase, from the scrapes before and after it. */
  const operatorMetrics = (before: Awaited<ReturnType<typeof scrape>>, after: Awaited<ReturnType<typeof scrape>>, cpuMs: number, heapMb: number): Record<string, unknown> => {
    const queue = histogramDelta(after.queue, before.queue);
    const reconcile = histogramDelta(after.reconcile, before.reconcile);
    const reconciles = after.reconciles - before.reconciles;
    const perReconcile = (n: number): number => (reconciles > 0 ? Math.round((n / reconciles) * 100) / 100 : 0);
    return {
      reconcilesAllControllers: reconciles,
      apiRequestsPerReconcile: perReconcile(after.apiRequests - before.apiRequests),
      secretGetsPerReconcile: perReconcile(after.secretGets - before.secretGets),
      pgSessionsPerReconcile: perReconcile(after.pgSessions - before.pgSessions),
      rateLimiterWaitP99Ms: Math.round(histogramQuantile(histogramDelta(after.limiter, before.limiter), 0.99) * 1000),
      // V8's collections in the operator during the phase (prom-client's nodejs_gc_duration_seconds, wall time:
      // a busy machine stretches it): minor = scavenges of the young generation (--max-semi-space-size), major = mark-compact.
      gc: Object.fromEntries(
        Object.entries(after.gc).map(([kind, { ms, count }]) => [kind, { ms: Math.round(ms - (before.gc[kind]?.ms ?? 0)), count: count - (before.gc[kind]?.count ?? 0) }]),
      ),
      heapUsedMb: heapMb,
      queue: {
        items: queue.count,
        p50Ms: Math.round(histogramQuantile(queue, 0.5) * 1000 * 10) / 10,
        p99Ms: Math.round(histogramQuantile(queue, 0.99) * 1000),
        under1s: Math.round(histogramFractionUnder(queue, 1) * 10000) / 100,
        meanMs: queue.count ? Math.round((queue.sum / queue.count) * 1000 * 10) / 10 : 0,
      },
      reconcile: {
        count: reconcile.count,
        p50Ms: Math.round(histogramQuantile(reconcile, 0.5) * 1000),
        p99Ms: Math.round(histogramQuantile(reconcile, 0.99) * 1000),
        meanMs: reconcile.count ? Math.round((reconcile.sum / reconcile.count) * 1000) : 0,
        operatorCpuMsPerReconcile: reconcile.count ? Math.round((cpuMs / reconcile.count) * 10) / 10 : 0,
      },
    };
  };

  const names = Array.from({ length: N }, (_, i) => `ldb-${String(i).padStart(4, '0')}`);
  /** Phases A and B; `secretOf(i)`: the Secret the i-th resource names (suspended: never read). */
  const bursts = async (subject: Subject, secretOf: (i: number) => string): Promise<void> => {
    await phase(
      subject,
      `A: create ${N} suspended`,
      (sentAt) =>
        pool(names, 16, async (name) => {
          const i = Number(name.slice(4));
          sentAt.set(name, performance.now());
          await h.client.create(`${LDB}/namespaces/${h.namespace}/lokdarpandatabases`, {
            apiVersion: 'lokdarpan.io/v1alpha1',
            kind: 'LokdarpanDatabase',
            metadata: { name, namespace: h.namespace },
            spec: { connection: { secretName: secretOf(i) }, suspend: true },
          });
        }),
      (items) => items.length === N && items.every((l) => l.status?.observedGeneration === 1 && condition(l, 'Ready')?.reason === 'Suspended'),
      300_000,
      (l) => l.status?.observedGeneration === 1,
    );
    await phase(
      subject,
      `B: change the spec of ${N} (warm cache)`,
      (sentAt) =>
        pool(names, 16, async (name) => {
          sentAt.set(name, performance.now());
          await h.client.patch(`${LDB}/namespaces/${h.namespace}/lokdarpandatabases/${name}`, { spec: { validation: { samples: 5 } } }, 'merge');
        }),
      (items) => items.every((l) => l.status?.observedGeneration === 2),
      300_000,
      (l) => l.status?.observedGeneration === 2,
    );
  };

  if (values.baseline === 'floor') {
    const floor = await h.startOperator({ name: 'floor', entry: 'bench/floor-controller.ts', args: [], waitReady: false });
    await floor.waitForLog(/^synced$/);
    // A first round warms the API server (its handlers for the kind, the bench's connections) as the floor's
    // rounds do for the operator's; only the second is kept.
    const rounds: [string, PhaseEntry[]][] = [['floor (warm-up, not kept)', []], ['floor', baseline]];
    for (const [label, into] of rounds) {
      // The seeds' Secret names, as in the operator's run (same request bodies; suspended: never read).
      await bursts({ controller: floor, label, metrics: false, into }, (i) => `seed-${i % DATABASES}-db`);
      await h.client.delete(`${LDB}/namespaces/${h.namespace}/lokdarpandatabases`); // the whole collection
      for (const deadline = performance.now() + 120_000; (await list()).length > 0; await sleep(100)) {
        if (performance.now() > deadline) throw new Error("the floor's resources were not deleted within 120 s");
      }
    }
    await floor.stop();
  }

  const cpuProf = values['cpu-prof'] === undefined ? '' : `--cpu-prof --cpu-prof-dir=${resolve(values['cpu-prof'])}`;
  const nodeOptions = [values['node-options'], cpuProf].filter(Boolean).join(' ');
  const op = await h.startOperator({ entry: operatorEntry, env: { LOG_LEVEL: values['log-level'], ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) } });
  report['entry'] = operatorEntry;
  report['nodeOptions'] = nodeOptions;
  report['operatorLog'] = op.logFile;
  const pid = op.process.child.pid ?? 0;
  report['rssAfterStartMb'] = rssMb(pid);
  const operator: Subject = { controller: op, label: 'operator', metrics: true, into: phases };

  // Databases for the real resources, migrated once each through a first resource.
  const secrets: string[] = [];
  for (let i = 0; i < DATABASES; i++) {
    const applied = await h.applyDatabase({ name: `seed-${i}` });
    await h.waitForCondition(applied.namespace, applied.name, 'Ready', 'True', { timeoutMs: 120_000 });
    await h.kubectlOk(['delete', 'ldb', applied.name, '-n', h.namespace]);
    secrets.push(applied.secretName);
  }
  report['rssAfterSeedMb'] = rssMb(pid);

  await bursts(operator, (i) => secrets[i % secrets.length] as string);

  const real = names.slice(0, REAL);
  await phase(
    operator,
    `C: unsuspend ${REAL} (real reconciles on ${DATABASES} databases)`,
    (sentAt) =>
      pool(real, 16, async (name) => {
        sentAt.set(name, performance.now());
        await h.client.patch(`${LDB}/namespaces/${h.namespace}/lokdarpandatabases/${name}`, { spec: { suspend: false } }, 'merge');
      }),
    (items) => items.filter((l) => real.includes(l.metadata.name)).every((l) => l.status?.observedGeneration === 3 && condition(l, 'Ready')?.status === 'True'),
    600_000,
    (l) => l.status?.observedGeneration === 3 && condition(l, 'Ready')?.status === 'True',
  );

  // Steady state: spec changes at a modest rate over the suspended resources (the goal's p99 < 1 s is about this).
  const trickled = names.slice(REAL, REAL + Math.min(N - REAL, Math.round(RATE * TRICKLE_S)));
  await phase(
    operator,
    `D: ${RATE} spec changes/s for ${TRICKLE_S} s (steady state, ${N} in cache)`,
    async (sentAt) => {
      const start = performance.now();
      for (let i = 0; i < trickled.length; i++) {
        const name = trickled[i] as string;
        const due = start + (i * 1000) / RATE;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        sentAt.set(name, performance.now());
        void h.client.patch(`${LDB}/namespaces/${h.namespace}/lokdarpandatabases/${name}`, { spec: { validation: { samples: 6 } } }, 'merge');
      }
    },
    (items) => items.filter((l) => trickled.includes(l.metadata.name)).every((l) => l.status?.observedGeneration === 3),
    TRICKLE_S * 1000 + 120_000,
    (l) => l.status?.observedGeneration === 3,
  );

  await phase(operator, `E: idle ${IDLE_S} s`, () => sleep(IDLE_S * 1000), () => true, IDLE_S * 1000 + 60_000);
  report['finalRssMb'] = rssMb(pid);
  report['heapUsedMb'] = await heapUsedMb(op);
} finally {
  report['phases'] = phases;
  report['loadAverageEnd'] = loadAverage();
  await watcher?.stop();
  await h.stop();
}
process.exitCode = 0;

/** The operator's phase over the floor's: 2 = twice the floor. */
function overFloor(operator: PhaseEntry | undefined, floor: PhaseEntry): Record<string, unknown> {
  const ratio = (a: number | undefined, b: number | undefined): number | null => (a === undefined || !b ? null : Math.round((a / b) * 100) / 100);
  const o = operator?.requestToStatusMs;
  const f = floor.requestToStatusMs;
  return {
    phase: floor.phase,
    requestToStatusP50: ratio(o?.p50, f?.p50),
    requestToStatusP99: ratio(o?.p99, f?.p99),
    requestToStatusMax: ratio(o?.max, f?.max),
    lastStatusAfterLastRequest: ratio(operator?.lastStatusAfterLastRequestMs, floor.lastStatusAfterLastRequestMs),
    apiserverCpu: ratio(operator?.serverCpuMs['kube-apiserver'], floor.serverCpuMs['kube-apiserver']),
    etcdCpu: ratio(operator?.serverCpuMs['etcd'], floor.serverCpuMs['etcd']),
  };
}
if (baseline.length > 0) {
  report['baseline'] = baseline;
  report['operatorOverFloor'] = baseline.map((floor, i) => overFloor(phases[i], floor));
}

const peak = Math.max(...phases.map((p) => p.peakRssMb));
report['peakRssMb'] = peak;
if (values.json) console.log(JSON.stringify(report, null, 2));
else {
  if (report['operatorOverFloor']) console.log(`operator / floor: ${JSON.stringify(report['operatorOverFloor'])}`);
  console.log(`peak RSS ${peak} MB (goal < 150 MB); final RSS ${String(report['finalRssMb'])} MB`);
}
