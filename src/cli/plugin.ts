// The commands an on-call engineer runs against a cluster, also as a kubectl plugin (`kubectl lokdarpan
// <command>` when `kubectl-lokdarpan` is on PATH, see scripts/install-kubectl-plugin.sh):
//   status         a readable summary of LokdarpanDatabases, their BackupPolicies, Backups, RetentionPolicies
//   backup         create an on-demand Backup of a BackupPolicy (--wait: follow it to Completed/Failed)
//   refresh        ask for a materialized-view refresh now (annotation lokdarpan.io/refresh-requested-at)
//   validate       ask for a performance validation now (annotation lokdarpan.io/validate-requested-at)
//   retention-run  ask a RetentionPolicy to run now (annotation lokdarpan.io/run-requested-at)
//   restore        create a Restore of a Backup
// They talk to the API server of the current kubeconfig (--kubeconfig, --context, -n like kubectl), only
// through the custom resources: the operator does the work. Exit codes: 0 ok, 1 failure (the backup
// failed, a resource is missing, the cluster cannot be reached), 2 usage error.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { parseDuration } from '../api/duration.ts';
import { backupKind, backupPolicyKind, lokdarpanDatabaseKind, restoreKind, retentionPolicyKind } from '../api/resources.ts';
import type { ResourceKind } from '../api/crd.ts';
import { resourceTypeOf } from '../controllers/shared/resource-controller.ts';
import { REFRESH_REQUEST_ANNOTATION, VALIDATE_REQUEST_ANNOTATION } from '../controllers/lokdarpan-database/reconciler.ts';
import { RUN_REQUEST_ANNOTATION } from '../controllers/retention-policy/reconciler.ts';
import { POLICY_LABEL } from '../controllers/backup/policy-reconciler.ts';
import { API_VERSION } from '../api/common.ts';
import { describeProgress, type TransferProgress } from '../api/progress.ts';
import { apiErrorMessage, apiStatusCode, isConflict, isNotFound, KubeClient, resourcePath, type KubeObject } from '../runtime/kube.ts';
import { EXIT, type CliIo } from './io.ts';

/** What a plugin command needs of CliIo (repoRoot is not used). */
export type PluginIo = Pick<CliIo, 'stdout' | 'stderr' | 'env'> & {
  /** Poll interval of --wait (default 1000 ms); tests shorten it. */
  pollIntervalMs?: number;
  /** The current time (default: the system clock). */
  now?: () => Date;
};

export type PluginRun = (argv: string[], io: PluginIo) => Promise<number>;

// ------------------------------------------------------------------------------------------ errors

class UsageError extends Error {}
/** A failure with a one-line message for the user (exit 1, no stack trace). */
class PluginFailure extends Error {}

/** The message of an error and its causes ("fetch failed (connect ECONNREFUSED 127.0.0.1:6443)"). */
function causeChain(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    const text = current.message + (typeof code === 'string' && !current.message.includes(code) ? ` (${code})` : '');
    if (text && !parts.includes(text)) parts.push(text);
    current = (current as { cause?: unknown }).cause;
  }
  if (parts.length === 0) return String(error);
  return parts.join(': ');
}

/** Where the command connected, for error messages. */
interface Session {
  server?: string;
}

async function guarded(command: string, usage: string, io: PluginIo, body: (session: Session) => Promise<number>): Promise<number> {
  const session: Session = {};
  try {
    return await body(session);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${command}: ${error.message}\n${usage.split('\n')[0]}\nRun "lokdarpan ${command} --help" (or "kubectl lokdarpan ${command} --help") for the options.\n`);
      return EXIT.usage;
    }
    if (error instanceof PluginFailure) {
      io.stderr.write(`${command}: ${error.message}\n`);
      return EXIT.failure;
    }
    io.stderr.write(`${command}: ${describeKubeError(error, session.server)}\n`);
    return EXIT.failure;
  }
}

/** A 404 for the resource type itself (CRD not installed): the API server answers "404 page not found", not a NotFound Status. */
function isMissingResourceType(error: unknown): boolean {
  if (apiStatusCode(error) !== 404) return false;
  const message = apiErrorMessage(error);
  return message === 'HTTP 404' || /could not find the requested resource|page not found/i.test(message);
}

function describeKubeError(error: unknown, server: string | undefined): string {
  const status = apiStatusCode(error);
  if (status === undefined) {
    return `cannot reach the Kubernetes API server${server ? ` at ${server}` : ''}: ${causeChain(error)}`;
  }
  if (status === 401) return `the API server refused the credentials of the current kubeconfig (401 Unauthorized): ${apiErrorMessage(error)}`;
  if (isMissingResourceType(error)) {
    return 'the LokDarpan CustomResourceDefinitions are not installed in this cluster (kubectl apply -k manifests/base, or -f crds/)';
  }
  return apiErrorMessage(error);
}

// ------------------------------------------------------------------------------------------ kube access

const commonOptions = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const waitOptions = {
  wait: { type: 'boolean', default: false },
  timeout: { type: 'string', default: '30m' },
} as const;

const COMMON_HELP = `cluster options (like kubectl):
  --kubeconfig PATH      kubeconfig file (default: KUBECONFIG, else ~/.kube/config, else in-cluster)
  --context NAME         kubeconfig context (default: the current context)
  -n, --namespace NS     namespace (default: the context's namespace, else "default")
  --json                 machine-readable output
  -h, --help`;

const WAIT_HELP = `  --wait                 follow it until it is done; exit 0 if it succeeded, 1 if it failed
  --timeout DURATION     how long --wait waits (default 30m; e.g. 90s, 10m, 2h)`;

interface Cluster {
  client: KubeClient;
  namespace: string;
  server: string;
}

function connect(values: { kubeconfig?: string | undefined; context?: string | undefined; namespace?: string | undefined }, io: PluginIo, session: Session): Cluster {
  const kc = new KubeConfig();
  const fromEnv = io.env['KUBECONFIG'];
  try {
    if (values.kubeconfig !== undefined) kc.loadFromFile(values.kubeconfig);
    else if (fromEnv && !fromEnv.includes(':')) kc.loadFromFile(fromEnv);
    else kc.loadFromDefault();
  } catch (error) {
    throw new PluginFailure(`cannot load the kubeconfig${values.kubeconfig ? ` ${values.kubeconfig}` : ''}: ${causeChain(error)}`);
  }
  if (values.context !== undefined) {
    if (!kc.getContexts().some((c) => c.name === values.context)) {
      throw new PluginFailure(`context "${values.context}" is not in the kubeconfig (it has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    }
    kc.setCurrentContext(values.context);
  }
  const context = kc.getContextObject(kc.getCurrentContext());
  const server = kc.getCurrentCluster()?.server ?? '';
  session.server = server;
  return { client: new KubeClient(kc), namespace: values.namespace ?? context?.namespace ?? 'default', server };
}

const typeOf = (kind: ResourceKind) => resourceTypeOf(kind);

async function getObject(cluster: Cluster, kind: ResourceKind, name: string): Promise<KubeObject> {
  try {
    return await cluster.client.get<KubeObject>(resourcePath(typeOf(kind), cluster.namespace, name));
  } catch (error) {
    if (isNotFound(error) && !isMissingResourceType(error)) {
      throw new PluginFailure(`${kind.singular} "${name}" not found in namespace "${cluster.namespace}"`);
    }
    throw error;
  }
}

async function listObjects(cluster: Cluster, kind: ResourceKind, allNamespaces: boolean): Promise<KubeObject[]> {
  const list = await cluster.client.listAll<KubeObject>(resourcePath(typeOf(kind), allNamespaces ? undefined : cluster.namespace));
  return list.items;
}

function parse<T extends ParseArgsOptionsConfig>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function timeoutMs(text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new UsageError(`--timeout: ${(error as Error).message}`);
  }
}

