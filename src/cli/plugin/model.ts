// The status model of the plugin: the custom resources read through their zod schemas from src/api,
// and the report `status` prints (pure: objects in, summaries out).
import type { z } from 'zod';
import { backupPolicySpecSchema, backupPolicyStatusSchema, backupSpecSchema, backupStatusSchema, restoreSpecSchema, restoreStatusSchema } from '../../api/backup.ts';
import { lokdarpanDatabaseSpecSchema, lokdarpanDatabaseStatusSchema } from '../../api/lokdarpan-database.ts';
import { retentionPolicySpecSchema, retentionPolicyStatusSchema } from '../../api/retention-policy.ts';
import type { Condition } from '../../api/common.ts';
import type { KubeObject } from '../../runtime/kube.ts';

/** A resource as the plugin reads it: spec and status as stored (defaults not filled in). */
export interface Typed<Spec, Status> {
  namespace: string;
  name: string;
  created: string;
  spec: Partial<Spec>;
  /** Every status field is optional in src/api. */
  status: Partial<Status>;
}

export type DatabaseResource = Typed<z.input<typeof lokdarpanDatabaseSpecSchema>, z.input<typeof lokdarpanDatabaseStatusSchema>>;
export type BackupPolicyResource = Typed<z.input<typeof backupPolicySpecSchema>, z.input<typeof backupPolicyStatusSchema>>;
export type BackupResource = Typed<z.input<typeof backupSpecSchema>, z.input<typeof backupStatusSchema>>;
export type RestoreResource = Typed<z.input<typeof restoreSpecSchema>, z.input<typeof restoreStatusSchema>>;
export type RetentionPolicyResource = Typed<z.input<typeof retentionPolicySpecSchema>, z.input<typeof retentionPolicyStatusSchema>>;

/**
 * The value as stored, typed by its schema. The API server checked it against the CRD generated from
 * the same schema, but not the refinements (a time zone, a cron expression): a top-level field that
 * does not fit reads as absent, and the others stay (a bad time zone must not hide the database).
 */
function fitting<S extends z.ZodObject>(schema: S, value: unknown): Partial<z.input<S>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  if (schema.safeParse(value).success) return value as z.input<S>;
  const shape: Record<string, z.ZodType | undefined> = schema.shape;
  return Object.fromEntries(Object.entries(value).filter(([key, field]) => shape[key]?.safeParse(field).success === true)) as Partial<z.input<S>>;
}

function typed<SpecSchema extends z.ZodObject, StatusSchema extends z.ZodObject>(
  object: KubeObject,
  specSchema: SpecSchema,
  statusSchema: StatusSchema,
): Typed<z.input<SpecSchema>, z.input<StatusSchema>> {
  const metadata = object.metadata as { name?: string; namespace?: string; creationTimestamp?: string } | undefined;
  return {
    namespace: metadata?.namespace ?? '',
    name: metadata?.name ?? '',
    created: metadata?.creationTimestamp ?? '',
    spec: fitting(specSchema, object['spec']),
    status: fitting(statusSchema, object['status']),
  };
}

export const readDatabase = (o: KubeObject): DatabaseResource => typed(o, lokdarpanDatabaseSpecSchema, lokdarpanDatabaseStatusSchema);
export const readBackupPolicy = (o: KubeObject): BackupPolicyResource => typed(o, backupPolicySpecSchema, backupPolicyStatusSchema);
export const readBackup = (o: KubeObject): BackupResource => typed(o, backupSpecSchema, backupStatusSchema);
export const readRestore = (o: KubeObject): RestoreResource => typed(o, restoreSpecSchema, restoreStatusSchema);
export const readRetentionPolicy = (o: KubeObject): RetentionPolicyResource => typed(o, retentionPolicySpecSchema, retentionPolicyStatusSchema);

/** A condition with its empty fields left out. */
export type ConditionLike = Partial<Pick<Condition, 'type' | 'status' | 'reason' | 'message' | 'lastTransitionTime'>>;

export const conditionOf = (conditions: readonly ConditionLike[] | undefined, type: string): ConditionLike | undefined => conditions?.find((c) => c.type === type);

/** T with its possibly-undefined properties made optional (and never undefined). */
type Compact<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & { [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined> };

/** Drops undefined fields and empty strings, so JSON output and exactOptionalPropertyTypes agree. */
export function compact<T extends object>(value: T): Compact<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== '')) as Compact<T>;
}

