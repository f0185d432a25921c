// Condition types and reasons of a LokdarpanDatabase (src/reasons/index.ts collects the catalogs).
import { reasonNames, type ReasonCatalog } from '../../reasons/catalog.ts';
import { CommonReasonCatalog } from '../../reasons/common.ts';

export const DatabaseConditions = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
  SchemaReady: 'SchemaReady',
  ExtensionsReady: 'ExtensionsReady',
  ViewsFresh: 'ViewsFresh',
  PerformanceHealthy: 'PerformanceHealthy',
} as const;

export const DatabaseReasonCatalog = {
  Ready: 'Schema at the target, extensions present, views fresh.',
  SchemaUpToDate: 'Every migration up to the target is applied.',
  MigrationsPending: 'Migrations are waiting to be applied. Nothing: the operator applies them; with `requireApproval` see `AwaitingApproval`.',
  AwaitingApproval: "`spec.migrations.requireApproval` is true and `approvedPlanHash` differs from `status.plan.hash`. Review `status.plan.steps`, then `kubectl patch ldb NAME --type merge -p '{\"spec\":{\"migrations\":{\"approvedPlanHash\":\"<status.plan.hash>\"}}}'`.",
  ExtensionsAvailable: 'The server version and pgvector are usable.',
  ViewsRefreshed: 'The materialized views were refreshed.',
  ViewsNotRefreshedYet: 'The views are refreshed only once the schema is ready. Look at SchemaReady.',
  ViewsStale: 'The last successful refresh is older than `spec.views.staleAfter` (refreshes fail, or the schedule is sparser than staleAfter). Check `status.views.lastError`; trigger one: `kubectl lokdarpan refresh NAME` or annotate `lokdarpan.io/refresh-requested-at`.',
  ThresholdsMet: 'Every probe met its p95 threshold.',
  ThresholdsMissed: "A probe's p95 exceeded its threshold or it could not use its index (the message names it). See [Performance validation](operations.md#performance-validation): recreate the index, `ANALYZE`, or adjust `spec.validation.thresholds`.",
  NotValidatedYet: 'The validation has not run yet. Nothing; it runs on `spec.validation.schedule` once the schema is ready.',
  MigrationsApplied: 'Event: migrations were applied or reverted (the event lists them and their durations).',
  MigrationWarning: "Event (Warning): an applied migration raised a WARNING that needs a person, named with the migration (e.g. 008 run by a role that does not own the database: `hnsw.ef_search` is set for that role only). Do what the message says (e.g. run the `ALTER DATABASE` it gives as the database's owner).",
} as const satisfies ReasonCatalog;

export const DatabaseReasons = reasonNames({ ...CommonReasonCatalog, ...DatabaseReasonCatalog });