function oneName(positionals: string[], what: string): string {
  if (positionals.length === 0) throw new UsageError(`name the ${what}`);
  if (positionals.length > 1) throw new UsageError(`one ${what} at a time; got ${positionals.join(', ')}`);
  const name = positionals[0] as string;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) throw new UsageError(`"${name}" is not a Kubernetes object name`);
  return name;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `read` until `done` says the outcome (true: success, false: failure) or the timeout passes.
 * Prints each new `progress` line. Returns the exit code.
 */
async function follow(
  io: PluginIo,
  limitMs: number,
  read: () => Promise<KubeObject>,
  judge: (object: KubeObject) => { done: boolean; ok?: boolean; progress?: string; result?: string },
  onTimeout: (object: KubeObject | undefined) => string,
): Promise<number> {
  const now = io.now ?? (() => new Date());
  const deadline = now().getTime() + limitMs;
  let last: KubeObject | undefined;
  let lastProgress = '';
  for (;;) {
    last = await read();
    const verdict = judge(last);
    if (verdict.progress && verdict.progress !== lastProgress) {
      io.stderr.write(`${verdict.progress}\n`);
      lastProgress = verdict.progress;
    }
    if (verdict.done) {
      if (verdict.result) (verdict.ok ? io.stdout : io.stderr).write(`${verdict.result}\n`);
      return verdict.ok ? EXIT.ok : EXIT.failure;
    }
    if (now().getTime() >= deadline) {
      io.stderr.write(`${onTimeout(last)}\n`);
      return EXIT.failure;
    }
    await sleep(io.pollIntervalMs ?? 1000);
  }
}

// ------------------------------------------------------------------------------------------ shapes read from status

interface ConditionLike {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

type Loose = Record<string, unknown>;

const rec = (v: unknown): Loose => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Loose) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const specOf = (o: KubeObject): Loose => rec(o['spec']);
const statusOf = (o: KubeObject): Loose => rec(o['status']);
const nameOf = (o: KubeObject): string => o.metadata?.name ?? '';
const namespaceOf = (o: KubeObject): string => o.metadata?.namespace ?? '';
const created = (o: KubeObject): string => str((o.metadata as Loose | undefined)?.['creationTimestamp']) ?? '';

function conditionsOf(o: KubeObject): ConditionLike[] {
  return arr(statusOf(o)['conditions']).map(rec).map((c) => {
    const out: ConditionLike = {};
    for (const key of ['type', 'status', 'reason', 'message', 'lastTransitionTime'] as const) {
      const value = str(c[key]);
      if (value !== undefined) out[key] = value;
    }
    return out;
  });
}

const conditionOf = (o: KubeObject, type: string): ConditionLike | undefined => conditionsOf(o).find((c) => c.type === type);

/** T with its possibly-undefined properties made optional (and never undefined). */
type Compact<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & { [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined> };

/** Drops undefined fields, so JSON output and exactOptionalPropertyTypes agree. */
function compact<T extends object>(value: T): Compact<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Compact<T>;
}

// ------------------------------------------------------------------------------------------ status report

export interface BackupSummary {
  name: string;
  phase?: string;
  size?: string;
  startTime?: string;
  completionTime?: string;
  replicated?: boolean;
  reason?: string;
  message?: string;
  destinations?: Array<{ name: string; verified?: boolean; error?: string }>;
}

export interface BackupPolicySummary {
  namespace: string;
  name: string;
  database?: string;
  schedule?: string;
  timeZone?: string;
  suspend?: boolean;
  conditions: ConditionLike[];
  lastSuccessfulBackup?: string;
  lastSuccessfulTime?: string;
  lastFailedBackup?: string;
  consecutiveFailures?: number;
  nextScheduleTime?: string;
  nextRestoreDrillTime?: string;
  lastRestoreDrill?: Loose;
  destination?: string;
  /** Replica destinations and what the newest finished backup says about each. */
  replicas: Array<{ name: string; bucket?: string; verified?: boolean; error?: string }>;
  recentBackups: BackupSummary[];
}

export interface RetentionPolicySummary {
  namespace: string;
  name: string;
  database?: string;
  schedule?: string;
  suspend?: boolean;
  dryRun?: boolean;
  conditions: ConditionLike[];
  nextRunTime?: string;
  lastRun?: {
    startTime?: string;
    durationMs?: number;
    dryRun?: boolean;
    partial?: boolean;
    matched?: number;
    deleted?: number;
    archived?: number;
    marked?: number;
    failedRules: string[];
  };
}

export interface RestoreSummary {
  namespace: string;
  name: string;
  backup?: string;
  phase?: string;
  targetDatabase?: string;
  startTime?: string;
  completionTime?: string;
  reason?: string;
  message?: string;
}

export interface DatabaseSummary {
  namespace: string;
  name: string;
  conditions: ConditionLike[];
  schemaVersion?: string;
  pendingCount?: number;
  pendingMigrations?: string[];
  planHash?: string;
  serverVersion?: string;
  pgvectorVersion?: string;
  suspend?: boolean;
  views?: { lastRefreshTime?: string; lastSuccessfulRefreshTime?: string; lastDurationMs?: number; nextRefreshTime?: string; lastError?: string };
  validation?: { lastRunTime?: string; nextRunTime?: string; results: Array<{ query: string; p95Ms?: number; thresholdMs?: number; passed?: boolean; usesIndex?: boolean }> };
  backupPolicies: BackupPolicySummary[];
  retentionPolicies: RetentionPolicySummary[];
}