const conditionsOf = (conditions: readonly Condition[] | undefined): ConditionLike[] =>
  (conditions ?? []).map((c) => compact({ type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime }));

// ------------------------------------------------------------------------------------------ the report

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

export type RestoreDrill = NonNullable<BackupPolicyResource['status']['lastRestoreDrill']>;

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
  lastRestoreDrill?: RestoreDrill;
  destination?: string;
  /** Replica destinations and what the newest finished backup says about each. */
  replicas: Array<{ name: string; bucket?: string; verified?: boolean; error?: string }>;
  recentBackups: BackupSummary[];
}

export interface RetentionRunSummary {
  startTime?: string;
  durationMs?: number;
  dryRun?: boolean;
  partial?: boolean;
  matched?: number;
  deleted?: number;
  archived?: number;
  marked?: number;
  failedRules: string[];
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
  lastRun?: RetentionRunSummary;
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

const isEmpty = (value: object | undefined): boolean => value === undefined || Object.keys(value).length === 0;

function summariseBackup(b: BackupResource): BackupSummary {
  const s = b.status;
  const destinations = (s.destinations ?? []).map((d) => compact({ name: d.name || '?', verified: d.verified, error: d.error }));
  return compact({
    name: b.name,
    phase: s.phase,
    size: s.size,
    startTime: s.startTime,
    completionTime: s.completionTime,
    replicated: s.replicated,
    reason: s.reason,
    message: s.message,
    destinations: destinations.length > 0 ? destinations : undefined,
  });
}

const newestFirst = (a: BackupResource | RestoreResource, b: BackupResource | RestoreResource): number => {
  const t = (o: BackupResource | RestoreResource): string => o.status.startTime || o.created;
  return t(b).localeCompare(t(a)) || b.name.localeCompare(a.name);
};

const byNamespaceAndName = (a: { namespace: string; name: string }, b: { namespace: string; name: string }): number => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);

const backupsOf = (policy: { namespace: string; name: string }, backups: readonly BackupResource[]): BackupResource[] =>
  backups.filter((b) => b.namespace === policy.namespace && b.spec.policyRef?.name === policy.name);

/** What a BackupPolicy and a RetentionPolicy summary start with: where it is, whose database, when it runs. */
function policyHead(policy: BackupPolicyResource | RetentionPolicyResource) {
  return {
    namespace: policy.namespace,
    name: policy.name,
    database: policy.spec.databaseRef?.name,
    schedule: policy.spec.schedule,
    suspend: policy.spec.suspend,
    conditions: conditionsOf(policy.status.conditions),
  };
}

function summarisePolicy(policy: BackupPolicyResource, backups: readonly BackupResource[]): BackupPolicySummary {
  const { spec, status: s } = policy;
  const mine = backupsOf(policy, backups).sort(newestFirst);
  const finished = mine.find((b) => b.status.phase === 'Completed' || b.status.phase === 'Failed');
  const replicas = (spec.replicas ?? []).map((r) => {
    const name = r.name || '?';
    const seen = finished?.status.destinations?.find((d) => d.name === name);
    return compact({ name, bucket: r.bucket, verified: seen?.verified, error: seen?.error });
  });
  return compact({
    ...policyHead(policy),
    timeZone: spec.timeZone,
    lastSuccessfulBackup: s.lastSuccessfulBackup,
    lastSuccessfulTime: s.lastSuccessfulTime,
    lastFailedBackup: s.lastFailedBackup,
    consecutiveFailures: s.consecutiveFailures,
    nextScheduleTime: s.nextScheduleTime,
    nextRestoreDrillTime: s.nextRestoreDrillTime,
    lastRestoreDrill: isEmpty(s.lastRestoreDrill) ? undefined : s.lastRestoreDrill,
    destination: spec.destination?.name,
    replicas,
    recentBackups: mine.slice(0, RECENT_BACKUPS).map(summariseBackup),
  });
}

