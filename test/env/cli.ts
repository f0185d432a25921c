// `npm run testenv`: starts the whole test environment by hand (a control plane with
// kube-controller-manager, PostgreSQL 15 or 18 with pgvector and a database owned by an app role, two S3
// regions with a bucket each), prints how to reach each part, and stops everything cleanly on Ctrl-C or
// SIGTERM. `startTestEnvironment()` is the same start as a library call (bench/testenv.ts uses it).
//
//   node test/env/cli.ts [--pg 15|18] [--json] [--print-timings] [--crds] [--database NAME]
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KUBE_VERSION, startKube, type KubeEnv, type KubeTimings } from './kube.ts';
import { startPostgres, type PgMajor, type PostgresServer, type TestDatabase } from './postgres.ts';
import { repoRoot } from './process.ts';
import { startTwoRegions, type S3Server } from './s3.ts';

export interface TestEnvironmentOptions {
  /** PostgreSQL major (default 15). */
  readonly pgMajor?: PgMajor;
  /** Name of the database to create, owned by `<name>_owner` (default "lokdarpan"). */
  readonly database?: string;
  /** Start kube-controller-manager (default true). */
  readonly kcm?: boolean;
  /** CRD files or directories applied before kube-controller-manager starts (see KubeOptions.crds). */
  readonly crds?: readonly string[];
  /** Called as each part becomes ready (for progress messages), with the time it took. */
  readonly onReady?: (part: 'kubernetes' | 'postgres' | 's3', ms: number) => void;
}

export interface EnvironmentTimings {
  /** startKube(): etcd, apiserver, KCM (and CRDs), each from its own spawn. */
  readonly kube: KubeTimings;
  /** startPostgres(): initdb + start + first login. */
  readonly postgresMs: number;
  /** createDatabase() with the owner role and `CREATE EXTENSION vector`. */
  readonly databaseMs: number;
  /** startTwoRegions(): both SeaweedFS servers until a signed write works. */
  readonly s3Ms: number;
  /** Creating one bucket in each region. */
  readonly bucketsMs: number;
  /** Wall clock of the whole start (the parts run in parallel). */
  readonly totalMs: number;
}

export interface StopTimings {
  readonly kubeMs: number;
  readonly postgresMs: number;
  readonly s3Ms: number;
  /** Wall clock of the whole stop (the parts stop in parallel). */
  readonly totalMs: number;
}

export interface RegionDetails {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly bucket: string;
  readonly forcePathStyle: true;
  readonly logFile: string;
}

/** Everything needed to reach the environment; what `--json` prints (plus `timings`). */
export interface ConnectionDetails {
  readonly kubernetes: {
    readonly version: string;
    readonly server: string;
    readonly kubeconfig: string;
    /** `export KUBECONFIG=...` */
    readonly exportLine: string;
    readonly caFile: string;
    readonly adminToken: string;
    readonly kubectl: string;
    readonly kubeControllerManager: boolean;
    /** etcd data, certificates and logs. */
    readonly dir: string;
  };
  readonly postgres: {
    readonly major: PgMajor;
    readonly version: string;
    readonly host: string;
    readonly port: number;
    readonly database: string;
    /** postgres:// as the superuser, to the database. */
    readonly superuserUrl: string;
    /** postgres:// as the non-superuser role that owns the database. */
    readonly appUrl: string;
    readonly appUser: string;
    /** psql, pg_dump, pg_restore of the same major. */
    readonly binDir: string;
    readonly logFile: string;
  };
  readonly s3: { readonly primary: RegionDetails; readonly secondary: RegionDetails };
}

export interface TestEnvironment {
  readonly kube: KubeEnv;
  readonly postgres: PostgresServer;
  readonly database: TestDatabase;
  readonly s3: { readonly primary: S3Server; readonly secondary: S3Server };
  readonly buckets: { readonly primary: string; readonly secondary: string };
  readonly withKcm: boolean;
  readonly timings: EnvironmentTimings;
  /** Stops every part (in parallel); idempotent; rejects if a part failed to stop (after trying all). */
  stop(): Promise<StopTimings>;
}