export interface StatusReport {
  /** The namespace shown, or "*" for all. */
  namespace: string;
  generatedAt: string;
  databases: DatabaseSummary[];
  /** Policies whose LokdarpanDatabase is not among the shown ones (missing, or another name). */
  otherBackupPolicies: BackupPolicySummary[];
  otherRetentionPolicies: RetentionPolicySummary[];
  restores: RestoreSummary[];
}

const RECENT_BACKUPS = 5;
const RECENT_RESTORES = 5;

function summariseBackup(o: KubeObject): BackupSummary {
  const s = statusOf(o);
  const destinations = arr(s['destinations']).map(rec).map((d) => compact({ name: str(d['name']) ?? '?', verified: bool(d['verified']), error: str(d['error']) }));
  return compact({
    name: nameOf(o),
    phase: str(s['phase']),
    size: str(s['size']),
    startTime: str(s['startTime']),
    completionTime: str(s['completionTime']),
    replicated: bool(s['replicated']),
    reason: str(s['reason']),
    message: str(s['message']),
    destinations: destinations.length > 0 ? destinations : undefined,
  });
}

const newestFirst = (a: KubeObject, b: KubeObject): number => {
  const t = (o: KubeObject): string => str(statusOf(o)['startTime']) ?? created(o);
  return t(b).localeCompare(t(a)) || nameOf(b).localeCompare(nameOf(a));
};

function summarisePolicy(policy: KubeObject, backups: KubeObject[]): BackupPolicySummary {
  const spec = specOf(policy);
  const s = statusOf(policy);
  const mine = backups.filter((b) => namespaceOf(b) === namespaceOf(policy) && str(rec(specOf(b)['policyRef'])['name']) === nameOf(policy)).sort(newestFirst);
  const finished = mine.find((b) => ['Completed', 'Failed'].includes(str(statusOf(b)['phase']) ?? ''));
  const finishedDestinations = arr(finished ? statusOf(finished)['destinations'] : undefined).map(rec);
  const replicas = arr(spec['replicas']).map(rec).map((r) => {
    const name = str(r['name']) ?? '?';
    const seen = finishedDestinations.find((d) => d['name'] === name);
    return compact({ name, bucket: str(r['bucket']), verified: seen ? bool(seen['verified']) : undefined, error: seen ? str(seen['error']) : undefined });
  });
  const drill = rec(s['lastRestoreDrill']);
  return compact({
    namespace: namespaceOf(policy),
    name: nameOf(policy),
    database: str(rec(spec['databaseRef'])['name']),
    schedule: str(spec['schedule']),
    timeZone: str(spec['timeZone']),
    suspend: bool(spec['suspend']),
    conditions: conditionsOf(policy),
    lastSuccessfulBackup: str(s['lastSuccessfulBackup']),
    lastSuccessfulTime: str(s['lastSuccessfulTime']),
    lastFailedBackup: str(s['lastFailedBackup']),
    consecutiveFailures: num(s['consecutiveFailures']),
    nextScheduleTime: str(s['nextScheduleTime']),
    nextRestoreDrillTime: str(s['nextRestoreDrillTime']),
    lastRestoreDrill: Object.keys(drill).length > 0 ? drill : undefined,
    destination: str(rec(spec['destination'])['name']),
    replicas,
    recentBackups: mine.slice(0, RECENT_BACKUPS).map(summariseBackup),
  });
}

function summariseRetention(policy: KubeObject): RetentionPolicySummary {
  const spec = specOf(policy);
  const s = statusOf(policy);
  const run = rec(s['lastRun']);
  const lastRun =
    Object.keys(run).length === 0
      ? undefined
      : compact({
          startTime: str(run['startTime']),
          durationMs: num(run['durationMs']),
          dryRun: bool(run['dryRun']),
          partial: bool(run['partial']),
          matched: num(run['matched']),
          deleted: num(run['deleted']),
          archived: num(run['archived']),
          marked: num(run['marked']),
          failedRules: arr(run['rules']).map(rec).filter((r) => str(r['error'])).map((r) => `${str(r['name']) ?? '?'}: ${str(r['error'])}`),
        });
  return compact({
    namespace: namespaceOf(policy),
    name: nameOf(policy),
    database: str(rec(spec['databaseRef'])['name']),
    schedule: str(spec['schedule']),
    suspend: bool(spec['suspend']),
    dryRun: bool(spec['dryRun']),
    conditions: conditionsOf(policy),
    nextRunTime: str(s['nextRunTime']),
    lastRun,
  });
}

function summariseDatabase(db: KubeObject, policies: BackupPolicySummary[], retention: RetentionPolicySummary[]): DatabaseSummary {
  const s = statusOf(db);
  const views = rec(s['views']);
  const validation = rec(s['validation']);
  const server = rec(s['server']);
  const pending = arr(s['pendingMigrations']).filter((p): p is string => typeof p === 'string');
  const attached = <T extends { namespace: string; database?: string }>(list: T[]): T[] => list.filter((p) => p.namespace === namespaceOf(db) && p.database === nameOf(db));
  return compact({
    namespace: namespaceOf(db),
    name: nameOf(db),
    conditions: conditionsOf(db),
    schemaVersion: str(s['schemaVersion']),
    pendingCount: num(s['pendingCount']),
    pendingMigrations: pending.length > 0 ? pending : undefined,
    planHash: str(rec(s['plan'])['hash']),
    serverVersion: str(server['version']),
    pgvectorVersion: str(server['pgvectorVersion']),
    suspend: bool(specOf(db)['suspend']),
    views:
      Object.keys(views).length === 0
        ? undefined
        : compact({
            lastRefreshTime: str(views['lastRefreshTime']),
            lastSuccessfulRefreshTime: str(views['lastSuccessfulRefreshTime']),
            lastDurationMs: num(views['lastDurationMs']),
            nextRefreshTime: str(views['nextRefreshTime']),
            lastError: str(views['lastError']),
          }),
    validation:
      Object.keys(validation).length === 0
        ? undefined
        : compact({
            lastRunTime: str(validation['lastRunTime']),
            nextRunTime: str(validation['nextRunTime']),
            results: arr(validation['results']).map(rec).map((r) =>
              compact({ query: str(r['query']) ?? '?', p95Ms: num(r['p95Ms']), thresholdMs: num(r['thresholdMs']), passed: bool(r['passed']), usesIndex: bool(r['usesIndex']) }),
            ),
          }),
    backupPolicies: attached(policies),
    retentionPolicies: attached(retention),
  });
}