export function summariseRetention(policy: RetentionPolicyResource): RetentionPolicySummary {
  const { spec, status: s } = policy;
  const run = s.lastRun;
  const lastRun =
    run === undefined || isEmpty(run)
      ? undefined
      : compact({
          startTime: run.startTime,
          durationMs: run.durationMs,
          dryRun: run.dryRun,
          partial: run.partial,
          matched: run.matched,
          deleted: run.deleted,
          archived: run.archived,
          marked: run.marked,
          failedRules: (run.rules ?? []).filter((r) => r.error).map((r) => `${r.name || '?'}: ${r.error}`),
        });
  return compact({
    ...policyHead(policy),
    dryRun: spec.dryRun,
    nextRunTime: s.nextRunTime,
    lastRun,
  });
}

function summariseDatabase(db: DatabaseResource, policies: BackupPolicySummary[], retention: RetentionPolicySummary[]): DatabaseSummary {
  const { views, validation, server } = db.status;
  const s = db.status;
  const pending = s.pendingMigrations ?? [];
  const attached = <T extends { namespace: string; database?: string }>(list: T[]): T[] => list.filter((p) => p.namespace === db.namespace && p.database === db.name);
  return compact({
    namespace: db.namespace,
    name: db.name,
    conditions: conditionsOf(s.conditions),
    schemaVersion: s.schemaVersion,
    pendingCount: s.pendingCount,
    pendingMigrations: pending.length > 0 ? pending : undefined,
    planHash: s.plan?.hash,
    serverVersion: server?.version,
    pgvectorVersion: server?.pgvectorVersion,
    suspend: db.spec.suspend,
    views:
      views === undefined || isEmpty(views)
        ? undefined
        : compact({
            lastRefreshTime: views.lastRefreshTime,
            lastSuccessfulRefreshTime: views.lastSuccessfulRefreshTime,
            lastDurationMs: views.lastDurationMs,
            nextRefreshTime: views.nextRefreshTime,
            lastError: views.lastError,
          }),
    validation:
      validation === undefined || isEmpty(validation)
        ? undefined
        : compact({
            lastRunTime: validation.lastRunTime,
            nextRunTime: validation.nextRunTime,
            results: (validation.results ?? []).map((r) => compact({ query: r.query || '?', p95Ms: r.p95Ms, thresholdMs: r.thresholdMs, passed: r.passed, usesIndex: r.usesIndex })),
          }),
    backupPolicies: attached(policies),
    retentionPolicies: attached(retention),
  });
}

function summariseRestore(r: RestoreResource): RestoreSummary {
  const s = r.status;
  return compact({
    namespace: r.namespace,
    name: r.name,
    backup: r.spec.backupRef?.name,
    phase: s.phase,
    targetDatabase: s.targetDatabase,
    startTime: s.startTime,
    completionTime: s.completionTime,
    reason: s.reason,
    message: s.message,
  });
}

/** Pure: the report from the listed objects (optionally only the database `only` and what belongs to it). */
export function buildStatusReport(
  objects: { databases: KubeObject[]; backupPolicies: KubeObject[]; backups: KubeObject[]; retentionPolicies: KubeObject[]; restores: KubeObject[] },
  options: { namespace: string; now: Date; only?: string },
): StatusReport {
  const backups = objects.backups.map(readBackup);
  const policies = objects.backupPolicies.map(readBackupPolicy).sort(byNamespaceAndName).map((p) => summarisePolicy(p, backups));
  const retention = objects.retentionPolicies.map(readRetentionPolicy).sort(byNamespaceAndName).map(summariseRetention);
  const databases = objects.databases
    .map(readDatabase)
    .sort(byNamespaceAndName)
    .filter((d) => options.only === undefined || d.name === options.only)
    .map((d) => summariseDatabase(d, policies, retention));
  const shown = new Set(databases.map((d) => `${d.namespace}/${d.name}`));
  const belongs = (p: { namespace: string; database?: string }): boolean => options.only === undefined || p.database === options.only;
  const other = <T extends { namespace: string; database?: string }>(list: T[]): T[] => list.filter((p) => !shown.has(`${p.namespace}/${p.database ?? ''}`) && belongs(p));
  const backupsOfShown = new Set(databases.flatMap((d) => d.backupPolicies.flatMap((p) => backupsOf(p, backups).map((b) => `${b.namespace}/${b.name}`))));
  const restores = objects.restores
    .map(readRestore)
    .filter((r) => options.only === undefined || r.spec.target?.databaseRef?.name === options.only || backupsOfShown.has(`${r.namespace}/${r.spec.backupRef?.name ?? ''}`))
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