const since = (t0: number): number => Math.round(performance.now() - t0);

/** The bucket a region gets: `lokdarpan-backups-<region>` (bucket names are global on real S3). */
export function bucketName(region: string): string {
  return `lokdarpan-backups-${region}`;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return since(t0);
}

/** Starts the control plane, PostgreSQL (+ database) and the two S3 regions (+ buckets) in parallel. */
export async function startTestEnvironment(opts: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
  const t0 = performance.now();
  const withKcm = opts.kcm ?? true;
  const major = opts.pgMajor ?? 15;

  const ready = (part: 'kubernetes' | 'postgres' | 's3'): void => opts.onReady?.(part, since(t0));
  const kubeStart = startKube({ kcm: withKcm, ...(opts.crds ? { crds: opts.crds } : {}) }).then((kube) => {
    ready('kubernetes');
    return kube;
  });
  const pgStart = (async () => {
    const t = performance.now();
    const server = await startPostgres({ major });
    const postgresMs = since(t);
    try {
      const t1 = performance.now();
      const database = await server.createDatabase({ name: opts.database ?? 'lokdarpan', withVector: true });
      ready('postgres');
      return { server, database, postgresMs, databaseMs: since(t1) };
    } catch (err) {
      await server.stop().catch(() => undefined);
      throw err;
    }
  })();
  const s3Start = (async () => {
    const t = performance.now();
    const regions = await startTwoRegions();
    const s3Ms = since(t);
    try {
      const t1 = performance.now();
      const buckets = { primary: bucketName(regions.primary.region), secondary: bucketName(regions.secondary.region) };
      await Promise.all([regions.primary.createBucket(buckets.primary), regions.secondary.createBucket(buckets.secondary)]);
      ready('s3');
      return { regions, buckets, s3Ms, bucketsMs: since(t1) };
    } catch (err) {
      await Promise.allSettled([regions.primary.stop(), regions.secondary.stop()]);
      throw err;
    }
  })();

  const [kube, pg, s3] = await Promise.allSettled([kubeStart, pgStart, s3Start]);
  if (kube.status === 'rejected' || pg.status === 'rejected' || s3.status === 'rejected') {
    await Promise.allSettled([
      kube.status === 'fulfilled' ? kube.value.stop() : undefined,
      pg.status === 'fulfilled' ? pg.value.server.stop() : undefined,
      s3.status === 'fulfilled' ? s3.value.regions.primary.stop() : undefined,
      s3.status === 'fulfilled' ? s3.value.regions.secondary.stop() : undefined,
    ]);
    const reasons = [kube, pg, s3].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (reasons.length === 1) throw reasons[0];
    throw new AggregateError(reasons, `${reasons.length} parts of the test environment failed to start`);
  }

  const timings: EnvironmentTimings = {
    kube: kube.value.timings,
    postgresMs: pg.value.postgresMs,
    databaseMs: pg.value.databaseMs,
    s3Ms: s3.value.s3Ms,
    bucketsMs: s3.value.bucketsMs,
    totalMs: since(t0),
  };
  let stopping: Promise<StopTimings> | undefined;
  const stop = (): Promise<StopTimings> => {
    stopping ??= (async () => {
      const t = performance.now();
      const results = await Promise.allSettled([
        timed(() => kube.value.stop()),
        timed(() => pg.value.server.stop()),
        timed(() => Promise.all([s3.value.regions.primary.stop(), s3.value.regions.secondary.stop()])),
      ]);
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      if (failed.length > 0) throw new AggregateError(failed, 'parts of the test environment failed to stop');
      const ms = results.map((r) => (r.status === 'fulfilled' ? r.value : 0));
      return { kubeMs: ms[0] ?? 0, postgresMs: ms[1] ?? 0, s3Ms: ms[2] ?? 0, totalMs: since(t) };
    })();
    return stopping;
  };
  return {
    kube: kube.value,
    postgres: pg.value.server,
    database: pg.value.database,
    s3: s3.value.regions,
    buckets: s3.value.buckets,
    withKcm,
    timings,
    stop,
  };
}