function summariseRestore(o: KubeObject): RestoreSummary {
  const s = statusOf(o);
  return compact({
    namespace: namespaceOf(o),
    name: nameOf(o),
    backup: str(rec(specOf(o)['backupRef'])['name']),
    phase: str(s['phase']),
    targetDatabase: str(s['targetDatabase']),
    startTime: str(s['startTime']),
    completionTime: str(s['completionTime']),
    reason: str(s['reason']),
    message: str(s['message']),
  });
}

/** Pure: the report from the listed objects (optionally only the database `only` and what belongs to it). */
export function buildStatusReport(
  objects: { databases: KubeObject[]; backupPolicies: KubeObject[]; backups: KubeObject[]; retentionPolicies: KubeObject[]; restores: KubeObject[] },
  options: { namespace: string; now: Date; only?: string },
): StatusReport {
  const byName = (a: KubeObject, b: KubeObject): number => namespaceOf(a).localeCompare(namespaceOf(b)) || nameOf(a).localeCompare(nameOf(b));
  const policies = [...objects.backupPolicies].sort(byName).map((p) => summarisePolicy(p, objects.backups));
  const retention = [...objects.retentionPolicies].sort(byName).map(summariseRetention);
  const databases = [...objects.databases].sort(byName).filter((d) => options.only === undefined || nameOf(d) === options.only).map((d) => summariseDatabase(d, policies, retention));
  const shown = new Set(databases.map((d) => `${d.namespace}/${d.name}`));
  const belongs = (p: { namespace: string; database?: string }): boolean => options.only === undefined || p.database === options.only;
  const other = <T extends { namespace: string; database?: string }>(list: T[]): T[] => list.filter((p) => !shown.has(`${p.namespace}/${p.database ?? ''}`) && belongs(p));
  const backupsOfShown = new Set(databases.flatMap((d) => d.backupPolicies.flatMap((p) => objects.backups.filter((b) => str(rec(specOf(b)['policyRef'])['name']) === p.name && namespaceOf(b) === p.namespace).map((b) => `${namespaceOf(b)}/${nameOf(b)}`))));
  const restores = [...objects.restores]
    .filter((r) => {
      if (options.only === undefined) return true;
      const target = rec(specOf(r)['target']);
      return str(rec(target['databaseRef'])['name']) === options.only || backupsOfShown.has(`${namespaceOf(r)}/${str(rec(specOf(r)['backupRef'])['name']) ?? ''}`);
    })
    .sort(newestFirst)
    .slice(0, RECENT_RESTORES)
    .map(summariseRestore);
  return {
    namespace: options.namespace,
    generatedAt: options.now.toISOString(),
    databases,
    otherBackupPolicies: other(policies),
    otherRetentionPolicies: other(retention),
    restores,
  };
}

// ------------------------------------------------------------------------------------------ rendering

/** "3m ago" / "in 2h" from an RFC 3339 time. */
export function relative(iso: string | undefined, now: Date): string {
  if (iso === undefined) return '';
  const ms = Date.parse(iso) - now.getTime();
  if (Number.isNaN(ms)) return '';
  const abs = Math.abs(ms);
  const text =
    abs < 60_000 ? `${Math.round(abs / 1000)}s` : abs < 3_600_000 ? `${Math.round(abs / 60_000)}m` : abs < 172_800_000 ? `${Math.round(abs / 3_600_000)}h` : `${Math.round(abs / 86_400_000)}d`;
  return ms < 0 ? `${text} ago` : `in ${text}`;
}

function when(iso: string | undefined, now: Date, absent = 'never'): string {
  if (iso === undefined) return absent;
  return `${iso} (${relative(iso, now)})`;
}

function conditionLines(conditions: ConditionLike[], indent: string): string[] {
  if (conditions.length === 0) return [`${indent}(no conditions yet: is the operator running?)`];
  const width = Math.max(...conditions.map((c) => (c.type ?? '').length));
  return conditions.map((c) => `${indent}${(c.type ?? '?').padEnd(width)}  ${(c.status ?? '?').padEnd(7)}  ${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}`);
}

function headline(conditions: ConditionLike[]): string {
  const ready = conditions.find((c) => c.type === 'Ready');
  return ready ? `Ready=${ready.status ?? '?'} (${ready.reason ?? ''})` : 'Ready=?';
}

function renderPolicy(p: BackupPolicySummary, now: Date, indent: string): string[] {
  const lines = [`${indent}BackupPolicy ${p.name}: ${headline(p.conditions)}  schedule "${p.schedule ?? '?'}" ${p.timeZone ?? 'UTC'}${p.suspend ? '  SUSPENDED' : ''}`];
  const i2 = `${indent}  `;
  lines.push(`${i2}last success: ${p.lastSuccessfulTime ? `${when(p.lastSuccessfulTime, now)} ${p.lastSuccessfulBackup ?? ''}`.trimEnd() : 'never'}`);
  lines.push(`${i2}next run:     ${when(p.nextScheduleTime, now, 'not scheduled yet')}`);
  lines.push(`${i2}failures:     ${p.consecutiveFailures ?? 0} in a row${p.lastFailedBackup ? ` (last failed: ${p.lastFailedBackup})` : ''}`);
  const replicas = p.replicas.map((r) => `${r.name}${r.verified === true ? ' verified' : r.error ? ` FAILED: ${r.error}` : r.verified === false ? ' not verified' : ''}`);
  lines.push(`${i2}destinations: ${p.destination ?? '?'} (primary)${replicas.length > 0 ? `; replicas: ${replicas.join(', ')}` : '; no replicas'}`);
  if (p.lastRestoreDrill || p.nextRestoreDrillTime) {
    const d = p.lastRestoreDrill ?? {};
    const last = str(d['time']) ? `${when(str(d['time']), now)} ${d['succeeded'] === true ? 'succeeded' : d['succeeded'] === false ? `FAILED${str(d['message']) ? `: ${str(d['message'])}` : ''}` : ''}` : 'never';
    lines.push(`${i2}restore drill: last ${last}; next ${when(p.nextRestoreDrillTime, now, 'not scheduled yet')}`);
  }
  const bad = p.conditions.filter((c) => c.type !== 'Ready' && c.status === 'False');
  for (const c of bad) lines.push(`${i2}${c.type}=False ${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}`);
  if (p.recentBackups.length > 0) {
    lines.push(`${i2}recent backups:`);
    const w = Math.max(...p.recentBackups.map((b) => b.name.length));
    for (const b of p.recentBackups) {
      const extra = b.phase === 'Failed' ? `  ${b.reason ?? ''}${b.message ? `: ${b.message}` : ''}` : b.replicated === false ? '  replicas not verified' : '';
      lines.push(`${i2}  ${b.name.padEnd(w)}  ${(b.phase ?? 'Pending').padEnd(9)}  ${(b.size ?? '').padEnd(9)}  ${b.startTime ? relative(b.startTime, now) : ''}${extra}`);
    }
  }
  return lines;
}

function renderRetention(r: RetentionPolicySummary, now: Date, indent: string): string[] {
  const lines = [`${indent}RetentionPolicy ${r.name}: ${headline(r.conditions)}  schedule "${r.schedule ?? '?'}"${r.suspend ? '  SUSPENDED' : ''}${r.dryRun ? '  DRY RUN' : ''}`];
  const i2 = `${indent}  `;
  const run = r.lastRun;
  if (run === undefined) lines.push(`${i2}last run: never`);
  else {
    const counts = run.dryRun ? `would affect ${run.matched ?? 0} rows` : `matched ${run.matched ?? 0}, deleted ${run.deleted ?? 0}, archived ${run.archived ?? 0}, marked ${run.marked ?? 0}`;
    lines.push(`${i2}last run: ${when(run.startTime, now)}: ${counts}${run.durationMs !== undefined ? ` in ${run.durationMs} ms` : ''}${run.partial ? ' (partial: the budget ran out)' : ''}`);
    for (const f of run.failedRules) lines.push(`${i2}  FAILED ${f}`);
  }
  lines.push(`${i2}next run: ${when(r.nextRunTime, now, 'not scheduled yet')}`);
  return lines;
}

export function renderStatusReport(report: StatusReport, now: Date): string {
  const lines: string[] = [];
  const ns = (namespace: string): string => (report.namespace === '*' ? `${namespace}/` : '');
  if (report.databases.length === 0 && report.otherBackupPolicies.length === 0 && report.otherRetentionPolicies.length === 0) {
    lines.push(`No LokdarpanDatabases ${report.namespace === '*' ? 'in any namespace' : `in namespace "${report.namespace}"`}.`);
  }
  for (const d of report.databases) {
    const schema = d.schemaVersion ? `schema ${d.schemaVersion}` : 'no schema yet';
    const pending = d.pendingCount !== undefined ? `, ${d.pendingCount} pending` : '';
    lines.push(`LokdarpanDatabase ${ns(d.namespace)}${d.name}: ${headline(d.conditions)}  ${schema}${pending}${d.suspend ? '  SUSPENDED' : ''}`);
    if (d.serverVersion) lines.push(`  server: PostgreSQL ${d.serverVersion}${d.pgvectorVersion ? `, pgvector ${d.pgvectorVersion}` : ''}`);
    if (d.pendingMigrations) lines.push(`  pending: ${d.pendingMigrations.join(', ')}${d.planHash ? ` (plan ${d.planHash})` : ''}`);
    lines.push('  conditions:', ...conditionLines(d.conditions, '    '));
    const v = d.views;
    lines.push(
      v === undefined
        ? '  views: not refreshed yet'
        : `  views: last refresh ${when(v.lastRefreshTime, now)}${v.lastDurationMs !== undefined ? ` in ${v.lastDurationMs} ms` : ''}${v.lastSuccessfulRefreshTime !== v.lastRefreshTime ? `; last success ${when(v.lastSuccessfulRefreshTime, now)}` : ''}; next ${when(v.nextRefreshTime, now, 'not scheduled yet')}`,
    );
    if (v?.lastError && v.lastSuccessfulRefreshTime !== v.lastRefreshTime) lines.push(`    last error: ${v.lastError}`);
    const val = d.validation;
    if (val === undefined) lines.push('  validation: not run yet');
    else {
      lines.push(`  validation: last run ${when(val.lastRunTime, now)}; next ${when(val.nextRunTime, now, 'not scheduled yet')}`);
      if (val.results.length > 0) {
        const w = Math.max(5, ...val.results.map((r) => r.query.length));
        lines.push(`    ${'query'.padEnd(w)}  ${'p95 ms'.padStart(8)}  ${'limit ms'.padStart(8)}  verdict`);
        for (const r of val.results) {
          const verdict = r.passed === true ? 'ok' : r.passed === false ? 'OVER THRESHOLD' : '?';
          lines.push(`    ${r.query.padEnd(w)}  ${String(r.p95Ms ?? '-').padStart(8)}  ${String(r.thresholdMs ?? '-').padStart(8)}  ${verdict}${r.usesIndex === false ? ' (no index used)' : ''}`);
        }
      }
    }
    if (d.backupPolicies.length === 0) lines.push('  no BackupPolicy');
    for (const p of d.backupPolicies) lines.push(...renderPolicy(p, now, '  '));
    if (d.retentionPolicies.length === 0) lines.push('  no RetentionPolicy');
    for (const r of d.retentionPolicies) lines.push(...renderRetention(r, now, '  '));
    lines.push('');
  }
  if (report.otherBackupPolicies.length > 0 || report.otherRetentionPolicies.length > 0) {
    lines.push('Policies of databases not shown above:');
    for (const p of report.otherBackupPolicies) lines.push(...renderPolicy({ ...p, name: `${ns(p.namespace)}${p.name} (database ${p.database ?? '?'})` }, now, '  '));
    for (const r of report.otherRetentionPolicies) lines.push(...renderRetention({ ...r, name: `${ns(r.namespace)}${r.name} (database ${r.database ?? '?'})` }, now, '  '));
    lines.push('');
  }
  if (report.restores.length > 0) {
    lines.push('Recent restores:');
    for (const r of report.restores) {
      const detail = r.phase === 'Failed' ? `  ${r.reason ?? ''}${r.message ? `: ${r.message}` : ''}` : r.targetDatabase ? `  into ${r.targetDatabase}` : '';
      lines.push(`  ${ns(r.namespace)}${r.name}  ${(r.phase ?? 'Pending').padEnd(9)}  backup ${r.backup ?? '(from a bucket)'}  ${r.startTime ? relative(r.startTime, now) : ''}${detail}`);
    }
    lines.push('');
  }
  return `${lines.map((l) => l.trimEnd()).join('\n').trimEnd()}\n`;
}

// ------------------------------------------------------------------------------------------ status

export const STATUS_USAGE = `usage: lokdarpan status [NAME] [-n NS | -A] [--json]

A summary of LokdarpanDatabases (conditions, schema, pending migrations, view refreshes, the last
performance validation against its thresholds), their BackupPolicies (last success, next run,
failures, replicas, recent Backups), RetentionPolicies (last run counts) and recent Restores.
With NAME, only that database and what belongs to it.

  -A, --all-namespaces   every namespace
${COMMON_HELP}
`;