export function connectionDetails(env: TestEnvironment): ConnectionDetails {
  const region = (server: S3Server, bucket: string): RegionDetails => ({
    ...server.connection(),
    bucket,
    logFile: server.logFile,
  });
  return {
    kubernetes: {
      version: KUBE_VERSION,
      server: env.kube.server,
      kubeconfig: env.kube.kubeconfigPath,
      exportLine: `export KUBECONFIG=${env.kube.kubeconfigPath}`,
      caFile: env.kube.caFile,
      adminToken: env.kube.adminToken,
      kubectl: env.kube.binaries.kubectl,
      kubeControllerManager: env.withKcm,
      dir: env.kube.dir,
    },
    postgres: {
      major: env.postgres.major,
      version: env.postgres.version,
      host: env.postgres.host,
      port: env.postgres.port,
      database: env.database.name,
      superuserUrl: env.database.url,
      appUrl: env.database.appUrl,
      appUser: env.database.appUser,
      binDir: env.postgres.binDir,
      logFile: env.postgres.logFile,
    },
    s3: {
      primary: region(env.s3.primary, env.buckets.primary),
      secondary: region(env.s3.secondary, env.buckets.secondary),
    },
  };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The human-readable connection details. */
export function formatDetails(d: ConnectionDetails): string {
  const k = d.kubernetes;
  const p = d.postgres;
  const region = (label: string, r: RegionDetails): string[] => [
    `  ${label}`,
    `    endpoint    ${r.endpoint}  (path-style)`,
    `    region      ${r.region}`,
    `    bucket      ${r.bucket}`,
    `    access key  ${r.accessKeyId}`,
    `    secret key  ${r.secretAccessKey}`,
  ];
  return [
    `Kubernetes ${k.version} (etcd, kube-apiserver${k.kubeControllerManager ? ', kube-controller-manager: garbage collector + namespaces' : ''}; no nodes)`,
    `  server        ${k.server}`,
    `  kubeconfig    ${k.kubeconfig}  (admin, group system:masters)`,
    `  kubectl       ${k.kubectl}`,
    `  files, logs   ${k.dir}`,
    '',
    `  ${k.exportLine}`,
    '',
    `PostgreSQL ${p.version} with pgvector (database ${p.database}, extension vector created)`,
    `  superuser     ${p.superuserUrl}`,
    `  app role      ${p.appUrl}  (${p.appUser}, owns the database, not a superuser)`,
    `  psql          ${join(p.binDir, 'psql')} '${p.appUrl}'`,
    `  log           ${p.logFile}`,
    '',
    'S3 (SeaweedFS; signatures checked, region not), two regions',
    ...region('primary', d.s3.primary),
    ...region('secondary', d.s3.secondary),
  ].join('\n');
}

export function formatStartTimings(t: EnvironmentTimings): string {
  return [
    `started in ${seconds(t.totalMs)} (parts in parallel):`,
    `  kubernetes  ${seconds(t.kube.totalMs)}  (etcd ${seconds(t.kube.etcdReadyMs)}, kube-apiserver ${seconds(t.kube.apiserverReadyMs)}, kube-controller-manager ${seconds(t.kube.kcmReadyMs)})`,
    `  postgres    ${seconds(t.postgresMs + t.databaseMs)}  (server ${seconds(t.postgresMs)}, database ${seconds(t.databaseMs)})`,
    `  s3          ${seconds(t.s3Ms + t.bucketsMs)}  (two servers ${seconds(t.s3Ms)}, buckets ${seconds(t.bucketsMs)})`,
  ].join('\n');
}

export function formatStopTimings(t: StopTimings): string {
  return `stopped in ${seconds(t.totalMs)} (kubernetes ${seconds(t.kubeMs)}, postgres ${seconds(t.postgresMs)}, s3 ${seconds(t.s3Ms)})`;
}

export const USAGE = `Usage: npm run testenv -- [options]     (node test/env/cli.ts [options])

Starts the test environment on loopback, on free ports, in temporary directories: etcd, kube-apiserver
and kube-controller-manager; PostgreSQL with pgvector and a database owned by a non-superuser role;
two SeaweedFS S3 servers (regions ap-south-1 and ap-south-2) with a bucket each. Prints how to reach
them, then runs until Ctrl-C or SIGTERM, and stops everything (temporary directories removed unless
LOKDARPAN_KEEP_TMP is set). Needs \`bash scripts/setup.sh\` to have run once.

Options:
  --pg 15|18         PostgreSQL major (default 15)
  --database NAME    database to create, owned by NAME_owner (default lokdarpan)
  --crds             install the project's CRDs (crds/) before kube-controller-manager starts
  --json             print the connection details as one JSON line on stdout (messages go to stderr)
  --print-timings    also print how long each part took to start and to stop
  -h, --help         show this help
`;

export interface CliOptions {
  readonly help: boolean;
  readonly pgMajor: PgMajor;
  readonly database: string;
  readonly crds: boolean;
  readonly json: boolean;
  readonly printTimings: boolean;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseCliArgs(argv: readonly string[]): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        pg: { type: 'string', default: '15' },
        database: { type: 'string', default: 'lokdarpan' },
        crds: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'print-timings': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.pg !== '15' && values.pg !== '18') throw new UsageError(`--pg must be 15 or 18, got ${JSON.stringify(values.pg)}`);
  if (!/^[a-z_][a-z0-9_]{0,50}$/.test(values.database)) {
    throw new UsageError(`--database must be a lower-case SQL identifier (a-z, 0-9, _), got ${JSON.stringify(values.database)}`);
  }
  return {
    help: values.help,
    pgMajor: Number(values.pg) as PgMajor,
    database: values.database,
    crds: values.crds,
    json: values.json,
    printTimings: values['print-timings'],
  };
}

const stopSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Resolves with the first of SIGINT/SIGTERM/SIGHUP; a second one exits at once (130). Call it before telling
 * anyone the environment is up: a stop signal may follow immediately.
 */
function nextStopSignal(onSecond: () => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (seen) {
        onSecond();
        process.exit(130); // the exit handler of test/env/cleanup.ts kills what is left
      }
      seen = true;
      resolve(signal);
    };
    for (const signal of stopSignals) {
      // test/env/cleanup.ts kills every part with SIGKILL/SIGQUIT on a signal (its last resort for aborted test
      // runs): once everything is up, this command stops the parts gracefully instead. Its exit handler stays.
      // Ours is added before theirs are removed: with no listener at all, Node restores the default action and
      // a signal arriving in between would kill this process and leave the children behind.
      process.on(signal, onSignal);
      for (const listener of process.listeners(signal)) {
        if (listener !== onSignal) process.removeListener(signal, listener as (...args: unknown[]) => void);
      }
    }
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseCliArgs(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const say = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  say(`starting the test environment (PostgreSQL ${opts.pgMajor}, Kubernetes ${KUBE_VERSION}, two S3 regions)...`);
  let env: TestEnvironment;
  try {
    env = await startTestEnvironment({
      pgMajor: opts.pgMajor,
      database: opts.database,
      onReady: (part, ms) => say(`  ${part} ready after ${seconds(ms)}`),
      ...(opts.crds ? { crds: [join(repoRoot, 'crds')] } : {}),
    });
  } catch (err) {
    say(`the test environment did not start: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof AggregateError) for (const e of err.errors) say(`  - ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  const stopSignal = nextStopSignal(() => say('second signal: killing what is left'));
  const details = connectionDetails(env);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ...details, ...(opts.printTimings ? { timings: env.timings } : {}) })}\n`);
  } else {
    process.stdout.write(`${formatDetails(details)}\n\n`);
    if (opts.printTimings) process.stdout.write(`${formatStartTimings(env.timings)}\n\n`);
  }
  say(`the test environment is up (${seconds(env.timings.totalMs)}); Ctrl-C or SIGTERM stops it`);

  const signal = await stopSignal;
  say(`${signal}: stopping...`);
  try {
    const stopped = await env.stop();
    say(opts.printTimings ? formatStopTimings(stopped) : 'stopped');
    return 0;
  } catch (err) {
    say(`stopping failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (import.meta.main) {
  // Exit explicitly: client sockets to servers that are gone may keep the event loop alive.
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