export async function runStatus(argv: string[], io: PluginIo): Promise<number> {
  return guarded('status', STATUS_USAGE, io, async (session) => {
    const { values, positionals } = parse(argv, { ...commonOptions, 'all-namespaces': { type: 'boolean', short: 'A', default: false } });
    if (values.help) {
      io.stdout.write(STATUS_USAGE);
      return EXIT.ok;
    }
    if (positionals.length > 1) throw new UsageError(`one database at a time; got ${positionals.join(', ')}`);
    const all = values['all-namespaces'] === true;
    if (all && values.namespace !== undefined) throw new UsageError('-n and -A do not go together');
    const only = positionals[0];
    if (only !== undefined && all) throw new UsageError('NAME needs a namespace (-n), not -A');
    const cluster = connect(values, io, session);
    const [databases, backupPolicies, backups, retentionPolicies, restores] = await Promise.all(
      [lokdarpanDatabaseKind, backupPolicyKind, backupKind, retentionPolicyKind, restoreKind].map((kind) => listObjects(cluster, kind, all)),
    ) as [KubeObject[], KubeObject[], KubeObject[], KubeObject[], KubeObject[]];
    if (only !== undefined && !databases.some((d) => nameOf(d) === only)) {
      throw new PluginFailure(`${lokdarpanDatabaseKind.singular} "${only}" not found in namespace "${cluster.namespace}"`);
    }
    const now = (io.now ?? (() => new Date()))();
    const report = buildStatusReport(
      { databases, backupPolicies, backups, retentionPolicies, restores },
      { namespace: all ? '*' : cluster.namespace, now, ...(only === undefined ? {} : { only }) },
    );
    io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatusReport(report, now));
    return EXIT.ok;
  });
}

// ------------------------------------------------------------------------------------------ backup

export const BACKUP_NOW_USAGE = `usage: lokdarpan backup POLICY [-n NS] [--wait [--timeout 30m]] [--json]

Creates an on-demand Backup "<POLICY>-manual-<yyyymmdd-hhmmss>" of the BackupPolicy POLICY; the
operator takes it with the policy's database, destinations and recipients.
(\`lokdarpan backup --bucket ...\` without a POLICY runs the backup engine directly, without a cluster.)

${WAIT_HELP}
${COMMON_HELP}
`;

/** `<policy>-manual-<yyyymmdd-hhmmss>` in UTC, at most 63 characters. */
export function manualBackupName(policy: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const suffix = `-manual-${stamp}`;
  return `${policy.slice(0, 63 - suffix.length).replace(/[-.]+$/, '')}${suffix}`;
}

/** The status.progress of a running Backup or Restore as one line, if it has one. */
function progressLine(p: Loose): string | undefined {
  const bytes = num(p['bytes']);
  const bytesPerSecond = num(p['bytesPerSecond']);
  const elapsedSeconds = num(p['elapsedSeconds']);
  const updateTime = str(p['updateTime']);
  if (bytes === undefined || bytesPerSecond === undefined || elapsedSeconds === undefined || updateTime === undefined) return undefined;
  const progress: TransferProgress = { bytes, bytesPerSecond, elapsedSeconds, updateTime };
  for (const key of ['totalBytes', 'percent', 'etaSeconds'] as const) {
    const value = num(p[key]);
    if (value !== undefined) progress[key] = value;
  }
  return describeProgress(progress);
}

function phaseVerdict(kind: string, name: string) {
  return (object: KubeObject): { done: boolean; ok?: boolean; progress?: string; result?: string } => {
    const s = statusOf(object);
    const phase = str(s['phase']) ?? 'Pending';
    const detail = [str(s['reason']), str(s['message'])].filter(Boolean).join(': ');
    if (phase === 'Completed') return { done: true, ok: true, progress: `${kind} ${name}: Completed`, result: `${kind} ${name} completed${detail ? `: ${detail}` : ''}` };
    if (phase === 'Failed') return { done: true, ok: false, progress: `${kind} ${name}: Failed`, result: `${kind} ${name} failed${detail ? `: ${detail}` : ''}` };
    const progress = phase === 'Running' ? progressLine(rec(s['progress'])) : undefined;
    return { done: false, progress: `${kind} ${name}: ${phase}${progress ? `: ${progress}` : ''}` };
  };
}

export async function runBackupNow(argv: string[], io: PluginIo): Promise<number> {
  return guarded('backup', BACKUP_NOW_USAGE, io, async (session) => {
    const { values, positionals } = parse(argv, { ...commonOptions, ...waitOptions });
    if (values.help) {
      io.stdout.write(BACKUP_NOW_USAGE);
      return EXIT.ok;
    }
    const policy = oneName(positionals, 'BackupPolicy');
    const limit = timeoutMs(values.timeout as string);
    const cluster = connect(values, io, session);
    await getObject(cluster, backupPolicyKind, policy);
    const now = (io.now ?? (() => new Date()))();
    const name = manualBackupName(policy, now);
    const body = {
      apiVersion: API_VERSION,
      kind: backupKind.kind,
      metadata: { name, namespace: cluster.namespace, labels: { [POLICY_LABEL]: policy, 'lokdarpan.io/trigger': 'manual' } },
      spec: { policyRef: { name: policy } },
    };
    try {
      await cluster.client.create(resourcePath(typeOf(backupKind), cluster.namespace), body);
    } catch (error) {
      if (isConflict(error)) throw new PluginFailure(`backup "${name}" already exists; try again in a second`);
      throw error;
    }
    io.stdout.write(values.json ? `${JSON.stringify({ created: { kind: 'Backup', namespace: cluster.namespace, name } })}\n` : `backup.lokdarpan.io/${name} created (policy ${policy}, namespace ${cluster.namespace})\n`);
    if (!values.wait) return EXIT.ok;
    return follow(
      io,
      limit,
      () => getObject(cluster, backupKind, name),
      phaseVerdict('backup', name),
      (last) => `backup ${name} is still ${str(statusOf(last ?? {})['phase']) ?? 'Pending'} after ${values.timeout}${last && !str(statusOf(last)['phase']) ? ' (nothing has picked it up: is the operator running?)' : ''}`,
    );
  });
}

// ------------------------------------------------------------------------------------------ refresh / validate / retention-run

interface AnnotationRequest {
  command: string;
  usage: string;
  kind: ResourceKind;
  annotation: string;
  /** Whether the status shows the request acted on, and how it went. */
  judge: (object: KubeObject, requestedAt: string) => { done: boolean; ok?: boolean; progress?: string; result?: string };
}

async function requestByAnnotation(spec: AnnotationRequest, argv: string[], io: PluginIo): Promise<number> {
  return guarded(spec.command, spec.usage, io, async (session) => {
    const { values, positionals } = parse(argv, { ...commonOptions, ...waitOptions });
    if (values.help) {
      io.stdout.write(spec.usage);
      return EXIT.ok;
    }
    const name = oneName(positionals, spec.kind.kind);
    const limit = timeoutMs(values.timeout as string);
    const cluster = connect(values, io, session);
    await getObject(cluster, spec.kind, name);
    const requestedAt = (io.now ?? (() => new Date()))().toISOString();
    await cluster.client.patch(resourcePath(typeOf(spec.kind), cluster.namespace, name), { metadata: { annotations: { [spec.annotation]: requestedAt } } }, 'merge');
    io.stdout.write(
      values.json
        ? `${JSON.stringify({ annotated: { kind: spec.kind.kind, namespace: cluster.namespace, name, annotation: spec.annotation, value: requestedAt } })}\n`
        : `${spec.kind.singular}/${name} annotated ${spec.annotation}=${requestedAt}\n`,
    );
    if (!values.wait) return EXIT.ok;
    return follow(
      io,
      limit,
      () => getObject(cluster, spec.kind, name),
      (object) => spec.judge(object, requestedAt),
      () => `${spec.kind.singular} ${name}: the operator has not acted on the request of ${requestedAt} within ${values.timeout} (is it running, and is the resource Ready?)`,
    );
  });
}

const conditionText = (c: ConditionLike | undefined): string => (c ? `${c.type}=${c.status ?? '?'} ${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}` : '');

export const REFRESH_USAGE = `usage: lokdarpan refresh NAME [-n NS] [--wait [--timeout 30m]]

Asks the operator to refresh the materialized views of the LokdarpanDatabase NAME now
(REFRESH MATERIALIZED VIEW CONCURRENTLY), whatever its schedule: sets the annotation
${REFRESH_REQUEST_ANNOTATION} to the current time.

${WAIT_HELP}
${COMMON_HELP}
`;

export async function runRefresh(argv: string[], io: PluginIo): Promise<number> {
  return requestByAnnotation(
    {
      command: 'refresh',
      usage: REFRESH_USAGE,
      kind: lokdarpanDatabaseKind,
      annotation: REFRESH_REQUEST_ANNOTATION,
      judge: (object, requestedAt) => {
        const views = rec(statusOf(object)['views']);
        if (str(views['lastRequest']) !== requestedAt) return { done: false, progress: `waiting for the refresh (${conditionText(conditionOf(object, 'ViewsFresh')) || 'not refreshed yet'})` };
        const ok = str(views['lastSuccessfulRefreshTime']) !== undefined && views['lastSuccessfulRefreshTime'] === views['lastRefreshTime'];
        return ok
          ? { done: true, ok, result: `views refreshed at ${str(views['lastRefreshTime'])}${num(views['lastDurationMs']) !== undefined ? ` in ${num(views['lastDurationMs'])} ms` : ''}` }
          : { done: true, ok, result: `view refresh failed: ${str(views['lastError']) ?? conditionText(conditionOf(object, 'ViewsFresh'))}` };
      },
    },
    argv,
    io,
  );
}

export const VALIDATE_USAGE = `usage: lokdarpan validate NAME [-n NS] [--wait [--timeout 30m]]

Asks the operator to run the performance validation of the LokdarpanDatabase NAME now: sets the
annotation ${VALIDATE_REQUEST_ANNOTATION} to the current time. With --wait, exit 0 when every
query met its threshold, 1 when one did not (the figures are printed).

${WAIT_HELP}
${COMMON_HELP}
`;

export async function runValidate(argv: string[], io: PluginIo): Promise<number> {
  return requestByAnnotation(
    {
      command: 'validate',
      usage: VALIDATE_USAGE,
      kind: lokdarpanDatabaseKind,
      annotation: VALIDATE_REQUEST_ANNOTATION,
      judge: (object, requestedAt) => {
        const validation = rec(statusOf(object)['validation']);
        if (str(validation['lastRequest']) !== requestedAt) return { done: false, progress: 'waiting for the validation' };
        const healthy = conditionOf(object, 'PerformanceHealthy');
        const figures = arr(validation['results'])
          .map(rec)
          .map((r) => `${str(r['query']) ?? '?'} p95 ${num(r['p95Ms']) ?? '-'} ms (limit ${num(r['thresholdMs']) ?? '-'} ms) ${r['passed'] === true ? 'ok' : r['passed'] === false ? 'OVER' : '?'}`);
        const ok = healthy?.status === 'True';
        return { done: true, ok, result: [`validation ${ok ? 'passed' : 'failed'}: ${conditionText(healthy)}`, ...figures.map((f) => `  ${f}`)].join('\n') };
      },
    },
    argv,
    io,
  );
}

export const RETENTION_RUN_USAGE = `usage: lokdarpan retention-run NAME [-n NS] [--wait [--timeout 30m]]

Asks the operator to run the RetentionPolicy NAME now, whatever its schedule: sets the annotation
${RUN_REQUEST_ANNOTATION} to the current time. With --wait, prints the run's counts.

${WAIT_HELP}
${COMMON_HELP}
`;

export async function runRetentionRun(argv: string[], io: PluginIo): Promise<number> {
  return requestByAnnotation(
    {
      command: 'retention-run',
      usage: RETENTION_RUN_USAGE,
      kind: retentionPolicyKind,
      annotation: RUN_REQUEST_ANNOTATION,
      judge: (object, requestedAt) => {
        const s = statusOf(object);
        const ready = conditionOf(object, 'Ready');
        const stalled = conditionOf(object, 'Stalled');
        if (str(s['lastRequest']) !== requestedAt) {
          // A run that fails before it starts (database missing, bad spec) stalls without recording the request.
          const since = (c: ConditionLike | undefined): boolean => c?.lastTransitionTime !== undefined && Date.parse(c.lastTransitionTime) >= Math.floor(Date.parse(requestedAt) / 1000) * 1000;
          if (stalled?.status === 'True' && since(stalled)) return { done: true, ok: false, result: `retention run failed: ${conditionText(stalled)}` };
          return { done: false, progress: 'waiting for the run' };
        }
        const summary = summariseRetention(object);
        const run = summary.lastRun;
        const counts = run ? `matched ${run.matched ?? 0}, deleted ${run.deleted ?? 0}, archived ${run.archived ?? 0}, marked ${run.marked ?? 0}${run.partial ? ' (partial)' : ''}${run.dryRun ? ' (dry run)' : ''}` : '';
        const ok = ready?.status === 'True' && (run?.failedRules.length ?? 0) === 0;
        const failures = run?.failedRules.map((f) => `  FAILED ${f}`) ?? [];
        return { done: true, ok, result: [`retention run ${ok ? 'finished' : 'failed'}: ${counts}${ok ? '' : `; ${conditionText(ready)}`}`, ...failures].join('\n') };
      },
    },
    argv,
    io,
  );
}

// ------------------------------------------------------------------------------------------ restore

export const RESTORE_NOW_USAGE = `usage: lokdarpan restore BACKUP (--connection-secret SECRET | --database-ref NAME) --identity-secret SECRET[:KEY]
                        [--to-database NAME] [--overwrite] [-n NS] [--wait [--timeout 30m]]

Creates a Restore of the completed Backup BACKUP; the operator downloads, decrypts and restores it,
then checks the row counts against the backup's manifest.
(\`lokdarpan restore --bucket ...\` without a BACKUP runs the restore engine directly, without a cluster.)

  --connection-secret S  restore through this connection Secret (same keys as a LokdarpanDatabase's)
  --database-ref NAME    or through this LokdarpanDatabase's connection
  --to-database NAME     create this new database on that server and restore into it (default: the
                         connection's own database, which must be empty unless --overwrite)
  --identity-secret S[:KEY]  Secret with the age identity (AGE-SECRET-KEY-1...), key "identity" by default
  --overwrite            allow a non-empty target (objects in the dump are dropped and recreated)
  --name NAME            name of the Restore (default <BACKUP>-restore-<yyyymmdd-hhmmss>)
${WAIT_HELP}
${COMMON_HELP}
`;

export async function runRestoreNow(argv: string[], io: PluginIo): Promise<number> {
  return guarded('restore', RESTORE_NOW_USAGE, io, async (session) => {
    const { values, positionals } = parse(argv, {
      ...commonOptions,
      ...waitOptions,
      'to-database': { type: 'string' },
      'connection-secret': { type: 'string' },
      'database-ref': { type: 'string' },
      'identity-secret': { type: 'string' },
      overwrite: { type: 'boolean', default: false },
      name: { type: 'string' },
    });
    if (values.help) {
      io.stdout.write(RESTORE_NOW_USAGE);
      return EXIT.ok;
    }
    const backup = oneName(positionals, 'Backup');
    const limit = timeoutMs(values.timeout as string);
    const connectionSecret = values['connection-secret'];
    const databaseRef = values['database-ref'];
    if ((connectionSecret === undefined) === (databaseRef === undefined)) throw new UsageError('give exactly one of --connection-secret and --database-ref');
    const identity = values['identity-secret'];
    if (identity === undefined) throw new UsageError('--identity-secret is required');
    const [identityName, identityKey = 'identity', ...extra] = identity.split(':');
    if (!identityName || extra.length > 0) throw new UsageError(`--identity-secret takes SECRET or SECRET:KEY; got "${identity}"`);
    const toDatabase = values['to-database'];
    if (toDatabase !== undefined && !/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(toDatabase)) throw new UsageError(`--to-database "${toDatabase}" is not a plain PostgreSQL database name`);
    const cluster = connect(values, io, session);
    const source = await getObject(cluster, backupKind, backup);
    const phase = str(statusOf(source)['phase']);
    if (phase !== 'Completed') io.stderr.write(`warning: backup ${backup} is ${phase ?? 'Pending'}, not Completed; the Restore waits for it or fails\n`);
    const now = (io.now ?? (() => new Date()))();
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const name = values.name ?? `${backup.slice(0, 63 - 24).replace(/[-.]+$/, '')}-restore-${stamp}`;
    const target = compact({
      databaseRef: databaseRef === undefined ? undefined : { name: databaseRef },
      connectionSecret,
      databaseName: toDatabase,
    });
    const body = {
      apiVersion: API_VERSION,
      kind: restoreKind.kind,
      metadata: { name, namespace: cluster.namespace, labels: { 'lokdarpan.io/trigger': 'manual' } },
      spec: { backupRef: { name: backup }, target, identitySecret: { name: identityName, key: identityKey }, overwrite: values.overwrite === true },
    };
    try {
      await cluster.client.create(resourcePath(typeOf(restoreKind), cluster.namespace), body);
    } catch (error) {
      if (isConflict(error)) throw new PluginFailure(`restore "${name}" already exists`);
      throw error;
    }
    io.stdout.write(values.json ? `${JSON.stringify({ created: { kind: 'Restore', namespace: cluster.namespace, name } })}\n` : `restore.lokdarpan.io/${name} created (backup ${backup}, namespace ${cluster.namespace})\n`);
    if (!values.wait) return EXIT.ok;
    return follow(
      io,
      limit,
      () => getObject(cluster, restoreKind, name),
      phaseVerdict('restore', name),
      (last) => `restore ${name} is still ${str(statusOf(last ?? {})['phase']) ?? 'Pending'} after ${values.timeout}`,
    );
  });
}

// ------------------------------------------------------------------------------------------ the list

export interface PluginCommand {
  name: string;
  summary: string;
  run: PluginRun;
}

export const pluginCommands: readonly PluginCommand[] = [
  { name: 'status', summary: 'summary of LokdarpanDatabases, their backups, retention and restores in the cluster', run: runStatus },
  { name: 'backup', summary: 'POLICY: create an on-demand Backup of a BackupPolicy (--wait to follow it)', run: runBackupNow },
  { name: 'refresh', summary: 'NAME: refresh a LokdarpanDatabase\'s materialized views now', run: runRefresh },
  { name: 'validate', summary: 'NAME: run a LokdarpanDatabase\'s performance validation now', run: runValidate },
  { name: 'retention-run', summary: 'NAME: run a RetentionPolicy now', run: runRetentionRun },
  { name: 'restore', summary: 'BACKUP: create a Restore of a Backup into a database', run: runRestoreNow },
];

/**
 * `backup` and `restore` exist twice: as cluster commands here (`backup POLICY`, `restore BACKUP ...`)
 * and as engine commands in ./backup.ts (flags only, no positional). The cluster form is meant when the
 * first argument is a name rather than a flag; `--help` alone shows the cluster form.
 */
export function isClusterForm(argv: readonly string[]): boolean {
  const first = argv[0];
  return first === undefined || first === '--help' || first === '-h' || !first.startsWith('-');
}
